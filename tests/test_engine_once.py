"""The engine computes each reference once per run (no second resolver in the CLI), and tells known
mistakes from the answer without simplify when a sample point already shows they differ."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import sympy as sp
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from examcheck import reference
from examcheck.cli import main
from examcheck.reference import equal_values, surely_different

ROOT = Path(__file__).resolve().parent.parent
FLAWED = ROOT / "examples" / "answers" / "flawed.yaml"
PROBLEMS = str(ROOT / "problems")


def _counting(monkeypatch, log: Path) -> None:
    """Every family solve the resolver asks for, in whichever process, appended to log (one line each)."""
    real = reference.solve_family

    def counted(family, given, log_base):
        line = json.dumps([os.getpid(), family, given, str(log_base)], sort_keys=True, default=str) + "\n"
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
        return real(family, given, log_base)

    monkeypatch.setattr(reference, "solve_family", counted)


def _solves(log: Path) -> Counter:
    lines = log.read_text().splitlines() if log.exists() else []
    return Counter(json.dumps(json.loads(line)[1:], sort_keys=True) for line in lines)


def test_grading_one_file_solves_each_family_problem_once(tmp_path, monkeypatch):
    log = tmp_path / "solves.log"
    _counting(monkeypatch, log)
    result = CliRunner().invoke(main, ["grade", str(FLAWED), "--problems", PROBLEMS, "--format", "json", "--jobs", "2"])
    assert result.exit_code == 0, result.output
    solves = _solves(log)
    assert solves, "the references were not computed through the resolver"
    assert [key for key, count in solves.items() if count > 1] == []
    assert len({json.loads(line)[0] for line in log.read_text().splitlines()}) == 1  # one worker for one file


def test_solve_computes_the_problem_once(tmp_path, monkeypatch):
    log = tmp_path / "solves.log"
    _counting(monkeypatch, log)
    result = CliRunner().invoke(main, ["solve", "seed000-quiz/q3", "--problems", PROBLEMS])
    assert result.exit_code == 0, result.output
    solves = _solves(log)
    assert solves and max(solves.values()) == 1


Z = sp.Symbol("z", real=True)
X = sp.Symbol("x", positive=True)
ATOMS = [Z, X, sp.exp(-Z), 1 / (1 + sp.exp(-Z)), sp.tanh(Z), sp.log(X), sp.Integer(3), sp.Rational(1, 7)]


def _combine(pair):
    (a, b), op = pair
    return {"+": a + b, "*": a * b, "-": a - b}[op]


expressions = st.recursive(st.sampled_from(ATOMS),
                           lambda inner: st.tuples(st.tuples(inner, inner), st.sampled_from("+*-")).map(_combine),
                           max_leaves=6)


@settings(max_examples=60, deadline=None)
@given(expressions, st.integers(-50, 50).filter(bool), st.integers(1, 10))
def test_a_shifted_value_is_surely_different_and_a_rewritten_one_is_not(expr, numerator, denominator):
    rewritten = sp.expand(sp.expand_log(expr, force=True).rewrite(sp.exp))
    assert not surely_different(expr, rewritten)
    assert surely_different(expr, expr + sp.Rational(numerator, denominator))


def test_values_equal_only_under_the_symbols_assumptions_are_left_to_simplify():
    n = sp.Symbol("n", integer=True)
    assert not surely_different(sp.sin(sp.pi * n), sp.Integer(0))  # zero at every integer
    assert equal_values(sp.sin(sp.pi * n), sp.Integer(0)) is True
    assert equal_values(sp.exp(-Z) / (1 + sp.exp(-Z)) ** 2, -sp.exp(-Z) / (1 + sp.exp(-Z)) ** 2) is False


def test_the_cli_runs_everything_in_its_engines_session(tmp_path, monkeypatch):
    """No command falls back on the sandbox module's per-thread session (module state): loading, references,
    grading, checking and solving all run in the one session the command opened."""
    from examcheck import sandbox

    def forbidden(memory_mb):
        raise AssertionError("the per-thread session was used")

    monkeypatch.setattr(sandbox, "_thread_session", forbidden)
    runner = CliRunner()
    graded = runner.invoke(main, ["grade", str(FLAWED), "--problems", PROBLEMS, "--format", "json"])
    assert graded.exit_code == 0, graded.output
    solved = runner.invoke(main, ["solve", "seed000-quiz/q3", "--problems", PROBLEMS])
    assert solved.exit_code == 0, solved.output
    quiz = str(ROOT / "problems" / "seed000-quiz.yaml")
    checked = runner.invoke(main, ["check", quiz, "--key", str(ROOT / "examples" / "answers" / "perfect.yaml")])
    assert checked.exit_code in (0, 1) and "per-thread" not in checked.output, checked.output
