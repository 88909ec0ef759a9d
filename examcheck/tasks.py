"""What runs inside a sandbox worker: each task is fn(context, *args) (see examcheck.sandbox).

The worker's context holds the problem sets (context.data["sets"]), a Resolver of its own that
solves families directly (the worker is the sandbox), and the reference table."""

from __future__ import annotations

from pathlib import Path

from examcheck.grading import PartPlan, ScannedSheet, expected_text, scan_sheet, verdict_for
from examcheck.reference import PartReference, ProblemError, Resolver
from examcheck.sandbox import Pickled, run_bounded
from examcheck.yamlio import InputError


def resolver(context) -> Resolver:
    found = context.data.get("resolver")
    if found is None:
        found = context.data["resolver"] = Resolver(runner=run_bounded)  # in a worker: in-process, time-limited
    return found


def reference_key(set_index: int, problem_index: int, part_index: int) -> tuple:
    return ("ref", set_index, problem_index, part_index)


def references_task(context, set_index: int, problem_index: int, part_indices: tuple[int, ...]):
    """reference_task for several parts of one problem (they share the family's solutions)."""
    return [reference_task(context, set_index, problem_index, qi) for qi in part_indices]


def reference_task(context, set_index: int, problem_index: int, part_index: int):
    """(PartPlan, (part, the reference as checks need it), pickled; or None)."""
    problem = context.data["sets"][set_index].problems[problem_index]
    part = problem.parts[part_index]
    try:
        ref = resolver(context).reference(problem, part)
    except ProblemError as exc:
        return PartPlan(error=str(exc)), None
    expected = None
    if part.answer != "text":
        expected = ref.expected if ref.expected is not None else expected_text(part, ref.display)
    slim = PartReference(ref.value, ref.options, None, ref.mistakes, ref.shown, expected)
    context.table[reference_key(set_index, problem_index, part_index)] = (part, slim)
    return PartPlan(expected=expected), Pickled.of((part, slim))  # the parent only passes it on


def check_task(context, key: tuple, written):
    """One answer against one reference from the table (the sandbox clears every cache first: see
    sandbox.WarmState)."""
    part, ref = context.entry(key)
    return verdict_for(part, written, ref)


def scan_task(context, path: str) -> ScannedSheet | InputError:
    """Read an answer file (under the worker's limits) and split it into parts."""
    from examcheck.answers import load_sheet
    from examcheck.schema import ValidationFailed

    try:
        scan = scan_sheet(load_sheet(Path(path)), context.data["sets"], context.data.get("identity"))
    except ValidationFailed as exc:
        if len(exc.errors) == 1:
            return exc.errors[0]
        return InputError(str(path), exc.errors[0].line, "; ".join(e.message for e in exc.errors))
    except InputError as exc:
        return exc
    add_answer_keys(context, scan)
    return scan


def answered_task(context, paths: list[str]) -> list[int]:
    """The indices of the problem sets these answer files answer (see preflight.answered_sets), read here
    under the worker's limits: the parent never parses an untrusted file."""
    from examcheck.preflight import answered_sets

    sets = context.data["sets"]
    chosen = answered_sets([Path(p) for p in paths], sets)
    return [i for i, s in enumerate(sets) if any(s is c for c in chosen)]


def add_answer_keys(context, scan: ScannedSheet) -> None:
    """The dedup and cache key of every answer that may need an answer test, made here in the worker (the
    parent only looks them up); each part's fingerprint is made once per worker."""
    from examcheck.cache import answer_key, part_fingerprint
    from examcheck.grading import present

    sets = context.data["sets"]
    found = context.data.get("fingerprints")
    if found is None or found[0] is not sets:
        found = context.data["fingerprints"] = (sets, {})
    fingerprints = found[1]
    problem_set = sets[scan.exam_index]
    for (problem_id, part_id), answer in scan.answers.items():
        # a variant exam holds every deployed variant under one id: this sheet's own
        problem = next((p for p in problem_set.problems if p.id == problem_id and scan.includes(p)), None)
        part = problem.part(part_id) if problem is not None else None
        if part is None or part.answer == "text" or not present(answer):
            continue
        fingerprint = fingerprints.get(id(part))
        if fingerprint is None:
            fingerprint = fingerprints[id(part)] = part_fingerprint(problem_set, problem, part)
        scan.keys[(problem_id, part_id)] = answer_key(fingerprint, answer.value)


def check_problem_task(context, set_index: int, problem_index: int):
    """(input errors: parts whose reference cannot be computed, findings): the references are computed
    once, here, for both (no check runs on a problem file with such errors)."""
    from examcheck.bugs import InternalError
    from examcheck.checking import check_problem

    problem_set = context.data["sets"][set_index]
    problem = problem_set.problems[problem_index]
    errors = []
    for part in problem.parts:
        try:
            resolver(context).reference(problem, part)
        except InternalError:
            continue  # a bug, not the problem file's fault: check_problem meets it again and reports it as one
        except ProblemError as exc:
            errors.append(InputError(problem_set.source, part.line or problem.line,
                                     f"{problem_set.exam}/{problem.id}.{part.id}: cannot compute the reference: {exc}"))
    if errors:
        return errors, []
    return [], check_problem(problem_set, problem, resolver(context))


def solve_task(context, set_index: int, problem_index: int):
    from examcheck.solving import solve_problem

    problem_set = context.data["sets"][set_index]
    return solve_problem(problem_set, problem_set.problems[problem_index], resolver(context))
