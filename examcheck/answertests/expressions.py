"""Expression equivalence in layers, each reported: structural equality,
numeric agreement at seeded random points drawn from the declared domains,
then a symbolic proof when the points cannot decide."""

from __future__ import annotations

import math

import mpmath
import sympy as sp

from examcheck.answertests import (
    UNDECIDED,
    Options,
    Read,
    Verdict,
    answer_test,
    correct,
    incorrect,
    invalid,
    read_or_verdict,
)
from examcheck.answertests.equivalence import MIN_POINTS, compare_numerically
from examcheck.mathfuncs import expand_sigma
from examcheck.parsing import parse_expression
from examcheck.values import show

RTOL = 1e-7  # for naming a slip from sampled values only; equivalence itself is decided in equivalence.py
ZERO = 1e-10


def read_expression(student, options: Options):
    if isinstance(student, (list, dict)):
        return invalid("expected a single expression, not a list")
    text = "true" if student is True else "false" if student is False else str(student)
    return read_or_verdict(lambda: parse_expression(text, options.vocab), "the expression")


def reference_expression(written, options: Options):
    parsed = read_expression(written, options)
    if isinstance(parsed, Verdict):
        raise ValueError(parsed.feedback)
    return parsed


def as_expr(value) -> sp.Expr:
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"not an expression: {value!r}")
    return sp.Integer(value) if isinstance(value, int) else sp.Float(value)


def agree(a: float, b: float) -> bool:
    return abs(a - b) <= RTOL * max(abs(a), abs(b)) + ZERO


def read_expression_answer(student, options: Options) -> Read | Verdict:
    """expression_test's reading: the parser's SymPy value."""
    parsed = read_expression(student, options)
    if isinstance(parsed, Verdict):
        return parsed
    return Read(parsed, show(parsed))


@answer_test("expression", reader=reference_expression, student_reader=read_expression_answer)
def expression_test(student, reference, options: Options) -> Verdict:
    answer = read_expression_answer(student, options)
    if isinstance(answer, Verdict):
        return answer
    return compare_expressions(answer.value, as_expr(reference), options)


def unify_symbols(expr: sp.Expr, options: Options) -> sp.Expr:
    """Same name, same symbol: a family's real z and a part's positive z are one variable."""
    symbols = options.vocab.symbols
    swap = {sym: symbols[sym.name] for sym in expr.free_symbols if sym.name in symbols and symbols[sym.name] != sym}
    return expr.xreplace(swap) if swap else expr


def expand_definitions(expr: sp.Expr, options: Options) -> sp.Expr:
    """Replace intermediate quantities (a^(4)_1, delta^(3)_k, ...) by what they stand for."""
    if not options.definitions:
        return expr
    for _ in range(30):
        swap = {sym: options.definitions[sym.name] for sym in expr.free_symbols if sym.name in options.definitions}
        if not swap:
            return expr
        expr = expr.xreplace(swap)
    return expr


def compare_expressions(s: sp.Expr, r: sp.Expr, options: Options) -> Verdict:
    shown = show(s)
    s, r = unify_symbols(s, options), unify_symbols(r, options)
    if options.definitions:
        s, r = expand_definitions(s, options), expand_definitions(r, options)
    if s == r:
        return correct(note="identical to the reference", interpreted=shown)
    if _unbounded(s) or _unbounded(r):  # equal infinities were caught above
        if _unbounded(s) and _unbounded(r):
            return incorrect("not this infinity (mind the sign)", "infinite_mismatch", shown)
        which = "your answer is" if _unbounded(s) else "the answer is"
        return incorrect(f"{which} infinite or undefined everywhere; the other is not", "infinite_mismatch", shown)
    outcome = compare_numerically(s, r, options)
    if outcome.domain is not None:
        point, side = outcome.domain
        if side == "student":
            feedback = f"your expression is undefined where the answer is defined (for example at {_point_text(point)})"
        else:
            feedback = f"your expression is defined where the answer is not (for example at {_point_text(point)})"
        return incorrect(feedback, "domain_mismatch", shown)
    if outcome.witness is not None:
        samples = Samples.from_outcome(outcome)
        feedback, note = diagnose_expression(samples, options)
        if not feedback:
            feedback, note = diagnose_ratio(s, r, samples.pairs)
        where = witness_text(*outcome.witness)
        feedback = f"{feedback} ({where})" if feedback else f"differs from the answer: {where}"
        return incorrect(feedback, note or "differs", shown)
    if outcome.agreed >= MIN_POINTS:
        return correct(note=agreement_note(outcome), interpreted=shown)
    return symbolic_layer(s, r, shown, outcome)


def _unbounded(e) -> bool:
    """A constant infinity or NaN (oo, -oo, zoo, nan): never a value the sampling layer can compare."""
    return bool(getattr(e, "is_number", False)) and (e.has(sp.oo, -sp.oo, sp.zoo) or e is sp.nan)


def witness_text(point: dict, sv, rv) -> str:
    """'at x = 2: your expression is 1.0000000001, the answer 1 (a difference of 1e-10)', with enough
    digits to show the difference."""
    with mpmath.workdps(60):
        sv, rv = mpmath.mpf(sv), mpmath.mpf(rv)
        gap = sv - rv
        scale = max(abs(sv), abs(rv))
        digits = 10
        if gap != 0 and scale != 0:
            digits = min(40, max(10, int(mpmath.ceil(mpmath.log10(scale / abs(gap)))) + 3))
        text = f"at {_point_text(point)} your expression is {mpmath.nstr(sv, digits)}, the answer {mpmath.nstr(rv, digits)}"
        if gap != 0 and digits > 10:
            text += f" (a difference of {mpmath.nstr(gap, 3)})"
    return text


def agreement_note(outcome) -> str:
    parts = [f"agrees at {outcome.agreed} points across scales"]
    if outcome.at_breakpoints:
        parts.append(f"{outcome.at_breakpoints} at breakpoints")
    if outcome.high_precision:
        parts.append(f"{outcome.high_precision} checked in high precision")
    note = parts[0] + (f" ({', '.join(parts[1:])})" if parts[1:] else "")
    if outcome.conventions:
        note += f"; differs only at {_point_text(outcome.conventions[0])}, where the answer jumps (a convention)"
    if outcome.skipped:
        note += f"; {outcome.skipped} point(s) too large to evaluate"
    return note


def symbolic_layer(s, r, shown, outcome) -> Verdict:
    difference = sp.simplify(expand_sigma(s - r))
    if difference == 0:
        return correct(note="proven symbolically", interpreted=shown)
    return Verdict(0.0, UNDECIDED, "could not decide: too few test points where both are defined "
                   f"({outcome.agreed} agreed)", "undecided", shown)


class Samples:
    def __init__(self):
        self.pairs: list[tuple[dict, float, float]] = []
        self.agreed = 0
        self.mismatch: tuple[dict, float, float] | None = None
        self.student_undefined: dict | None = None

    @classmethod
    def from_outcome(cls, outcome) -> Samples:
        out = cls()
        out.pairs = [p for p in outcome.pairs if _ordinary(p)]
        out.agreed = outcome.agreed
        out.mismatch = outcome.witness
        return out


def _ordinary(pair) -> bool:
    """A sample of ordinary size, usable for naming a slip (ratios of 1e-300 values say little)."""
    _, sv, rv = pair
    return all(math.isfinite(v) and (v == 0 or 1e-12 < abs(v) < 1e12) for v in (sv, rv))


def diagnose_ratio(s: sp.Expr, r: sp.Expr, pairs: list | None = None) -> tuple[str, str]:
    """A wrong answer that is the answer times (or divided by) some of its own factors: name them.
    The factors are read off the two products; the claim is checked at the sampled points."""
    if r == 0 or s == 0:
        return "", ""
    mine, theirs = list(sp.Mul.make_args(s)), list(sp.Mul.make_args(r))
    extra = [f for f in mine if f not in theirs]
    missing = [f for f in theirs if f not in mine]
    if bool(extra) == bool(missing):
        return "", ""
    factor = sp.Mul(*(extra or missing))
    if factor.is_number or sp.count_ops(factor) > 6 or not _factor_holds(s, r, factor, bool(extra), pairs or []):
        return "", ""
    if extra:
        return f"an extra factor {show(factor)}", f"extra_factor:{factor}"
    return f"a missing factor {show(factor)}", f"missing_factor:{factor}"


def _factor_holds(s, r, factor, is_extra: bool, pairs: list) -> bool:
    from examcheck.numeval import evaluate

    checked = 0
    for point, sv, rv in pairs[:12]:
        f = evaluate(factor, point)
        if f is None:
            continue
        want = rv * f if is_extra else (rv / f if f else math.nan)
        if not agree(sv, want):
            return False
        checked += 1
    return checked >= 3


def _point_text(point: dict) -> str:
    shown = [f"{k} = {v:.3g}" for k, v in list(point.items())[:4]]
    more = ", …" if len(point) > 4 else ""
    return (", ".join(shown) + more) or "every point"


def _constant(values: list[float]) -> float | None:
    if not values or any(math.isnan(v) or math.isinf(v) for v in values):
        return None
    first = values[0]
    return first if all(agree(v, first) for v in values) else None


def diagnose_expression(samples: Samples, options: Options) -> tuple[str, str]:
    """Name the likely mistake from the sampled values."""
    pairs = [(p, sv, rv) for p, sv, rv in samples.pairs if abs(rv) > 1e-9]
    if len(pairs) < 3:
        return "", ""
    ratio = _constant([sv / rv for _, sv, rv in pairs])
    if ratio is not None:
        if agree(ratio, -1.0):
            return "sign error: your expression is the negative of the answer", "sign_error"
        if agree(ratio, 1 / math.log(10)) or agree(ratio, math.log(10)):
            which = "log base 10 where the natural log" if ratio < 1 else "the natural log where log base 10"
            return f"log base: you used {which} is meant", "log_base"
        if agree(ratio, 1 / math.log(2)) or agree(ratio, math.log(2)):
            return "log base: a factor of ln 2 — check which log base is meant", "log_base"
        if ratio != 0 and not agree(ratio, 1.0):
            nice = sp.Rational(ratio).limit_denominator(12)
            text = str(nice) if abs(float(nice) - ratio) < 1e-9 else f"{ratio:.4g}"
            return f"off by a constant factor of {text}", "constant_factor"
    if _constant([sv * rv for _, sv, rv in pairs if sv != 0]) == 1.0:
        return "you gave the reciprocal of the answer", "reciprocal"
    for name in sorted(pairs[0][0]):
        missing = _constant([rv / sv - p[name] for p, sv, rv in pairs if sv != 0])
        if missing is not None and abs(missing) < 1e-9:
            return f"a factor of {name} is missing", f"missing_factor:{name}"
        extra = _constant([sv / rv - p[name] for p, sv, rv in pairs])
        if extra is not None and abs(extra) < 1e-9:
            return f"an extra factor of {name}", f"extra_factor:{name}"
    shift = _constant([sv - rv for _, sv, rv in samples.pairs])
    if shift is not None and abs(shift) > ZERO:
        nice = sp.Rational(shift).limit_denominator(12)
        text = str(nice) if abs(float(nice) - shift) < 1e-9 else f"{shift:.4g}"
        return f"off by an added constant {text}", "added_constant"
    return "", ""
