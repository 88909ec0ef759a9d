"""`check` passes on the bundled keys and catches any key changed to a wrong value."""

import copy

import pytest

from examcheck.checking import check_problem, check_sets
from examcheck.loader import load_sets
from examcheck.parsing import parse_number
from examcheck.reference import Resolver
from tests.conftest import PROBLEMS


def wrong_version(part):
    """A plausible but wrong variant of a stated key."""
    answer_type, key = part.answer, str(part.key)
    if answer_type == "choice":
        return next(str(c) for c in part.choices if str(c).lower() != key.lower())
    if answer_type == "set":
        return "[" + key.strip("[]") + ", 99]"
    if answer_type == "matrix":
        return key.replace("[[", "[[1 + ", 1)
    if answer_type in ("number", "integer"):
        return str(float(parse_number(key).value) * 1.5 + 1)
    if answer_type == "shape" and key == "scalar":
        return "1"
    if answer_type == "shape":
        dims = key.lower().replace("×", "x").split("x")
        return "x".join([str(int(dims[0]) + 1), *dims[1:]])
    if answer_type in ("vector", "tuple"):
        entries = key.strip("()[]").split(",")
        return "[" + ", ".join([f"({entries[0]}) + 1", *entries[1:]]) + "]"
    if answer_type == "expression":
        return f"-({key})" if "infty" in key or "∞" in key else f"({key}) + 1"  # ∞ + 1 is still ∞
    if answer_type == "boolean":
        return "false" if key.lower() in ("true", "yes") else "true"
    raise AssertionError(answer_type)


RESOLVER = Resolver()  # family solutions do not depend on keys, so one cache serves every case


def keyed_parts():
    sets = load_sets([PROBLEMS])
    return [(s, p, part) for s in sets for p in s.problems for part in p.parts if part.has_key]


def test_bundled_keys_all_agree():
    assert check_sets(load_sets([PROBLEMS])) == []


@pytest.mark.parametrize("index", range(len(keyed_parts())))
def test_any_wrong_key_is_caught(index):
    problem_set, problem, part = keyed_parts()[index]
    broken = copy.deepcopy(problem)
    target = broken.part(part.id)
    target.key = wrong_version(part)
    findings = check_problem(problem_set, broken, RESOLVER)
    assert any(f.where.endswith(f"{problem.id}.{part.id}") and f.stated == target.key for f in findings), target.key


def test_declared_mistake_that_equals_the_answer_is_flagged():
    sets = load_sets([PROBLEMS])
    problem_set = next(s for s in sets if s.exam == "seed000-quiz")
    problem = copy.deepcopy(problem_set.problem("q1"))
    problem.part("i").mistakes[0].answer = "x_i*sigma(z)*(1 - sigma(z))"
    findings = check_problem(problem_set, problem, Resolver())
    assert any("declared mistake earns full marks" in f.message for f in findings)


def test_solve_works_for_every_bundled_problem():
    from examcheck.solving import solve_problem

    for problem_set in load_sets([PROBLEMS]):
        for problem in problem_set.problems:
            solution = solve_problem(problem_set, problem, RESOLVER)
            assert not [p.error for p in solution.parts if p.error], (problem_set.exam, problem.id)
            assert all(p.answer is not None for p in solution.parts if p.answer_type != "text")
            if problem.family:
                assert any(p.steps for p in solution.parts), (problem_set.exam, problem.id)


def test_a_family_that_runs_too_long_is_a_finding_not_a_hang(monkeypatch):
    from examcheck import reference
    from examcheck.limits import Limits

    monkeypatch.setattr(reference, "FAMILY_LIMITS", Limits(seconds=0.05))
    problem_set = next(s for s in load_sets([PROBLEMS]) if s.exam == "seed003-report")
    findings = check_problem(problem_set, problem_set.problem("backprop"), Resolver())
    assert findings and all("ran past its time limit" in f.message for f in findings)
