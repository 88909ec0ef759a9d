"""A catalogue of named activations as PyTorch defines them (GELU exact and tanh
approximation, ELU, SELU, leaky ReLU, ReLU6, softsign, hard sigmoid, hard tanh,
hardswish, Mish, SiLU, softplus, sigmoid, tanh, ReLU): values, derivatives,
one-sided derivatives at kinks, and the derivative written through f itself.

Each activation is a list of pieces, each valid on an interval between kinks.
One-sided derivatives at a point come from the piece that actually applies on
that side (never from a condition that happens to hold at the kink itself).
References are built here in SymPy (``erf`` included), never parsed from text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from examcheck.families import Conventions, Family, FamilyError, GivenError, Result, Solution, Step, Variant, register
from examcheck.families._numbers import number_errors
from examcheck.mathfuncs import sigma
from examcheck.values import exact, show

MAX_POINTS = 200
OO = sp.oo
# SELU's constants as PyTorch (and Klambauer et al.) state them.
SELU_SCALE = sp.Float("1.0507009873554804934193349852946", 32)
SELU_ALPHA = sp.Float("1.6732632423543772848170429916717", 32)
GELU_TANH_C = sp.Rational(44715, 1_000_000)


@dataclass(frozen=True)
class Piece:
    expr: sp.Expr
    low: sp.Expr
    high: sp.Expr


@dataclass(frozen=True)
class Definition:
    formula: str                                  # for people, in the worked solution
    pieces: Callable[[sp.Symbol, dict], list[Piece]]
    parameters: tuple[str, ...] = ()


def _one(expr) -> list[Piece]:
    return [Piece(expr, -OO, OO)]


def _hard_sigmoid(z, p):
    s = p["slope"]
    edge = 1 / (2 * s)
    return [Piece(sp.Integer(0), -OO, -edge), Piece(s * z + sp.Rational(1, 2), -edge, edge), Piece(sp.Integer(1), edge, OO)]


CATALOGUE: dict[str, Definition] = {
    "relu": Definition("max(0, z)", lambda z, p: [Piece(sp.Integer(0), -OO, 0), Piece(z, 0, OO)]),
    "leaky_relu": Definition("z for z ≥ 0, a·z for z < 0 (a = negative_slope, default 0.01)",
                             lambda z, p: [Piece(p["negative_slope"] * z, -OO, 0), Piece(z, 0, OO)], ("negative_slope",)),
    "relu6": Definition("min(max(0, z), 6)",
                        lambda z, p: [Piece(sp.Integer(0), -OO, 0), Piece(z, 0, 6), Piece(sp.Integer(6), 6, OO)]),
    "elu": Definition("z for z > 0, α(eᶻ − 1) for z ≤ 0 (α default 1)",
                      lambda z, p: [Piece(p["alpha"] * (sp.exp(z) - 1), -OO, 0), Piece(z, 0, OO)], ("alpha",)),
    "selu": Definition("λ·(z for z > 0, α(eᶻ − 1) for z ≤ 0), λ ≈ 1.0507, α ≈ 1.6733",
                       lambda z, p: [Piece(SELU_SCALE * SELU_ALPHA * (sp.exp(z) - 1), -OO, 0), Piece(SELU_SCALE * z, 0, OO)]),
    "gelu": Definition("z·Φ(z) = z/2·(1 + erf(z/√2))", lambda z, p: _one(z / 2 * (1 + sp.erf(z / sp.sqrt(2))))),
    "gelu_tanh": Definition("z/2·(1 + tanh(√(2/π)(z + 0.044715 z³)))",
                            lambda z, p: _one(z / 2 * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (z + GELU_TANH_C * z ** 3))))),
    "softsign": Definition("z/(1 + |z|)", lambda z, p: [Piece(z / (1 - z), -OO, 0), Piece(z / (1 + z), 0, OO)]),
    "hard_sigmoid": Definition("clip(s·z + 1/2, 0, 1), s = slope (default 1/6, PyTorch and Keras 3; Keras 2 used 0.2)",
                               _hard_sigmoid, ("slope",)),
    "hard_tanh": Definition("clip(z, −1, 1)",
                            lambda z, p: [Piece(sp.Integer(-1), -OO, -1), Piece(z, -1, 1), Piece(sp.Integer(1), 1, OO)]),
    "hardswish": Definition("z·clip(z/6 + 1/2, 0, 1)",
                            lambda z, p: [Piece(sp.Integer(0), -OO, -3), Piece(z * (z + 3) / 6, -3, 3), Piece(z, 3, OO)]),
    "mish": Definition("z·tanh(softplus(z)) = z·tanh(log(1 + eᶻ))", lambda z, p: _one(z * sp.tanh(sp.log(1 + sp.exp(z))))),
    "silu": Definition("z·σ(z) (SiLU, swish with β = 1)", lambda z, p: _one(z * sigma(z))),
    "softplus": Definition("(1/β)·log(1 + e^(βz)) (β default 1)",
                           lambda z, p: _one(sp.log(1 + sp.exp(p["beta"] * z)) / p["beta"]), ("beta",)),
    "sigmoid": Definition("σ(z) = 1/(1 + e^(−z))", lambda z, p: _one(sigma(z))),
    "tanh": Definition("tanh(z)", lambda z, p: _one(sp.tanh(z))),
}
DEFAULTS = {"negative_slope": "0.01", "alpha": 1, "slope": "1/6", "beta": 1}
F = sp.Symbol("f", real=True)


def _in_terms_of_f(name: str, params: dict):
    """f' through f itself, where the derivative is a function of f alone."""
    if name == "tanh":
        return 1 - F ** 2, "tanh' = 1 − tanh²"
    if name == "sigmoid":
        return F * (1 - F), "σ' = σ(1 − σ)"
    if name == "softplus":
        b = params["beta"]
        return 1 - sp.exp(-b * F), "softplus'(z) = σ(βz) = 1 − e^(−β·f)"
    return None, ""


def _as_piecewise(pieces: list[Piece], z) -> sp.Expr:
    if len(pieces) == 1:
        return pieces[0].expr
    branches = [(p.expr, z < p.high) for p in pieces[:-1]] + [(pieces[-1].expr, True)]
    return sp.Piecewise(*branches)


def _piece_left_of(pieces, a) -> Piece:
    return next(p for p in pieces if p.low < a <= p.high)


def _piece_right_of(pieces, a) -> Piece:
    return next(p for p in pieces if p.low <= a < p.high)


@register
class ActivationCatalogue(Family):
    name = "activation_catalogue"
    summary = ("named activations (GELU, GELU-tanh, ELU, SELU, leaky ReLU, ReLU6, softsign, hard sigmoid, hard tanh, "
               "hardswish, Mish, SiLU, softplus, sigmoid, tanh, ReLU): values, derivatives, one-sided derivatives, f' in f")
    results = (
        Result("function", "expression", "f as an expression in the variable (a Piecewise for piecewise activations)"),
        Result("derivative", "expression", "f' (piecewise where f is)"),
        Result("second_derivative", "expression", "f''"),
        Result("derivative_in_f", "expression", "f' written through f itself (tanh, sigmoid, softplus); "
                                                "answers may use the name f"),
        Result("kinks", "vector", "the points where the formula changes"),
        Result("value_at", "number", "f(at)"),
        Result("left_derivative", "number", "the derivative from the left at `at` (the piece left of it)"),
        Result("right_derivative", "number", "the derivative from the right at `at`"),
        Result("differentiable_at", "boolean", "whether the two one-sided derivatives agree at `at`"),
        Result("derivative_at", "number", "f'(at), when f is differentiable there"),
        Result("second_derivative_at", "number", "f''(at), when both sides agree"),
        Result("values", "vector", "f at each of `points`"),
        Result("derivatives", "vector", "f' at each of `points` (only when f is differentiable at all of them)"),
        Result("value.{i}", "number", "f at the i-th of `points` (from 1)"),
        Result("derivative.{i}", "number", "f' at the i-th of `points`, where f is differentiable there"),
    )
    conventions = Conventions
    example = {"function": "elu", "alpha": 2, "at": 0, "points": [-1, 1]}
    notes = ("References are computed in SymPy (GELU uses erf). At a kink, left_derivative and right_derivative come "
             "from the piece that applies on each side; derivative_at exists only where they agree.")
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["function"],
        "properties": {
            "function": {"enum": sorted(CATALOGUE)},
            "variable": {"type": "string", "pattern": "^[A-Za-z]$", "description": "the variable's name (default z)"},
            "at": {"type": ["number", "string"], "description": "a point for value_at, derivative_at, one-sided derivatives"},
            "points": {"type": "array", "items": {"type": ["number", "string"]}, "minItems": 1, "maxItems": MAX_POINTS,
                       "description": "points for the lists values and derivatives"},
            "negative_slope": {"type": ["number", "string"], "description": "leaky_relu's slope for z < 0 (default 0.01)"},
            "alpha": {"type": ["number", "string"], "description": "elu's α (default 1)"},
            "slope": {"type": ["number", "string"], "description": "hard_sigmoid's slope (default 1/6)"},
            "beta": {"type": ["number", "string"], "description": "softplus's β (default 1)"},
        },
    }

    def check_given(self, given: dict) -> list[GivenError]:
        return number_errors(given, self.given_schema)

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        name = given["function"]
        definition = CATALOGUE[name]
        extra = [k for k in ("negative_slope", "alpha", "slope", "beta") if k in given and k not in definition.parameters]
        if extra:
            raise FamilyError(f"{name} has no parameter {extra[0]!r}")
        params = {k: exact(given.get(k, DEFAULTS[k])) for k in definition.parameters}
        if any(v <= 0 for k, v in params.items() if k in ("slope", "beta")):
            raise FamilyError("slope and beta must be positive")
        z = sp.Symbol(given.get("variable", "z"), real=True)
        pieces = definition.pieces(z, params)
        f = _as_piecewise(pieces, z)
        derivative_pieces = [Piece(sp.diff(p.expr, z), p.low, p.high) for p in pieces]
        derivative = _as_piecewise(derivative_pieces, z)
        results = {"function": f, "derivative": derivative,
                   "second_derivative": _as_piecewise([Piece(sp.diff(p.expr, z, 2), p.low, p.high) for p in pieces], z),
                   "kinks": [p.high for p in pieces[:-1]]}
        shown_params = ", ".join(f"{k} = {show(v)}" for k, v in params.items())
        steps = [Step("definition", f"{name}: {definition.formula}" + (f"; {shown_params}" if params else "")),
                 Step("derivative", f"f'({z}) = {show(derivative)}")]
        definitions = {}
        in_f, how = _in_terms_of_f(name, params)
        if in_f is not None:
            results["derivative_in_f"] = in_f
            definitions["f"] = f
            steps.append(Step("in terms of f", f"{how}: f' = {show(in_f)}"))
        if "at" in given:
            self._at(pieces, z, exact(given["at"]), results, steps)
        if "points" in given:
            self._points(pieces, z, [exact(v) for v in given["points"]], results, steps)
        return Solution(results, steps, definitions=definitions)

    def _at(self, pieces, z, a, results, steps):
        left, right = _piece_left_of(pieces, a), _piece_right_of(pieces, a)
        value = right.expr.subs(z, a)
        d_left, d_right = sp.diff(left.expr, z).subs(z, a), sp.diff(right.expr, z).subs(z, a)
        results.update(value_at=value, left_derivative=d_left, right_derivative=d_right)
        same = bool(sp.simplify(d_left - d_right) == 0)
        results["differentiable_at"] = same
        if same:
            results["derivative_at"] = d_right
            second = sp.diff(right.expr, z, 2).subs(z, a)
            if sp.simplify(sp.diff(left.expr, z, 2).subs(z, a) - second) == 0:
                results["second_derivative_at"] = second
        kink = left is not right
        steps.append(Step(f"at {z} = {show(a)}", f"f({show(a)}) = {show(value)}"))
        steps.append(Step("one-sided derivatives" if kink else "derivative",
                          (f"left (piece {show(left.expr)}): {show(d_left)}; right (piece {show(right.expr)}): "
                           f"{show(d_right)} ⇒ {'differentiable' if same else 'not differentiable'}") if kink
                          else f"f'({show(a)}) = {show(d_right)}"))

    def _points(self, pieces, z, points, results, steps):
        values, derivatives = [], []
        for a in points:
            right = _piece_right_of(pieces, a)
            values.append(right.expr.subs(z, a))
            d_left = sp.diff(_piece_left_of(pieces, a).expr, z).subs(z, a)
            d_right = sp.diff(right.expr, z).subs(z, a)
            derivatives.append(d_right if sp.simplify(d_left - d_right) == 0 else None)
        results["values"] = values
        for i, (value, slope) in enumerate(zip(values, derivatives), start=1):
            results[f"value.{i}"] = value
            if slope is not None:
                results[f"derivative.{i}"] = slope
        steps.append(Step("values", f"f at {show(points)} = {show([sp.N(v, 6) for v in values])}"))
        if all(d is not None for d in derivatives):
            results["derivatives"] = derivatives
            steps.append(Step("derivatives", f"f' at {show(points)} = {show([sp.N(v, 6) for v in derivatives])}"))
        else:
            kinks = [show(a) for a, d in zip(points, derivatives) if d is None]
            steps.append(Step("derivatives", f"not differentiable at {', '.join(kinks)}: no single derivative there"))

    def variants(self, given: dict) -> list[Variant]:
        name = given.get("function")
        keep = {k: v for k, v in given.items() if k not in ("negative_slope", "alpha", "slope", "beta")}
        swaps = {
            "gelu": ("gelu_tanh", "this is the tanh approximation of GELU; the exact GELU uses erf: z·Φ(z)"),
            "gelu_tanh": ("gelu", "this is the exact GELU (erf); the problem asks for the tanh approximation"),
            "leaky_relu": ("relu", "this is ReLU: leaky ReLU keeps a slope on the negative side"),
            "elu": ("relu", "this is ReLU: ELU is α(eᶻ − 1) on the negative side, with slope α at 0⁻"),
            "selu": ("elu", "the scale λ ≈ 1.0507 (and SELU's α ≈ 1.6733) are missing"),
            "silu": ("sigmoid", "this is σ(z); SiLU is z·σ(z) (product rule)"),
            "relu6": ("relu", "ReLU6 is capped at 6"),
        }
        out = []
        if name in swaps:
            other, feedback = swaps[name]
            out.append(Variant({**keep, "function": other}, feedback))
        if name == "hard_sigmoid":
            slope = exact(given.get("slope", DEFAULTS["slope"]))
            other = sp.Rational(1, 5) if slope != sp.Rational(1, 5) else sp.Rational(1, 6)
            out.append(Variant({**given, "slope": str(other)},
                               f"this hard sigmoid has slope {show(other)}; here it is {show(slope)} "
                               "(PyTorch and Keras 3: 1/6; Keras 2: 0.2)"))
        if name == "elu" and exact(given.get("alpha", 1)) != 1:
            out.append(Variant({**given, "alpha": 1}, "α = 1 was used; this ELU has another α"))
        return out
