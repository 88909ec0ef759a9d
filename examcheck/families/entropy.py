"""Entropy, cross-entropy and KL divergence of discrete distributions, and the
identity H(P,Q) = H(P) + D_KL(P||Q) under the problem's own definitions."""

from __future__ import annotations

import random

import sympy as sp

from examcheck.families import NUMBER_VALUE, Conventions, Family, FamilyError, GivenError, Result, Solution, Step, register
from examcheck.families.helpers import log as log_in
from examcheck.numeval import evaluate
from examcheck.parsing import ParseError
from examcheck.values import exact, expression, show

# Each quantity is a sum over outcomes of a summand in p = P(x) and q = Q(x).
STANDARD_DEFINITIONS = {
    "entropy": "-p*log(p)",
    "cross_entropy": "-p*log(q)",
    "kl": "p*log(p/q)",
}


def _dirichlet(rng: random.Random, n: int) -> list[float]:
    """A uniformly random distribution on n outcomes (Dirichlet(1, ..., 1))."""
    draws = [rng.gammavariate(1.0, 1.0) for _ in range(n)]
    total = sum(draws)
    return [d / total for d in draws]


def _log_base(conventions: Conventions):
    return None if conventions.log_base == "e" else conventions.log_base


@register
class Entropy(Family):
    name = "entropy"
    summary = "H(P), H(P,Q), D_KL(P||Q) and the identity H(P,Q) = H(P) + D_KL(P||Q)"
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "P": {"type": "array", "items": NUMBER_VALUE, "minItems": 1},
            "Q": {"type": "array", "items": NUMBER_VALUE, "minItems": 1},
            "outcomes": {"type": "integer", "minimum": 2, "maximum": 1000,
                         "description": "support size for the identity when P and Q are not given"},
            "definitions": {
                "type": "object",
                "additionalProperties": False,
                "description": "summands in p = P(x) and q = Q(x), as the problem states them",
                "properties": {k: {"type": "string"} for k in STANDARD_DEFINITIONS},
            },
            "expect_identity": {"type": "boolean",
                                "description": "false when the problem asks whether the identity fails"},
        },
    }

    results = (
        Result("entropy", "expression", "H(P) under the problem's definitions and log base"),
        Result("cross_entropy", "expression", "H(P, Q)"),
        Result("kl", "expression", "D_KL(P‖Q)"),
        Result("entropy_plus_kl", "expression", "H(P) + D_KL(P‖Q)"),
        Result("identity_holds", "boolean", "H(P,Q) = H(P) + D_KL(P‖Q) under the definitions"),
    )
    example = {"P": ["1/2", "1/4", "1/4"], "Q": ["1/3", "1/3", "1/3"]}

    def check_given(self, given: dict) -> list[GivenError]:
        errors = []
        p, q = sp.symbols("p q", positive=True)
        for key, text in given.get("definitions", {}).items():
            try:
                expression(text, {"p": p, "q": q})
            except (ParseError, ValueError, TypeError) as exc:
                errors.append(GivenError(("definitions", key), f"cannot read {text!r}: {exc}"))
        if "Q" in given and "P" not in given:
            errors.append(GivenError(("Q",), "Q needs P"))
        if not errors and "P" in given:
            try:
                self._distributions(given)
            except FamilyError as exc:
                errors.append(GivenError(("P",), str(exc)))
        return errors

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        base = _log_base(conventions)
        p, q = sp.symbols("p q", positive=True)
        summands = self._summands(given, p, q, base)
        steps = [Step("definitions", "; ".join(f"{k} = Σₓ {show(v)}" for k, v in summands.items()))]
        results: dict = {}
        if "P" in given:
            self._values(given, summands, p, q, results, steps)
        holds, how, counterexample = self._identity(summands, p, q, given)
        results["identity_holds"] = holds
        steps.append(Step("identity H(P,Q) = H(P) + D_KL(P‖Q)", how))
        findings = []
        if not holds and given.get("expect_identity", True):
            findings.append(
                "the identity H(P,Q) = H(P) + D_KL(P||Q) is false under this problem's definitions; "
                + counterexample
            )
        return Solution(results, steps, findings)

    def _summands(self, given, p, q, base):
        written = {**STANDARD_DEFINITIONS, **given.get("definitions", {})}
        return {k: expression(v, {"p": p, "q": q}, log_base=base) for k, v in written.items()}

    def _distributions(self, given):
        P = [exact(v) for v in given["P"]]
        Q = [exact(v) for v in given.get("Q", given["P"])]
        if len(P) != len(Q):
            raise FamilyError("P and Q must have the same number of outcomes")
        for name, dist in (("P", P), ("Q", Q)):
            if any(v < 0 for v in dist) or sp.simplify(sum(dist) - 1) != 0:
                raise FamilyError(f"{name} is not a probability distribution (it must be >= 0 and sum to 1)")
        return P, Q

    def _values(self, given, summands, p, q, results, steps):
        P, Q = self._distributions(given)

        def total(summand):
            return sp.expand_log(sp.Add(*(summand.subs({p: pi, q: qi}) for pi, qi in zip(P, Q) if pi != 0)),
                                 force=True)

        for key, summand in summands.items():
            results[key] = total(summand)
            steps.append(Step(key, f"Σ {show(summand)} over P={show(P)}, Q={show(Q)} = {show(results[key])}"))
        results["entropy_plus_kl"] = sp.expand_log(results["entropy"] + results["kl"], force=True)

    def _identity(self, summands, p, q, given):
        """Prove the identity term by term, then confirm it on random distributions."""
        difference = summands["cross_entropy"] - summands["entropy"] - summands["kl"]
        proven = sp.expand(sp.expand_log(difference, force=True)) == 0
        n = given.get("outcomes", len(given.get("P", [])) or 10)
        rng = random.Random(0)
        draws = [(_dirichlet(rng, n), _dirichlet(rng, n)) for _ in range(20)]

        def gap(P, Q):
            return sum(evaluate(difference, {"p": a, "q": b}) or 0.0 for a, b in zip(P, Q))

        value, P, Q = max(((gap(P, Q), P, Q) for P, Q in draws), key=lambda t: abs(t[0]))
        if abs(value) < 1e-9:
            how = ("proven symbolically term by term (so for every n-point distribution)" if proven
                   else "not provable term by term")
            return True, f"{how}; confirmed numerically on 20 random {n}-point distributions", ""
        lhs = sum(evaluate(summands["cross_entropy"], {"p": a, "q": b}) or 0.0 for a, b in zip(P, Q))
        example = (f"counterexample with {n} outcomes: P = {[round(v, 3) for v in P]}, "
                   f"Q = {[round(v, 3) for v in Q]} gives H(P,Q) = {lhs:.4f} but H(P) + D_KL(P||Q) = {lhs - value:.4f}")
        return False, "false: " + example, example


DECOMPOSITIONS = {
    "H(P) + D_KL(P||Q)": lambda h, kl: h + kl,
    "H(P) - D_KL(P||Q)": lambda h, kl: h - kl,
    "D_KL(P||Q) - H(P)": lambda h, kl: kl - h,
}


@register
class BinaryCrossEntropy(Family):
    name = "binary_cross_entropy"
    summary = "ce(p, x) = -x log p - (1-x) log(1-p): from maximum likelihood, and as entropy plus KL"
    given_schema = {"type": "object", "additionalProperties": False, "properties": {}}

    results = (
        Result("ce", "expression", "−x log p − (1 − x) log(1 − p)"),
        Result("nll", "expression", "−log of the Bernoulli likelihood"),
        Result("entropy", "expression", "H((x, 1 − x))"),
        Result("kl", "expression", "D_KL((x, 1 − x) ‖ (p, 1 − p))"),
        Result("decomposition", "choice", "which of H + KL, H − KL, KL − H equals ce"),
    )
    example = {}

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        x, p = sp.Symbol("x", positive=True), sp.Symbol("p", positive=True)
        def log(v):
            return log_in(v, conventions.log_base)

        ce = -x * log(p) - (1 - x) * log(1 - p)
        nll = sp.expand(sp.expand_log(-log(p ** x * (1 - p) ** (1 - x)), force=True))
        entropy = -x * log(x) - (1 - x) * log(1 - x)
        kl = x * log(x / p) + (1 - x) * log((1 - x) / (1 - p))
        holds = [name for name, combine in DECOMPOSITIONS.items()
                 if sp.expand(sp.expand_log(ce - combine(entropy, kl), force=True)) == 0]
        steps = [Step("likelihood of one Bernoulli observation", "P(x|p) = p^x (1 − p)^(1 − x)"),
                 Step("negative log-likelihood", f"−log P(x|p) = {show(nll)} = ce(p, x)"),
                 Step("P = (x, 1 − x), Q = (p, 1 − p)", f"H(P) = {show(entropy)}; D_KL(P‖Q) = {show(kl)}"),
                 Step("decomposition", f"ce(p, x) = {holds[0] if holds else '?'} (checked symbolically)")]
        return Solution({"ce": ce, "nll": nll, "entropy": entropy, "kl": kl,
                         "decomposition": holds[0] if holds else "none"}, steps)
