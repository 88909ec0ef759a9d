"""Hostile and random answers: no exception escapes, no code runs, every check ends
within its limit, and the other parts of the file are still graded."""

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examcheck.answers import WrittenAnswer, sheet_from_text
from examcheck.limits import Limits
from examcheck.parsing import ParseError, Vocabulary, parse
from examcheck.yamlio import InputError

CANARY = Path("/tmp/examcheck-canary")


def _resolver():
    from examcheck.reference import Resolver

    return Resolver()


RESOLVER = _resolver()
HOSTILE = [
    f"__import__('os').system('touch {CANARY}')",
    "().__class__.__bases__[0].__subclasses__()",
    "lambda: open('/etc/passwd')",
    "x.__dict__",
    "exec(\"open('/tmp/examcheck-canary','w')\")",
    "sympify('x')",
    "10^10^10^10",
    "9" * 5000,
    "(" * 500 + ")" * 500,
    "х + 1",  # Cyrillic x, a confusable
    "ⅹ^2",
    "a" * 1_000_000,
    "\\frac{" * 300,
    "|" * 100,
    "1e999999",
]
ALPHABET = st.sampled_from(list("xyz0123456789+-*/^()[]{},.|%_ \\eσ√²") + ["sigma", "log", "\\frac", "exp", "tanh"])


@given(st.lists(ALPHABET, max_size=40).map("".join))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_parser_raises_only_parse_errors(text):
    import sympy as sp

    vocab = Vocabulary({n: sp.Symbol(n, real=True) for n in "xyz"})
    try:
        parse(text, vocab)
    except ParseError:
        pass


@given(st.text(max_size=200))
@settings(max_examples=200, deadline=None)
def test_arbitrary_unicode_never_crashes_the_parser(text):
    try:
        parse(text)
    except ParseError:
        pass


@pytest.fixture(scope="module")
def hostile_engine(sets):
    from examcheck.engine import Engine

    with Engine([s for s in sets if s.exam == "seed002-homework"], jobs=2, limits=Limits(seconds=1.0)) as engine:
        yield engine


def _hostile_sheet(value: str) -> str:
    quoted = value.replace("\\", "\\\\").replace('"', '\\"')
    return (
        "exam: seed002-homework\nanswers:\n"
        f'  q1.5: {{zero: "{quoted}", infinity: "max(0, x)"}}\n'
        f'  q5: {{"1": "{quoted}", 2a_i: [1, 0.98], 2b_i: "{quoted}"}}\n'
        f'  q2.4: {{a: "{quoted}"}}\n'
    )


def test_hostile_answers(hostile_engine):
    CANARY.unlink(missing_ok=True)
    for value in HOSTILE:
        start = time.monotonic()
        report = hostile_engine.grade_sheet(sheet_from_text(_hostile_sheet(value), "hostile.yaml"))
        assert time.monotonic() - start < 20
        parts = {f"{p.id}.{part.id}": part for p in report.problems for part in p.parts}
        assert parts["q1.5.infinity"].status == "correct", value[:40]
        assert parts["q5.2a_i"].status == "correct", value[:40]
        for key in ("q1.5.zero", "q5.1", "q5.2b_i", "q2.4.a"):
            assert parts[key].status in ("invalid", "incorrect"), (value[:40], key, parts[key].status)
    assert not CANARY.exists()


def test_yaml_tags_never_construct_objects():
    text = f"answers: !!python/object/apply:os.system ['touch {CANARY}']\n"
    try:
        sheet_from_text(text, "tag.yaml")
    except InputError as exc:
        assert "unsupported YAML tag" in str(exc)
    assert not CANARY.exists()


HOSTILE_PIECES = st.sampled_from([
    "x", "^", "10", "9", "!", "(", ")", "\\frac{", "}", "{", "__import__", "'os'", ".system", "lambda", ":",
    "\\sum_{k=1}^{99}", "sigma(", "exp(", "log(", "|", ",", "[", "]", "e", "σ", "√", "%", "=", "<", "h'", "*", "/",
    "x_{k}", "1e308", "0", "-", "+", "\\begin{bmatrix}", "&", "\\\\", "\\end{bmatrix}",
])


@given(st.lists(HOSTILE_PIECES, min_size=1, max_size=30).map("".join))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
def test_grading_random_hostile_answers_is_bounded_and_isolated(hostile_engine, text):
    from examcheck.answers import AnswerSheet
    from examcheck.model import STATUSES

    problem = hostile_engine.sets[0].problem("q1.5")
    answers = {part.id: text for part in problem.parts}
    answers["infinity"] = "max(0, x)"
    sheet = AnswerSheet("hostile", "seed002-homework", "hostile.yaml", problem_values={"q1.5": WrittenAnswer(answers, 1)})
    start = time.monotonic()
    report = hostile_engine.grade_sheet(sheet)
    assert time.monotonic() - start < len(problem.parts) * (2 * 1.0 + 1.0) + 3.0
    results = {p.id: p for q in report.problems if q.id == "q1.5" for p in q.parts}
    assert all(r.status in STATUSES and r.status != "missing" for r in results.values())
    assert results["infinity"].status == "correct"
    assert not CANARY.exists()
    assert hostile_engine.bugs == []


def test_no_code_path_evaluates_text():
    """No eval/exec/sympify/parse_expr/lambdify (nor sp.S on a string) anywhere in the package."""
    import re

    banned = re.compile(r"(?<![\w.])(eval|exec|sympify|parse_expr|lambdify|S)\(|\.(sympify|lambdify|parse_expr|S)\(")
    offenders = []
    for path in (Path(__file__).resolve().parent.parent / "examcheck").rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if banned.search(code) and not code.lstrip().startswith("def "):
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert offenders == []
