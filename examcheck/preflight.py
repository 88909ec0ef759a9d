"""Before grading, solving or checking: every part's reference must be computable.  A part whose
reference cannot be computed is an input error in the problem file (exit 2), reported with its line,
never an `undecided` verdict for every student."""

from __future__ import annotations

from examcheck.bugs import InternalError
from examcheck.model import Problem, ProblemSet
from examcheck.reference import ProblemError, Resolver
from examcheck.yamlio import InputError


def reference_errors(sets: list[ProblemSet], resolver: Resolver,
                     only: list[tuple[ProblemSet, Problem]] | None = None) -> list[InputError]:
    """One error per part (of every set, or of the given problems) whose reference or known mistakes
    cannot be computed."""
    chosen = only if only is not None else [(s, p) for s in sets for p in s.problems]
    errors = []
    for problem_set, problem in chosen:
        for part in problem.parts:
            try:
                resolver.reference(problem, part)
            except InternalError:
                continue  # a bug, not the problem file's fault: grading reports it on this part, as a bug
            except ProblemError as exc:
                where = f"{problem_set.exam}/{problem.id}.{part.id}"
                errors.append(InputError(problem_set.source, part.line or problem.line,
                                         f"{where}: cannot compute the reference: {exc}"))
    return errors


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
