"""Renderers: one registry of every output format, for reports, class statistics, worked
solutions and check findings.  A format is a function ``(data, options) -> iterator of text``,
so a class of any size streams to its output.  Renderers import the model only (no SymPy);
they know nothing of grading.  Modules are imported when a format is used, not before."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from importlib import import_module
from typing import Any

FORMATS: dict[str, dict[str, str]] = {
    "reports": {
        "table": "examcheck.render.reports:table_chunks",
        "json": "examcheck.render.reports:json_chunks",
        "jsonl": "examcheck.render.exports:jsonl_chunks",
        "csv": "examcheck.render.gradebooks:csv_chunks",
        "canvas": "examcheck.render.gradebooks:canvas_chunks",
        "moodle": "examcheck.render.gradebooks:moodle_chunks",
        "brightspace": "examcheck.render.gradebooks:brightspace_chunks",
        "gradescope": "examcheck.render.exports:gradescope_chunks",
        "junit": "examcheck.render.ci:junit_chunks",
        "github": "examcheck.render.ci:github_chunks",
        "markdown": "examcheck.render.exports:markdown_chunks",
        "html": "examcheck.render.feedback:html_chunks",
    },
    "stats": {
        "table": "examcheck.render.stats:stats_table_chunks",
        "json": "examcheck.render.stats:stats_json_chunks",
    },
    "solution": {
        "text": "examcheck.render.solutions:text_chunks",
        "markdown": "examcheck.render.solutions:markdown_chunks",
        "latex": "examcheck.render.solutions:latex_chunks",
        "json": "examcheck.render.solutions:json_chunks",
    },
    "findings": {
        "text": "examcheck.render.listings:findings_text_chunks",
        "json": "examcheck.render.listings:findings_json_chunks",
        "github": "examcheck.render.exports:github_findings_chunks",
    },
}


@dataclass(frozen=True)
class RenderOptions:
    reveal: bool = True               # show expected answers
    color: str = "auto"               # auto, always, never (tables)
    to_file: bool = False             # plain text for a file (no colour, fixed width)
    summary: bool = False             # table: add class statistics
    points_row: bool = False          # csv: a Points Possible row
    assignment: str = "examcheck"     # canvas: the assignment column
    errors: tuple[str, ...] = ()      # gradescope: why nothing could be graded
    stats: Any = None                 # exam -> ClassStats, for tables with statistics
    sets: Any = None                  # the problem sets checked (for the check summary)
    students: Any = None              # roster: student id -> a student (id, name, sis_id, login, email, section)
    exam_titles: Any = None           # exam -> its title (LMS gradebook columns)
    assignments: Any = None           # exam -> LMS assignment id (canvas: "Title (id)")


def names(kind: str) -> list[str]:
    return list(FORMATS[kind])


def renderer(kind: str, name: str):
    module, function = FORMATS[kind][name].split(":")
    return getattr(import_module(module), function)


def render(kind: str, name: str, data, options: RenderOptions = RenderOptions()) -> Iterator[str]:
    """The chunks of text of data in this format.  Reports without --reveal are redacted here, once,
    before any format sees them (examcheck.render.redact)."""
    if kind == "reports" and not options.reveal:
        from examcheck.render.redact import redacted

        data = redacted(data)
        if options.stats is not None:  # class statistics list diagnoses too
            from dataclasses import replace

            from examcheck.stats import by_exam

            options = replace(options, stats=lambda data=data: by_exam(data))
    return renderer(kind, name)(data, options)


def render_text(kind: str, name: str, data, options: RenderOptions = RenderOptions()) -> str:
    return "".join(render(kind, name, data, options))
