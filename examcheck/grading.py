"""Grade an answer sheet part by part: answer test, then known mistakes, each
check bounded in time and memory; one bad answer never stops the rest."""

from __future__ import annotations

import math

from examcheck.answers import AnswerSheet, WrittenAnswer, choose_set, split_parts
from examcheck.answertests import PARTIAL, Verdict, run_test
from examcheck.limits import CheckFailed, LimitExceeded, Limits, run_bounded, worker_id
from examcheck.model import Part, PartResult, Problem, ProblemResult, ProblemSet, Report
from examcheck.reference import PartReference, ProblemError, Resolver
from examcheck.values import show


def verdict_for(part: Part, written, ref: PartReference) -> Verdict:
    """The part's answer test; if it fails, the known mistakes it matches."""
    verdict = run_test(part.answer, written, ref.value, ref.options)
    if verdict.correct or verdict.status not in ("incorrect", PARTIAL):
        return verdict
    for mistake in ref.mistakes:
        if run_test(part.answer, written, mistake.value, ref.options).correct:
            score = mistake.marks / part.marks if part.marks else 0.0
            return Verdict(score, PARTIAL if score > 0 else "incorrect", mistake.feedback,
                           "known_mistake", verdict.interpreted)
    return verdict


_REMEMBERED: dict[tuple, tuple] = {}  # in a sandbox worker: reference key -> (part, reference)
_SENT: dict[int | None, set] = {}     # here: sandbox worker pid -> reference keys it already holds


def _remember(key: tuple, part: Part, ref: PartReference) -> bool:
    _REMEMBERED[key] = (part, ref)
    return True


def _verdict_for_key(key: tuple, written) -> Verdict:
    part, ref = _REMEMBERED[key]
    return verdict_for(part, written, ref)


def _checked_in_sandbox(part: Part, written, ref: PartReference, limits: Limits) -> Verdict:
    """Send each reference to the sandbox worker once; afterwards only its key travels."""
    key = (id(part), id(ref))
    worker = worker_id(limits)
    sent = _SENT.setdefault(worker, set())
    if key not in sent:
        slim = PartReference(ref.value, ref.options, None, ref.mistakes, ref.shown)
        run_bounded(_remember, key, part, slim, limits=limits)
        sent.add(key)
    return run_bounded(_verdict_for_key, key, written, limits=limits)


def bounded_verdict(part: Part, written, ref: PartReference, limits: Limits) -> Verdict:
    seconds = part.options.get("time_limit", limits.seconds)
    try:
        return _checked_in_sandbox(part, written, ref, Limits(seconds, limits.memory_mb))
    except LimitExceeded as exc:
        limit = f"{seconds:g} s" if exc.what == "time" else f"{limits.memory_mb} MB"
        return Verdict(0.0, "invalid", f"too complex to check: over the {limit} {exc.what} limit", "too_complex")
    except CheckFailed as exc:
        return Verdict(0.0, "undecided", f"the checker failed on this answer ({exc}); please report it",
                       "checker_error")
    except Exception as exc:  # noqa: BLE001 - one bad answer must never stop the file
        return Verdict(0.0, "undecided", f"the checker failed on this answer ({type(exc).__name__}); "
                       "please report it", "checker_error")


def expected_text(part: Part, value) -> str:
    text = show(value)
    rule = part.precision
    if part.answer == "number" and rule.kind in ("decimals", "sigfigs"):
        try:
            number = float(value.evalf(30))
        except (AttributeError, TypeError, ValueError):
            return text
        if math.isfinite(number):
            digits = int(rule.value)
            rounded = f"{number:.{digits}f}" if rule.kind == "decimals" else f"{number:.{digits}g}"
            return f"{rounded} ({rule.describe()})"
    return text


def _written_for_report(value):
    if value is None or isinstance(value, (str, list, dict)):
        return value
    return str(value)


def grade_part(problem: Problem, part: Part, answer: WrittenAnswer | None, resolver: Resolver,
               limits: Limits, cache=None, fingerprint: str = "") -> PartResult:
    given = _written_for_report(answer.value) if answer else None
    line = answer.line if answer else None
    result = PartResult(part.id, "missing", 0.0, part.marks, given, None, line=line)
    try:
        ref = resolver.reference(problem, part)
    except ProblemError as exc:
        result.status, result.feedback = "undecided", f"the problem file is at fault: {exc}"
        return result
    result.expected = expected_text(part, ref.display) if part.answer != "text" else None
    if part.answer == "text":
        result.status = "ungraded" if _present(answer) else "missing"
        result.feedback = "marked by hand" + (": " + "; ".join(part.rubric) if part.rubric else "")
        return result
    if not _present(answer):
        result.feedback = "no answer given"
        return result
    key = None
    if cache is not None:
        from examcheck.batch import answer_key

        key = answer_key(fingerprint, answer.value)
        verdict = cache.get(key)
    if key is None or verdict is None:
        verdict = bounded_verdict(part, answer.value, ref, limits)
        if key is not None:
            cache.put(key, verdict)
    result.status = verdict.status
    result.score = round(verdict.score * part.marks, 6)
    result.feedback = verdict.feedback
    result.interpreted = verdict.interpreted
    result.note = verdict.note
    return result


def _present(answer: WrittenAnswer | None) -> bool:
    if answer is None or answer.value is None:
        return False
    return not (isinstance(answer.value, str) and not answer.value.strip())


def _fingerprint(resolver: Resolver, problem_set: ProblemSet, problem: Problem, part: Part) -> str:
    """Computed once per run (a Resolver lives for one run over unchanging problem sets)."""
    key = (problem_set.exam, problem.id, part.id)
    if key not in resolver.fingerprints:
        from examcheck.batch import part_fingerprint

        resolver.fingerprints[key] = part_fingerprint(problem_set, problem, part)
    return resolver.fingerprints[key]


def grade_sheet(sheet: AnswerSheet, problem_set: ProblemSet, resolver: Resolver | None = None,
                limits: Limits = Limits(), cache=None) -> Report:
    """cache: a VerdictCache, or None to check every answer afresh."""
    resolver = resolver or Resolver()
    answers, warnings = split_parts(sheet, problem_set)
    problems = []
    for problem in problem_set.problems:
        parts = [grade_part(problem, part, answers.get((problem.id, part.id)), resolver, limits, cache,
                            _fingerprint(resolver, problem_set, problem, part) if cache is not None else "")
                 for part in problem.parts]
        problems.append(ProblemResult(problem.id, parts))
    return Report(sheet.student, problem_set.exam, problems, sheet.source, warnings)


def grade_file(sheet: AnswerSheet, sets: list[ProblemSet], resolver: Resolver | None = None,
               limits: Limits = Limits(), cache=None) -> Report:
    return grade_sheet(sheet, choose_set(sheet, sets), resolver, limits, cache)
