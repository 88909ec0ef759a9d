"""Entropy, cross-entropy, KL (both directions) and Jensen–Shannon divergence of
discrete distributions that may contain zeros, where the answer can be ∞.

Conventions: 0·log 0 = 0 and 0·log(0/q) = 0 (an outcome P never produces adds
nothing); p·log(p/0) = ∞ for p > 0, so H(P, Q) and D_KL(P‖Q) are ∞ exactly when
P puts mass where Q has none (a support mismatch).  The log base is the problem's
``log_base`` (e by default).  JS(P, Q) = (1/2)D_KL(P‖M) + (1/2)D_KL(Q‖M), M = (1/2)(P + Q),
is always finite (at most log 2).
"""

from __future__ import annotations

import sympy as sp

from examcheck.families import Conventions, Family, FamilyError, GivenError, Result, Solution, Step, Variant, register
from examcheck.families._numbers import number_errors
from examcheck.families.helpers import log
from examcheck.values import exact, show

MAX_OUTCOMES = 1_000
MAX_FACTOR_DIGITS = 12  # expand_log factors integers: beyond this, evaluate numerically
DISTRIBUTION = {"type": "array", "items": {"type": ["number", "string"]}, "minItems": 1, "maxItems": MAX_OUTCOMES}




def _distribution(name: str, values: list) -> list:
    dist = [exact(v) for v in values]
    if any(v < 0 for v in dist) or sp.simplify(sp.Add(*dist) - 1) != 0:
        raise FamilyError(f"{name} is not a probability distribution (values >= 0 that sum to 1): {show(dist)}")
    return dist


def _settle(expr):
    """Sums of logs written simply (log 4/log 2 → 2); numerically when the numbers are too long to factor."""
    if any(len(str(abs(r.p))) > MAX_FACTOR_DIGITS or len(str(r.q)) > MAX_FACTOR_DIGITS for r in expr.atoms(sp.Rational)):
        return sp.N(expr, 30)
    return sp.expand_log(expr, force=True)


def cross_entropy(P: list, Q: list, base, skip_zero_q: bool = False):
    """−Σ p log q over outcomes with p > 0; ∞ if some p > 0 has q = 0 (unless skipped, a known mistake)."""
    terms = []
    for p, q in zip(P, Q):
        if p == 0:
            continue
        if q == 0:
            if skip_zero_q:
                continue
            return sp.oo
        terms.append(-p * log(q, base))
    return _settle(sp.Add(*terms))


def kl(P: list, Q: list, base, skip_zero_q: bool = False):
    terms = []
    for p, q in zip(P, Q):
        if p == 0:
            continue
        if q == 0:
            if skip_zero_q:
                continue
            return sp.oo
        terms.append(p * log(p / q, base))
    return _settle(sp.Add(*terms))


@register
class Divergence(Family):
    name = "divergence"
    summary = "H(P), H(P,Q), D_KL(P‖Q), D_KL(Q‖P) and JS(P,Q) with zero probabilities: ∞ on a support mismatch"
    results = (
        Result("entropy_P", "number", "H(P) = −Σ p log p (0 log 0 = 0)"),
        Result("entropy_Q", "number", "H(Q)"),
        Result("cross_entropy", "number", "H(P, Q) = −Σ p log q; ∞ on a support mismatch"),
        Result("cross_entropy_reverse", "number", "H(Q, P)"),
        Result("kl", "number", "D_KL(P‖Q) = Σ p log(p/q); ∞ when some p > 0 has q = 0"),
        Result("kl_reverse", "number", "D_KL(Q‖P)"),
        Result("js", "number", "Jensen–Shannon divergence (1/2)D_KL(P‖M) + (1/2)D_KL(Q‖M), M = (P + Q)/2 (finite)"),
        Result("support_mismatch", "boolean", "P puts mass where Q has none (so D_KL(P‖Q) = ∞)"),
        Result("support_mismatch_reverse", "boolean", "Q puts mass where P has none"),
        Result("kl_finite", "boolean", "D_KL(P‖Q) is finite"),
        Result("kl_reverse_finite", "boolean", "D_KL(Q‖P) is finite"),
        Result("kl_symmetric", "boolean", "D_KL(P‖Q) = D_KL(Q‖P) here"),
    )
    conventions = Conventions
    example = {"P": ["1/2", "1/2", 0], "Q": ["1/4", "1/4", "1/2"]}
    notes = "Infinite results are sp.oo; ask them with `answer: expression` (students write ∞, oo, inf or \\infty)."
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["P", "Q"],
        "properties": {
            "P": DISTRIBUTION,
            "Q": DISTRIBUTION,
            "zero_q_terms": {"enum": ["infinite", "skipped"],
                             "description": "infinite (the definition) or skipped (a known mistake: the outcomes "
                                            "with q = 0 left out)"},
        },
    }

    def check_given(self, given: dict) -> list[GivenError]:
        return number_errors(given, self.given_schema)

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        base = conventions.log_base
        P, Q = _distribution("P", given["P"]), _distribution("Q", given["Q"])
        if len(P) != len(Q):
            raise FamilyError("P and Q must have the same number of outcomes")
        skip = given.get("zero_q_terms", "infinite") == "skipped"
        M = [(p + q) / 2 for p, q in zip(P, Q)]
        results = {
            "entropy_P": cross_entropy(P, P, base),
            "entropy_Q": cross_entropy(Q, Q, base),
            "cross_entropy": cross_entropy(P, Q, base, skip),
            "cross_entropy_reverse": cross_entropy(Q, P, base, skip),
            "kl": kl(P, Q, base, skip),
            "kl_reverse": kl(Q, P, base, skip),
            "js": _settle((kl(P, M, base) + kl(Q, M, base)) / 2),
            "support_mismatch": any(p > 0 and q == 0 for p, q in zip(P, Q)),
            "support_mismatch_reverse": any(q > 0 and p == 0 for p, q in zip(P, Q)),
        }
        results["kl_finite"] = results["kl"] is not sp.oo
        results["kl_reverse_finite"] = results["kl_reverse"] is not sp.oo
        results["kl_symmetric"] = bool(results["kl"] == results["kl_reverse"] or (
            results["kl_finite"] and results["kl_reverse_finite"]
            and sp.simplify(results["kl"] - results["kl_reverse"]) == 0))
        log = "ln" if base in (None, "e") else f"log_{base}"
        missing = [i + 1 for i, (p, q) in enumerate(zip(P, Q)) if p > 0 and q == 0]
        steps = [
            Step("conventions", f"0·{log} 0 = 0; p·{log}(p/0) = ∞ for p > 0"),
            Step("H(P)", f"−Σ p {log} p = {show(results['entropy_P'])}"),
            Step("D_KL(P‖Q)", (f"outcome(s) {missing} have p > 0 and q = 0, so D_KL(P‖Q) = ∞ and H(P,Q) = ∞"
                               if missing and not skip else f"Σ p {log}(p/q) = {show(results['kl'])}")),
            Step("D_KL(Q‖P)", f"{show(results['kl_reverse'])}"),
            Step("JS(P,Q)", f"M = {show(M)}; (1/2)D_KL(P‖M) + (1/2)D_KL(Q‖M) = {show(results['js'])} (always finite)"),
        ]
        return Solution(results, steps)

    def variants(self, given: dict) -> list[Variant]:
        if given.get("zero_q_terms", "infinite") == "skipped":
            return []
        return [Variant({**given, "zero_q_terms": "skipped"},
                        "the outcomes where Q is 0 were left out; P puts mass there, so the divergence is ∞")]
