"""Every verdict but `correct` carries a sentence (blind test: an "incorrect" with empty feedback).

The category: a number or a count that no known slip explains (diagnose_number names none) came back
with empty feedback.  Here every gradable part of every bundled problem set gets generated wrong answers
of its own kind, and the report row (what `grade` and `serve` show) must always say something; numbers
and counts must say it already in the answer test.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examcheck.grading import PartPlan, part_result, verdict_for
from examcheck.model import Status
from tests.conftest import PROBLEMS


@pytest.fixture(scope="module")
def gradable():
    from examcheck.loader import load_sets
    from examcheck.reference import ProblemError, Resolver

    resolver = Resolver()
    out = []
    for problem_set in load_sets([PROBLEMS]):
        for problem in problem_set.problems:
            for part in problem.parts:
                if part.answer == "text":
                    continue
                try:
                    out.append((problem_set.exam, problem.id, part, resolver.reference(problem, part)))
                except ProblemError:
                    continue
    assert len(out) > 40
    return out


_NUMBER = st.one_of(
    st.integers(-10**7, 10**7).map(str),
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: f"{x:.6g}"),
    st.tuples(st.integers(-50, 50), st.integers(1, 50)).map(lambda t: f"{t[0]}/{t[1]}"),
    st.integers(0, 100).map(lambda n: f"{n}%"),
    st.sampled_from(["1e-9", "-0", "3.14159", "2.7183", "1,000", "0.5"]),
)
_WHOLE = st.integers(-10**6, 10**6).map(str) | st.sampled_from(["0", "1", "2.5", "1e3", "-1"])


def _expression(part, ref):
    vocab = ref.options.vocab
    names = sorted(vocab.symbols) or ["x"]
    functions = sorted(vocab.functions)
    leaf = st.sampled_from(names) | st.integers(-5, 9).map(str)
    calls = st.tuples(st.sampled_from(functions), leaf).map(lambda t: f"{t[0]}({t[1]})") if functions else leaf
    term = leaf | calls
    return st.recursive(term, lambda inner: st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "^"]), inner)
                        .map(lambda t: f"({t[0]}){t[1]}({t[2]})"), max_leaves=4)


def _answers(part, ref):
    kind = part.answer
    if kind == "number":
        return _NUMBER
    if kind == "integer":
        return _WHOLE
    if kind == "expression":
        return _expression(part, ref)
    if kind == "shape":
        return st.lists(st.integers(1, 300), min_size=0, max_size=4).map(lambda d: "x".join(map(str, d)) or "scalar")
    if kind in ("vector", "tuple", "set"):
        return st.lists(_NUMBER, min_size=1, max_size=5).map(lambda xs: "[" + ", ".join(xs) + "]")
    if kind == "matrix":
        return st.lists(st.lists(st.integers(-9, 9).map(str), min_size=2, max_size=2), min_size=1, max_size=3).map(
            lambda rows: "[" + ", ".join("[" + ", ".join(r) + "]" for r in rows) + "]")
    if kind == "boolean":
        return st.sampled_from(["true", "false", "yes", "no", "maybe"])
    if kind == "choice":
        return st.sampled_from([str(c) for c in part.choices or []] + ["zzz", "none of them"])
    return st.text(max_size=10)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_every_non_correct_verdict_says_something(gradable, data):
    exam, problem_id, part, ref = data.draw(st.sampled_from(gradable), label="part")
    written = data.draw(_answers(part, ref), label="answer")
    verdict = verdict_for(part, written, ref)
    if verdict.correct:
        return
    if part.answer in ("number", "integer") and verdict.status == "incorrect":
        assert verdict.feedback.strip(), (exam, problem_id, part.id, written, verdict)
    result = part_result(part, None, PartPlan(expected="…"), verdict)
    assert result.status != Status.CORRECT
    assert result.feedback.strip(), (exam, problem_id, part.id, written, verdict)


def test_an_answer_test_that_names_no_mistake_still_gets_a_sentence():
    """The report's safety net, for any answer test (present or future) that returns bare verdicts."""
    from examcheck.answertests import Verdict
    from examcheck.model import Part

    part = Part("a", 1.0, "expression", "prompt")
    for status in ("incorrect", "partial", "invalid", "undecided"):
        result = part_result(part, None, PartPlan(expected="…"), Verdict(0.0, status, ""))
        assert result.feedback.strip(), status
    assert part_result(part, None, PartPlan(), Verdict(1.0, "correct", "")).feedback == ""
