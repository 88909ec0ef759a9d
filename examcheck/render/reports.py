"""Grading reports as a rich table or JSON."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table
from rich.text import Text

from examcheck.model import Report, Status
from examcheck.render.escape import rich_text, terminal_text

STATUS_STYLE = {
    Status.CORRECT: "green", Status.PARTIAL: "yellow", Status.INCORRECT: "red", Status.MISSING: "magenta",
    Status.INVALID: "red", Status.UNDECIDED: "cyan", Status.UNGRADED: "blue",
}


def _marks(x: float) -> str:
    return f"{x:g}"


def print_report(report: Report, console: Console, reveal: bool = True) -> None:
    title = rich_text(f"{report.student} · {report.exam}")
    table = Table(title=title, title_justify="left", show_lines=False, expand=False)
    table.add_column("part", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("marks", justify="right", no_wrap=True)
    table.add_column("your answer, as read")
    if reveal:
        table.add_column("expected")
    table.add_column("feedback")
    for problem in report.problems:
        for part in problem.parts:
            status = Text(part.status, style=STATUS_STYLE.get(part.status, ""))
            read = part.interpreted or (str(part.given) if part.given is not None else "")
            row = [rich_text(f"{problem.id}.{part.id}"), status, f"{_marks(part.score)}/{_marks(part.max_score)}",
                   rich_text(read)]
            if reveal:
                row.append(rich_text(part.expected or ""))
            row.append(rich_text(part.feedback) if part.feedback else rich_text(part.note, style="dim"))
            table.add_row(*row)
    console.print(table)
    percent = 100 * report.score / report.max_score if report.max_score else 0.0
    console.print(f"[bold]total {_marks(report.score)}/{_marks(report.max_score)}[/bold] ({percent:.1f}%)")
    for warning in report.warnings:
        console.print(Text.assemble(("warning:", "yellow"), " ", terminal_text(warning)), highlight=False)


def num(x: float):
    """A mark for JSON: an int when whole."""
    return int(x) if float(x).is_integer() else round(x, 4)


def report_dict(report: Report, reveal: bool = True) -> dict:
    """The stable JSON report."""
    problems = []
    for problem in report.problems:
        parts = []
        for part in problem.parts:
            parts.append({"id": part.id, "status": str(part.status), "score": part.score, "max_score": part.max_score,
                          "given": part.given, "expected": part.expected if reveal else None, "feedback": part.feedback,
                          "interpreted": part.interpreted, "note": part.note})
        problems.append({"id": problem.id, "score": num(problem.score), "max_score": num(problem.max_score),
                         "parts": parts})
    return {"student": report.student, "exam": report.exam, "score": num(report.score),
            "max_score": num(report.max_score), "problems": problems, "source": report.source,
            "warnings": report.warnings}


def reports_json(reports: list[Report], reveal: bool = True) -> str:
    data = [report_dict(r, reveal) for r in reports]
    return json.dumps(data[0] if len(data) == 1 else data, indent=2, ensure_ascii=False)
