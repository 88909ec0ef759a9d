"""Gradebooks for many exams: one row per student, whatever the number of exams in the run.

- csv: ``student`` (and the roster's name, SIS id, login and section when a roster was given),
  then per exam its parts as ``EXAM/q1.i``, ``EXAM/total`` and ``EXAM/max``; an optional
  Points Possible row gives each column's maximum, per exam.
- canvas: Canvas's gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, then one
  column per exam titled ``Exam title (assignment id)`` (the id when given), a Points Possible row.
- moodle: for Moodle's "Import grades from CSV": First name, Last name, ID number, Username,
  Email address, one column per exam (its title); map "Identify user by" to one of them.
- brightspace: Brightspace's grades import: OrgDefinedId, Username (written with the leading
  ``#`` Brightspace's own export uses), Last Name, First Name, Email, one
  ``<Exam title> Points Grade <Numeric MaxPoints:N>`` column per exam (as Brightspace exports them:
  the name matches an existing item, the bracket gives a new one its maximum), and End-of-Line Indicator (``#``).

Identifiers are text: ``0123`` is written ``0123``.  Students come in the order first seen; with a
roster, the LMS imports hold roster students only (files of unknown students are reported, not imported).
A renderer imports the report model only (roster students arrive as plain objects in options).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from examcheck.render.escape import csv_row


def _num(x: float):
    return int(x) if float(x).is_integer() else round(x, 4)


def _line(row: list) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(csv_row(row))
    return out.getvalue()


@dataclass
class _Exam:
    name: str
    columns: dict[str, float] = field(default_factory=dict)  # "q1.i" -> max
    most: float = 0.0
    variant_of: list[str] = field(default_factory=list)  # problems graded against a drawn variant


@dataclass
class Gradebook:
    exams: dict[str, _Exam] = field(default_factory=dict)
    rows: dict[str, dict[str, tuple[dict[str, float], float, float]]] = field(default_factory=dict)
    # student -> exam -> (part scores, total, max)
    variants: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)  # (student, exam) -> problem -> variant


def gradebook(reports) -> Gradebook:
    """One pass over the reports, keeping numbers only.  A second report of one student for one exam
    replaces nothing: the first is kept (the duplicate is reported by the roster join).  Reports withheld
    from the rows (several files claim one student: reports.contested()) still give their exam its columns,
    so that an exam nobody could be credited for keeps its column, blank."""
    book = Gradebook()
    for report in reports:
        exam = _exam_columns(book, report)
        scores = {}
        for problem in report.problems:
            for part in problem.parts:
                if not part.hand_marked:  # a hand-marked part has no score yet: its cell stays blank, not 0
                    scores[f"{problem.id}.{part.id}"] = part.score
        row = book.rows.setdefault(str(report.student), {})
        if report.exam not in row:
            drawn = {p.id: p.variant for p in report.problems if p.variant is not None}
            for pid in drawn:
                if pid not in exam.variant_of:
                    exam.variant_of.append(pid)
            book.variants[(str(report.student), report.exam)] = drawn
        row.setdefault(report.exam, (scores, report.score, report.max_score))
    for report in getattr(reports, "contested", tuple)():
        _exam_columns(book, report)
    return book


def _exam_columns(book: Gradebook, report) -> _Exam:
    exam = book.exams.setdefault(report.exam, _Exam(report.exam))
    exam.most = max(exam.most, report.max_score)
    for problem in report.problems:
        for part in problem.parts:
            exam.columns.setdefault(f"{problem.id}.{part.id}", part.max_score)
    return exam


def _student(options, sid: str):
    students = getattr(options, "students", None) or {}
    return students.get(sid)


def _lms_rows(book: Gradebook, options):
    """(student id, its roster entry or None, exam -> (scores, total, max)).  With a roster, an LMS import
    lists roster students only: a file nobody on the roster owns was reported, and would only fail the import."""
    roster = bool(getattr(options, "students", None))
    for sid, by_exam in book.rows.items():
        student = _student(options, sid)
        if student is not None or not roster:
            yield sid, student, by_exam


def _title(options, exam: str) -> str:
    titles = getattr(options, "exam_titles", None) or {}
    return titles.get(exam) or exam


def _assignment_title(options, exam: str, single: bool) -> str:
    ids = getattr(options, "assignments", None) or {}
    if exam in ids:
        return f"{_title(options, exam)} ({ids[exam]})"
    if single and options.assignment != "examcheck":  # the old --assignment "Quiz 1 (12345)"
        return options.assignment
    return _title(options, exam)


def _column_title(options, exam: str, single: bool) -> str:
    """moodle/brightspace: --assignment names the grade item of a single exam (as for canvas); else the exam title."""
    if single and options.assignment != "examcheck":
        return options.assignment
    return _title(options, exam)


def _split_name(name: str) -> tuple[str, str]:
    """(first, last) of "First Last" or "Last, First"."""
    if "," in name:
        last, _, first = name.partition(",")
        return first.strip(), last.strip()
    words = name.split()
    return (" ".join(words[:-1]), words[-1]) if len(words) > 1 else (name.strip(), "")


def csv_chunks(reports, options):
    book = gradebook(reports)
    roster = bool(getattr(options, "students", None))
    who = ["student", *(["name", "sis_id", "login", "section"] if roster else [])]
    header = list(who)
    for exam in book.exams.values():
        header += [f"{exam.name}/{c}" for c in exam.columns] + [f"{exam.name}/total", f"{exam.name}/max"]
        header += [f"{exam.name}/{pid}/variant" for pid in exam.variant_of]
    yield _line(header)
    if options.points_row:
        row = ["Points Possible", *([""] * (len(who) - 1))]
        for exam in book.exams.values():
            row += [_num(m) for m in exam.columns.values()] + [_num(exam.most), _num(exam.most)]
            row += [""] * len(exam.variant_of)
        yield _line(row)
    rows = dict(book.rows)
    for sid in getattr(options, "students", None) or {}:  # a roster student with no answer file: a row of blanks
        rows.setdefault(str(sid), {})
    for sid, by_exam in rows.items():
        student = _student(options, sid)
        row = [sid]
        if roster:
            row += [getattr(student, a, "") for a in ("name", "sis_id", "login", "section")]
        for exam in book.exams.values():
            if exam.name in by_exam:
                scores, total, most = by_exam[exam.name]
                row += [_num(scores[c]) if c in scores else "" for c in exam.columns] + [_num(total), _num(most)]
            else:
                row += [""] * (len(exam.columns) + 2)
            drawn = book.variants.get((sid, exam.name), {})
            row += [drawn.get(pid, "") for pid in exam.variant_of]
        yield _line(row)


CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def canvas_chunks(reports, options):
    book = gradebook(reports)
    exams = list(book.exams.values())
    yield _line([*CANVAS_COLUMNS, *(_assignment_title(options, e.name, len(exams) == 1) for e in exams)])
    yield _line(["Points Possible", "", "", "", "", *(_num(e.most) for e in exams)])
    for sid, student, by_exam in _lms_rows(book, options):
        if student is not None:
            who = [student.name or sid, student.id, student.sis_id, student.login, student.section]
        else:
            who = [sid, "", sid, sid, ""]
        yield _line([*who, *(_num(by_exam[e.name][1]) if e.name in by_exam else "" for e in exams)])


def moodle_chunks(reports, options):
    book = gradebook(reports)
    exams = list(book.exams.values())
    yield _line(["First name", "Last name", "ID number", "Username", "Email address",
                 *(_column_title(options, e.name, len(exams) == 1) for e in exams)])
    for sid, student, by_exam in _lms_rows(book, options):
        if student is not None:
            first, last = _split_name(student.name)
            who = [first, last, student.sis_id or student.id, student.login, student.email]
        else:
            who = ["", "", sid, sid, sid if "@" in sid else ""]
        yield _line([*who, *(_num(by_exam[e.name][1]) if e.name in by_exam else "" for e in exams)])


def _hash(value: str) -> str:
    return f"#{value}" if value else ""


def brightspace_chunks(reports, options):
    book = gradebook(reports)
    exams = list(book.exams.values())
    yield _line(["OrgDefinedId", "Username", "Last Name", "First Name", "Email",
                 *(f"{_column_title(options, e.name, len(exams) == 1)} Points Grade <Numeric MaxPoints:{_num(e.most)}>"
                   for e in exams),
                 "End-of-Line Indicator"])
    for sid, student, by_exam in _lms_rows(book, options):
        if student is not None:
            first, last = _split_name(student.name)
            who = [_hash(student.sis_id or student.id), _hash(student.login), last, first, student.email]
        else:
            who = [_hash(sid), _hash(sid), "", "", ""]
        yield _line([*who, *(_num(by_exam[e.name][1]) if e.name in by_exam else "" for e in exams), "#"])
