"""A slip is named only when it explains the answer: the slipped value must differ materially from the
reference (a reciprocal of 0.999 is 1.001: no explanation of 1.002) and the answer must lie nearer the
slipped value than the reference.  Blind test 11, finding 11: accuracies near 1 were told "reciprocal"."""

from fractions import Fraction

import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from examcheck.answertests import Options, Precision, run_test

RULES = [Precision(), Precision("sigfigs", 3), Precision("decimals", 3), Precision("rtol", 0.01)]


def number(student: str, reference, rule: Precision):
    return run_test("number", student, reference, Options(precision=rule))


@settings(max_examples=150, deadline=None)
@given(st.integers(-500, 500), st.integers(-2000, 2000), st.sampled_from(RULES), st.sampled_from([1, -1]))
def test_near_one_no_answer_is_called_a_reciprocal(ref_offset, answer_offset, rule, sign):
    reference = sign * (1 + sp.Rational(ref_offset, 100_000))      # within 0.5% of ±1
    answer = sign * (1 + Fraction(answer_offset, 100_000))
    verdict = number(f"{float(answer):.5f}", reference, rule)
    assert verdict.note != "reciprocal"


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 10**6), st.integers(-30, 30), st.sampled_from(RULES))
def test_an_answer_nearer_the_reference_than_any_slip_is_not_blamed_on_one(mantissa, shift, rule):
    reference = sp.Rational(mantissa, 1000) * sp.Rational(10) ** shift
    answer = reference * sp.Rational(1003, 1000)                   # 0.3% off: nearer r than any slip moves it
    verdict = number(sp.Float(answer, 6).__str__(), reference, rule)
    assert verdict.note not in {"reciprocal", "sign_error", "power_of_ten", "constant_factor", "percent"} or verdict.correct


def test_real_slips_are_still_named():
    assert number("-0.0417", sp.Rational(417, 10_000), Precision()).note == "sign_error"
    assert number("4.00", sp.Rational(1, 4), Precision()).note == "reciprocal"
    assert number("41.7", sp.Rational(417, 1000), Precision()).note in {"power_of_ten", "percent"}
    assert number("0.0999", sp.Rational(999, 1000), Precision("sigfigs", 3)).note == "power_of_ten"


def test_blind_11_accuracies_near_one():
    for written in ("0.995", "0.998", "1.001", "1.002"):
        assert number(written, sp.Rational(999, 1000), Precision("sigfigs", 3)).note != "reciprocal"
