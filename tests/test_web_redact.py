"""--reveal feedback/none on the page: no key in feedback (mistake texts quoting it, diagnoses naming a
factor or the answer at a point) and no hint example that is a key of the exam."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from examcheck.limits import Limits
from examcheck.web.app import create_app
from examcheck.web.collecting import RateLimit
from examcheck.web.service import ExamService

EXAM = """\
exam: redact-quiz
title: Redaction
problems:
  - id: q1
    title: T
    statement: "Numbers and expressions"
    parts:
      - {id: a, marks: 1, answer: number, reference: "42", precision: {decimals: 2}}
      - {id: b, marks: 1, answer: expression, reference: "sigma(z)*(1 - sigma(z))", variables: {z: real},
         mistakes: [{answer: "sigma(z)", feedback: "You forgot (1 - sigma(z)): the answer is sigma(z)*(1 - sigma(z))"}]}
      - {id: c, marks: 1, answer: expression, reference: "x^2 + 3*x", variables: {x: real}}
      - {id: d, marks: 1, answer: number, reference: "0.25"}
      - {id: e, marks: 1, answer: boolean, reference: "true"}
"""


@pytest.fixture(scope="module")
def problem_set(tmp_path_factory):
    from examcheck.loader import load_sets

    path = tmp_path_factory.mktemp("exam") / "redact.yaml"
    path.write_text(EXAM, encoding="utf-8")
    return next(s for s in load_sets([path]) if s.exam == "redact-quiz")


@pytest.fixture(scope="module")
def clients(problem_set):
    unlimited = RateLimit(burst=10_000, every=0.001)
    return {reveal: TestClient(create_app(ExamService(problem_set, reveal, Limits(seconds=5.0)), workers=1,
                                          check_rate=unlimited))
            for reveal in ("none", "feedback")}


def _check(client, part, text):
    reply = client.post("/api/check", json={"answers": {"q1": {part: text}}, "problem": "q1", "part": part})
    assert reply.status_code == 200, reply.text
    return reply.json()["parts"][0]


@pytest.mark.parametrize("reveal", ["none", "feedback"])
def test_no_hint_example_is_a_key_of_the_exam(clients, reveal):
    page = clients[reveal].get("/").text
    hints = " ".join(re.findall(r'<p class="hint"[^>]*>(.*?)</p>', page))
    squashed = re.sub(r"[\s*]", "", hints)
    for key in ("sigma(z)(1-sigma(z))", "sigma(z)*(1-sigma(z))", "x^2+3x", "x^2+3*x", "0.25", "1/4", "25%"):
        assert re.sub(r"[\s*]", "", key) not in squashed, (key, hints)
    assert "e.g." in hints  # an example is still given where one exists that is not a key


def test_mistake_feedback_quoting_the_key_is_redacted_whole(clients):
    row = _check(clients["feedback"], "b", "sigma(z)")
    assert row["status"] == "incorrect" and "forgot" in row["feedback"]
    assert "sigma(z)*(1" not in row["feedback"] and "(z)*(1 - sigma(z))" not in row["feedback"]


@settings(max_examples=40, deadline=None)
@given(factor=st.sampled_from(["10", "0.1", "100", "0.01", "2", "0.5", "3", "-1"]) | st.integers(2, 9).map(str),
       reciprocal=st.booleans())
def test_number_diagnoses_never_spell_out_the_key(clients, factor, reciprocal):
    written = f"{1 / 42:.6f}" if reciprocal else f"{42 * float(factor):g}"
    row = _check(clients["feedback"], "a", written)
    if row["status"] != "correct":
        numbers = set(re.findall(r"\d+(?:\.\d+)?", row["feedback"])) - set(re.findall(r"\d+(?:\.\d+)?", written))
        assert not numbers & ({"42", "42.0", "42.00", "10", "0.1"} | ({factor.lstrip("-")} - {"2", "3"})), row
        assert "42" not in row["feedback"].replace(written, ""), row


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(["z", "sigma(z)", "1 - sigma(z)", "2", "z^2", "-1", "1/2"]))
def test_expression_diagnoses_name_no_factor_and_no_value_at_a_point(clients, factor):
    row = _check(clients["feedback"], "b", f"({factor})*sigma(z)*(1 - sigma(z))")
    if row["status"] != "correct":
        feedback = row["feedback"]
        assert not re.search(r"the answer\s+[-−\d…]", feedback), feedback  # "differs from the answer" stays
        assert not re.search(r"\d\.\d{3,}", feedback), feedback  # no value of the key at a point
        assert "σ(z))·σ(z)" not in feedback and "sigma(z)*(1" not in feedback, feedback


def test_true_false_feedback_says_something(clients):
    row = _check(clients["feedback"], "e", "false")
    assert row["status"] == "incorrect" and row["feedback"] and "…" not in row["feedback"]


def test_reveal_none_never_says_correct_to_the_digits_written(clients):
    row = _check(clients["none"], "a", "42.0")
    assert "digits" not in str(row) and set(row) <= {"problem", "part", "read", "interpreted", "status", "feedback"}
    assert row["status"] == "read"


def test_checks_are_rate_limited_per_student_and_address(problem_set):
    now = [0.0]
    rate = RateLimit(burst=3, every=10, clock=lambda: now[0])
    c = TestClient(create_app(ExamService(problem_set, "feedback", Limits(seconds=5.0)), workers=1, check_rate=rate))

    def check(student):
        return c.post("/api/check", json={"answers": {"q1": {"a": "41"}}, "student": student})

    assert [check("ann").status_code for _ in range(4)] == [200, 200, 200, 429]  # a digit-by-digit search is slowed
    late = check("ann")
    assert late.status_code == 429 and int(late.headers["retry-after"]) >= 1 and "wait" in late.json()["error"]
    assert check("bob").status_code == 200  # a classmate behind the same address is not blocked
    now[0] += 10
    assert check("ann").status_code == 200
