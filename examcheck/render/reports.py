"""Grading reports as a rich table or JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator

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
    variants = ", ".join(f"{p.id} variant {p.variant}" for p in report.problems if p.variant is not None)
    title = rich_text(f"{report.student} · {report.exam}" + (f" · {variants}" if variants else ""))
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
                row.append(rich_text(_expected_cell(part)))
            row.append(rich_text(part.feedback) if part.feedback else rich_text(part.note, style="dim"))
            table.add_row(*row)
    console.print(table)
    percent = 100 * report.score / report.max_score if report.max_score else 0.0
    console.print(f"[bold]total {_marks(report.score)}/{_marks(report.max_score)}[/bold] ({percent:.1f}%)")
    for warning in report.warnings:
        console.print(Text.assemble(("warning:", "yellow"), " ", terminal_text(warning)), highlight=False)


def _expected_cell(part) -> str:
    """The expected answer, and with follow-through the answer for the student's own earlier value."""
    extra = part.follow_through.expected_for_value(part.expected) if part.follow_through else ""
    return "\n".join(t for t in (part.expected or "", extra) if t)


def num(x: float):
    """A mark for JSON: an int when whole."""
    return int(x) if float(x).is_integer() else round(x, 4)


def report_dict(report: Report, reveal: bool = True) -> dict:
    """The stable JSON report (each sum made once: this runs for every file of a batch)."""
    problems = []
    total = possible = 0.0
    for problem in report.problems:
        parts = []
        score = max_score = 0.0
        for part in problem.parts:
            parts.append({"id": part.id, "status": str(part.status), "score": part.score, "max_score": part.max_score,
                          "given": part.given, "expected": part.expected if reveal else None, "feedback": part.feedback,
                          "interpreted": part.interpreted, "note": part.note,
                          "follow_through": _follow_through(part.follow_through, reveal)})
            score += part.score
            max_score += part.max_score
        total += score
        possible += max_score
        problems.append({"id": problem.id, "score": num(score), "max_score": num(max_score), "parts": parts,
                         **({"variant": problem.variant} if problem.variant is not None else {})})
    return {"student": report.student, "exam": report.exam, "score": num(total),
            "max_score": num(possible), "problems": problems, "source": report.source,
            "warnings": report.warnings}


def _follow_through(record, reveal: bool) -> dict | None:
    """The part's follow-through record (stable field names; the recomputed answer only with reveal)."""
    if record is None:
        return None
    data = record.as_dict()
    if not reveal:
        data["expected"] = None
    return data


class PipeConsole(Console):
    """A rich Console whose closed pipe is a BrokenPipeError (the CLI exits 141 silently), not rich's
    SystemExit(1)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError(32, "Broken pipe")


def make_console(color: str = "auto", to_file: bool = False) -> Console:
    """A console that records what is printed: colour per --color (never in a file)."""
    import sys

    color = "never" if to_file else color
    force = {"always": True, "never": False}.get(color)
    plain = color == "never"
    width = None if (sys.stdout.isatty() and not to_file) else 160
    return PipeConsole(force_terminal=force, no_color=plain or None, color_system=None if plain else "auto",
                   highlight=False, soft_wrap=False, width=width)


def table_chunks(reports, options) -> Iterator[str]:
    """One report as a table; several as a class table with statistics."""
    from examcheck.render.stats import print_class_table, print_stats

    console = make_console(options.color, options.to_file)
    console.begin_capture()
    count = len(reports)
    if count == 1:
        print_report(next(iter(reports)), console, reveal=options.reveal)
    elif count:
        print_class_table(reports, console)
    if (options.summary or count > 1) and options.stats is not None:
        by_exam = options.stats() if callable(options.stats) else options.stats
        for exam, stats in by_exam.items():
            print_stats(exam, stats, console)
    yield console.end_capture()


def _indented(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line for line in text.split("\n"))


def json_chunks(reports, options) -> Iterator[str]:
    """One report as an object, several as a list (as json.dumps(..., indent=2) would write them)."""
    count = len(reports)
    if count == 0:
        yield "[]"
        return
    if count == 1:
        yield json.dumps(report_dict(next(iter(reports)), options.reveal), indent=2, ensure_ascii=False)
        return
    yield "["
    for i, report in enumerate(reports):
        yield ("\n" if i == 0 else ",\n") + _indented(json.dumps(report_dict(report, options.reveal), indent=2,
                                                                   ensure_ascii=False))
    yield "\n]"


def reports_json(reports: list[Report], reveal: bool = True) -> str:
    data = [report_dict(r, reveal) for r in reports]
    return json.dumps(data[0] if len(data) == 1 else data, indent=2, ensure_ascii=False)
