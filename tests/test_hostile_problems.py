"""The problem side under the same limits as grading: a reference, key or mistake that cannot be
read or decided in time is a finding for that part (never a hang, never a failed class); and the
answer side: hostile text in every answer type gets a verdict, never "undecided … please report it"."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examcheck.answers import sheet_from_text
from examcheck.checking import check_key, check_sets
from examcheck.engine import grade_file
from examcheck.limits import Limits
from examcheck.loader import load_sets
from examcheck.reference import ProblemError, Resolver, bounded_test
from examcheck.solving import solve_problem

ROOT = Path(__file__).resolve().parent.parent

HEAVY = " + ".join(f"{i}/{i + 1}*exp({i}/7)" for i in range(1, 120))
HOSTILE_SET = """exam: hostile
title: References that cannot be computed
problems:
  - id: q1
    title: one bad part among good ones
    parts:
      - id: good
        marks: 1
        answer: number
        reference: "1/4"
        key: "0.25"
      - id: tower
        marks: 1
        answer: number
        reference: "10^10^10^10"
      - id: superscript
        marks: 1
        answer: choice
        choices: [a, b]
        reference: "²"
      - id: overflow
        marks: 1
        answer: integer
        reference: "1e309"
        key: "500!"
      - id: slow_key
        marks: 1
        answer: expression
        variables: {x: real}
        reference: "exp(x)"
        key: "exp(x) + sin(x)^2 + cos(x)^2 - 1"
        options: {time_limit: 0.3}
      - id: bad_mistake
        marks: 1
        answer: number
        reference: "2"
        mistakes:
          - {answer: "10^10^10^10", feedback: "too big"}
      - id: heavy
        marks: 1
        answer: number
        reference: "HEAVY"
""".replace("HEAVY", HEAVY)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    path = tmp_path_factory.mktemp("problems") / "hostile.yaml"
    path.write_text(HOSTILE_SET)
    return load_sets([path])


def test_check_reports_each_bad_part_and_checks_the_rest(hostile):
    findings = {f.where.rsplit(".", 1)[-1]: f for f in check_sets(hostile)}
    assert "good" not in findings and "heavy" not in findings
    assert "cannot compute the answer" in findings["tower"].message
    assert "cannot compute the answer" in findings["superscript"].message
    assert "cannot compute the answer" in findings["bad_mistake"].message
    assert findings["tower"].line == 12


def test_grading_with_a_bad_reference_fails_only_that_part(hostile):
    sheet = sheet_from_text("answers:\n  q1: {good: 0.25, tower: 1, superscript: a, slow_key: exp(x)}\n", "s.yaml")
    report = grade_file(sheet, hostile)
    statuses = {part.id: part for part in report.problems[0].parts}
    assert statuses["good"].status == "correct"
    assert statuses["tower"].status == "undecided" and "problem file" in statuses["tower"].feedback
    assert statuses["superscript"].status == "undecided"


def test_solve_reports_a_bad_part_and_solves_the_rest(hostile):
    solution = solve_problem(hostile[0], hostile[0].problems[0])
    by_id = {p.id: p for p in solution.parts}
    assert by_id["good"].answer == "0.25" and not by_id["good"].error
    assert by_id["tower"].error and by_id["superscript"].error


def sleep_forever(*_args):
    """Stands for a computation that never ends (runs in the sandbox worker)."""
    time.sleep(600)


def test_a_reference_past_the_limit_is_a_problem_error(hostile, monkeypatch):
    from examcheck import reference

    monkeypatch.setattr(reference, "REFERENCE_LIMITS", Limits(seconds=0.3))
    monkeypatch.setattr(reference, "_read_written", sleep_forever)
    problem = hostile[0].problems[0]
    with pytest.raises(ProblemError, match="ran past the 0.3 s time limit"):
        Resolver().reference(problem, problem.part("good"))


def test_a_key_that_cannot_be_decided_within_the_grading_limit_is_a_finding(hostile, monkeypatch):
    from examcheck import reference

    monkeypatch.setattr(reference, "run_test", sleep_forever)
    problem = hostile[0].problems[0]
    finding = check_key(hostile[0], problem, problem.part("slow_key"),
                        Resolver().reference(problem, problem.part("slow_key")), Resolver(), "hostile/q1.slow_key")
    assert "cannot be verified within the grading limits" in finding.message
    assert "0.3 s time limit" in finding.diagnosis


# ----------------------------------------------------------------------------- every answer type, hostile text

HOSTILE_ANSWERS = ["1e309", "-1e309", "1e-400", "500!", "1000!", "9" * 5000, "²", "x²", "2²", "³√8", "٣", "۳.۵", "１２",
                   "½", "Ⅻ", "1/0", "0/0", "0^0", "nan", "inf", "-inf", "oo", "zoo", "∞", "1e99999999999", "10**10**10",
                   "2^2^2^2^2", "exp(exp(exp(10)))", "log(0)", "sqrt(-1)", "1j", "0x10", "1_000", "1,000,000", "\x00",
                   "\x1b[2J", "(-1)!", "0.5!", "2^1e309", "𝟚.𝟝", "\u202e1", "\\frac{1}{0}", "tanh(1e309)", "[1e309]",
                   "(², 1)", "[[1, 2], [3]]", "[]", "()", "{}", "true", "(a)", "1 2 3", "-0"]
ALPHABET = st.sampled_from(list("0123456789+-*/^()[]{},.!eE xσ√²³¹⁰⁻½٣۵１𝟚∞|_\\") +
                           ["1e309", "500!", "inf", "nan", "oo", "log", "exp", "\\frac", "e-400", "\x1b", "⅓"])


@pytest.fixture(scope="module")
def one_part_per_type():
    """(problem, part, reference) for every answer type in the bundled sets (text parts excepted)."""
    resolver = Resolver()
    found = {}
    for problem_set in load_sets([ROOT / "problems"]):
        for problem in problem_set.problems:
            for part in problem.parts:
                if part.answer != "text" and part.answer not in found:
                    found[part.answer] = (part, resolver.reference(problem, part))
    return found


def assert_a_verdict(part, written, ref):
    verdict = bounded_test(part.answer, written, ref.value, ref.options, 5.0)  # in the sandbox, as grading runs it
    assert verdict.status != "undecided" and verdict.note != "checker_error", (part.answer, written, verdict)
    assert "please report" not in verdict.feedback


def test_known_hostile_answers_get_verdicts_in_every_answer_type(one_part_per_type):
    assert len(one_part_per_type) >= 8
    for part, ref in one_part_per_type.values():
        for written in HOSTILE_ANSWERS:
            assert_a_verdict(part, written, ref)


@given(st.lists(ALPHABET, max_size=12).map("".join), st.integers(0, 99))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
def test_fuzzed_answers_get_verdicts(one_part_per_type, text, which):
    kinds = sorted(one_part_per_type)
    part, ref = one_part_per_type[kinds[which % len(kinds)]]
    assert_a_verdict(part, text, ref)
