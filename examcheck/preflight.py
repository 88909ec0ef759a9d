"""Before grading: which problem sets the answer files answer, so that only their references are computed
(and checked: a part whose reference cannot be computed is an input error, see Engine.reference_errors)."""

from __future__ import annotations

from examcheck.model import ProblemSet
from examcheck.yamlio import InputError


def answered_sets(paths, sets: list[ProblemSet]) -> list[ProblemSet]:
    """The problem sets these answer files answer (a file that cannot be read is reported when it is graded)."""
    from examcheck.answers import choose_set, load_sheet
    from examcheck.schema import ValidationFailed

    chosen: dict[str, ProblemSet] = {}
    for path in paths:
        try:
            problem_set = choose_set(load_sheet(path), sets)
        except (InputError, ValidationFailed, OSError, ValueError):
            continue
        chosen[problem_set.exam] = problem_set
    return list(chosen.values())
