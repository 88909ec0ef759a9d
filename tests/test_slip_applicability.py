"""Finding 13.6: a slip is named only where it can happen and only when the answer agrees with it as closely as
the part's rule asks: no log-base slip on a part with no logarithm, no "percentage is asked" on a part that
asks none, no "constant factor p/q" unless the answer/reference ratio is p/q under the rule."""

from fractions import Fraction

import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from examcheck.answertests import Options, Precision, run_test
from examcheck.model import Part, Problem
from examcheck.reference import slip_context_of

RULES = [Precision(), Precision("sigfigs", 3), Precision("decimals", 2), Precision("rtol", 0.01)]
ANSWERS = st.one_of(st.integers(-20, 20).map(str), st.sampled_from(["0.5", "1", "3", "-0.2", "4", "0.44", "2.77"]),
                    st.floats(-50, 50, allow_nan=False).map(lambda x: f"{x:.3g}"))
REFERENCES = st.one_of(st.fractions(Fraction(-100), Fraction(100), max_denominator=50).filter(bool).map(sp.Rational),
                       st.sampled_from([sp.Float(2.1, 30), sp.Float(0.37754, 30), sp.Float(-8.8, 30), sp.Integer(128)]))


def verdict(answer, reference, rule, context):
    return run_test("number", answer, reference, Options(precision=rule, slip_context=context))


@settings(max_examples=200, deadline=None)
@given(ANSWERS, REFERENCES, st.sampled_from(RULES))
def test_no_log_or_percent_slip_where_none_applies(answer, reference, rule):
    v = verdict(answer, reference, rule, frozenset())
    assert not v.note.startswith("log_base"), (answer, reference, v.feedback)
    if abs(reference) > 1:
        assert v.note != "percent", (answer, reference, v.feedback)
    assert "percentage is asked" not in v.feedback


@settings(max_examples=200, deadline=None)
@given(ANSWERS, REFERENCES, st.sampled_from(RULES))
def test_a_named_constant_factor_is_the_ratio(answer, reference, rule):
    v = verdict(answer, reference, rule, frozenset())
    if v.note == "constant_factor":
        factor = Fraction(v.feedback.rsplit("constant factor of ", 1)[1].split()[0].rstrip(")"))
        ratio = Fraction(answer) / Fraction(str(sp.Float(reference, 30)))
        assert abs(ratio - factor) <= abs(factor) * Fraction(1, 100), (answer, reference, v.feedback)


def test_blind_13_examples_name_no_false_slip():
    none = frozenset()
    assert verdict("3", sp.Float(2.1, 30), Precision(), none).note == "constant_factor"  # exactly 10/7, not log 2
    assert not verdict("0.5", sp.Float(0.37754, 30), Precision(), none).note.startswith("log_base")
    assert not verdict("1", sp.Float(0.37754, 30), Precision(), none).note.startswith("log_base")
    assert verdict("1", sp.Integer(128), Precision(), none).note != "percent"
    assert verdict("4", sp.Float(-8.8, 30), Precision(), none).note != "constant_factor"


def test_log_and_percent_are_still_named_where_they_apply():
    loss = -(sp.log(sp.Rational(97, 100)) + sp.log(sp.Rational(4, 100))) / 2
    assert verdict(f"{float(loss / sp.log(10)):.2f}", loss, Precision("decimals", 2), frozenset()).note == "log_base_10"
    assert verdict("0.0085", sp.Rational(85, 100), Precision(), frozenset({"percent"})).note == "percent"
    assert verdict("85", sp.Rational(85, 100), Precision(), frozenset()).note in {"percent", "power_of_ten"}


def test_context_of_a_part():
    sgd = Problem("q", "Q", [], statement="f(x) = 2 x^4/4. Start at x = 4.", family="optimizer")
    part = Part("a", 1, "number", prompt="f'(x0)?")
    assert slip_context_of(sgd, part, None) == frozenset()
    ent = Problem("q", "Q", [], statement="Compute the entropy in bits.")
    assert "log" in slip_context_of(ent, part, None)
    assert "log" in slip_context_of(sgd, Part("b", 1, "number", reference="ln(2)/3"), None)
    assert "percent" in slip_context_of(sgd, Part("c", 1, "number", prompt="accuracy in %"), None)
