"""Class statistics and the one-row-per-student batch table, for the terminal or JSON."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table

from examcheck.model import ClassStats, Report, Status
from examcheck.render.escape import rich_text


def _g(x: float) -> str:
    return f"{x:.4g}"


def print_class_table(reports: list[Report], console: Console) -> None:
    table = Table(title="students", title_justify="left")
    counted = (Status.CORRECT, Status.PARTIAL, Status.INCORRECT, Status.MISSING, Status.INVALID, Status.UNGRADED)
    for name in ("student", "exam", "score", "%", "correct", "partial", "wrong", "missing", "invalid", "ungraded"):
        table.add_column(name, justify="left" if name in ("student", "exam") else "right")
    for r in reports:
        statuses = [q.status for p in r.problems for q in p.parts]
        percent = 100 * r.score / r.max_score if r.max_score else 0.0
        table.add_row(rich_text(r.student), rich_text(r.exam), f"{_g(r.score)}/{_g(r.max_score)}", f"{percent:.1f}",
                      *(str(statuses.count(s)) for s in counted))
    console.print(table)


def print_stats(exam: str, stats: ClassStats, console: Console) -> None:
    heading = rich_text(exam, style="bold")
    heading.append(f": {stats.students} students, mean {_g(stats.mean)}, median {_g(stats.median)} "
                   f"of {_g(stats.max_score)}")
    console.print(heading)
    parts = Table(title="per part", title_justify="left")
    for name in ("part", "max", "mean", "median", "% correct", "commonest wrong answers (count: diagnosis)"):
        parts.add_column(name, justify="left" if name in ("part", "commonest wrong answers (count: diagnosis)")
                         else "right")
    for p in stats.parts:
        wrong = "; ".join(f"{a or '∅'} ×{c}{': ' + d if d else ''}" for a, c, d in p.common_wrong)
        parts.add_row(rich_text(p.name), _g(p.max_score), _g(p.mean), _g(p.median), f"{p.percent_correct:.0f}",
                      rich_text(wrong))
    console.print(parts)
    questions = Table(title="per question (discrimination = top 27% minus bottom 27%)", title_justify="left")
    for name in ("question", "mean fraction", "discrimination"):
        questions.add_column(name, justify="left" if name == "question" else "right")
    for q in stats.questions:
        discrimination = "-" if q.discrimination is None else f"{q.discrimination:+.2f}"
        questions.add_row(rich_text(q.name), f"{q.mean_fraction:.2f}", discrimination)
    console.print(questions)
    console.print("histogram of totals")
    bins = stats.histogram()
    widest = max((c for _, _, c in bins), default=1) or 1
    for low, high, count in bins:
        bar = "█" * round(40 * count / widest)
        console.print(f"  {_g(low):>6}-{_g(high):<6} {bar} {count}", highlight=False)


def stats_json(by_exam: dict[str, ClassStats]) -> str:
    out = {}
    for exam, s in by_exam.items():
        out[exam] = {
            "students": s.students, "max_score": s.max_score, "mean": s.mean, "median": s.median,
            "histogram": [{"from": lo, "to": hi, "count": c} for lo, hi, c in s.histogram()],
            "parts": [{"part": p.name, "max_score": p.max_score, "mean": p.mean, "median": p.median,
                       "percent_correct": p.percent_correct,
                       "common_wrong": [{"answer": a, "count": c, "diagnosis": d} for a, c, d in p.common_wrong]}
                      for p in s.parts],
            "questions": [{"question": q.name, "mean_fraction": q.mean_fraction,
                           "discrimination": q.discrimination} for q in s.questions],
        }
    return json.dumps(out, indent=2, ensure_ascii=False)


def stats_table_chunks(by_exam: dict[str, ClassStats], options):
    from examcheck.render.reports import make_console

    console = make_console(options.color, options.to_file)
    console.begin_capture()
    for exam, stats in by_exam.items():
        print_stats(exam, stats, console)
    yield console.end_capture()


def stats_json_chunks(by_exam: dict[str, ClassStats], options):
    yield stats_json(by_exam)
