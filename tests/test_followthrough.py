"""Follow-through ("error carried forward") credit: declarations, re-marking through the family code, the report,
`check`, hostile earlier answers, and independent oracles (PyTorch for a conv chain, plain arithmetic and finite
differences for a gradient -> step chain)."""

from __future__ import annotations

import copy
import json
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examcheck import followthrough
from examcheck.answers import sheet_from_text
from examcheck.cli import main
from examcheck.engine import Engine
from examcheck.limits import Limits
from examcheck.loader import load_set
from examcheck.model import FollowThrough, FollowThroughResult, PartResult, Status
from examcheck.schema import ValidationFailed

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
FT = DATA / "follow-through.yaml"
FT_CHECK = DATA / "follow-through-check.yaml"
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                         HealthCheck.function_scoped_fixture])


@pytest.fixture(autouse=True)
def bug_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("EXAMCHECK_BUG_DIR", str(tmp_path / "bugs"))
    return tmp_path / "bugs"


@pytest.fixture(scope="module")
def ft_set():
    return load_set(FT)


@pytest.fixture(scope="module")
def engine(ft_set):
    with Engine([ft_set], jobs=1) as e:
        yield e


@pytest.fixture(scope="module")
def plain_engine(ft_set):
    """The same exam without any follow-through declaration."""
    stripped = copy.deepcopy(ft_set)
    for problem in stripped.problems:
        for part in problem.parts:
            part.follow_through = None
    with Engine([stripped], jobs=1) as e:
        yield e


def sheet_text(answers: dict, reverse: bool = False) -> str:
    items = list(answers.items())[::-1] if reverse else list(answers.items())
    body = {p: dict(list(parts.items())[::-1] if reverse else parts.items()) for p, parts in items}
    return json.dumps({"student": "s", "exam": "ft-test", "answers": body}, ensure_ascii=False)


def grade(engine, answers: dict, reverse: bool = False) -> dict[tuple[str, str], PartResult]:
    report = engine.grade_sheet(sheet_from_text(sheet_text(answers, reverse)))
    return {(p.id, q.id): q for p in report.problems for q in p.parts}


# ----------------------------------------------------------------------------- grading


def test_a_declared_mistake_carried_forward_earns_the_capped_credit(engine):
    out = grade(engine, {"cnn": {"a": "28x28x3", "b": 896, "c": "26x26x32"}})
    b = out[("cnn", "b")]
    assert (b.score, b.status, b.note) == (1.0, Status.PARTIAL, "follow_through")  # cap 0.5 of 2 marks
    record = b.follow_through
    assert record.status == "applied" and record.values == {"a": "28×28×3"}
    assert (record.marks_before, record.marks_after, record.cap) == (0.0, 1.0, 1.0)
    assert record.expected == "896"
    assert "correct for your value 28×28×3 from (a)" in b.feedback and "0 → 1" in b.feedback
    c = out[("cnn", "c")]  # its answer does not depend on (a)'s depth: marked as usual, no record
    assert c.status is Status.CORRECT and c.follow_through is None


def test_a_right_later_answer_is_never_re_marked(engine):
    out = grade(engine, {"cnn": {"a": "28x28x3", "b": 4640}})
    assert out[("cnn", "b")].score == 2 and out[("cnn", "b")].follow_through is None


def test_results_replaced_in_a_reference_and_strategy_always(engine):
    out = grade(engine, {"cnn": {"a_depth": 3, "d": 3 * 3 * 3 * 32}})
    d = out[("cnn", "d")]
    assert d.score == 1 and d.follow_through.status == "applied" and d.follow_through.values == {"a_depth": "3"}
    right = grade(engine, {"cnn": {"a_depth": 16, "d": 4608}})[("cnn", "d")]
    assert right.score == 1 and right.follow_through.status == "not_applied"  # always: recorded even at full marks
    assert "does not change" in right.follow_through.reason


@pytest.mark.parametrize("a, a2, b, score, reason", [
    (8, 4, 32, 1.0, ""), (9, 5, 45, 1.0, ""), (8, 5, 40, 1.0, ""), (8, None, 32, 0.0, "no answer to (a2)"),
    (8, 4, 33, 0.0, "not correct for your value 8 from (a); 4 from (a2) either"),
])
def test_several_earlier_parts_are_carried_together(engine, a, a2, b, score, reason):
    answers = {"two": {"a": a, "b": b} if a2 is None else {"a": a, "a2": a2, "b": b}}
    result = grade(engine, answers)[("two", "b")]
    assert result.score == score and reason in result.follow_through.reason
    if score:
        assert result.follow_through.values == {"a": str(a), "a2": str(a2)}


def test_a_familyless_given_is_replaced(engine):
    out = grade(engine, {"plain": {"a": 6, "b": 13}})
    assert out[("plain", "b")].score == 1 and out[("plain", "b")].follow_through.values == {"a": "6"}


@pytest.mark.parametrize("answers, reason", [
    ({"cnn": {"b": 896}}, "no answer to (a)"),
    ({"cnn": {"a": "28 by banana", "b": 896}}, "could not be read"),
    ({"cnn": {"a": "1x1x1", "b": 320}}, "trivial"),
    ({"gd": {"a": "[0, 0]", "b": "[1, 2]"}}, "trivial"),
    ({"gd": {"a": "[2, 600]", "b": "[4/5, -58]"}}, "must be -100 <= x <= 100"),
    ({"cnn": {"a": "2x2x3", "b": 896}}, "cannot be solved with your value"),
    ({"cnn": {"a": "28x28x3", "b": 5}}, "not correct for your value 28×28×3 from (a) either"),
])
def test_no_follow_through_says_why(engine, answers, reason):
    problem = next(iter(answers))
    result = grade(engine, answers)[(problem, "b")]
    assert result.score == 0 and result.follow_through.status == "not_applied"
    assert reason in result.follow_through.reason and reason in result.feedback


HOSTILE = [
    ("plain", "1e400", "6", "too large to carry forward"),
    ("plain", "[[1, 2], [3, 4]]", "13", "could not be read"),
    ("plain", "10^10^10^10", "13", "could not be read"),
    ("plain", "9" * 5000, "13", "could not be read"),
    ("gd", "[1e300, 2]", "[1, 2]", "too large to carry forward"),
    ("gd", "[[1, 2], [3, 4]]", "[1, 2]", "has lists inside"),
    ("gd", "[x, 2]", "[1, 2]", "could not be read"),
    ("gd", ["2"] * 2000, "[1, 2]", "more than 1000 entries"),
    ("cnn", "28x28x3x7", "896", "cannot be solved with your value"),
    ("cnn", "0x0x0", "896", "must be positive integer"),
]


@pytest.mark.parametrize("problem, earlier, later, reason", HOSTILE)
def test_hostile_earlier_answers_give_bounded_clear_outcomes(engine, plain_engine, problem, earlier, later, reason):
    answers = {problem: {"a": earlier, "b": later}}
    out = grade(engine, answers)[(problem, "b")]
    without = grade(plain_engine, answers)[(problem, "b")]
    assert out.score == without.score
    record = out.follow_through
    assert record.status == "not_applied" and reason in record.reason, record.reason
    assert "no follow-through from (a)" in out.feedback and len(out.feedback) < 2000


def test_huge_but_valid_shapes_are_carried(engine):
    out = grade(engine, {"cnn": {"a": "100000000000x100000000000x3", "b": 896}})[("cnn", "b")]
    assert out.follow_through.status == "applied" and out.score == 1


def _explode(*args, **kwargs):
    raise RuntimeError("a bug while re-marking")


def test_an_error_while_re_marking_is_an_error_in_the_report_not_a_silent_zero(ft_set, monkeypatch):
    monkeypatch.setattr(followthrough, "carry", _explode)  # the workers fork after this, and inherit it
    with Engine([ft_set], jobs=1) as e:
        out = grade(e, {"cnn": {"a": "28x28x3", "b": 896}})
        assert e.bugs
    b = out[("cnn", "b")]
    assert b.status is Status.UNDECIDED and b.note == "follow_through_error" and b.score == 0
    assert b.follow_through.status == "error" and "internal error" in b.follow_through.reason
    assert "could not be re-marked" in b.feedback and "please review" in b.feedback


def _slow(*args, **kwargs):
    import time

    time.sleep(30)


def test_a_re_marking_past_its_limit_is_an_error_naming_the_limit(ft_set, monkeypatch):
    monkeypatch.setattr(followthrough, "carry", _slow)
    monkeypatch.setattr(followthrough, "FOLLOW_SECONDS", 0.0)
    with Engine([ft_set], jobs=1, limits=Limits(seconds=0.3)) as e:
        b = grade(e, {"gd": {"a": "[2, 6]", "b": "[4/5, 7/5]"}})[("gd", "b")]
    assert b.status is Status.UNDECIDED and b.follow_through.status == "error"
    assert "time limit" in b.follow_through.reason


def test_the_report_formats_carry_the_record(engine):
    from examcheck.render import RenderOptions, render_text
    from examcheck.stream import report_from_record, report_record

    report = engine.grade_sheet(sheet_from_text(sheet_text({"gd": {"a": "[2, 6]", "b": "[4/5, 7/5]"}})))
    data = json.loads(render_text("reports", "json", [report]))
    record = next(q for p in data["problems"] for q in p["parts"] if p["id"] == "gd" and q["id"] == "b")["follow_through"]
    assert set(record) == {"from", "status", "values", "marks_before", "marks_after", "cap", "reason", "expected"}
    assert record["status"] == "applied" and record["values"] == {"a": "[2, 6]"} and record["marks_after"] == 1
    hidden = json.loads(render_text("reports", "json", [report], RenderOptions(reveal=False)))
    assert "expected" not in json.dumps(hidden).split('"follow_through"')[1].split("}")[0].replace('"expected": null', "")
    for name in ("table", "markdown", "gradescope", "junit", "github", "jsonl"):
        assert "correct for your value [2, 6] from (a)" in render_text("reports", name, [report]), name
    for name in ("table", "markdown", "gradescope"):
        assert "for your value: [0.8, 1.4]" in render_text("reports", name, [report]), name
        assert "for your value: [0.8" not in render_text("reports", name, [report], RenderOptions(reveal=False)), name
    assert report_from_record(report_record(report)) == report


# ----------------------------------------------------------------------------- properties


@st.composite
def follow_cases(draw):
    marks = draw(st.sampled_from([0.5, 1, 2, 3, 10]))
    cap = draw(st.sampled_from([0.25, 0.5, 1.0]))
    before = marks * draw(st.sampled_from([0, 0.25, 0.5, 1]))
    status = Status.CORRECT if before == marks else draw(st.sampled_from([Status.INCORRECT, Status.PARTIAL]))
    kind = draw(st.sampled_from(["remarked", "unusable", "unchanged", "error"]))
    score = draw(st.floats(0, 1))
    strategy = draw(st.sampled_from(["original_first", "always"]))
    return marks, cap, before, status, kind, score, strategy


@given(follow_cases())
@settings(max_examples=200, deadline=None)
def test_merge_never_lowers_a_score_and_never_gives_more_than_its_cap(case):
    marks, cap, before, status, kind, score, strategy = case
    spec = FollowThrough([followthrough.FollowLink("a", "given.x")], strategy, cap)
    result = PartResult("b", status, before, marks)
    followthrough.merge(result, spec, followthrough.Carried(kind, {"a": "7"}, score, reason="why"))
    assert result.score >= before
    assert result.score <= max(before, cap * marks) + 1e-9
    record = result.follow_through
    if record.status == "applied":
        assert result.score > before and record.marks_after == result.score <= cap * marks + 1e-9
    else:
        assert result.score == before
    if kind == "error":
        assert result.status is Status.UNDECIDED and record.reason == "why"


SHAPES = st.tuples(st.integers(1, 40), st.integers(1, 40), st.integers(1, 40))


@given(SHAPES, st.integers(0, 5000), st.sampled_from(["26x26x32", "20x20x32", "3x3"]), st.booleans())
@SETTINGS
def test_follow_through_never_lowers_and_does_not_depend_on_part_order(engine, plain_engine, shape, b, c, reverse):
    answers = {"cnn": {"a": "x".join(map(str, shape)), "b": b, "c": c}, "plain": {"a": shape[0], "b": 2 * shape[0] + 1}}
    out = grade(engine, answers)
    flipped = grade(engine, answers, reverse=True)
    without = grade(plain_engine, answers)
    for key, result in out.items():
        assert result.score >= without[key].score, key
        spec = next(p for p in engine.sets[0].problem(key[0]).parts if p.id == key[1]).follow_through
        if spec is not None and result.follow_through and result.follow_through.status == "applied":
            assert result.score <= spec.cap * result.max_score + 1e-9
        assert (flipped[key].score, flipped[key].status, flipped[key].follow_through) == \
               (result.score, result.status, result.follow_through), key


# ----------------------------------------------------------------------------- independent oracles


@given(SHAPES)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_conv_chain_against_pytorch(engine, shape):
    torch = pytest.importorskip("torch")
    h, w, c = shape
    layer = torch.nn.Conv2d(c, 32, 3)
    params = sum(p.numel() for p in layer.parameters())
    usable = h >= 3 and w >= 3 and shape != (1, 1, 1)
    answers = {"cnn": {"a": f"{h}x{w}x{c}", "b": params}}
    if usable:
        with torch.no_grad():
            _, depth, oh, ow = layer(torch.zeros(1, c, h, w)).shape
        answers["cnn"]["c"] = f"{oh}x{ow}x{depth}"
    out = grade(engine, answers)
    b = out[("cnn", "b")]
    if c == 16:
        assert b.score == 2 and b.follow_through is None  # the same parameters: right as it stands
    elif usable:
        assert b.score == 1 and b.follow_through.status == "applied" and b.follow_through.expected == str(params)
    else:
        assert b.score == 0 and b.follow_through.status == "not_applied"
    if usable:  # cap 1: full marks, as usual when (a)'s height and width were right, else by follow-through
        c_result = out[("cnn", "c")]
        assert c_result.score == 2
        assert (c_result.follow_through is None) == ((h, w) == (28, 28))


def _f(x: float, y: float) -> float:
    return x * x + 3 * y * y


@given(st.integers(-50, 50), st.integers(-50, 50))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_gradient_step_chain_against_plain_arithmetic(engine, g1, g2):
    start, lr = (Fraction(1), Fraction(2)), Fraction(1, 10)
    step = [str(s - lr * g) for s, g in zip(start, (g1, g2))]
    b = grade(engine, {"gd": {"a": f"[{g1}, {g2}]", "b": f"[{step[0]}, {step[1]}]"}})[("gd", "b")]
    if (g1, g2) == (2, 12):
        assert b.score == 2 and b.follow_through is None
    elif {g1, g2} <= {0} or {g1, g2} <= {1} or set(step) <= {"0"} or set(step) <= {"1"}:
        assert b.score == 0 and "trivial" in b.follow_through.reason  # a trivial value, or a trivial answer
    else:
        assert b.score == 1 and b.follow_through.status == "applied"


def test_a_gradient_by_finite_differences_is_marked_as_usual(engine):
    h = 1e-6
    x, y = 1.0, 2.0
    fd = [round((_f(x + h, y) - _f(x - h, y)) / (2 * h)), round((_f(x, y + h) - _f(x, y - h)) / (2 * h))]
    out = grade(engine, {"gd": {"a": f"[{fd[0]}, {fd[1]}]", "b": "[0.8, 0.8]"}})
    assert out[("gd", "a")].status is Status.CORRECT and out[("gd", "b")].score == 2
    assert out[("gd", "b")].follow_through is None


# ----------------------------------------------------------------------------- declarations


BASE = """exam: ft-bad
title: bad declarations
problems:
  - id: q
    title: t
    given: {{x: 3, s: 9}}
    parts:
      - {{id: a, marks: 1, answer: number, reference: "x^2"}}
      - {{id: b, marks: 1, answer: number, reference: "2*s", follow_through: {ft}}}
      - {{id: c, marks: 1, answer: text}}
"""


@pytest.mark.parametrize("ft, message", [
    ("{from: z, replaces: given.s}", "no part 'z' in this problem"),
    ("{from: b, replaces: given.s}", "cycle"),
    ("{from: c, replaces: given.s}", "comes after"),
    ("{from: a, replaces: given.t}", "nothing at given.t"),
    ("{from: a, replaces: results.total}", "this problem has no family"),
    ("{from: a, replaces: given.s, when: 'sometimes'}", "cannot read the condition"),
    ("{from: [a, a], replaces: given.s}", "give one target per earlier part"),
    ("{from: a, replaces: given.s, cap: 2}", "expected a number <= 1"),
    ("{from: a, replaces: given.s, strategy: sometimes}", "expected one of: original_first, always"),
    ("{from: a, replaces: s}", "given.<key>"),
    ("{from: a, replaces: given.s, extra: 1}", "unknown field 'extra'"),
])
def test_bad_declarations_are_input_errors_with_file_and_line(write, ft, message):
    path = write("bad.yaml", BASE.format(ft=ft))
    with pytest.raises(ValidationFailed) as exc:
        load_set(path)
    errors = exc.value.errors
    assert any(message in e.message and e.line == 9 for e in errors), [str(e) for e in errors]


def test_a_text_part_cannot_be_carried_forward(write):
    text = BASE.format(ft="{from: a, replaces: given.s}").replace("- {id: c, marks: 1, answer: text}", "")
    text = text.replace('- {id: a, marks: 1, answer: number, reference: "x^2"}', "- {id: a, marks: 1, answer: text}")
    with pytest.raises(ValidationFailed) as exc:
        load_set(write("text.yaml", text))
    assert any("only" in e.message and "carried forward" in e.message for e in exc.value.errors)


def test_longer_cycles_are_named(write):
    text = BASE.format(ft="{from: c, replaces: given.s}").replace(
        "- {id: c, marks: 1, answer: text}",
        '- {id: c, marks: 1, answer: number, reference: "s", follow_through: {from: b, replaces: given.s}}')
    with pytest.raises(ValidationFailed) as exc:
        load_set(write("cycle.yaml", text))
    assert any("cycle: (b) → (c) → (b)" in e.message for e in exc.value.errors), [str(e) for e in exc.value.errors]


# ----------------------------------------------------------------------------- check


def test_check_verifies_declarations_and_warns_on_trivial_values():
    result = CliRunner().invoke(main, ["check", str(FT_CHECK)])
    assert result.exit_code == 1, result.output
    assert "ft-check/cnn.b: follow-through: given.input is not the answer of (a)" in result.output
    assert "warning: ft-check/gd.b: declared mistake of (a) gets no follow-through" in result.output
    assert "warning: ft-check/plain.b: trivial values 0 and 1 from (a) give the same answer" in result.output
    assert "1 finding(s), 2 warning(s)" in result.output


def test_check_passes_with_warnings_only(write):
    text = FT_CHECK.read_text().split("  - id: plain")[1]
    path = write("warn.yaml", "exam: ft-warn\ntitle: w\nproblems:\n  - id: plain" + text)
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 0 and "warning:" in result.output, result.output


def test_check_accepts_the_follow_through_examples():
    result = CliRunner().invoke(main, ["check", str(FT), str(ROOT / "examples" / "follow-through" / "chain.yaml")])
    assert result.exit_code == 0, result.output


def test_check_flags_a_declared_mistake_that_does_not_earn_the_credit(ft_set, monkeypatch):
    from examcheck.checking import check_problem
    from examcheck.reference import Resolver

    monkeypatch.setattr(followthrough, "credit", lambda spec, marks, carried: 0.0)
    findings = check_problem(ft_set, ft_set.problem("gd"), Resolver())
    assert any("does not earn the follow-through credit" in f.message and f.level == "error" for f in findings)


def test_the_record_survives_a_round_trip():
    record = FollowThroughResult(["a", "b"], "applied", {"a": "1", "b": "2"}, 0.0, 1.5, 1.5, "", "7")
    assert FollowThroughResult.from_dict(json.loads(json.dumps(record.as_dict()))) == record


# ----------------------------------------------------------------------------- hostile input, generated

DECL_FROM = st.sampled_from(["a", "b", "c", "z", 1, "[a, c]", "[]", "[a]", "{}", "null"])
DECL_TO = st.sampled_from(["given.s", "given.x", "given.s.0", "results.q", "given..", "given.", "5", "[given.s]",
                           "[given.s, given.x]", "given.s.s", "given.0", "'given.s '"])
DECL_REST = st.sampled_from(["", ", cap: -1", ", cap: 0", ", cap: 0.5", ", cap: 2", ", cap: x", ", cap: .nan",
                             ", when: positive", ", when: ''", ", when: '0 < x < 1'", ", when: '('",
                             ", strategy: always", ", strategy: 3", ", allow_trivial: maybe", ", allow_trivial: true"])


@given(DECL_FROM, DECL_TO, DECL_REST)
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_generated_declarations_load_or_fail_with_a_line(tmp_path, source, target, rest):
    path = tmp_path / "gen.yaml"
    path.write_text(BASE.format(ft=f"{{from: {source}, replaces: {target}{rest}}}"), encoding="utf-8")
    try:
        problem_set = load_set(path)
    except ValidationFailed as exc:
        assert exc.errors and all(e.line for e in exc.errors), [str(e) for e in exc.errors]
        return
    spec = problem_set.problems[0].part("b").follow_through
    assert spec.sources == ["a"] and 0 < spec.cap <= 1
    assert all(link.target.split(".", 1)[0] in ("given", "results") for link in spec.links)


PRINTABLE = st.characters(blacklist_categories=("Cs", "Cc"))  # YAML's own limits are tested with answer files
EARLY_TEXT = st.one_of(st.text(PRINTABLE, max_size=60), st.lists(st.text(PRINTABLE, max_size=8), max_size=5),
                       st.integers(-10**40, 10**40).map(str), st.sampled_from(HOSTILE_TEXTS := [
                           "10^10^10^10", "(" * 300, "1e999999", "__import__('os')", "[[[[1]]]]", "nan", "inf",
                           "-0", "1/0", "x", "3x4x5x6x7x8", "[1e308, 1e308]"]))


@given(st.sampled_from(["plain", "gd", "cnn", "two"]), EARLY_TEXT)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
def test_generated_hostile_earlier_answers_never_break_grading(engine, plain_engine, problem, earlier):
    later = {"plain": "13", "gd": "[1, 2]", "cnn": "896", "two": "20"}[problem]
    answers = {problem: {"a": earlier, "b": later}}
    bugs_before = len(engine.bugs)
    out = grade(engine, answers)[(problem, "b")]
    without = grade(plain_engine, answers)[(problem, "b")]
    assert len(engine.bugs) == bugs_before
    assert out.score >= without.score and out.status is not Status.UNDECIDED
    if out.follow_through is not None:
        assert out.follow_through.status in ("applied", "not_applied")
        assert out.follow_through.status == "applied" or out.follow_through.reason


# ----------------------------------------------------------------------------- a layer stack restarted from a result


@given(SHAPES)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_stack_restarted_from_the_students_output_against_pytorch(engine, shape):
    torch = pytest.importorskip("torch")
    h, w, c = shape
    conv1 = torch.nn.Conv2d(3, 16, 5)
    conv3 = torch.nn.Conv2d(c, 32, 3)
    count = lambda *layers: sum(p.numel() for layer in layers for p in layer.parameters())  # noqa: E731
    answers = {"stack": {"a": f"{h}x{w}x{c}", "b": count(conv3)}}
    usable = h >= 3 and w >= 3 and shape != (1, 1, 1)
    if usable:
        with torch.no_grad():
            _, depth, oh, ow = conv3(torch.zeros(1, c, h, w)).shape
        fc = torch.nn.Linear(depth * oh * ow, 10)
        answers["stack"].update(c=f"{oh}x{ow}x{depth}", d=count(conv1, conv3, fc))
    out = grade(engine, answers)
    right = shape == (14, 14, 16)
    b = out[("stack", "b")]
    if c == 16:
        assert b.score == 1 and b.follow_through is None
    else:
        assert b.score == (1 if usable else 0) and b.follow_through.status == ("applied" if usable else "not_applied")
    if usable:
        assert out[("stack", "c")].score == 1
        assert (out[("stack", "c")].follow_through is None) == ((h, w) == (14, 14))
        d = out[("stack", "d")]
        assert d.score == (2 if right else 1), d.feedback
        assert right or d.follow_through.expected == str(answers["stack"]["d"])


STACK = """exam: ft-stack
title: stack
problems:
  - id: q
    title: t
    family: cnn
    given: {{input: [32, 32, 3], layers: [Conv5-16, Pool2, Conv3-32, flatten, FC10]}}
    parts:
      - {{id: a, marks: 1, answer: shape, result: output.2}}
      - {{id: b, marks: 1, answer: integer, result: {result}, follow_through: {ft}}}
"""


@pytest.mark.parametrize("result, ft, message", [
    ("params.1", "{from: a, replaces: results.output.2}", "does not come after layer 2"),
    ("params.3", "{from: a, replaces: results.output.5}", "before the last"),
    ("params.3", "{from: a, replaces: results.params.2}", "results.output.<layer> only"),
    ("params.3", "{from: a, replaces: results.nothing}", "results.output.<layer> only"),
])
def test_bad_restarts_are_input_errors(write, result, ft, message):
    with pytest.raises(ValidationFailed) as exc:
        load_set(write("stack.yaml", STACK.format(result=result, ft=ft)))
    assert any(message in e.message and e.line == 10 for e in exc.value.errors), [str(e) for e in exc.value.errors]


def test_a_family_without_a_stack_cannot_restart(write):
    text = FT.read_text().replace("follow_through: {from: a, replaces: given.gradients.0,",
                                  "follow_through: {from: a, replaces: results.gradient.1,")
    with pytest.raises(ValidationFailed) as exc:
        load_set(write("gd.yaml", text))
    assert any("cannot restart from one of its results" in e.message for e in exc.value.errors)


@given(st.lists(st.integers(-30, 30), min_size=1, max_size=4))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_vector_result_replaced_in_a_reference_by_its_entries(engine, gradient):
    later = [str(Fraction(s) - Fraction(g, 10)) for s, g in zip((1, 2), gradient)] if len(gradient) == 2 else ["0", "0"]
    b = grade(engine, {"gd2": {"a": json.dumps(gradient), "b": later}})[("gd2", "b")]
    if gradient == [2, 12]:
        assert b.score == 1 and b.follow_through is None
    elif set(gradient) <= {0} or set(gradient) <= {1}:
        assert b.score == 0 and "trivial" in b.follow_through.reason
    elif len(gradient) != 2:
        assert b.score == 0 and "has 2 entries" in b.follow_through.reason
    elif set(later) <= {"0"} or set(later) <= {"1"}:
        assert b.score == 0 and "trivial" in b.follow_through.reason
    else:
        assert b.score == 1 and b.follow_through.status == "applied", b.feedback
