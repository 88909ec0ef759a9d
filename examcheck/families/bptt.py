"""Backpropagation through time for a scalar RNN h_t = φ(w·h_(t−1) + u·x_t + b):
the hidden states, the local factors ∂h_t/∂h_(t−1) = w·φ'(a_t), their product
over T steps (the vanishing/exploding factor ∂h_T/∂h_0), and the gradients of a
loss on h_T with respect to h_0, w, u and b (optionally truncated to k steps)."""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from examcheck.families import Conventions, Family, FamilyError, GivenError, Result, Solution, Step, Variant, register
from examcheck.families._numbers import bounded, number_errors, tidy
from examcheck.mathfuncs import sigma
from examcheck.values import exact, show

MAX_STEPS = 200
NUMBER = {"type": ["number", "string"]}
ACTIVATIONS = {
    "tanh": (sp.tanh, lambda h, a: 1 - h ** 2, "1 − h_t²"),
    "identity": (lambda a: a, lambda h, a: sp.Integer(1), "1"),
    "relu": (lambda a: sp.Max(0, a), lambda h, a: sp.Integer(1 if a > 0 else 0), "[a_t > 0]"),
    "sigmoid": (sigma, lambda h, a: h * (1 - h), "h_t(1 − h_t)"),
}


@dataclass(frozen=True)
class BpttConventions(Conventions):
    loss: str = field(default="h_T", metadata={
        "doc": "h_T: L = h_T (so ∂L/∂h_T = 1); squared: L = (1/2)(h_T − target)² (given key `loss`)"})


@register
class Bptt(Family):
    name = "bptt"
    summary = ("backpropagation through time in a scalar RNN h_t = φ(w h_(t−1) + u x_t + b): hidden states, "
               "∂h_T/∂h_0 (vanishing/exploding), ∂L/∂h_0, ∂L/∂w, ∂L/∂u, ∂L/∂b")
    results = (
        Result("hidden_states", "vector", "h_0, h_1, …, h_T (the initial state first)"),
        Result("h.{t}", "number", "h_t (h.0 is the initial state)"),
        Result("pre_activations", "vector", "a_1, …, a_T with a_t = w h_(t−1) + u x_t + b"),
        Result("local_factors", "vector", "∂h_t/∂h_(t−1) = w·φ'(a_t) for t = 1 … T"),
        Result("factor.{t}", "number", "∂h_t/∂h_(t−1)"),
        Result("gradient_factor", "number", "∂h_T/∂h_0 = Π_t w·φ'(a_t)"),
        Result("factor_formula", "expression", "∂h_T/∂h_0 in the symbols w and h_1 … h_T (or a_1 … a_T for relu)"),
        Result("factor_bound", "number", "|w|^T · max|φ'|^T, an upper bound on |∂h_T/∂h_0|"),
        Result("regime", "choice", "vanishing, exploding or neither: the per-step geometric mean |∂h_T/∂h_0|^(1/T) "
                                   "below, above or equal to 1"),
        Result("deltas", "vector", "∂L/∂h_t for t = T, T − 1, …, 0"),
        Result("delta.{t}", "number", "∂L/∂h_t"),
        Result("dL_dhT", "number", "∂L/∂h_T"),
        Result("dL_dh0", "number", "∂L/∂h_0"),
        Result("dL_dw", "number", "∂L/∂w summed over the (possibly truncated) steps"),
        Result("dL_du", "number", "∂L/∂u"),
        Result("dL_db", "number", "∂L/∂b"),
        Result("loss_value", "number", "L"),
    )
    conventions = BpttConventions
    example = {"w": "0.5", "u": 1, "x": [1, 0, -1], "h0": 0, "activation": "tanh"}
    notes = ("Time runs t = 1 … T (T = len(x), or steps with x = 0). hidden_states starts with h_0. "
             "deltas run backwards from ∂L/∂h_T to ∂L/∂h_0. truncate: k backpropagates only the last k steps.")
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["w"],
        "properties": {
            "w": {**NUMBER, "description": "the recurrent weight"},
            "u": {**NUMBER, "description": "the input weight (default 1)"},
            "b": {**NUMBER, "description": "the bias (default 0)"},
            "h0": {**NUMBER, "description": "the initial state (default 0)"},
            "x": {"type": "array", "items": NUMBER, "minItems": 1, "maxItems": MAX_STEPS, "description": "x_1 … x_T"},
            "steps": {"type": "integer", "minimum": 1, "maximum": MAX_STEPS, "description": "T when x is not given (x = 0)"},
            "activation": {"enum": sorted(ACTIVATIONS), "description": "φ (default tanh)"},
            "loss": {"enum": ["h_T", "squared"]},
            "target": {**NUMBER, "description": "the target of the squared loss"},
            "truncate": {"type": "integer", "minimum": 1, "maximum": MAX_STEPS,
                         "description": "truncated BPTT: backpropagate only the last k steps"},
        },
    }

    def check_given(self, given: dict) -> list[GivenError]:
        return number_errors(given, self.given_schema)

    def solve(self, given: dict, conventions: BpttConventions) -> Solution:
        w, u, b = bounded([exact(given["w"]), exact(given.get("u", 1)), exact(given.get("b", 0))], "w, u, b")
        h = bounded([exact(given.get("h0", 0))], "h0")
        if "x" in given:
            xs = bounded([exact(v) for v in given["x"]], "x")
            if "steps" in given and given["steps"] != len(xs):
                raise FamilyError(f"steps is {given['steps']} but x has {len(xs)} values")
        elif "steps" in given:
            xs = [sp.Integer(0)] * given["steps"]
        else:
            raise FamilyError("give the inputs x (or the number of steps)")
        name = given.get("activation", "tanh")
        phi, slope, slope_text = ACTIVATIONS[name]
        T = len(xs)
        pre = []
        for x in xs:
            a = tidy(w * h[-1] + u * x + b)
            pre.append(a)
            h.append(tidy(phi(a)))
        factors = [tidy(w * slope(h[t], pre[t - 1])) for t in range(1, T + 1)]
        product = tidy(sp.Mul(*factors))
        if conventions.loss == "squared":
            if "target" not in given:
                raise FamilyError("the squared loss needs a target")
            y = exact(given["target"])
            loss_value, d_hT = tidy((h[-1] - y) ** 2 / 2), tidy(h[-1] - y)
        else:
            if "target" in given:
                raise FamilyError("a target needs loss: squared")
            loss_value, d_hT = h[-1], sp.Integer(1)
        keep = min(given.get("truncate", T), T)
        deltas, dw, du, db = [d_hT], sp.Integer(0), sp.Integer(0), sp.Integer(0)
        for t in range(T, T - keep, -1):
            g_a = tidy(deltas[-1] * slope(h[t], pre[t - 1]))
            dw, du, db = tidy(dw + g_a * h[t - 1]), tidy(du + g_a * xs[t - 1]), tidy(db + g_a)
            deltas.append(tidy(g_a * w))
        results = {
            "hidden_states": h, "pre_activations": pre, "local_factors": factors, "gradient_factor": product,
            "dL_dhT": d_hT, "dL_dw": dw, "dL_du": du, "dL_db": db, "loss_value": loss_value, "deltas": deltas,
        }
        if keep == T:
            results["dL_dh0"] = deltas[-1]
        for t, value in enumerate(h):
            results[f"h.{t}"] = value
        for t, value in enumerate(factors, start=1):
            results[f"factor.{t}"] = value
        for i, value in enumerate(deltas):
            results[f"delta.{T - i}"] = value
        w_sym = sp.Symbol("w", real=True)
        if name == "identity":
            results["factor_formula"] = w_sym ** T
        elif name != "relu":
            h_syms = [sp.Symbol(f"h_{t}", real=True) for t in range(1, T + 1)]
            results["factor_formula"] = w_sym ** T * sp.Mul(*(slope(s, None) for s in h_syms))
        max_slope = {"tanh": 1, "identity": 1, "relu": 1, "sigmoid": sp.Rational(1, 4)}[name]
        results["factor_bound"] = tidy(abs(w) ** T * max_slope ** T)
        mean = abs(float(product)) ** (1 / T) if T else 1.0
        results["regime"] = "vanishing" if mean < 1 - 1e-12 else "exploding" if mean > 1 + 1e-12 else "neither"
        steps = [
            Step("forward", f"a_t = {show(w)}·h_(t−1) + {show(u)}·x_t + {show(b)}, h_t = {name}(a_t): "
                            f"h = {show(h)}"),
            Step("local factors", f"∂h_t/∂h_(t−1) = w·φ'(a_t) = w·({slope_text}) = {show(factors)}"),
            Step("product over T steps", f"∂h_T/∂h_0 = Π = {show(product)} (per step ≈ {mean:.4g}: {results['regime']}); "
                                         f"bound |w|^T·max|φ'|^T = {show(results['factor_bound'])}"),
            Step("backward", f"δ_T = ∂L/∂h_T = {show(d_hT)}; δ_(t−1) = δ_t·w·φ'(a_t); over {keep} step(s): "
                             f"δ = {show(deltas)}"),
            Step("weight gradients", f"∂L/∂w = Σ δ_t φ'(a_t) h_(t−1) = {show(dw)}; ∂L/∂u = {show(du)}; ∂L/∂b = {show(db)}"),
        ]
        return Solution(results, steps)

    def variants(self, given: dict) -> list[Variant]:
        steps = len(given["x"]) if "x" in given else given.get("steps", 1)
        if given.get("truncate", steps) > 1 and steps > 1:
            return [Variant({**given, "truncate": 1},
                            "only the last time step was backpropagated; BPTT sums the contributions of every step")]
        return []
