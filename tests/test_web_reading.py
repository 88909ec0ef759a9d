"""The page's "as read" preview and the grader read answers the same way, by category:
generated answers for each answer kind of the bundled exams, and hostile ones."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examcheck.limits import Limits
from examcheck.web.service import ExamService

TOKENS = ["z", "x_i", "x_1", "sigma(", "σ(", "(", ")", "1", "2", "0.5", "-", "+", "*", "/", "^", " ", "e^{-z}",
          "\\frac{1}{", "}", "[", "]", ",", "x", "254", "100", "%", "yes", "no", "true", "log(", "exp(", "7,600",
          "1e-3", "0,42", "\\cdot", "oo", "inf", "10^1000", "[[1, 2], [3, 4]]", "zoo", "nan", "[[1, 2], [3]]",
          "{", "=", "dog", "a)", "import", "__", "'", ";", "\\", "\n"]


@pytest.fixture(scope="module")
def service():
    from pathlib import Path

    from examcheck.loader import load_sets

    root = Path(__file__).resolve().parent.parent
    problem_set = next(s for s in load_sets([root / "problems"]) if s.exam == "seed000-quiz")
    return ExamService(problem_set, "feedback", Limits(seconds=2.0))


PARTS = [("q1", "i"), ("q1", "ii"), ("q2", "i"), ("q2", "iii"), ("q3", "a"), ("q3", "d"), ("q4", "a"), ("q4", "c")]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(part=st.sampled_from(PARTS), pieces=st.lists(st.sampled_from(TOKENS), min_size=1, max_size=12))
def test_preview_reads_exactly_what_the_grader_reads(service, part, pieces):
    text = "".join(pieces)
    if not text.strip():
        return
    reading = service.read(*part, text)
    row = service.check({part[0]: {part[1]: text}}, only=part)["parts"][0]
    if row["feedback"].startswith("the checker failed"):
        return  # a checker bug, reported as such by grade too; nothing to compare
    graded_readable = row["status"] != "invalid"
    assert reading.ok == graded_readable, (text, reading, row)
    if reading.ok:
        assert reading.shown == row["interpreted"], (text, reading, row)
        assert reading.mathml.startswith("<math") and "</math>" in reading.mathml
    else:
        assert reading.message


@pytest.mark.parametrize("text", ["(" * 3000, "9^9^9^9^9^9", "x_i" * 1333, "1e99999999999", "\\frac{" * 600,
                                  "[" * 2000, "sigma(" * 500 + "z" + ")" * 500, "0." + "3" * 3990])
def test_hostile_text_is_read_or_refused_within_the_limit(service, text):
    for part in PARTS:
        reading = service.read(*part, text)
        assert reading.ok or reading.message


def _slips(value) -> list[str]:
    """Wrong answers students write for a computed value: the usual slips."""
    import sympy as sp

    if isinstance(value, tuple):
        dims = list(value)
        out = ["x".join(map(str, dims[::-1])), "x".join(map(str, [*dims, 1])), "x".join(map(str, [1, *dims]))]
        if dims:
            out.append("x".join(map(str, [dims[0] + 1, *dims[1:]])))
        return out
    if isinstance(value, sp.Basic) and value.is_number:
        x = float(value)
        return [f"{-x:.6g}", f"{10 * x:.6g}", f"{x / 10:.6g}", f"{x + 1:.6g}", f"{x * 100:.6g}%", f"{x:.1f}",
                f"{int(x * 100) / 100:.2f}", f"{x * 1.5:.6g}"] + ([f"{1 / x:.6g}"] if x else [])
    return []


def test_feedback_never_shows_the_expected_value_for_any_bundled_part():
    """Every bundled exam, every part with a numeric or shape answer, the usual slips: under --reveal
    feedback no form of the expected answer (as `grade` states it, or rounded) appears in the feedback."""
    from pathlib import Path

    from examcheck.grading import expected_text
    from examcheck.loader import load_sets

    root = Path(__file__).resolve().parent.parent
    seen = redacted = 0
    for problem_set in load_sets([root / "problems"]):
        hidden = ExamService(problem_set, "feedback")
        answers = {}
        for problem in problem_set.problems:
            for part in problem.parts:
                ref = hidden._references.get((problem.id, part.id))
                if ref is None or part.answer not in ("number", "integer", "shape"):
                    continue
                for k, slip in enumerate(_slips(ref.value)):
                    answers.setdefault(k, {}).setdefault(problem.id, {})[part.id] = slip
        for sheet in answers.values():
            for row in hidden.check(sheet)["parts"]:
                problem = problem_set.problem(row["problem"])
                ref = hidden._references.get((problem.id, row["part"]))
                expected = expected_text(problem.part(row["part"]), ref.display) if ref and ref.value is not None else ""
                forms = {expected, expected.split(" (")[0]} | {f for f in hidden.expected_forms(row["problem"], row["part"])}
                for form in forms:
                    if len(form) >= 3 and form not in {"0.0", "1.0"}:
                        assert form not in row["feedback"], (problem_set.exam, row, form)
                seen += bool(row["feedback"])
                redacted += "…" in row["feedback"]
    assert seen > 100 and redacted > 0


def test_the_preview_uses_only_the_answer_tests_public_readers():
    """reading.py reads through answertests.read (shared with the tests), never their private helpers."""
    import ast
    from pathlib import Path

    import examcheck.web.reading as reading

    tree = ast.parse(Path(reading.__file__).read_text(encoding="utf-8"))
    imported = [(node.module, alias.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                for alias in node.names if (node.module or "").startswith("examcheck.answertests")]
    assert ("examcheck.answertests", "read") in imported
    assert not [name for _module, name in imported if name.startswith("_")]


@pytest.mark.parametrize("kind,text,value", [("shape", "4x8", (4, 8)), ("boolean", "yes", True), ("integer", "7,600", 7600),
                                             ("vector", "[1, 2]", None), ("set", "{3, 5, 3}", None)])
def test_answertests_read_is_what_the_test_compares(kind, text, value):
    from examcheck.answertests import Options, Read, Verdict, read, run_test

    answer = read(kind, text, Options())
    assert isinstance(answer, Read)
    if value is not None:
        got = answer.value.value if kind == "integer" else answer.value
        assert got == value
    bad = read(kind, "[[1, 2], [3]" if kind != "boolean" else "maybe", Options())
    assert isinstance(bad, Verdict) and bad.status == "invalid" and bad.feedback
    assert run_test(kind, "[[1, 2], [3]" if kind != "boolean" else "maybe", 1, Options()).feedback == bad.feedback
