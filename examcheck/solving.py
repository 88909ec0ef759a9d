"""`examcheck solve`: worked reference solutions, as data for the renderers."""

from __future__ import annotations

from examcheck.families import Step
from examcheck.grading import expected_text
from examcheck.model import PartSolution, Problem, ProblemSet, ProblemSolution
from examcheck.reference import ProblemError, Resolver


class AmbiguousId(LookupError):
    pass


__all__ = ["AmbiguousId", "PartSolution", "ProblemSolution", "find_problem", "solve_problem"]


def find_problem(sets: list[ProblemSet], ident: str) -> tuple[ProblemSet, Problem]:
    """'q3', or 'EXAM/q3' when several sets have a q3."""
    exam, _, problem_id = ident.rpartition("/")
    matches = [(s, p) for s in sets if not exam or s.exam == exam
               for p in s.problems if p.id == problem_id]
    if not matches:
        raise LookupError(f"no problem {ident!r}; try `examcheck list`")
    if len(matches) > 1:
        names = ", ".join(f"{s.exam}/{p.id}" for s, p in matches)
        raise AmbiguousId(f"{ident!r} is ambiguous; say which: {names}")
    return matches[0]


def solve_problem(problem_set: ProblemSet, problem: Problem, resolver: Resolver | None = None) -> ProblemSolution:
    resolver = resolver or Resolver()
    parts = []
    shown_steps: set[int] = set()
    for part in problem.parts:
        entry = PartSolution(part.id, part.prompt, part.marks, part.answer, None, rubric=part.rubric)
        try:
            ref = resolver.reference(problem, part, with_mistakes=False)
        except ProblemError as exc:
            entry.error = str(exc)
            parts.append(entry)
            continue
        if part.answer != "text":
            entry.answer = ref.expected if ref.expected is not None else expected_text(part, ref.display)
        if ref.solution is not None and id(ref.solution) not in shown_steps:
            shown_steps.add(id(ref.solution))
            entry.steps = list(ref.solution.steps)
        if part.answer == "number" and part.precision.kind in ("decimals", "sigfigs"):
            entry.steps.append(Step("rounding", f"{part.precision.describe()}: {entry.answer}"))
        parts.append(entry)
    return ProblemSolution(problem_set.exam, problem.id, problem.title, problem.statement, problem.family, parts)
