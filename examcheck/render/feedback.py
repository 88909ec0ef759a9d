"""Feedback for one student as a standalone HTML page (every text escaped; control characters shown
as visible escapes), and the file names of `--split DIR`: one report per student and exam."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata

from examcheck.model import Report
from examcheck.render.escape import terminal_text

_STYLE = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
          "table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem .5rem;"
          "text-align:left;vertical-align:top}.correct{color:#17692b}.partial{color:#8a6100}"
          ".incorrect,.invalid{color:#a31515}.missing{color:#7a2a8a}")


def _num(x: float):
    return int(x) if float(x).is_integer() else round(x, 4)


def _h(text) -> str:
    return html.escape(terminal_text("" if text is None else text), quote=True)


def _section(report: Report, reveal: bool) -> str:
    rows = []
    for problem in report.problems:
        for part in problem.parts:
            read = part.interpreted or (str(part.given) if part.given is not None else "")
            cells = [f"{problem.id}.{part.id}", part.status, f"{_num(part.score)}/{_num(part.max_score)}", read]
            if reveal:
                cells.append(part.expected or "")
            cells.append(part.feedback or part.note)
            rows.append("<tr>" + "".join(
                f'<td class="{_h(part.status)}">{_h(c)}</td>' if i == 1 else f"<td>{_h(c)}</td>"
                for i, c in enumerate(cells)) + "</tr>")
    header = ["part", "status", "marks", "your answer, as read", *(["expected"] if reveal else []), "feedback"]
    warnings = "".join(f"<p>warning: {_h(w)}</p>" for w in report.warnings)
    variants = ", ".join(f"{p.id} variant {p.variant}" for p in report.problems if p.variant is not None)
    graded = f"<p>Graded against: {_h(variants)}</p>\n" if variants else ""
    return (f"<section>\n<h1>{_h(report.student)}: {_h(report.exam)}</h1>\n"
            f"<p><strong>Total: {_num(report.score)} / {_num(report.max_score)}</strong></p>\n{graded}"
            "<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr></thead><tbody>\n"
            + "\n".join(rows) + f"\n</tbody></table>\n{warnings}</section>\n")


def _head(title: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\" />"
            f"<title>{_h(title)}</title><style>{_STYLE}</style></head><body>\n")


_TAIL = "</body></html>\n"


def html_report(report: Report, reveal: bool = True) -> str:
    """One student's feedback as a standalone page."""
    return _head(f"{report.student}: {report.exam}") + _section(report, reveal) + _TAIL


def html_chunks(reports, options):
    """One page: a section per answer file."""
    yield _head("examcheck feedback")
    for report in reports:
        yield _section(report, options.reveal)
    yield _TAIL


def safe_name(text: str, limit: int = 80) -> str:
    """A file name made of the text's letters, digits, '-', '_' and '.', never hidden or a path;
    a short hash of the text is added whenever anything had to change, so two texts never share a name."""
    text = str(text)
    kept = unicodedata.normalize("NFKC", text)
    kept = re.sub(r"[^\w.-]+", "_", kept, flags=re.UNICODE).strip("._") or "student"
    kept = kept[:limit]
    if kept != text:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        kept = f"{kept}-{digest}"
    return kept


def split_name(report: Report, suffix: str) -> str:
    return f"{safe_name(report.student)}.{safe_name(report.exam)}{suffix}"
