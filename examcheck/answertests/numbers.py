"""Numbers under a precision rule, and exact integers, with diagnoses of the
usual slips: sign, reciprocal, log base, percent, powers of ten, truncation,
insufficient precision, a dropped floor."""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from fractions import Fraction

import mpmath
import sympy as sp

from examcheck.answertests import (
    INCORRECT,
    Options,
    Precision,
    Read,
    Verdict,
    answer_test,
    correct,
    incorrect,
    invalid,
    read_or_verdict,
)
from examcheck.answertests.tolerance import (
    Exact,
    NotANumber,
    as_exact,
    judge,
    mpf_fraction,
    pow10,
    same_value,
    within_rule,
)
from examcheck.parsing import WrittenNumber, parse_number
from examcheck.values import show


def written_text(student) -> str:
    if isinstance(student, bool):
        return "true" if student else "false"
    return str(student)


def is_written_number(value) -> bool:
    """A parsed number that carries its written precision (any version of WrittenNumber)."""
    return hasattr(value, "value") and hasattr(value, "decimals") and hasattr(value, "sigfigs")


def read_number(student, options: Options) -> WrittenNumber | Verdict:
    if is_written_number(student):
        return student
    if isinstance(student, (list, dict, tuple)):
        return invalid("expected a single number, not a list")
    return read_or_verdict(lambda: parse_number(written_text(student), options.vocab), "a number")


def _decimals(written) -> int | None:
    return getattr(written, "decimals", None)


def _sigfigs(written) -> int | None:
    return getattr(written, "sigfigs", None)


def shown_number(student, written) -> str:
    """Plain decimals are shown as written (1.40 stays 1.40); anything else as parsed."""
    if is_written_number(student):
        text = getattr(student, "shown", None) or ""
    else:
        text = written_text(student).strip()
    if _decimals(written) is None:
        return show(written.value)
    value = show(written.value)
    if not text or text == value or ("%" not in text and "e" not in text.lower() and "^" not in text):
        return text or value
    return f"{text} = {_short(as_exact(written.value))}"


def _short(x: Exact) -> str:
    with mpmath.workdps(20):
        return mpmath.nstr(_approx(x), 6)


def reference_number(written, options: Options):
    parsed = read_number(written, options)
    if isinstance(parsed, Verdict):
        raise ValueError(parsed.feedback)
    return parsed.value


def read_number_answer(student, options: Options) -> Read | Verdict:
    """number_test's reading: a written number (with its precision) that has a finite value."""
    written = read_number(student, options)
    if isinstance(written, Verdict):
        return written
    try:
        as_exact(written.value)
    except NotANumber:
        return invalid("the value is not a finite number", "not_finite")
    return Read(written, shown_number(student, written))


def read_count(student, options: Options) -> Read | Verdict:
    """integer_test's reading: a written number (whole or not; the test says which)."""
    written = read_number(student, options)
    if isinstance(written, Verdict):
        return written
    return Read(written, shown_number(student, written))


@answer_test("number", reader=reference_number, student_reader=read_number_answer)
def number_test(student, reference, options: Options) -> Verdict:
    answer = read_number_answer(student, options)
    if isinstance(answer, Verdict):
        return answer
    return judge_number(answer.value, answer.shown, reference, options)


def judge_number(written, shown: str, reference, options: Options) -> Verdict:
    """A written number (with its precision) against a reference value under the part's rule."""
    try:
        s = as_exact(written.value)
    except NotANumber:
        return invalid("the value is not a finite number", "not_finite")
    try:
        r = as_exact(reference)
    except NotANumber:
        return invalid("the reference is not a finite number", "not_finite")
    rule = options.precision
    verdict = judge(s, r, rule.kind, rule.value, _decimals(written), _sigfigs(written), rule.min_sigfigs)
    if verdict.ok:
        how = "exactly" if same_value(s, r) else rule.describe()
        if verdict.reason == "near_exact":
            how = "within a relative 1e-6 (an exact spelling; the reference is " + _short(r) + ")"
        return correct(note=f"matches {how}", interpreted=shown)
    if verdict.reason == "insufficient_precision":
        return incorrect(f"insufficient precision: correct to the digits written, but this part is graded "
                         f"{rule.describe()}", "insufficient_precision", shown)
    if verdict.reason == "not_exact":
        return incorrect("this part asks for the exact value; this is only a rounding of it "
                         "(write it exactly, e.g. as a fraction)", "not_exact", shown)
    feedback, note = diagnose_number(written, s, r, rule, slip_context(reference, options))
    return incorrect(feedback or NO_SLIP, note or "no_slip", interpreted=shown)


def _approx(x: Exact) -> mpmath.mpf:
    return mpmath.mpf(x.value.numerator) / x.value.denominator


def diagnose_number(written, s: Exact, r: Exact, rule: Precision, context: frozenset | None = None) -> tuple[str, str]:
    """The likely mistake behind a wrong number, as (feedback, note).  A slip
    is named when the answer would pass the part's own rule had the reference
    been transformed by that slip."""
    decimals, sigfigs = _decimals(written), _sigfigs(written)

    def matches(candidate: Fraction) -> bool:
        return explains(candidate) and within_rule(s, Exact(candidate, r.exact, r.rel_error), rule.kind, rule.value,
                                                   decimals, sigfigs, rule.min_sigfigs)

    def agrees(candidate: Fraction) -> bool:
        """For a slip by a factor (log base, percent, power of ten, a constant): the answer must agree with the
        slipped value as closely as the part's rule asks of a correct answer (a 1-figure 3 is no evidence of
        2.1/ln 2 = 3.03)."""
        return matches(candidate) and strictly_within(s, candidate, rule, decimals, sigfigs)

    def explains(candidate: Fraction) -> bool:
        """A slip explains the answer only if it moves the value materially (more than 5%: the reciprocal of
        0.999 is no explanation of 1.002; every slip named here moves a value by 9% or more unless the value is
        near a fixed point of the slip) and the answer is nearer the slipped value than the reference."""
        return abs(candidate - r.value) > abs(r.value) / 20 and abs(s.value - candidate) < abs(s.value - r.value)

    if s.value == 0 and r.value != 0:
        return f"the answer is not zero: it is about {mpmath.nstr(_approx(r), 3)}", "zero"
    if rule.kind == "decimals" and decimals is not None:
        n = int(rule.value)
        scaled = r.value * pow10(n)
        truncated = Fraction(math.trunc(scaled)) / pow10(n)
        rounded = Fraction(round(scaled)) / pow10(n)
        if s.value == truncated and truncated != rounded:
            shown = mpmath.nstr(_approx(r), n + 3)
            return f"truncated instead of rounded: {shown} rounds to {_decimal_text(rounded, n)}", "truncated"
    if r.value == 0:
        return "", ""
    if matches(-r.value):
        return "sign error: the value has the wrong sign", "sign_error"
    with mpmath.workdps(40):
        for factor, feedback, note in _FACTOR_SLIPS:
            if applicable(note, factor, r, context) and agrees(r.value * mpf_fraction(factor())):
                return feedback, note
    if s.value != 0 and matches(1 / r.value):
        return "you gave the reciprocal of the answer", "reciprocal"
    if s.value != 0:
        ratio = s.value / r.value
        if ratio > 0:
            with mpmath.workdps(30):
                k = int(mpmath.nint(mpmath.log10(mpmath.mpf(ratio.numerator) / ratio.denominator)))
            if k and agrees(r.value * pow10(k)):
                return f"off by a factor of 10^{k}: check the decimal point or units", "power_of_ten"
        simple = ratio.limit_denominator(8)
        small = abs(simple.numerator) <= 12 and simple.denominator <= 12  # 2, 1/2, 3/2: a slip; 7e24 is not
        if simple not in (0, 1) and small and agrees(r.value * simple):
            return f"off by a constant factor of {simple}", "constant_factor"
    return "", ""


NO_SLIP = ("wrong value: no common slip (sign, reciprocal, power of ten, small factor, rounding) explains the "
           "difference; recheck the computation")


def strictly_within(s: Exact, candidate: Fraction, rule: Precision, decimals, sigfigs) -> bool:
    """s agrees with candidate under the part's rule with no precision shortfall forgiven (an answer written
    with fewer figures than the rule asks is taken to claim the rule's figures)."""
    c = Exact(candidate, False, Fraction(0))
    if rule.kind == "exact":
        return same_value(s, c) or abs(s.value - candidate) <= abs(candidate) / 10 ** 9
    if rule.kind != "default":
        return judge(s, c, rule.kind, rule.value, None, None, rule.min_sigfigs).ok
    if decimals is None or (sigfigs is not None and sigfigs >= rule.min_sigfigs):
        return within_rule(s, c, rule.kind, rule.value, decimals, sigfigs, rule.min_sigfigs)
    return abs(s.value - candidate) <= abs(candidate) * Fraction(5, 10 ** rule.min_sigfigs)


def slip_context(reference, options: Options) -> frozenset | None:
    """options.slip_context, with "log" added when the reference value itself holds a logarithm."""
    context = options.slip_context
    if context is None:
        return None
    try:
        has_log = isinstance(reference, sp.Basic) and reference.has(sp.log)
    except (TypeError, RecursionError):
        has_log = False
    return context | {"log"} if has_log else context


def applicable(note: str, factor, r: Exact, context: frozenset | None) -> bool:
    """A slip is named only where it can happen: a log base only if the part's computation involves a
    logarithm; 'a percentage where a fraction is asked' only for a fraction-like value (|r| <= 1) or a part
    that mentions percent; 'a fraction where a percentage is asked' only for a part that mentions percent."""
    if context is None:
        return True
    if note.startswith("log_base"):
        return "log" in context
    if note == "percent":
        if "percent" in context:
            return True
        return factor() > 1 and abs(r.value) <= 1
    return True


def _decimal_text(x: Fraction, decimals: int) -> str:
    """x (a multiple of 10^-decimals) written with exactly that many decimals."""
    with localcontext() as ctx:
        ctx.prec = 1000
        value = Decimal(x.numerator) / Decimal(x.denominator)
        return f"{value:.{decimals}f}" if 0 <= decimals <= 400 else f"{value:.6g}"


_FACTOR_SLIPS = [
    (lambda: 1 / mpmath.log(10), "log base: this value uses log base 10 where the natural log is meant", "log_base_10"),
    (lambda: mpmath.log(10), "log base: this value uses the natural log where log base 10 is meant", "log_base_e"),
    (lambda: 1 / mpmath.log(2), "log base: this value uses log base 2 where the natural log is meant", "log_base_2"),
    (lambda: mpmath.log(2), "log base: this value uses the natural log where log base 2 is meant", "log_base_e"),
    (lambda: mpmath.mpf(100), "you gave a percentage where a fraction is asked (divide by 100)", "percent"),
    (lambda: mpmath.mpf(1) / 100, "you gave a fraction where a percentage is asked (multiply by 100)", "percent"),
]


@answer_test("integer", reader=reference_number, student_reader=read_count)
def integer_test(student, reference, options: Options) -> Verdict:
    answer = read_count(student, options)
    if isinstance(answer, Verdict):
        return answer
    value, shown = answer.value.value, answer.shown
    if value == reference:
        return correct(note="exact", interpreted=shown)
    try:
        whole = value.is_integer
        floor_left_out = not whole and sp.floor(value) == reference
        ceiling_left_out = not whole and sp.ceiling(value) == reference
    except (OverflowError, RecursionError, ValueError):  # SymPy cannot even size it (exp(exp(exp(10))))
        return invalid("too complex to check: the value is too large to evaluate", "too_complex")
    if not whole:
        if floor_left_out:
            return incorrect("the count must be a whole number: the floor ⌊·⌋ was left out",
                             "floor_omitted", shown)
        if ceiling_left_out:
            return incorrect("the count must be a whole number: round up (ceiling) here", "ceiling_omitted", shown)
        return incorrect("expected a whole number", "not_integer", shown)
    try:
        s, r = as_exact(value), as_exact(reference)
    except NotANumber:
        return invalid("the value is not a finite number", "not_finite")
    if abs(s.value - r.value) == 1:
        return incorrect("off by one", "off_by_one", shown)
    feedback, note = diagnose_number(WrittenNumber(value), s, r, Precision("exact"), slip_context(reference, options))
    return Verdict(0.0, INCORRECT, feedback or NO_SLIP, note or "no_slip", shown)
