"""Blind tester 11, finding 6 (dl-modern/adam step1, reference 0.9000000005 from Adam's eps = 1e-8):

(a) whatever shows a numeric reference shows it at the figures the part's rule asks, so that copying the
    shown key earns the marks (default: >= 3 significant figures, 0.900 not 0.9; decimals n; sigfigs n);
(b) an exact spelling (9/10) equal to the reference within a relative 1e-6 passes the default rule, while a
    different closed form that is merely close (sqrt(3)/10 for ln(2)/4) still fails.

Both are tested by category with generated references, rules and answer kinds; the tester's own commands
are kept as cases at the end."""

import json
import re
from fractions import Fraction
from pathlib import Path

import pytest
import sympy as sp
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

from examcheck.answertests import Options, Precision, run_test
from examcheck.answertests.tolerance import EXACT_SPELLING_RTOL
from examcheck.cli import main
from examcheck.figures import number_text, reference_text
from examcheck.grading import expected_text
from examcheck.model import Part
from examcheck.parsing import read_written_number

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = str(ROOT / "problems")
SETTINGS = settings(max_examples=120, deadline=None)

# ----------------------------------------------------------------------------- exact spellings


@st.composite
def closed_forms(draw, integers: bool = True):
    """(text a student writes, its exact SymPy value): fractions, roots, logs, exponentials.  An integer
    written as digits is a written number (``2`` has 1 significant figure, like ``0.9``), not an exact
    spelling; it passes a stabilised reference only with enough figures (``2.00``) or spelled ``4/2``."""
    kind = draw(st.sampled_from(["fraction", "sqrt", "log", "exp"] + (["integer"] if integers else [])))
    m = draw(st.integers(1, 40))
    k = draw(st.integers(2, 60))
    sign = draw(st.sampled_from([1, -1]))
    minus = "-" if sign < 0 else ""
    if kind == "fraction":
        p = draw(st.integers(1, 500))
        return f"{minus}{p}/{m}", sign * sp.Rational(p, m)
    if kind == "sqrt":
        return f"{minus}sqrt({k})/{m}", sign * sp.sqrt(k) / m
    if kind == "log":
        return f"{minus}ln({k})/{m}", sign * sp.log(k) / m
    if kind == "exp":
        return f"{minus}e^(-{k % 7 + 1})/{m}", sign * sp.exp(-(k % 7 + 1)) / m
    return f"{minus}{k * m}", sign * sp.Integer(k * m)


def perturbed(value: sp.Expr, relative: Fraction, as_float: bool) -> sp.Expr:
    """value * (1 + relative): as a 30-digit Float (what families compute) or as an exact rational."""
    exact = sp.Rational(sp.N(value, 60)) * sp.Rational(relative.numerator + relative.denominator, relative.denominator)
    return sp.Float(exact, 30) if as_float else exact


tiny = st.builds(lambda m, e, s: s * Fraction(m) * Fraction(10) ** e, st.integers(1, 9), st.integers(-12, -8),
                 st.sampled_from([1, -1]))  # 1e-12 .. 9e-8 relative
close = st.builds(lambda m, e, s: s * Fraction(m, 10) * Fraction(10) ** e, st.integers(11, 99), st.integers(-5, -3),
                  st.sampled_from([1, -1])).filter(lambda d: 2 * EXACT_SPELLING_RTOL < abs(d) <= Fraction(1, 1000))

KINDS = {
    "number": lambda texts: texts[0],
    "vector": lambda texts: "[" + ", ".join(texts) + "]",
    "tuple": lambda texts: "(" + ", ".join(texts) + ")",
    "set": lambda texts: "{" + ", ".join(texts) + "}",
    "matrix": lambda texts: "[[" + ", ".join(texts[:2]) + "], [" + ", ".join(texts[2:4]) + "]]",
}


def _reference_for(kind, values):
    if kind == "number":
        return values[0]
    if kind == "matrix":
        return [values[:2], values[2:4]]
    return list(values)


@SETTINGS
@given(forms=st.lists(closed_forms(integers=False), min_size=4, max_size=4), deltas=st.lists(tiny, min_size=4, max_size=4),
       as_float=st.booleans(), kind=st.sampled_from(sorted(KINDS)))
def test_an_exact_spelling_passes_a_reference_a_stabiliser_moved(forms, deltas, as_float, kind):
    values = [v for _, v in forms]
    if kind == "set" and len({sp.N(v, 30) for v in values}) < 4:
        return  # a set needs distinct elements
    texts = [t for t, _ in forms]
    reference = _reference_for(kind, [perturbed(v, d, as_float) for v, d in zip(values, deltas)])
    verdict = run_test(kind, KINDS[kind](texts), reference, Options())
    assert verdict.correct, (kind, texts, reference, verdict)


@SETTINGS
@given(form=closed_forms(integers=False), delta=close, as_float=st.booleans(), kind=st.sampled_from(sorted(KINDS)),
       others=st.lists(closed_forms(), min_size=3, max_size=3))
def test_a_different_closed_form_that_is_merely_close_fails(form, delta, as_float, kind, others):
    text, value = form
    values = [value] + [v for _, v in others]
    if kind == "set" and len({sp.N(v, 30) for v in values}) < 4:
        return
    reference = _reference_for(kind, [perturbed(value, delta, as_float)] + [v for _, v in others])
    verdict = run_test(kind, KINDS[kind]([text] + [t for t, _ in others]), reference, Options())
    assert not verdict.correct, (kind, text, reference, verdict)


def test_named_close_closed_forms_still_fail():
    for written, reference in [("sqrt(3)/10", sp.log(2) / 4), ("22/7", sp.pi), ("1/e", sp.Rational(3, 8)),
                               ("ln(2)", sp.Rational(7, 10))]:
        assert not run_test("number", written, reference, Options()).correct, written


def test_exact_parts_still_ask_for_the_value_itself():
    reference = sp.Float("0.900000000499999997500000012500", 30)
    assert not run_test("number", "9/10", reference, Options(precision=Precision("exact"))).correct
    assert run_test("number", "9/10", reference, Options()).correct


def test_a_close_exact_spelling_still_gets_its_slip_named():
    reference = sp.Float("0.900000000499999997500000012500", 30)
    verdict = run_test("number", "-9/10", reference, Options())
    assert not verdict.correct and verdict.note == "sign_error"


# ----------------------------------------------------------------------------- the shown reference


def _rules():
    return st.one_of(
        st.integers(1, 6).map(lambda n: Precision("default", 0.0, n)),
        st.integers(0, 8).map(lambda n: Precision("decimals", n)),
        st.integers(1, 8).map(lambda n: Precision("sigfigs", n)),
        st.sampled_from([1e-2, 1e-4, 1e-7]).map(lambda t: Precision("rtol", t)),
    )


@st.composite
def references(draw):
    """Values as families compute them: 30-digit Floats near round numbers (stabilised steps), plain
    Floats, rationals, irrationals; across magnitudes."""
    exponent = draw(st.integers(-8, 8))
    kind = draw(st.sampled_from(["stabilised", "float", "rational", "irrational"]))
    mantissa = draw(st.integers(1, 9999))
    sign = draw(st.sampled_from([1, -1]))
    base = sign * sp.Rational(mantissa) * sp.Rational(10) ** (exponent - 3)
    if kind == "stabilised":
        return sp.Float(base * (1 + sp.Rational(draw(st.integers(1, 99)), 10 ** draw(st.integers(9, 14)))), 30)
    if kind == "float":
        return sp.Float(base * sp.Rational(draw(st.integers(1, 10 ** 6)), 10 ** 6) + base, 30)
    if kind == "rational":
        return base / draw(st.integers(1, 97))
    return base * sp.sqrt(draw(st.integers(2, 30)))


def _figures_ok(text: str, rule: Precision, reference) -> bool:
    """Never fewer figures than the rule asks (unless the text is the reference exactly)."""
    written = read_written_number(text)
    assert written is not None, text
    if rule.kind == "default":
        return written.sigfigs >= rule.min_sigfigs or written.value == reference
    if rule.kind == "decimals":
        return written.decimals >= int(rule.value)
    if rule.kind == "sigfigs":
        return written.sigfigs >= int(rule.value)
    return True


@settings(max_examples=200, deadline=None)
@given(reference=references(), rule=_rules())
def test_the_shown_number_earns_the_marks_and_has_the_figures_asked(reference, rule):
    text = number_text(reference, rule)
    assert text is not None
    verdict = run_test("number", text, reference, Options(precision=rule))
    assert verdict.correct, (text, reference, rule, verdict)
    assert _figures_ok(text, rule, reference), (text, rule)


def _copy_of(shown: str) -> str:
    """What a student copies from the expected column: without the rule's note, exact forms' approximations."""
    shown = re.sub(r" \((rounded to|to) \d+ .*\)$", "", shown)
    return re.sub(r"(^|[\[{]|, )[^\[{,]*? ≈ ", r"\1", shown)


@settings(max_examples=120, deadline=None)
@given(values=st.lists(references(), min_size=4, max_size=4), rule=_rules(), kind=st.sampled_from(sorted(KINDS)))
@example(values=[sp.Float("-0.001000001", 30), sp.Float("0.002000002", 30), sp.sqrt(2) / 1000,
                 sp.Float("0.001000000001", 30)], rule=Precision("decimals", 0), kind="set")
def test_the_expected_column_of_every_answer_kind_earns_the_marks(values, rule, kind):
    if kind == "set" and len({sp.N(v, 20) for v in values}) < 4:
        return
    reference = _reference_for(kind, values)
    part = Part(id="p", prompt="", marks=1, answer=kind, precision=rule)
    shown = expected_text(part, reference)
    copied = _copy_of(shown)
    if kind == "set":
        copied = "{" + copied[1:-1] + "}"
    elif kind == "tuple":
        copied = "(" + copied[1:-1] + ")"
    verdict = run_test(kind, copied, reference, Options(precision=rule))
    assert verdict.correct, (shown, copied, rule, verdict)
    exact_leaves = {Fraction(int(v.p), int(v.q)) for v in values if v.is_Rational}
    if "/" not in copied:  # every decimal shown has the figures asked, unless it is an exact value written out
        for entry in re.findall(r"-?\d[\d.]*(?:e[+-]\d+)?", copied):
            assert _figures_ok(entry, rule, None) or Fraction(entry) in exact_leaves, (entry, shown, rule)
    if kind == "set":
        entries = re.split(r", ", copied[1:-1])
        assert len(set(entries)) == len(entries), shown  # distinct elements are shown distinct


def test_the_default_rule_shows_three_figures_not_fewer():
    rule = Precision()
    stabilised = sp.Float("0.900000000499999997500000012500", 30)
    assert number_text(stabilised, rule) == "0.900"
    assert reference_text([stabilised, sp.Float("0.90000000005", 30)], rule) == "[0.900, 0.900]"
    assert reference_text([sp.Rational(1, 5), 2, sp.Rational(1, 3)], rule) == "[0.2, 2, 1/3]"  # exact stays exact
    assert number_text(sp.Float("2.5", 30), rule) == "2.50"
    assert number_text(sp.Float(0.9, 30), Precision("sigfigs", 3)) == "0.900"
    assert number_text(sp.Float(0.9, 30), Precision("decimals", 2)) == "0.90"


# ----------------------------------------------------------------------------- the tester's cases


def _grade_step1(tmp_path, written: str) -> dict:
    path = tmp_path / "x.yaml"
    path.write_text(f"student: x\nexam: dl-modern\nanswers:\n  adam:\n    step1: '{written}'\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["grade", str(path), "--problems", PROBLEMS, "--format", "json", "--jobs", "1"])
    report = json.loads(result.output)
    return next(p for q in report["problems"] if q["id"] == "adam" for p in q["parts"] if p["id"] == "step1")


@pytest.mark.parametrize("written, status", [
    ("[9/10, 9/10]", "correct"),          # exact spelling, 5e-10 from the stabilised reference
    ("[0.900, 0.900]", "correct"),
    ("[0.9, 0.9]", "incorrect"),          # 1 figure: insufficient precision under the default rule
    ("(0.90, 0.90)", "incorrect"),        # 2 figures: likewise
    ("[sqrt(3)/2, 9/10]", "incorrect"),
])
def test_adam_step1_from_the_testers_report(tmp_path, written, status):
    part = _grade_step1(tmp_path, written)
    assert part["status"] == status, part
    assert part["expected"] == "[0.900, 0.900]"
    if written in ("[0.9, 0.9]", "(0.90, 0.90)"):
        assert "insufficient precision" in part["feedback"]


def test_the_expected_column_graded_as_an_answer_is_correct(tmp_path):
    part = _grade_step1(tmp_path, "[0.9, 0.9]")
    assert _grade_step1(tmp_path, part["expected"])["status"] == "correct"


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex", "json"])
def test_solve_shows_the_key_at_three_figures_in_every_format(fmt):
    result = CliRunner().invoke(main, ["solve", "dl-modern/adam", "--problems", PROBLEMS, "--format", fmt])
    assert result.exit_code == 0
    assert "0.900, 0.900" in result.output
    assert "[0.9, 0.9]" not in result.output.replace("0.900", "")
