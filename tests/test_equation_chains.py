"""Blind tester 11, finding 7: `0.5 = 0.659` earned full marks because an equation is read by its last side.
Now numeric sides that disagree under the part's rule make the answer `invalid` (two readings), sides that
agree change nothing, and a side with a name in it is a label.  By category, with generated chains over
numbers, closed forms and vectors; the tester's cases are kept."""

import json
from pathlib import Path

import sympy as sp
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from examcheck.answertests import Options, Precision, run_test
from examcheck.cli import main

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = str(ROOT / "problems")
SETTINGS = settings(max_examples=50, deadline=None)


@st.composite
def values(draw):
    """(exact text, exact value): fractions and closed forms across magnitudes."""
    kind = draw(st.sampled_from(["fraction", "sqrt", "log"]))
    m = draw(st.integers(1, 60))
    k = draw(st.integers(2, 90))
    scale = draw(st.sampled_from(["", "*10^-3", "*10^4"]))
    factor = {"": 1, "*10^-3": sp.Rational(1, 1000), "*10^4": sp.Integer(10000)}[scale]
    sign = draw(st.sampled_from(["", "-"]))
    s = -1 if sign else 1
    if kind == "fraction":
        return f"{sign}{k}/{m}{scale}", s * sp.Rational(k, m) * factor
    if kind == "sqrt":
        return f"{sign}sqrt({k})/{m}{scale}", s * sp.sqrt(k) / m * factor
    return f"{sign}ln({k})/{m}{scale}", s * sp.log(k) / m * factor


def decimal(value: sp.Expr, figures: int) -> str:
    """value rounded to `figures` significant figures, trailing zeros kept (1.00 claims 3 figures, 1 only one)."""
    return f"{float(value):#.{figures}g}".rstrip(".")


def disagrees(verdict) -> bool:
    return "false equation" in verdict.feedback


labels = st.sampled_from(["", "p = ", "p_0 = ", "a = ", "H(P) = ", "dL/dw = "])
joins = st.sampled_from([" = ", " ≈ ", " \\approx "])


@SETTINGS
@given(value=values(), figures=st.lists(st.integers(1, 8), min_size=1, max_size=3), label=labels, join=joins,
       exact_first=st.booleans())
def test_sides_that_agree_change_nothing(value, figures, label, join, exact_first):
    text, exact = value
    sides = [decimal(exact, f) for f in figures]
    sides = [text, *sides] if exact_first else [*sides, text]
    chain = label + join.join(sides)
    alone = run_test("number", sides[-1], exact, Options())
    verdict = run_test("number", chain, exact, Options())
    assert not disagrees(verdict), (chain, verdict)
    assert (verdict.status, verdict.note) == (alone.status, alone.note), chain


@SETTINGS
@given(a=values(), b=values(), figures=st.integers(3, 7), label=labels, join=joins, right_last=st.booleans())
def test_sides_that_disagree_grade_the_last_side_and_say_so(a, b, figures, label, join, right_last):
    (_, x), (_, y) = a, b
    if abs(float(x) - float(y)) <= 1e-2 * max(abs(float(x)), abs(float(y))):
        return  # close values are a matter for the rule, tested below
    wrong, right = decimal(y, figures), decimal(x, figures)
    sides = [wrong, right] if right_last else [right, wrong]
    chain = label + join.join(sides)
    verdict = run_test("number", chain, x, Options())
    alone = run_test("number", sides[-1], x, Options())
    assert (verdict.status, verdict.score) == (alone.status, alone.score), (chain, verdict)  # a hedge gains nothing
    assert disagrees(verdict) and wrong in verdict.feedback and right in verdict.feedback


@SETTINGS
@given(a=values(), b=values(), join=joins)
def test_exact_sides_that_disagree_are_named_too(a, b, join):
    (ta, x), (tb, y) = a, b
    if sp.N(x - y, 30) == 0 or abs(float(x) - float(y)) <= 1e-5 * abs(float(x)):
        return
    verdict = run_test("number", f"{tb}{join}{ta}", x, Options())
    assert disagrees(verdict), (ta, tb, verdict)


@SETTINGS
@given(entries=st.lists(values(), min_size=2, max_size=4), figures=st.integers(3, 6), break_at=st.integers(0, 3))
def test_vector_chains(entries, figures, break_at):
    texts = [t for t, _ in entries]
    exact = [v for _, v in entries]
    rounded = [decimal(v, figures) for v in exact]
    same = run_test("vector", "[" + ", ".join(texts) + "] = [" + ", ".join(rounded) + "]", exact, Options())
    assert not disagrees(same)
    i = break_at % len(exact)
    other = list(rounded)
    other[i] = decimal(exact[i] * 3 + 1, figures)
    if other[i] == rounded[i]:
        return
    broken = run_test("vector", "[" + ", ".join(other) + "] = [" + ", ".join(rounded) + "]", exact, Options())
    assert disagrees(broken), broken


def test_the_rule_of_the_part_decides_what_agrees():
    reference = sp.Rational(1, 3)
    loose = Options(precision=Precision("decimals", 1))
    assert not disagrees(run_test("number", "0.32 = 0.3", reference, loose))
    assert disagrees(run_test("number", "0.32 = 0.333", reference, Options()))


def test_labels_and_expression_sides_are_not_compared():
    x = sp.Symbol("x", real=True)
    from examcheck.parsing import Vocabulary

    options = Options(vocab=Vocabulary({"x": x}))
    assert run_test("expression", "f'(x) = x*(1-x)", x * (1 - x), options).correct
    assert run_test("expression", "a = sigma(x)*(1-sigma(x))", sp.exp(-x) / (1 + sp.exp(-x)) ** 2, options).correct
    assert run_test("number", "p0 = 0.659", sp.Float("0.659001", 30), Options()).correct
    assert not disagrees(run_test("number", "x <= 3", sp.Integer(3), Options()))


def test_the_testers_false_equations_are_graded_by_the_last_side_and_named(tmp_path):
    """`softmax_ce.p0: '0.5 = 0.659'` earned 1/1 silently; so did `wrong = right`.  Now the last side is graded
    (a hedge gains nothing) and the false equation is named in the feedback."""
    for written in ("0.5 = 0.659", "0.659 = 0.5", "1/2 = 0.659", "0.341 = 0.659"):
        path = tmp_path / "a.yaml"
        path.write_text(f"student: x\nexam: dl-modern\nanswers:\n  softmax_ce:\n    p0: '{written}'\n", encoding="utf-8")
        result = CliRunner().invoke(main, ["grade", str(path), "--problems", PROBLEMS, "--format", "json", "--jobs", "1"])
        report = json.loads(result.output)
        part = next(p for q in report["problems"] if q["id"] == "softmax_ce" for p in q["parts"] if p["id"] == "p0")
        left, right = (s.strip() for s in written.split("="))
        assert (part["status"] == "correct") == (right == "0.659"), part
        assert "false equation" in part["feedback"]
        assert left in part["feedback"] and right in part["feedback"]
    path.write_text("student: x\nexam: dl-modern\nanswers:\n  softmax_ce:\n    p0: 'p_0 = 0.659'\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["grade", str(path), "--problems", PROBLEMS, "--format", "json", "--jobs", "1"])
    part = next(p for q in json.loads(result.output)["problems"] if q["id"] == "softmax_ce" for p in q["parts"]
                if p["id"] == "p0")
    assert part["status"] == "correct"
