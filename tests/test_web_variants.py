"""`serve --student ID` on a variant exam: the page checks the student's OWN variant, for every student
(the served set is examcheck.variants.student_view; grading selects by the served student's ID)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from examcheck.answers import load_sheet
from examcheck.engine import grade_sheet
from examcheck.grading import expected_text
from examcheck.limits import Limits
from examcheck.reference import Resolver
from examcheck.variants import student_view
from examcheck.web.app import create_app
from examcheck.web.service import ExamService

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "variants"
ROSTER = [line.split(",")[0] for line in (EXAMPLES / "roster.csv").read_text().splitlines()[1:] if line.strip()]


@pytest.fixture(scope="module")
def variant_set():
    from examcheck.loader import load_sets

    return next(s for s in load_sets([EXAMPLES / "cnn-chain.yaml"]) if s.exam == "cnn-chain")


def _client(problem_set, student, reveal="feedback"):
    view = student_view(problem_set, student)
    service = ExamService(view, reveal, Limits(seconds=5.0), student)
    return view, TestClient(create_app(service, student, workers=1))


def _keys(view) -> dict:
    """Each part's key as written by the core's computed reference (not by the web code)."""
    resolver = Resolver()
    answers = {}
    for problem in view.problems:
        for part in problem.parts:
            if part.answer == "text":
                continue
            ref = resolver.reference(problem, part)
            answers.setdefault(problem.id, {})[part.id] = expected_text(part, ref.display)
    return answers


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(student=st.sampled_from(ROSTER) | st.from_regex(r"[a-z][a-z0-9]{1,8}", fullmatch=True))
def test_every_student_checks_their_own_variant_correct(variant_set, student):
    view, client = _client(variant_set, student)
    keys = _keys(view)
    with client:
        reply = client.post("/api/check", json={"answers": keys}).json()
    total = sum(part.marks for problem in view.problems for part in problem.parts)
    answered = {(p, q) for p, parts in keys.items() for q in parts}
    rows = {(row["problem"], row["part"]): row for row in reply["parts"]}
    assert answered <= set(rows), f"{student}: parts missing from the check: {answered - set(rows)}"
    assert all(rows[key]["status"] == "correct" for key in answered), reply
    assert reply["max_score"] == total and reply["score"] == total


@pytest.mark.parametrize("student", ["s02", "s03", "s04"])
def test_page_check_agrees_with_grade_on_the_example_answer_files(variant_set, student):
    sheet = load_sheet(EXAMPLES / "answers" / f"{student}.yaml")
    report = grade_sheet(sheet, [variant_set])
    expected = {(p.id, r.id): r.status for p in report.problems for r in p.parts}
    answers = {pid: {k: str(v) if not isinstance(v, list) else str(v) for k, v in parts.items()}
               for pid, parts in load_sheet_dict(EXAMPLES / "answers" / f"{student}.yaml").items()}
    _view, client = _client(variant_set, student)
    with client:
        reply = client.post("/api/check", json={"answers": answers}).json()
    got = {(row["problem"], row["part"]): row["status"] for row in reply["parts"]}
    assert got == expected
    assert reply["score"] == report.score and reply["max_score"] == report.max_score


def load_sheet_dict(path: Path) -> dict:
    import yaml

    return yaml.safe_load(path.read_text())["answers"]


@pytest.mark.parametrize("student", ["s01", "s05"])
def test_an_unanswered_problem_still_counts_in_the_total(variant_set, student):
    view, client = _client(variant_set, student)
    first = view.problems[0]
    with client:
        reply = client.post("/api/check", json={"answers": {first.id: {first.parts[0].id: "1"}}}).json()
    assert reply["max_score"] == sum(part.marks for problem in view.problems for part in problem.parts)
    assert {row["problem"] for row in reply["parts"]} == {problem.id for problem in view.problems}
