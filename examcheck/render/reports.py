"""Grading reports as a rich table or JSON."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table
from rich.text import Text

from examcheck.model import Report
from examcheck.render.escape import rich_text, terminal_text

STATUS_STYLE = {
    "correct": "green", "partial": "yellow", "incorrect": "red", "missing": "magenta",
    "invalid": "red", "undecided": "cyan", "ungraded": "blue",
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


def reports_json(reports: list[Report], reveal: bool = True) -> str:
    data = [r.to_dict(reveal) for r in reports]
    return json.dumps(data[0] if len(data) == 1 else data, indent=2, ensure_ascii=False)
