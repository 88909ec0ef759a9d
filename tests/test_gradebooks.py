"""Gradebooks for many exams, read back by pandas (the consumer's own CSV reader): one row per
student, exam-prefixed columns that never merge, a total and Points Possible per exam, and the
LMS import layouts (Canvas, Moodle, Brightspace) with identifiers kept as text."""

import csv
import io
from collections import defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from examcheck.cli import main
from examcheck.render import RenderOptions, render_text
from examcheck.roster import Student
from tests.class_reports import classes

pd = pytest.importorskip("pandas")

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = str(ROOT / "problems")
ANSWERS = sorted(str(p) for p in (ROOT / "examples" / "answers").glob("*.yaml"))


def read(text: str):
    """As a spreadsheet user would: every cell text, nothing guessed (so 0123 stays 0123)."""
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def shown(student: str) -> str:
    """A student id as a CSV cell shows it (control characters visible, formulas defused)."""
    from examcheck.render.escape import csv_cell

    return csv_cell(student)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(classes())
def test_csv_has_one_row_per_student_and_a_total_per_exam(batch):
    frame = read(render_text("reports", "csv", batch, RenderOptions(points_row=True)))
    students = list(dict.fromkeys(r.student for r in batch))
    exams = list(dict.fromkeys(r.exam for r in batch))
    assert list(frame["student"]) == ["Points Possible", *map(shown, students)]
    for exam in exams:
        assert f"{exam}/total" in frame.columns and f"{exam}/max" in frame.columns
        parts = [c for c in frame.columns if c.startswith(f"{exam}/") and c not in (f"{exam}/total", f"{exam}/max")]
        points = frame.iloc[0]
        assert sum(float(points[c]) for c in parts) == float(points[f"{exam}/total"])  # Points Possible per exam
    for report in batch:
        row = frame[frame["student"] == shown(report.student)].iloc[0]
        assert float(row[f"{report.exam}/total"]) == pytest.approx(report.score)
        for problem in report.problems:
            for part in problem.parts:
                cell = row[f"{report.exam}/{problem.id}.{part.id}"]
                if part.hand_marked:  # not scored yet: blank, not a recorded 0
                    assert cell == ""
                else:
                    assert float(cell) == pytest.approx(part.score)
    answered = {(r.student, r.exam) for r in batch}
    for student in students:
        row = frame[frame["student"] == shown(student)].iloc[0]
        for exam in exams:
            assert (row[f"{exam}/total"] == "") == ((student, exam) not in answered)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(classes())
def test_lms_imports_have_one_row_per_student_and_one_column_per_exam(batch):
    totals = defaultdict(dict)
    for r in batch:
        totals[r.student][r.exam] = r.score
    exams = list(dict.fromkeys(r.exam for r in batch))
    canvas = read(render_text("reports", "canvas", batch, RenderOptions(assignments={exams[0]: "777"})))
    assert list(canvas.columns[:5]) == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert list(canvas.columns[5:]) == [f"{exams[0]} (777)", *exams[1:]]
    assert canvas.iloc[0]["Student"] == "Points Possible" and len(canvas) == len(totals) + 1
    brightspace = read(render_text("reports", "brightspace", batch, RenderOptions()))
    most = {e: max(r.max_score for r in batch if r.exam == e) for e in exams}
    assert list(brightspace.columns) == ["OrgDefinedId", "Username", "Last Name", "First Name", "Email",
                                         *(f"{e} Points Grade <Numeric MaxPoints:{most[e]:g}>" for e in exams),
                                         "End-of-Line Indicator"]
    brightspace.columns = [c.split(" <")[0] for c in brightspace.columns]
    assert set(brightspace["End-of-Line Indicator"]) == {"#"} and len(brightspace) == len(totals)
    moodle = read(render_text("reports", "moodle", batch, RenderOptions()))
    assert list(moodle.columns) == ["First name", "Last name", "ID number", "Username", "Email address", *exams]
    for i, by_exam in enumerate(totals.values()):
        for exam in exams:
            want = by_exam.get(exam)
            for cell in (canvas.iloc[i + 1][f"{exam} (777)" if exam == exams[0] else exam],
                         brightspace.iloc[i][f"{exam} Points Grade"], moodle.iloc[i][exam]):
                assert (cell == "") if want is None else float(cell) == pytest.approx(want)


ROSTER = [Student("0123", "Ada Lovelace", "S-0042", "alove", "ada@uni.example", "L01"),
          Student("00077", "Émile Zola", "0000", "ezola", "emile@uni.example", "L02")]


def test_lms_imports_take_ids_from_the_roster_and_keep_leading_zeros():
    from examcheck.model import PartResult, ProblemResult, Report, Status

    batch = [Report(s.id, exam, [ProblemResult("q1", [PartResult("i", Status.CORRECT, 2, 2)])], source=f"{s.id}.yaml")
             for s in ROSTER for exam in ("quiz1", "quiz2")]
    options = RenderOptions(students={s.id: s for s in ROSTER}, exam_titles={"quiz1": "Quiz 1", "quiz2": "Quiz 2"},
                            assignments={"quiz1": "101", "quiz2": "102"})
    canvas = read(render_text("reports", "canvas", batch, options))
    assert list(canvas.columns[5:]) == ["Quiz 1 (101)", "Quiz 2 (102)"]
    assert list(canvas["ID"][1:]) == ["0123", "00077"] and list(canvas["SIS User ID"][1:]) == ["S-0042", "0000"]
    assert list(canvas["SIS Login ID"][1:]) == ["alove", "ezola"] and list(canvas["Section"][1:]) == ["L01", "L02"]
    brightspace = read(render_text("reports", "brightspace", batch, options))
    assert list(brightspace["OrgDefinedId"]) == ["#S-0042", "#0000"] and list(brightspace["Username"]) == ["#alove", "#ezola"]
    assert list(brightspace["Last Name"]) == ["Lovelace", "Zola"]
    assert "Quiz 2 Points Grade <Numeric MaxPoints:2>" in brightspace.columns
    moodle = read(render_text("reports", "moodle", batch, options))
    assert list(moodle["ID number"]) == ["S-0042", "0000"] and list(moodle["Email address"]) == ["ada@uni.example",
                                                                                                 "emile@uni.example"]
    assert list(moodle["First name"]) == ["Ada", "Émile"]
    csv = read(render_text("reports", "csv", batch, options))
    assert list(csv["student"]) == ["0123", "00077"] and list(csv["sis_id"]) == ["S-0042", "0000"]


def test_by_exam_writes_one_gradebook_per_exam(tmp_path):
    out = tmp_path / "books"
    result = CliRunner().invoke(main, ["grade", *ANSWERS, "--problems", PROBLEMS, "--jobs", "1", "--format", "csv",
                                       "--points-row", "--by-exam", str(out)])
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in out.iterdir())
    assert files == ["dl-modern.csv", "seed000-quiz.csv"]
    quiz = read((out / "seed000-quiz.csv").read_text())
    assert list(quiz["student"]) == ["Points Possible", "flawed-fred", "perfect-pat"]
    assert all(c == "student" or c.startswith("seed000-quiz/") for c in quiz.columns)
    assert quiz.iloc[0]["seed000-quiz/total"] == "13"


def test_one_run_of_two_exams_is_one_row_per_student(tmp_path):
    """The same student answering two exams: one row, both totals, no column shared between the exams."""
    quiz = (ROOT / "examples" / "answers" / "flawed.yaml").read_text().replace("flawed-fred", "0123")
    modern = (ROOT / "examples" / "answers" / "dl-modern-flawed.yaml").read_text().replace("flawed-flo", "0123")
    (tmp_path / "a.yaml").write_text(quiz.replace("student: 0123", "student: 0123"))
    (tmp_path / "b.yaml").write_text(modern)
    result = CliRunner().invoke(main, ["grade", str(tmp_path), "--problems", PROBLEMS, "--jobs", "1", "--format", "csv"])
    assert result.exit_code == 0, result.output
    frame = read(result.stdout)
    assert list(frame["student"]) == ["0123"]
    assert frame.iloc[0]["seed000-quiz/total"] == "3.5" and frame.iloc[0]["dl-modern/total"] != ""


def test_csv_leaves_hand_marked_parts_blank_and_lists_roster_students_without_a_file():
    from types import SimpleNamespace

    from examcheck.model import PartResult, ProblemResult, Report, Status
    from examcheck.render import RenderOptions, render_text

    parts = [PartResult("n", Status.CORRECT, 1, 1), PartResult("t", Status.MISSING, 0, 2, feedback="marked by hand: r"),
             PartResult("u", Status.UNGRADED, 0, 2, given="essay", feedback="marked by hand")]
    report = Report("s1", "e", [ProblemResult("q", parts)])
    student = SimpleNamespace(name="A", sis_id="s1", login="a", section="", id="s1", email="")
    absent = SimpleNamespace(name="B", sis_id="s2", login="b", section="", id="s2", email="")
    text = render_text("reports", "csv", [report], RenderOptions(students={"s1": student, "s2": absent}))
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    one = dict(zip(header, rows[1]))
    assert one["e/q.n"] == "1" and one["e/q.t"] == "" and one["e/q.u"] == ""
    two = dict(zip(header, rows[2]))
    assert two["student"] == "s2" and two["e/q.n"] == "" and two["e/total"] == ""
