"""What `grade` and `stats` do with a whole class besides rendering it: join the answer files to a
roster, write one gradebook per exam (--by-exam), one feedback report per student (--split), and
say who scored under --fail-under.  No SymPy here; files are written atomically."""

from __future__ import annotations

import os
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from examcheck.outputs import OutputError, write_output
from examcheck.roster import IdentifiedReports, Identities, Roster, id_key, join, parse_columns, read_roster, settle_by_file_name

EXTENSIONS = {"csv": ".csv", "canvas": ".csv", "moodle": ".csv", "brightspace": ".csv", "json": ".json",
              "jsonl": ".jsonl", "junit": ".xml", "markdown": ".md", "html": ".html", "gradescope": ".json"}


def load_roster(path: str | os.PathLike | None, columns: str | None) -> Roster | None:
    """The roster (RosterError, with file:line, when it cannot be used); None without --roster."""
    if path is None:
        return None
    return read_roster(path, parse_columns(columns))


def identified(reports, roster: Roster | None, known_only: bool = False, one_row: bool = False) -> tuple[object, Identities]:
    """The reports with the roster's student ids, and what the join found (duplicates even without a roster);
    known_only: without the files of students not on the roster (they are reported as unknown).
    one_row: for a one-row-per-student gradebook (csv, canvas, moodle, brightspace): of several files claiming
    one student for one exam, only the one the file names single out is credited; when they single out none,
    no claimant is, and the row stays blank (roster.withhold_contested).  Other formats keep every report."""
    identities = join(reports, roster) if roster is not None else _duplicates(reports)
    if not one_row:
        identities.withheld, identities.contested = set(), []
    elif roster is None:
        settle_by_file_name(identities)
    if roster is not None:
        return IdentifiedReports(reports, identities, known_only), identities
    if one_row and (identities.withheld or identities.demoted):
        return _Credited(reports, identities.withheld | identities.demoted), identities
    return reports, identities


class _Filtered:
    """A re-iterable, sized view of some reports (as renderers expect): subclasses say which in __iter__."""

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __bool__(self) -> bool:
        return any(True for _ in self)

    def first(self):
        return next(iter(self), None)


class _Credited(_Filtered):
    """The reports but those no gradebook row may credit (re-iterable, sized, in the order given)."""

    def __init__(self, reports, left_out: set[str]):
        self._reports, self._left_out = reports, left_out
        self.by_student = getattr(reports, "by_student", False)

    def __iter__(self):
        return (r for r in self._reports if r.source not in self._left_out)

    def contested(self):
        """The reports left out (their exam keeps its gradebook columns: render.gradebooks.gradebook)."""
        return (r for r in self._reports if r.source in self._left_out)

    def with_contested(self):
        """Every report (a student's own feedback is written whoever the gradebook credits)."""
        return self._reports


def _duplicates(reports) -> Identities:
    """Every student with two or more files for one exam.  Reports that come ordered by student (read back
    from a run's store: `by_student`) are grouped a student at a time, so a class of any size costs the memory
    of one student's files; anything else is grouped in one table."""
    found = Identities()
    if getattr(reports, "by_student", False):
        spelled: dict[str, str] = {}  # id_key -> the first spelling seen
        variants: set[str] = set()  # keys written in several spellings: their files are not adjacent
        for sid, files in groupby(reports, key=lambda report: str(report.student)):
            key = id_key(sid)
            if spelled.setdefault(key, sid) != sid:
                variants.add(key)
            found.duplicates += _repeated(files)
        if variants:
            found.duplicates = [d for d in found.duplicates if id_key(d[0]) not in variants]
            found.duplicates += _repeated(r for r in reports if id_key(r.student) in variants)
    else:
        found.duplicates = _repeated(reports)
    return found


def _repeated(reports) -> list[tuple[str, str, list[str]]]:
    """(id as first written, exam, sources) for every student with several files for one exam; ids are compared
    by id_key (case, Unicode width and outer spaces ignored): `A0100005` cannot take a row beside `a0100005`."""
    seen: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for report in reports:
        sid = str(report.student)
        seen.setdefault((id_key(sid), report.exam), (sid, []))[1].append(report.source)
    return [(sid, exam, sources) for (_, exam), (sid, sources) in seen.items() if len(sources) > 1]


class _ExamReports(_Filtered):
    """The reports of one exam (re-iterable and sized, as renderers expect)."""

    def __init__(self, reports, exam: str):
        self._reports, self.exam = reports, exam

    def __iter__(self):
        return (r for r in self._reports if r.exam == self.exam)



def exams_of(reports) -> list[str]:
    return list(dict.fromkeys(r.exam for r in reports))


def write_per_exam(folder: Path, reports, fmt: str, render_one) -> list[Path]:
    """One file per exam in folder (created if needed): render_one(reports of the exam) -> chunks."""
    from examcheck.render.feedback import safe_name

    _folder(folder)
    written = []
    for exam in exams_of(reports):
        target = folder / f"{safe_name(exam)}{EXTENSIONS.get(fmt, '.txt')}"
        write_output(target, render_one(_ExamReports(reports, exam)))
        written.append(target)
    return written


def write_split(folder: Path, reports, reveal: bool) -> list[Path]:
    """One Markdown and one HTML feedback report per answer file (student.exam.md / .html)."""
    from examcheck.render.exports import markdown_report
    from examcheck.render.feedback import html_report, split_name
    from examcheck.render.redact import redacted

    _folder(folder)
    shown = reports if reveal else redacted(reports)
    written: list[Path] = []
    used: set[str] = set()
    for report in shown:
        base = split_name(report, "")
        name, n = base, 1
        while name in used:  # a second file of one student for one exam
            n += 1
            name = f"{base}~{n}"
        used.add(name)
        for suffix, text in ((".md", markdown_report(report, reveal)), (".html", html_report(report, reveal))):
            target = folder / f"{name}{suffix}"
            write_output(target, text)
            written.append(target)
    return written


def _folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the folder {folder}: {exc.strerror or exc}") from None
    if not folder.is_dir():
        raise OutputError(f"{folder} is not a folder")


@dataclass
class Below:
    student: str
    exam: str
    source: str
    percent: float


def autograded(report) -> tuple[float, float]:
    """(score, maximum) over the parts graded automatically: hand-marked parts, answered or blank, are not in it."""
    parts = [q for p in report.problems for q in p.parts if not q.hand_marked]
    return sum(q.score for q in parts), sum(q.max_score for q in parts)


def below(reports, percent: float) -> list[Below]:
    """Every report scoring under percent of its AUTOGRADED maximum (hand-marked parts are not judged here).
    A report with no autograded marks at all (maximum 0) is not judged: it is listed by unjudged()."""
    out = []
    for report in reports:
        score, most = autograded(report)
        if most > 0 and 100 * score / most < percent:
            out.append(Below(str(report.student), report.exam, report.source, 100 * score / most))
    return out


def unjudged(reports) -> list[Below]:
    """The reports --fail-under cannot judge: no autograded marks to give (only hand-marked or 0-mark parts)."""
    return [Below(str(r.student), r.exam, r.source, 0.0) for r in reports if autograded(r)[1] <= 0]
