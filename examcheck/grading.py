"""Grading, as pure functions: one answer against a part's reference (run in a sandbox worker by
the engine), and a report assembled from the verdicts.  No processes, caches or files here."""

from __future__ import annotations

from dataclasses import dataclass, field

from examcheck.answers import AnswerSheet, WrittenAnswer, choose_set, split_parts
from examcheck.answertests import PARTIAL, Verdict, run_test
from examcheck.figures import all_numeric, reference_text, set_text
from examcheck.limits import describe_limit
from examcheck.model import Part, PartResult, ProblemResult, ProblemSet, Report, Status
from examcheck.reference import PartReference
from examcheck.values import show

TOO_COMPLEX = "too_complex"
INTERNAL_ERROR = "internal_error"


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


def limit_verdict(what: str, seconds: float | None = None, memory_mb: int | None = None) -> Verdict:
    """A check that ran past a limit: invalid, naming the limit."""
    return Verdict(0.0, "invalid", f"too complex to check: over {describe_limit(what, seconds, memory_mb)}", TOO_COMPLEX)


def internal_error_verdict(where: str) -> Verdict:
    """A bug in examcheck while checking: never the student's fault, and said so."""
    return Verdict(0.0, "undecided", f"internal error in examcheck, not a fault of this answer (please report it; {where})",
                   INTERNAL_ERROR)


NUMERIC_KINDS = ("number", "vector", "matrix", "tuple", "set")


def expected_text(part: Part, value, exact_value=None) -> str:
    """The reference as shown to people, each number at the figures the part's rule asks for (examcheck.figures):
    copying it earns the marks.  exact_value: the computed value behind a family's readable display (a
    display of floats is shown from the exact value it rounds)."""
    if part.answer not in NUMERIC_KINDS:
        return show(value)
    rule = part.precision
    rounded = rule.kind in ("decimals", "sigfigs")
    mode = ("all" if part.answer == "number" else "entries") if rounded else ""
    if exact_value is not None and exact_value is not value and all_numeric(exact_value) and all_numeric(value):
        value, mode = exact_value, mode if mode == "all" else "decimals"  # a display of decimals, from the exact value
    if part.answer == "set" and isinstance(value, list):
        text = set_text(value, rule, mode)
    else:
        text = reference_text(value, rule, mode)
    return f"{text} ({rule.describe()})" if rounded and all_numeric(value) else text


# ----------------------------------------------------------------------------- what the engine knows of a part


@dataclass
class PartPlan:
    """A part's reference as grading needs it: shown answer, or why it cannot be computed."""

    expected: str | None = None
    error: str | None = None          # the problem file is at fault (a finding on it)
    bug: str | None = None            # an internal error while computing it
    fingerprint: str = ""


@dataclass
class ScannedSheet:
    """An answer file, read and split into parts (small: it travels between processes)."""

    student: str
    exam_index: int
    source: str
    answers: dict[tuple[str, str], WrittenAnswer] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    variants: dict[str, int] = field(default_factory=dict)  # problem id -> this student's variant

    def includes(self, problem) -> bool:
        """Whether this sheet answers this problem (a variant exam lists every deployed variant)."""
        return problem.variant is None or self.variants.get(problem.id) == problem.variant
    keys: dict[tuple[str, str], str] = field(default_factory=dict)  # answer keys (dedup/cache), made where it was read


def scan_sheet(sheet: AnswerSheet, sets: list[ProblemSet], identity=None) -> ScannedSheet:
    """identity: examcheck.identity.IdentityOptions (roster, attempt, overrides); the file's one identity is
    resolved here, before grading, and is both the student credited and the id its variants are drawn for."""
    from examcheck.identity import resolve
    from examcheck.variants import sheet_variants

    problem_set = choose_set(sheet, sets)
    resolved = resolve(sheet, identity)
    chosen = sheet_variants(sheet, problem_set, resolved.student, identity.attempt if identity is not None else 1)
    answers, warnings = split_parts(sheet, problem_set)
    if resolved.note and resolved.on_roster:
        warnings = [*warnings, resolved.note]
    index = next(i for i, s in enumerate(sets) if s is problem_set)
    return ScannedSheet(resolved.student, index, sheet.source, answers, warnings, chosen)


def present(answer: WrittenAnswer | None) -> bool:
    if answer is None or answer.value is None:
        return False
    return not (isinstance(answer.value, str) and not answer.value.strip())


def needs_check(part: Part, answer: WrittenAnswer | None, plan: PartPlan) -> bool:
    """Whether this answer goes to an answer test (else the report says why not)."""
    return part.answer != "text" and plan.error is None and plan.bug is None and present(answer)


def _written_for_report(value):
    if value is None or isinstance(value, (str, list, dict)):
        return value
    return str(value)


_STATUS = {status.value: status for status in Status}


def part_result(part: Part, answer: WrittenAnswer | None, plan: PartPlan, verdict: Verdict | None) -> PartResult:
    """verdict: the answer test's, when needs_check() said so."""
    given = _written_for_report(answer.value) if answer else None
    result = PartResult(part.id, Status.MISSING, 0.0, part.marks, given, None, line=answer.line if answer else None)
    if plan.bug is not None:
        result.status, result.note = Status.UNDECIDED, INTERNAL_ERROR
        result.feedback = f"internal error in examcheck while computing this part's answer (please report it; {plan.bug})"
        return result
    if plan.error is not None:
        result.status, result.feedback = Status.UNDECIDED, f"the problem file is at fault: {plan.error}"
        return result
    result.expected = plan.expected
    if part.answer == "text":
        result.status = Status.UNGRADED if present(answer) else Status.MISSING
        result.feedback = "marked by hand" + (": " + "; ".join(part.rubric) if part.rubric else "")
        return result
    if verdict is None:
        result.feedback = "no answer given"
        return result
    result.status = _STATUS.get(verdict.status) or Status(verdict.status)  # a dict is faster than Enum(); per part
    result.score = round(verdict.score * part.marks, 6)
    result.feedback = verdict.feedback or _fallback_feedback(result.status)
    result.interpreted = verdict.interpreted
    result.note = verdict.note
    return result


_FALLBACK_FEEDBACK = {
    Status.INCORRECT: "wrong answer: no known mistake explains it",
    Status.PARTIAL: "partly right: part of the answer is wrong",
    Status.INVALID: "this answer could not be read",
    Status.UNDECIDED: "the checker could not decide this answer; it is left for marking by hand",
}


def _fallback_feedback(status: Status) -> str:
    """Every verdict but `correct` says something (an answer test that names no mistake still says it is wrong)."""
    return _FALLBACK_FEEDBACK.get(status, "")


def build_report(scan: ScannedSheet, problem_set: ProblemSet, plan_of, verdict_of) -> Report:
    """plan_of(problem, part) -> PartPlan; verdict_of(problem, part, answer) -> Verdict (only for checked answers)."""
    problems = []
    for problem in problem_set.problems:
        if not scan.includes(problem):
            continue
        parts = []
        for part in problem.parts:
            answer = scan.answers.get((problem.id, part.id))
            plan = plan_of(problem, part)
            verdict = verdict_of(problem, part, answer) if needs_check(part, answer, plan) else None
            if verdict is not None and not verdict.correct:
                verdict = latex_quote_verdict(answer, verdict)
            parts.append(part_result(part, answer, plan, verdict))
        problems.append(ProblemResult(problem.id, parts, problem.variant))
    return Report(scan.student, problem_set.exam, problems, scan.source, scan.warnings)


def latex_quote_verdict(answer: WrittenAnswer, verdict: Verdict) -> Verdict:
    """LaTeX written in YAML double quotes (a form feed where \\frac was meant): say so and how to fix it."""
    from examcheck.latex_quotes import trap_message

    message = trap_message(answer.value, answer.line)
    if message is None:
        return verdict
    return Verdict(0.0, "invalid", message, "latex_in_double_quotes", verdict.interpreted)


def part_seconds(part: Part, default: float) -> float:
    return float(part.options.get("time_limit", default))


def problem_parts(problem_set: ProblemSet):
    """(problem, part) in exam order."""
    for problem in problem_set.problems:
        for part in problem.parts:
            yield problem, part

