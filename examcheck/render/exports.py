"""Grades for the tools instructors use: Gradescope, JSON Lines, Markdown feedback, and GitHub
annotations of `check` findings.  (Gradebooks: render/gradebooks.py; JUnit and GitHub: render/ci.py.)"""

from __future__ import annotations

import json

from examcheck.model import Finding, Report
from examcheck.render.escape import markdown_cell, terminal_text
from examcheck.render.reports import report_dict


def _num(x: float):
    return int(x) if float(x).is_integer() else round(x, 4)


def jsonl(reports: list[Report], reveal: bool = True) -> str:
    return "".join(json.dumps(report_dict(r, reveal), ensure_ascii=False) + "\n" for r in reports)


def gradescope_json(report: Report, reveal: bool = True) -> str:
    """results.json as Gradescope's autograder specification defines it (see examcheck.gradescope):
    hand-marked parts are informational tests, not in the score; output_format is text."""
    from examcheck.gradescope import Settings, results_document

    settings = Settings(report.exam, "", visibility="visible", output_format="text", reveal=reveal)
    return json.dumps(results_document(report, settings), indent=2, ensure_ascii=False)


def gradescope_failure(messages: list[str]) -> str:
    """results.json for a submission that could not be read: score 0 and the reason, shown."""
    text = "Your answer file could not be graded:\n" + "\n".join(messages or ["no answer file was found"])
    return json.dumps({"score": 0, "output": terminal_text(text), "output_format": "text", "visibility": "visible",
                       "stdout_visibility": "hidden", "tests": []}, indent=2)


def github_annotation(level: str, file: str, line: int | None, title: str, message: str) -> str:
    from examcheck.render.ci import annotation

    return annotation(level, file, line, title, message)


def github_findings(findings: list[Finding]) -> str:
    """An error annotation per finding, at most 10 (GitHub shows no more per step), then a notice counting the rest."""
    from examcheck.render.ci import MAX_ANNOTATIONS, escape_data

    lines = []
    for f in findings[:MAX_ANNOTATIONS]:
        message = "\n".join([f.message, *f.details()])
        lines.append(github_annotation("warning" if f.level == "warning" else "error", f.source, f.line,
                                       f.where or "examcheck", message))
    if len(findings) > MAX_ANNOTATIONS:
        rest = [f"{f.location()}: {f.where}" for f in findings[MAX_ANNOTATIONS:]]
        lines.append(f"::notice title=examcheck::{len(findings)} findings; annotated the first {MAX_ANNOTATIONS}; "
                     + escape_data("; ".join(rest[:200])))
    return "\n".join(lines) + ("\n" if lines else "")


def markdown_report(report: Report, reveal: bool = True) -> str:
    lines = [f"# {_md(report.student)}: {_md(report.exam)}", "",
             f"**Total: {_num(report.score)} / {_num(report.max_score)}**", ""]
    variants = ", ".join(f"{p.id} variant {p.variant}" for p in report.problems if p.variant is not None)
    if variants:
        lines[-1:-1] = [f"Graded against: {_md(variants)}", ""]
    header = "| part | status | marks | your answer, as read |" + (" expected |" if reveal else "") + " feedback |"
    lines += [header, "|" + "---|" * (header.count("|") - 1)]
    for problem in report.problems:
        for part in problem.parts:
            cells = [f"{problem.id}.{part.id}", part.status, f"{_num(part.score)}/{_num(part.max_score)}",
                     _md(part.interpreted or (str(part.given) if part.given is not None else ""))]
            if reveal:
                extra = part.follow_through.expected_for_value(part.expected) if part.follow_through else ""
                cells.append(_md(f"{part.expected or ''} ({extra})" if extra else part.expected or ""))
            cells.append(_md(part.feedback or part.note))
            lines.append("| " + " | ".join(cells) + " |")
    if report.warnings:  # answers that were not graded (an id the exam does not have, ...): the student should know
        lines += ["", *(f"- warning: {_md(str(w))}" for w in report.warnings)]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return markdown_cell(text)


# ----------------------------------------------------------------------------- the registry's streaming formats


def jsonl_chunks(reports, options):
    for report in reports:
        yield json.dumps(report_dict(report, options.reveal), ensure_ascii=False) + "\n"


def gradescope_chunks(reports, options):
    count = len(reports)
    if count == 0:
        yield gradescope_failure(list(options.errors))
    elif count == 1:
        yield gradescope_json(next(iter(reports)), options.reveal)
    else:
        yield "["
        for i, report in enumerate(reports):
            yield ("" if i == 0 else ",\n") + gradescope_json(report, options.reveal)
        yield "]"


def markdown_chunks(reports, options):
    for i, report in enumerate(reports):
        yield ("" if i == 0 else "\n") + markdown_report(report, options.reveal)


def github_findings_chunks(findings, options):
    yield github_findings(findings)
