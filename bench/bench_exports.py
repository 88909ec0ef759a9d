"""Rendering a large class in every report format, as ratios against `jsonl` (the plainest streaming
format) rendered in the same run, plus the peak memory each format takes above the reports themselves.

Gradebooks keep numbers per student (one row per student over every exam); JUnit, GitHub and
Markdown stream a report at a time; --no-reveal redaction is measured on `json`.

    python bench/bench_exports.py [--students 5000] [--exams 2] [--roster]
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc

from examcheck.model import PartResult, ProblemResult, Report, Status
from examcheck.render import FORMATS, RenderOptions, render
from examcheck.roster import Roster, Student, join


def make_class(students: int, exams: int, seed: int = 0) -> list[Report]:
    rng = random.Random(seed)
    statuses = list(Status)
    out = []
    for e in range(exams):
        for s in range(students):
            problems = []
            for p in range(4):
                parts = []
                for q in range(3):
                    status = rng.choice(statuses)
                    parts.append(PartResult(f"p{q}", status, 1.0 if status is Status.CORRECT else 0.0, 1.0,
                                            given=f"{rng.random():.4f}", expected="0.173 (rounded to 3 decimal place(s))",
                                            feedback=f"off by a factor of 10^{rng.randint(1, 3)}", line=5 + p))
                problems.append(ProblemResult(f"q{p}", parts))
            out.append(Report(f"{s:07d}", f"exam{e}", problems, source=f"subs/{s:07d}-{e}.yaml"))
    return out


def drain(chunks) -> int:
    return sum(len(c) for c in chunks)


def measure(fmt: str, reports, options) -> tuple[float, int]:
    """(seconds, untraced; peak bytes allocated while rendering, in a second, traced pass)."""
    start = time.perf_counter()
    drain(render("reports", fmt, reports, options))
    elapsed = time.perf_counter() - start
    tracemalloc.start()
    drain(render("reports", fmt, reports, options))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return elapsed, peak


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=5000)
    parser.add_argument("--exams", type=int, default=2)
    parser.add_argument("--roster", action="store_true", help="also join a roster of every student first")
    args = parser.parse_args()
    reports = make_class(args.students, args.exams)
    options = RenderOptions(points_row=True, to_file=True, color="never")
    if args.roster:
        roster = Roster([Student(f"{s:07d}", f"Student {s}", f"S{s}", f"login{s}") for s in range(args.students)])
        start = time.perf_counter()
        join(reports, roster)
        print(f"roster join: {time.perf_counter() - start:.2f} s for {len(reports)} files")
        options = RenderOptions(points_row=True, to_file=True, color="never", students=roster.by_id)
    base, _ = measure("jsonl", reports, options)
    print(f"{len(reports)} reports; baseline jsonl {base:.2f} s")
    for fmt in FORMATS["reports"]:
        if fmt == "table":
            continue
        elapsed, peak = measure(fmt, reports, options)
        print(f"{fmt:12s} {elapsed:6.2f} s  x{elapsed / base:5.2f}  peak {peak / 1e6:6.1f} MB")
    elapsed, peak = measure("json", reports, RenderOptions(reveal=False))
    print(f"{'json no-reveal':12s} {elapsed:6.2f} s  x{elapsed / base:5.2f}  peak {peak / 1e6:6.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
