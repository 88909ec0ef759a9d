"""Backpropagation: gradients of small networks written with named intermediate
quantities (a, z, δ), chains of single units (vanishing gradients), the memory
backprop must keep, and what zero initialisation does."""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from examcheck.families import Conventions, Family, FamilyError, Result, Solution, Step, register
from examcheck.mathfuncs import sigma
from examcheck.values import show

ACTIVATIONS = {"sigmoid": sigma, "tanh": sp.tanh, "identity": lambda a: a}


def _activation(name: str):
    """A named activation, or an unknown one (any other name, e.g. h)."""
    return ACTIVATIONS.get(name) or sp.Function(name)


def _name(letter: str, layer, *index) -> str:
    sub = "".join(str(i) for i in index)
    return f"{letter}^({layer})" + (f"_{sub}" if sub else "")


def _sym(letter: str, layer, *index) -> sp.Symbol:
    return sp.Symbol(_name(letter, layer, *index), real=True)


def _slope(f, at: sp.Expr) -> sp.Expr:
    """f'(at) written readably: 1 for the identity, σ(1 − σ) for sigmoid, h'(a) for an unknown h."""
    xi = sp.Dummy("xi")
    inner = f(xi)
    if inner == xi:
        return sp.Integer(1)
    derivative = sp.diff(inner, xi)
    return sp.Subs(derivative, xi, at) if isinstance(f, sp.core.function.UndefinedFunction) else derivative.subs(xi, at)


def _gradient_wrt(expression_of, point: sp.Expr) -> sp.Expr:
    """d/dq of expression_of(q) at q = point, for an intermediate quantity q."""
    q = sp.Dummy("q", real=True)
    return sp.diff(expression_of(q), q).subs(q, point)


@dataclass(frozen=True)
class BackpropConventions(Conventions):
    bias: bool = field(default=False, metadata={"doc": "units have biases b^(l)_j (given key `bias`; default false)"})
    convention: str = field(default="bishop", metadata={
        "doc": "notation (given key `convention`): bishop a = Σ w z, weights named by the layer they leave, input "
               "layer 1; standard z = Σ w a + b, weights named by the layer they enter, input layer 0"})


CONVENTIONS = {
    # pre-activation letter, activation letter, number of the input layer, weights named by the layer they ...
    "bishop": {"pre": "a", "act": "z", "first": 1, "weights": "from"},     # a^(l)_j = Σ_k w^(l-1)_jk z^(l-1)_k
    "standard": {"pre": "z", "act": "a", "first": 0, "weights": "to"},     # z^(l)_j = Σ_k w^(l)_jk a^(l-1)_k + b^(l)_j
}


@register
class MLPBackprop(Family):
    name = "mlp_backprop"
    summary = "∂E/∂(weights, biases, pre-activations) of a small MLP, with named intermediate quantities and δ"
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["sizes"],
        "properties": {
            "sizes": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 4}, "minItems": 2,
                      "maxItems": 5, "description": "units per layer, the input layer first"},
            "activation": {"type": "string", "description": "sigmoid, tanh, identity, or an unknown h"},
            "output_activation": {"type": "string"},
            "target": {"type": "string", "description": "the target's name (t); with several outputs t_1, t_2, ..."},
            "convention": {"enum": sorted(CONVENTIONS)},
            "bias": {"type": "boolean"},
        },
    }

    results = (
        Result("loss", "expression", "E = ½ Σ (y − t)² in terms of the weights and inputs"),
        Result("dE/d{quantity}", "expression", "∂E/∂q for a weight w^(l)_jk, bias b^(l)_j or pre-activation "
                                               "(a^(l)_j bishop, z^(l)_j standard); students may use the named quantities"),
    )
    conventions = BackpropConventions
    example = {"sizes": [2, 2, 1], "activation": "sigmoid"}

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        style = CONVENTIONS[conventions.convention]
        pre, act, first = style["pre"], style["act"], style["first"]
        sizes = given["sizes"]
        h = _activation(given.get("activation", "h"))
        out = _activation(given.get("output_activation", "identity"))
        last = first + len(sizes) - 1
        target = given.get("target", "t")
        targets = ([sp.Symbol(target, real=True)] if sizes[-1] == 1 else
                   [sp.Symbol(f"{target}_{j}", real=True) for j in range(1, sizes[-1] + 1)])
        definitions: dict[str, sp.Expr] = {}
        previous = [_sym(act, first, k) for k in range(1, sizes[0] + 1)]
        pre_activations = []
        for layer in range(first + 1, last + 1):
            tag = layer - 1 if style["weights"] == "from" else layer
            for j in range(1, sizes[layer - first] + 1):
                total = sum(_sym("w", tag, j, k) * v for k, v in enumerate(previous, start=1))
                if conventions.bias:
                    total += _sym("b", tag, j)
                definitions[_name(pre, layer, j)] = total
                pre_activations.append((layer, j, total))
                definitions[_name(act, layer, j)] = (out if layer == last else h)(_sym(pre, layer, j))
            previous = [_sym(act, layer, j) for j in range(1, sizes[layer - first] + 1)]
        loss = sp.Rational(1, 2) * sum((y - t) ** 2 for y, t in zip(previous, targets))
        forward = dict(definitions)
        energy = _held_at(loss, forward, None, None)
        results: dict = {"loss": energy}
        for layer, j, total in pre_activations:
            symbol = _sym(pre, layer, j)
            grad = _gradient_wrt(lambda q, s=symbol: _held_at(loss, forward, s, q), _held_at(total, forward, None, None))
            definitions[_name("delta", layer, j)] = grad
            results[f"dE/d{symbol.name}"] = grad
        for parameter in sorted(energy.free_symbols, key=lambda s: s.name):
            if parameter.name.startswith(("w^", "b^")):
                results[f"dE/d{parameter.name}"] = sp.diff(energy, parameter)
        display = self._textbook_forms(sizes, style, h, out, targets, conventions.bias)
        steps = [Step("forward pass", f"{pre}^(l)_j = Σ_k w_jk {act}^(l-1)_k{' + b_j' if given.get('bias') else ''}, "
                                      f"{act}^(l)_j = f({pre}^(l)_j)"),
                 Step("loss", f"E = {show(loss)}"),
                 Step("deltas", f"δ^(l)_j = ∂E/∂{pre}^(l)_j = f'({pre}^(l)_j) Σ_k w_kj δ^(l+1)_k; "
                                f"∂E/∂w_jk = δ_j {act}_k; ∂E/∂b_j = δ_j")]
        return Solution(results, steps, display=display, definitions=definitions)

    def _textbook_forms(self, sizes, style, h, out, targets, bias) -> dict:
        """δ and the weight gradients written with named quantities, as a student would."""
        pre, act, first = style["pre"], style["act"], style["first"]
        last = first + len(sizes) - 1
        tag = (lambda layer: layer - 1) if style["weights"] == "from" else (lambda layer: layer)
        display: dict = {}
        for j in range(1, sizes[-1] + 1):
            display[f"dE/d{_name(pre, last, j)}"] = (_sym(act, last, j) - targets[j - 1]) * _slope(out, _sym(pre, last, j))
        for layer in range(last - 1, first, -1):
            for j in range(1, sizes[layer - first] + 1):
                spread = sum(_sym("w", tag(layer + 1), k, j) * _sym("delta", layer + 1, k)
                             for k in range(1, sizes[layer + 1 - first] + 1))
                display[f"dE/d{_name(pre, layer, j)}"] = _slope(h, _sym(pre, layer, j)) * spread
        for layer in range(first + 1, last + 1):
            for j in range(1, sizes[layer - first] + 1):
                for k in range(1, sizes[layer - 1 - first] + 1):
                    display[f"dE/d{_name('w', tag(layer), j, k)}"] = _sym("delta", layer, j) * _sym(act, layer - 1, k)
                if bias:
                    display[f"dE/d{_name('b', tag(layer), j)}"] = _sym("delta", layer, j)
        return display


def _held_at(loss, definitions, symbol, q):
    """The loss in terms of weights and inputs, with one pre-activation (if any) held at q."""
    frozen = {**definitions, symbol.name: q} if symbol is not None else definitions
    expr = loss
    for _ in range(12):
        expr = expr.xreplace({s: frozen[s.name] for s in expr.free_symbols if s.name in frozen})
    return expr


@register
class UnitChain(Family):
    name = "unit_chain"
    summary = "a chain of single units a^(k+1) = w^(k) h(a^(k)): ∂F/∂w^(l), the vanishing-gradient product"
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["depth", "layer"],
        "properties": {
            "depth": {"type": "integer", "minimum": 2, "maximum": 12, "description": "N: a^(1) ... a^(N)"},
            "layer": {"type": "integer", "minimum": 1, "description": "l: differentiate with respect to w^(l)"},
            "activation": {"type": "string"},
            "target": {"type": "string"},
        },
    }

    results = (
        Result("gradient", "expression", "∂F/∂w^(layer), F = ½(h(a^(N)) − t)²"),
        Result("loss", "expression", "F in terms of the weights and a^(1)"),
    )
    example = {"depth": 4, "layer": 1}

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        depth, layer = given["depth"], given["layer"]
        if layer >= depth:
            raise FamilyError("layer must be below depth")
        h = _activation(given.get("activation", "h"))
        t = sp.Symbol(given.get("target", "t"), real=True)
        definitions = {f"a^({k + 1})": sp.Symbol(f"w^({k})", real=True) * h(sp.Symbol(f"a^({k})", real=True))
                       for k in range(1, depth)}
        loss = sp.Rational(1, 2) * (h(sp.Symbol(f"a^({depth})", real=True)) - t) ** 2
        expr = loss
        for _ in range(depth + 1):
            expr = expr.xreplace({s: definitions[s.name] for s in expr.free_symbols if s.name in definitions})
        grad = sp.diff(expr, sp.Symbol(f"w^({layer})", real=True))
        a = [None] + [sp.Symbol(f"a^({k})", real=True) for k in range(1, depth + 1)]
        readable = ((h(a[depth]) - t) * _slope(h, a[depth])
                    * sp.Mul(*(sp.Symbol(f"w^({k})", real=True) * _slope(h, a[k]) for k in range(layer + 1, depth)))
                    * h(a[layer]))
        steps = [Step("chain rule", f"∂F/∂w^({layer}) = ∂F/∂a^({depth}) · Π_(k={layer + 1})^({depth - 1}) "
                                    f"∂a^(k+1)/∂a^(k) · ∂a^({layer + 1})/∂w^({layer})"),
                 Step("factors", f"∂F/∂a^({depth}) = (h(a^({depth})) − t) h'(a^({depth})); "
                                 f"∂a^(k+1)/∂a^(k) = w^(k) h'(a^(k)); ∂a^({layer + 1})/∂w^({layer}) = h(a^({layer}))")]
        return Solution({"gradient": grad, "loss": expr}, steps, display={"gradient": readable},
                        definitions=definitions)


@register
class BackpropMemory(Family):
    name = "backprop_memory"
    solve_at_load = True
    summary = "bytes of forward-pass vectors that backprop keeps, for a given float width"
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["vectors", "bytes_per_float"],
        "properties": {
            "vectors": {"type": "object", "additionalProperties": {"type": "string"},
                        "description": "forward-pass vectors, input first: {x: n, h: m, a: r, o: s}"},
            "count_input": {"type": "boolean", "description": "whether the input vector counts (default false)"},
            "bytes_per_float": {"type": "integer", "minimum": 1},
        },
    }

    results = (
        Result("bytes", "expression", "bytes kept: bytes_per_float × the kept sizes"),
        Result("floats", "expression", "floats kept"),
        Result("stored", "vector", "names of the kept vectors"),
    )
    example = {"vectors": {"x": "n", "h": "m", "a": "r", "o": "s"}, "bytes_per_float": 2}

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        names = list(given["vectors"])
        kept = names if given.get("count_input", False) else names[1:]
        sizes = [sp.Symbol(given["vectors"][n], positive=True, integer=True) for n in kept]
        total = given["bytes_per_float"] * sp.Add(*sizes)
        steps = [Step("kept for the backward pass", ", ".join(f"{n} ({given['vectors'][n]})" for n in kept)),
                 Step("bytes", f"{given['bytes_per_float']}·({' + '.join(map(str, sizes))}) = {show(total)}")]
        return Solution({"bytes": total, "floats": sp.Add(*sizes), "stored": kept}, steps)


@register
class ZeroInit(Family):
    name = "zero_init"
    solve_at_load = True
    summary = "what all-zero initialisation does to a sigmoid MLP: identical units, zero first-layer gradient"
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["sizes"],
        "properties": {"sizes": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 50},
                                 "minItems": 3, "maxItems": 3}},
    }

    results = (
        Result("hidden_identical", "boolean", "all hidden units compute the same value"),
        Result("first_layer_gradient_zero", "boolean", "∂L/∂W¹ is zero"),
        Result("output_columns_identical", "boolean", "every column of ∂L/∂W² is the same"),
    )
    example = {"sizes": [3, 4, 2]}

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        import numpy as np

        n_in, n_hidden, n_out = given["sizes"]
        rng = np.random.default_rng(0)
        x, y = rng.normal(size=n_in), rng.normal(size=n_out)

        def sig(v):
            return 1 / (1 + np.exp(-v))

        a1 = sig(np.zeros(n_hidden))
        a2 = sig(np.zeros(n_out))
        d2 = (a2 - y) * a2 * (1 - a2)
        d1 = (np.zeros((n_out, n_hidden)).T @ d2) * a1 * (1 - a1)
        grad_w1, grad_w2 = np.outer(d1, x), np.outer(d2, a1)
        results = {
            "hidden_identical": bool(np.allclose(a1, a1[0])),
            "first_layer_gradient_zero": bool(np.allclose(grad_w1, 0)),
            "output_columns_identical": bool(np.allclose(grad_w2, grad_w2[:, :1])),
        }
        steps = [Step("forward", f"every hidden unit outputs σ(0) = 0.5: {np.round(a1, 3).tolist()}"),
                 Step("backward", "δ¹ = W²ᵀδ² ⊙ σ' = 0 because W² = 0, so ∂L/∂W¹ = 0; every column of ∂L/∂W² is equal")]
        return Solution(results, steps)
