from pathlib import Path

import pytest

from examcheck.answers import load_sheet, sheet_from_text
from examcheck.engine import grade_file
from examcheck.grading import verdict_for as REAL_VERDICT_FOR

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "answers"


def statuses(report):
    return {f"{p.id}.{part.id}": part for p in report.problems for part in p.parts}


def test_perfect_example_is_all_correct(sets):
    report = grade_file(load_sheet(EXAMPLES / "perfect.yaml"), sets)
    parts = statuses(report)
    assert {k: v.status for k, v in parts.items() if v.status != "ungraded"} == {
        k: "correct" for k, v in parts.items() if v.status != "ungraded"}
    assert report.score == 11 and report.max_score == 13


def test_flawed_example_names_each_mistake(sets):
    parts = statuses(grade_file(load_sheet(EXAMPLES / "flawed.yaml"), sets))
    assert parts["q1.i"].note == "sign_error"
    assert parts["q1.ii"].status == "invalid"
    assert parts["q3.a"].feedback.startswith("you left out the biases")
    assert parts["q3.d"].note == "transposed"
    assert parts["q4.c"].note == "log_base_10"
    assert parts["q2.ii"].status == "missing"
    assert parts["q2.iv"].status == "ungraded"
    assert parts["q3.b"].status == "correct"


def test_declared_mistake_gives_partial_marks(sets):
    sheet = sheet_from_text("exam: seed000-quiz\nanswers:\n  q1: {i: 'sigma(z)*(1-sigma(z))'}\n")
    part = statuses(grade_file(sheet, sets))["q1.i"]
    assert part.status == "partial" and part.score == 1 and "x_i" in part.feedback


def test_bad_answers_do_not_stop_the_file(sets):
    text = """\
exam: seed002-homework
answers:
  q1.5: {zero: "__import__('os').system('touch /tmp/pwned')", infinity: "max(0, x)"}
  q2.3: {conv1_shape: "31 by thirty", conv1_params: "9^9^9^9", pool1_shape: 10x10x5}
  q2.4: {a: "%s"}
  q5: {"1": [0, 0], 2b_i: 1.40}
  q9: {a: 1}
""" % ("(" * 64 + "x" + ")" * 64)
    report = grade_file(sheet_from_text(text, "hostile.yaml"), sets)
    parts = statuses(report)
    assert parts["q1.5.zero"].status == "invalid"
    assert parts["q1.5.infinity"].status == "correct"
    assert parts["q2.3.conv1_shape"].status == "invalid"
    assert parts["q2.3.conv1_params"].status == "invalid"
    assert parts["q2.3.pool1_shape"].status == "correct"
    assert parts["q2.4.a"].status == "invalid"
    assert parts["q5.1"].status == "correct" and parts["q5.2b_i"].status == "correct"
    assert any("no problem 'q9'" in w for w in report.warnings)
    assert not Path("/tmp/pwned").exists()


def test_single_part_problem_takes_its_answer_directly(write, sets):
    from examcheck.loader import load_set

    quiz = load_set(write("q.yaml", """\
exam: one
title: One
problems:
  - id: q7
    title: Half
    parts: [{id: a, marks: 2, answer: expression, reference: "x/2", variables: {x: real}}]
"""))
    report = grade_file(sheet_from_text("answers:\n  q7: 0.5x\n"), [quiz])
    assert report.problems[0].parts[0].status == "correct" and report.score == 2


def test_report_json_fields(sets):
    from examcheck.render.reports import report_dict

    report = report_dict(grade_file(load_sheet(EXAMPLES / "flawed.yaml"), sets))
    assert set(report) >= {"student", "exam", "score", "max_score", "problems"}
    part = report["problems"][0]["parts"][0]
    assert set(part) >= {"id", "status", "score", "max_score", "given", "expected", "feedback"}
    hidden = report_dict(grade_file(load_sheet(EXAMPLES / "flawed.yaml"), sets), reveal=False)
    assert all(p["expected"] is None for q in hidden["problems"] for p in q["parts"])


@pytest.mark.parametrize("text, message", [
    ("- just\n- a list\n", "expected an answer file"),
    ("answers: {q1: 1}\nexam: nosuch\n", "unknown exam 'nosuch'"),
    ("student: x\n", "missing required field 'answers'"),
])
def test_answer_file_shape_errors(text, message, sets):
    from examcheck.schema import ValidationFailed
    from examcheck.yamlio import InputError

    with pytest.raises((InputError, ValidationFailed)) as info:
        grade_file(sheet_from_text(text, "bad.yaml"), sets)
    assert message in str(info.value) and "bad.yaml" in str(info.value)


def _slow_for_expressions(part, written, ref):
    if part.answer == "expression":
        while True:
            pass
    return REAL_VERDICT_FOR(part, written, ref)


def _buggy_for_numbers(part, written, ref):
    if part.answer == "number":
        raise OSError(5, "an examcheck bug")
    return REAL_VERDICT_FOR(part, written, ref)


def test_a_check_over_its_limit_is_too_complex_and_the_rest_go_on(sets, monkeypatch):
    from examcheck import tasks
    from examcheck.limits import Limits

    monkeypatch.setattr(tasks, "verdict_for", _slow_for_expressions)
    parts = statuses(grade_file(load_sheet(EXAMPLES / "perfect.yaml"), sets, limits=Limits(seconds=0.3)))
    assert parts["q1.i"].status == "invalid" and parts["q1.i"].feedback == "too complex to check: over the 0.3 s time limit"
    assert parts["q3.a"].status == "correct"


def test_a_bug_in_a_check_is_an_internal_error_never_the_students_fault(sets, monkeypatch, tmp_path):
    from examcheck import tasks
    from examcheck.engine import Engine

    monkeypatch.setenv("EXAMCHECK_BUG_DIR", str(tmp_path))
    monkeypatch.setattr(tasks, "verdict_for", _buggy_for_numbers)
    with Engine(sets, jobs=1) as engine:
        parts = statuses(engine.grade_sheet(load_sheet(EXAMPLES / "perfect.yaml")))
        bugs = engine.bugs
    assert parts["q2.i"].status == "undecided" and parts["q2.i"].note == "internal_error"
    assert "not a fault of this answer" in parts["q2.i"].feedback and "memory" not in parts["q2.i"].feedback
    assert parts["q3.a"].status == "correct"
    assert bugs and "OSError" in next(tmp_path.iterdir()).read_text()
