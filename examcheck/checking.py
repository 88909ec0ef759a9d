"""`examcheck check`: recompute every part, and verify that stated keys earn
full marks and that declared mistakes do not."""

from __future__ import annotations

from examcheck.grading import expected_text
from examcheck.limits import Limits
from examcheck.model import Finding, Part, Problem, ProblemSet, Report
from examcheck.reference import PartReference, ProblemError, Resolver, bounded_test, convert, equal_values, result_of
from examcheck.values import show

LOG_BASES = ("e", 2, 10)


def check_sets(sets: list[ProblemSet], resolver: Resolver | None = None) -> list[Finding]:
    resolver = resolver or Resolver()
    findings: list[Finding] = []
    for problem_set in sets:
        for problem in problem_set.problems:
            findings += check_problem(problem_set, problem, resolver)
    return findings


def check_problem(problem_set: ProblemSet, problem: Problem, resolver: Resolver) -> list[Finding]:
    findings: list[Finding] = []
    reported: set[str] = set()
    label = problem.id if problem.variant is None else f"{problem.id}[variant {problem.variant}]"
    for part in problem.parts:
        where = f"{problem_set.exam}/{label}.{part.id}"
        try:
            ref = resolver.reference(problem, part)
        except ProblemError as exc:
            findings.append(Finding(problem_set.source, part.line, where, f"cannot compute the answer: {exc}"))
            continue
        if ref.solution is not None:
            for text in ref.solution.findings:
                if text not in reported:
                    reported.add(text)
                    findings.append(Finding(problem_set.source, problem.line, f"{problem_set.exam}/{problem.id}",
                                            "the problem contradicts itself", diagnosis=text))
        if part.answer == "text":
            continue
        if part.has_key:
            finding = check_key(problem_set, problem, part, ref, resolver, where)
            if finding:
                findings.append(finding)
        findings += check_mistakes(problem_set, part, ref, where)
    if any(part.follow_through for part in problem.parts):
        from examcheck.followthrough import check_findings

        findings += check_findings(problem_set, problem, resolver)
    return findings


def grading_seconds(part: Part) -> float:
    """The time limit a student's answer to this part gets: keys and mistakes are checked under it too."""
    return float(part.options.get("time_limit", Limits().seconds))


def _expected(part: Part, ref: PartReference) -> str:
    return ref.expected if ref.expected is not None else expected_text(part, ref.display)


def check_key(problem_set, problem, part: Part, ref: PartReference, resolver: Resolver, where: str):
    verdict = bounded_test(part.answer, part.key, ref.value, ref.options, grading_seconds(part))
    if verdict.correct:
        return None
    if verdict.note in ("too_complex", "checker_error"):
        return Finding(problem_set.source, part.key_line or part.line, where,
                       "the stated key cannot be verified within the grading limits "
                       "(a student writing it would get the same verdict)",
                       stated=show_written(part.key), computed=_expected(part, ref), diagnosis=verdict.feedback)
    diagnosis = convention_diagnosis(problem, part, resolver, ref) or verdict.feedback
    return Finding(problem_set.source, part.key_line or part.line, where,
                   "the stated key disagrees with the computed answer",
                   stated=show_written(part.key), computed=_expected(part, ref), diagnosis=diagnosis)


def convention_diagnosis(problem: Problem, part: Part, resolver: Resolver, ref: PartReference) -> str:
    """Would the key be right under another log base?"""
    if problem.family is None or part.result is None:
        return ""
    for base in LOG_BASES:
        if str(base) == str(part.log_base):
            continue
        try:
            solution = resolver.solve(problem.family, {**problem.given, **part.given}, base)
            value = convert(result_of(solution, part.result, problem.family), part.answer)
        except ProblemError:
            continue
        if value != ref.value and bounded_test(part.answer, part.key, value, ref.options, grading_seconds(part)).correct:
            name = "the natural log" if base == "e" else f"log base {base}"
            return f"{show_written(part.key)} matches only if the computation uses {name}"
    return ""


def check_mistakes(problem_set, part: Part, ref: PartReference, where: str) -> list[Finding]:
    findings = []
    declared = ref.mistakes[:len(part.mistakes)]  # declared mistakes come first, then the family's own
    for mistake, spec in zip(declared, part.mistakes):
        if spec.answer is not None:
            earns_full = bounded_test(part.answer, spec.answer, ref.value, ref.options, grading_seconds(part)).correct
        else:
            earns_full = equal_values(mistake.value, ref.value) is True
        if earns_full:
            findings.append(Finding(problem_set.source, spec.line, where,
                                    "a declared mistake earns full marks: it equals the computed answer",
                                    stated=show_written(spec.answer) if spec.answer is not None else show(mistake.value),
                                    computed=_expected(part, ref)))
    return findings



def show_written(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(show_written(v) for v in value) + "]"
    return str(value)


def key_findings(report: Report) -> list[Finding]:
    """A key file, graded: every answered part must be correct."""
    findings = [Finding(report.source, None, "", w) for w in report.warnings]
    for problem in report.problems:
        for part in problem.parts:
            if part.status.is_correct or part.status.is_skipped:
                continue
            findings.append(Finding(report.source, part.line, f"{report.exam}/{problem.id}.{part.id}",
                                    f"the key is {part.status}", stated=show_written(part.given),
                                    computed=part.expected, diagnosis=part.feedback))
    return findings
