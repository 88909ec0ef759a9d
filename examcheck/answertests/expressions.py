"""Expression equivalence in layers, each reported: structural equality,
numeric agreement at seeded random points drawn from the declared domains,
then a symbolic proof when the points cannot decide."""

from __future__ import annotations

import math
import random

import sympy as sp

from examcheck.answertests import (
    UNDECIDED,
    Options,
    Verdict,
    answer_test,
    correct,
    incorrect,
    invalid,
    read_or_verdict,
)
from examcheck.mathfuncs import expand_sigma
from examcheck.numeval import evaluate
from examcheck.parsing import parse_expression
from examcheck.values import show

RTOL = 1e-7
ZERO = 1e-10
MAX_TRIES = 60


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


@answer_test("expression", reader=reference_expression)
def expression_test(student, reference, options: Options) -> Verdict:
    parsed = read_expression(student, options)
    if isinstance(parsed, Verdict):
        return parsed
    return compare_expressions(parsed, as_expr(reference), options)


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
    samples = sample_pair(s, r, options)
    if samples.mismatch is None and samples.agreed >= options.points:
        return correct(note=f"agrees at {samples.agreed} random points", interpreted=shown)
    if samples.mismatch is not None:
        defined_agree = all(agree(sv, rv) for _, sv, rv in samples.pairs)
        if samples.student_undefined and defined_agree:
            feedback, note = ("your expression is undefined where the answer is defined "
                              f"(for example at {_point_text(samples.student_undefined)})", "domain_mismatch")
        else:
            feedback, note = diagnose_expression(samples, options)
            if not feedback:
                feedback, note = diagnose_ratio(s, r)
        return incorrect(feedback or f"differs from the answer, e.g. at {_point_text(samples.mismatch[0])}",
                         note or "differs", shown)
    return symbolic_layer(s, r, shown, samples)


def symbolic_layer(s, r, shown, samples) -> Verdict:
    difference = sp.simplify(expand_sigma(s - r))
    if difference == 0:
        return correct(note="proven symbolically", interpreted=shown)
    return Verdict(0.0, UNDECIDED, "could not decide: too few test points where both are defined "
                   f"({samples.agreed} agreed)", "undecided", shown)


class Samples:
    def __init__(self):
        self.pairs: list[tuple[dict, float, float]] = []
        self.agreed = 0
        self.mismatch: tuple[dict, float, float] | None = None
        self.student_undefined: dict | None = None


def sample_pair(s, r, options: Options) -> Samples:
    names = sorted({sym.name for sym in (s.free_symbols | r.free_symbols)})
    rng = random.Random(options.seed)
    out = Samples()
    for _ in range(MAX_TRIES):
        if out.agreed >= options.points or len(out.pairs) >= options.points + 4:
            break
        point = {n: options.domain(n).sample(rng) for n in names}
        rv = evaluate(r, point)
        if rv is None:
            continue
        sv = evaluate(s, point)
        if sv is None:
            out.student_undefined = out.student_undefined or point
            out.mismatch = out.mismatch or (point, math.nan, rv)
            continue
        if not agree(sv, rv) and _close_enough_to_recheck(sv, rv) and agree_precisely(s, r, point):
            sv = rv
        out.pairs.append((point, sv, rv))
        if agree(sv, rv):
            out.agreed += 1
        elif out.mismatch is None:
            out.mismatch = (point, sv, rv)
    return out


def _close_enough_to_recheck(a: float, b: float) -> bool:
    """Float cancellation leaves small relative errors; a gross difference needs no 30-digit recheck."""
    return abs(a - b) <= 1e-3 * max(abs(a), abs(b))


def agree_precisely(s, r, point: dict) -> bool:
    """Re-check a float disagreement with 30-digit arithmetic (cancellation is not a wrong answer)."""
    subs = {sym: sp.Float(point[sym.name], 30) for sym in (s.free_symbols | r.free_symbols)}
    try:
        a, b = s.evalf(30, subs=subs), r.evalf(30, subs=subs)
        if not (a.is_number and b.is_number):
            return False
        diff = abs(complex(a - b))
        return diff <= 1e-20 * max(abs(complex(a)), abs(complex(b)), 1e-300) + 1e-25
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return False


def diagnose_ratio(s: sp.Expr, r: sp.Expr) -> tuple[str, str]:
    """A wrong rational answer that is the answer times a simple factor: name that factor."""
    if r == 0 or s == 0 or not (_is_rational(s) and _is_rational(r)):
        return "", ""
    ratio = sp.cancel(s / r)
    numerator, denominator = ratio.as_numer_denom()
    if denominator.is_number and numerator.free_symbols and sp.count_ops(ratio) <= 6:
        return f"an extra factor {show(ratio)}", f"extra_factor:{ratio}"
    if numerator.is_number and denominator.free_symbols and sp.count_ops(1 / ratio) <= 6:
        return f"a missing factor {show(1 / ratio)}", f"missing_factor:{1 / ratio}"
    return "", ""


def _is_rational(expr: sp.Expr) -> bool:
    """Built from symbols and numbers with + - * / and integer powers only."""
    return not expr.atoms(sp.Function) and all(p.exp.is_Integer for p in expr.atoms(sp.Pow))


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
