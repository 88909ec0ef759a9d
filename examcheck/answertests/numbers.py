"""Numbers under a precision rule, and exact integers, with diagnoses of the
usual slips: sign, reciprocal, log base, percent, powers of ten, truncation,
insufficient precision, a dropped floor."""

from __future__ import annotations

import functools
import math

import sympy as sp

from examcheck.answertests import (
    INCORRECT,
    Options,
    Precision,
    Verdict,
    answer_test,
    correct,
    incorrect,
    invalid,
    read_or_verdict,
)
from examcheck.parsing import WrittenNumber, parse_number
from examcheck.values import show

SLACK = 1e-9


@functools.lru_cache(maxsize=4096)
def to_float(value) -> float:
    return float(sp.N(value, 30))


def written_text(student) -> str:
    if isinstance(student, bool):
        return "true" if student else "false"
    return str(student)


def read_number(student, options: Options) -> WrittenNumber | Verdict:
    if isinstance(student, (list, dict)):
        return invalid("expected a single number, not a list")
    return read_or_verdict(lambda: parse_number(written_text(student), options.vocab), "a number")


def _half_unit_decimals(decimals: int) -> float:
    return 0.5 * 10.0 ** (-decimals)


def _half_unit_sigfigs(r: float, sigfigs: int) -> float:
    if r == 0:
        return 0.0
    return 0.5 * 10.0 ** (math.floor(math.log10(abs(r))) - sigfigs + 1)


def tolerance(written: WrittenNumber, r: float, rule: Precision) -> float:
    """How far the student's value may be from the reference and still count."""
    exact_slack = 1e-12 * max(abs(r), 1e-300)
    if rule.kind == "exact":
        return exact_slack
    if rule.kind == "decimals":
        return _half_unit_decimals(int(rule.value))
    if rule.kind == "sigfigs":
        return _half_unit_sigfigs(r, int(rule.value))
    if rule.kind == "rtol":
        return rule.value * abs(r)
    if rule.kind == "atol":
        return rule.value
    at_minimum = _half_unit_sigfigs(r, rule.min_sigfigs)
    if written.exact:
        return max(exact_slack, 1e-9 * abs(r))
    return min(_half_unit_decimals(written.decimals), at_minimum) if r != 0 else _half_unit_decimals(written.decimals)


def shown_number(student, written: WrittenNumber) -> str:
    """Plain decimals are shown as written (1.40 stays 1.40); anything else as parsed."""
    text = written_text(student).strip()
    if written.exact:
        return show(written.value)
    value = show(written.value)
    if text == value or "%" not in text and "e" not in text.lower() and "^" not in text:
        return text
    try:
        return f"{text} = {float(written.value):g}"
    except (TypeError, ValueError, OverflowError):  # too large for a float: show it as written
        return text


def close(s: float, r: float, tol: float) -> bool:
    return abs(s - r) <= tol * (1 + SLACK) + 1e-15 * max(abs(r), 1.0) * (tol > 0)


def reference_number(written, options: Options):
    parsed = read_number(written, options)
    if isinstance(parsed, Verdict):
        raise ValueError(parsed.feedback)
    return parsed.value


@answer_test("number", reader=reference_number)
def number_test(student, reference, options: Options) -> Verdict:
    written = read_number(student, options)
    if isinstance(written, Verdict):
        return written
    shown = shown_number(student, written)
    try:
        s, r = to_float(written.value), to_float(reference)
    except (TypeError, ValueError, OverflowError):
        return invalid("too complex to check: the value is not a finite number", "too_complex")
    if not (math.isfinite(s) and math.isfinite(r)):
        return invalid("the value is not a finite number", "not_finite")
    rule = options.precision
    tol = tolerance(written, r, rule)
    if close(s, r, tol) or (rule.kind == "exact" and sp.simplify(written.value - reference) == 0):
        return correct(note=f"matches {rule.describe()}", interpreted=shown)
    feedback, note = diagnose_number(written, s, r, tol, rule)
    return incorrect(feedback, note, interpreted=shown)


def diagnose_number(written: WrittenNumber, s: float, r: float, tol: float, rule: Precision) -> tuple[str, str]:
    """The likely mistake behind a wrong number, as (feedback, note).  A slip
    is named when the answer would pass the part's own rule had the reference
    been transformed by that slip."""

    def matches(candidate: float) -> bool:
        return close(s, candidate, tolerance(written, candidate, rule) if rule.kind != "exact" else 1e-9 * abs(candidate))

    if not written.exact and rule.kind != "exact" and close(s, r, _half_unit_decimals(written.decimals)):
        return (f"insufficient precision: correct to the digits written, but this part is graded "
                f"{rule.describe()}", "insufficient_precision")
    if rule.kind == "decimals" and written.decimals is not None:
        n = int(rule.value)
        truncated = math.trunc(r * 10 ** n) / 10 ** n
        if abs(s - truncated) < 1e-12 and abs(s - round(r, n)) > 1e-12:
            return f"truncated instead of rounded: {r:.{n + 2}f} rounds to {round(r, n):.{n}f}", "truncated"
    if r == 0:
        return "", ""
    if matches(-r):
        return "sign error: the value has the wrong sign", "sign_error"
    for factor, feedback, note in _FACTOR_SLIPS:
        if matches(r * factor):
            return feedback, note
    if matches(1 / r):
        return "you gave the reciprocal of the answer", "reciprocal"
    if s != 0:
        ratio = s / r
        k = round(math.log10(abs(ratio))) if ratio > 0 else 0
        if k and matches(r * 10.0 ** k):
            return f"off by a factor of 10^{k}: check the decimal point or units", "power_of_ten"
        simple = sp.Rational(ratio).limit_denominator(8)
        if simple not in (0, 1) and matches(r * float(simple)):
            return f"off by a constant factor of {simple}", "constant_factor"
    return "", ""


_LN10, _LN2 = math.log(10), math.log(2)
_FACTOR_SLIPS = [
    (1 / _LN10, "log base: this value uses log base 10 where the natural log is meant", "log_base_10"),
    (_LN10, "log base: this value uses the natural log where log base 10 is meant", "log_base_e"),
    (1 / _LN2, "log base: this value uses log base 2 where the natural log is meant", "log_base_2"),
    (_LN2, "log base: this value uses the natural log where log base 2 is meant", "log_base_e"),
    (100.0, "you gave a percentage where a fraction is asked (divide by 100)", "percent"),
    (0.01, "you gave a fraction where a percentage is asked (multiply by 100)", "percent"),
]


@answer_test("integer", reader=reference_number)
def integer_test(student, reference, options: Options) -> Verdict:
    written = read_number(student, options)
    if isinstance(written, Verdict):
        return written
    value, shown = written.value, shown_number(student, written)
    if value == reference:
        return correct(note="exact", interpreted=shown)
    if not value.is_integer:
        try:
            floor_matches, ceiling_matches = sp.floor(value) == reference, sp.ceiling(value) == reference
        except (TypeError, ValueError, OverflowError):
            return invalid("too complex to check: the value cannot be rounded to a whole number", "too_complex")
        if floor_matches:
            return incorrect("the count must be a whole number: the floor ⌊·⌋ was left out",
                             "floor_omitted", shown)
        if ceiling_matches:
            return incorrect("the count must be a whole number: round up (ceiling) here", "ceiling_omitted", shown)
        return incorrect("expected a whole number", "not_integer", shown)
    try:
        s, r = to_float(value), to_float(reference)
    except (TypeError, ValueError, OverflowError):
        return invalid("too complex to check", "too_complex")
    if not (math.isfinite(s) and math.isfinite(r)):  # a whole number past float range: not the answer
        return incorrect("", "", shown)
    if abs(s - r) == 1:
        return incorrect("off by one", "off_by_one", shown)
    feedback, note = diagnose_number(WrittenNumber(value), s, r, 0.0, Precision("exact"))
    return Verdict(0.0, INCORRECT, feedback, note, shown)
