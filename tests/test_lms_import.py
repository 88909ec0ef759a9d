"""LMS quiz responses in: files written to Canvas's Student Analysis and Moodle's Responses formats become
answer files that read back to exactly what the students typed (hypothesis round trips), grade end to end,
and hostile exports give file:line errors."""

from __future__ import annotations

import csv
import io
import json
import string
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examcheck.answers import load_sheet
from examcheck.cli import main
from examcheck.lms_import import MAX_FIELD

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = str(ROOT / "problems")

CANVAS_META = ["name", "id", "sis_id", "section", "section_id", "section_sis_id", "submitted", "attempt"]
MAPPING = "exam: seed000-quiz\nquestions:\n  '101': q1.i\n  '102': q2.i\n  '103': q3.a\n"
MOODLE_MAPPING = "exam: seed000-quiz\nquestions:\n  '1': q1.i\n  '2': q2.i\n  'Response 3': q3.a\n"


def canvas_csv(students, attempts=None) -> str:
    """The Student Analysis layout: meta columns, then per question "<id>: <text>" and its score column."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*CANVAS_META, "101: <p>Give da/dw_i, in terms of \"sigma\", x_i.</p>", "2.0",
                     "102: What training\naccuracy?", "1.0", "103: Parameters, layer 1?", "1.0",
                     "n correct", "n incorrect", "score"])
    for i, (ident, name, answers) in enumerate(students):
        attempt = attempts[i] if attempts else 1
        writer.writerow([name, str(1000 + i), ident, "Sec A", "5", "", "2026-09-25 23:30:00 UTC", str(attempt),
                         answers[0], "0.0", answers[1], "1.0", answers[2], "0.0", "1", "2", "1.0"])
    return out.getvalue()


def moodle_csv(students, delimiter=",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(["Surname", "First name", "ID number", "Email address", "State", "Started on", "Completed",
                     "Time taken", "Grade/10.00", "Response 1", "Response 2", "Response 3"])
    for ident, name, answers in students:
        writer.writerow([name, "X", ident, f"{ident}@example.edu", "Finished", "25 September 2026  10:00 AM",
                         "25 September 2026  10:20 AM", "20 mins", "5.00", *answers])
    writer.writerow(["Overall average", "", "", "", "", "", "", "", "5.00", "", "", ""])
    return out.getvalue()


def run_import(tmp_path: Path, export: str | bytes, mapping: str = MAPPING, *args: str, name="export.csv"):
    path = tmp_path / name
    path.write_bytes(export.encode("utf-8") if isinstance(export, str) else export)
    (tmp_path / "map.yaml").write_text(mapping)
    out = tmp_path / "answers"
    result = CliRunner().invoke(main, ["import", str(path), "--map", str(tmp_path / "map.yaml"), "-o", str(out),
                                       "--problems", PROBLEMS, *args])
    return result, out


GOOD = ["sigma(z)*(1 - sigma(z))*x_i", "0.999", "7600"]


def test_canvas_student_analysis_round_trip_and_grade(tmp_path):
    students = [("0123", "Ann Lee", ["<p>\\frac{e^{-z}}{(1+e^{-z})^2} x_i</p>", "0.999", "7600"]),
                ("0042", "Bo, \"the\" Kim", ["-x_i \\sigma(z)(1-\\sigma(z))", "", "80"])]
    result, out = run_import(tmp_path, canvas_csv(students))
    assert result.exit_code == 0, result.output
    ann = load_sheet(out / "0123.yaml")
    assert ann.student == "0123" and ann.exam == "seed000-quiz"
    assert ann.problem_values["q1"].value == {"i": "\\frac{e^{-z}}{(1+e^{-z})^2} x_i"}  # HTML gone, LaTeX kept
    bo = load_sheet(out / "0042.yaml")
    assert "q2" not in bo.problem_values  # a blank response is a missing answer
    graded = CliRunner().invoke(main, ["grade", str(out / "0123.yaml"), "--problems", PROBLEMS, "--format", "json"])
    parts = {f"{q['id']}.{p['id']}": p["status"] for q in json.loads(graded.stdout)["problems"] for p in q["parts"]}
    assert parts["q1.i"] == "correct" and parts["q2.i"] == "correct"


def test_canvas_every_attempt_export_keeps_the_highest_attempt(tmp_path):
    students = [("7", "A", ["x", "0.5", "1"]), ("7", "A", GOOD), ("7", "A", ["y", "0.1", "2"])]
    result, out = run_import(tmp_path, canvas_csv(students, attempts=[1, 3, 2]))
    assert result.exit_code == 0, result.output
    assert load_sheet(out / "7.yaml").problem_values["q2"].value == {"i": "0.999"}


@pytest.mark.parametrize("encoding, delimiter", [("utf-8-sig", ","), ("utf-8", ";"), ("utf-16", "\t")])
def test_moodle_responses_download(tmp_path, encoding, delimiter):
    students = [("00017", "Ng", GOOD), ("S-2", "Ortiz", ["\\sigma(z)(1-\\sigma(z)) x_i", "99.9%", "7,600"])]
    result, out = run_import(tmp_path, moodle_csv(students, delimiter).encode(encoding), MOODLE_MAPPING)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["00017.yaml", "S-2.yaml"]
    sheet = load_sheet(out / "S-2.yaml")
    assert sheet.student == "S-2" and sheet.problem_values["q3"].value == {"a": "7,600"}


def test_the_format_is_detected_or_refused(tmp_path):
    result, _ = run_import(tmp_path, "a,b,c\n1,2,3\n")
    assert result.exit_code == 2 and "--from canvas|moodle" in result.output and "export.csv:1" in result.output
    result, out = run_import(tmp_path, canvas_csv([("1", "A", GOOD)]), MAPPING, "--from", "canvas")
    assert result.exit_code == 0 and (out / "1.yaml").exists()


# ----------------------------------------------------------------------------- generated round trips

ids = st.text(alphabet=string.digits, min_size=1, max_size=9) | st.from_regex(r"[A-Za-z][A-Za-z0-9._-]{0,12}",
                                                                              fullmatch=True)
names = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(',"\'\n'), max_size=30)
answer_chars = st.sampled_from(list("x_i+-*/^()[]{},.;:'\"\\ σ√0123456789") + ["\\frac", "\\sigma", "\\theta", "\n"])
answers = st.lists(answer_chars, max_size=25).map("".join)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(ids, names, st.lists(answers, min_size=3, max_size=3)), min_size=1, max_size=4,
                unique_by=lambda s: s[0].lower()), st.sampled_from(["canvas", "moodle"]))
def test_generated_exports_read_back_exactly(tmp_path_factory, students, fmt):
    tmp = tmp_path_factory.mktemp("gen")
    export = canvas_csv(students) if fmt == "canvas" else moodle_csv(students)
    result, out = run_import(tmp, export, MAPPING if fmt == "canvas" else MOODLE_MAPPING)
    assert result.exit_code == 0, result.output
    written = {load_sheet(p).student: load_sheet(p) for p in out.iterdir()}
    assert set(written) == {s[0] for s in students}  # ids stay text: 0123 stays 0123
    for ident, _, typed in students:
        sheet = written[ident]
        for (problem, part), text in zip([("q1", "i"), ("q2", "i"), ("q3", "a")], typed):
            value = sheet.problem_values.get(problem)
            got = value.value.get(part) if value else None
            expected = text.strip() or None
            if expected is not None and "</" not in expected:
                assert got == expected


# ----------------------------------------------------------------------------- hostile exports


def test_hostile_exports_give_file_line_errors(tmp_path):
    good = canvas_csv([("1", "A", GOOD), ("2", "B", GOOD)])
    lines = good.split("\r\n")  # the header takes two physical lines (a question text with a line break)

    result, _ = run_import(tmp_path, good.encode("utf-8").replace(b"0.999", b"0.\xff99", 1))
    assert result.exit_code == 2 and "export.csv:3: not UTF-8" in result.output

    huge = canvas_csv([("1", "A", ["x" * (MAX_FIELD + 1), "1", "1"])])
    result, _ = run_import(tmp_path, huge)
    assert result.exit_code == 2 and "export.csv:3:" in result.output and "characters" in result.output

    formula = canvas_csv([("=cmd|' /C calc'!A0", "A", GOOD), ("2", "B", GOOD)])
    result, out = run_import(tmp_path, formula)
    assert result.exit_code == 2 and "export.csv:3: student id" in result.output
    assert [p.name for p in out.iterdir()] == ["2.yaml"]  # the rest is imported

    missing_id = good.replace("sis_id", "sisid").replace("name,id,", "name,ident,", 1)
    result, _ = run_import(tmp_path, missing_id, MAPPING, "--from", "canvas")
    assert result.exit_code == 2 and "export.csv:1: no student id column" in result.output

    short_row = "\r\n".join([lines[0], lines[1], "Bob,12,3", lines[2]]) + "\r\n"
    result, _ = run_import(tmp_path, short_row)
    assert result.exit_code == 2 and "export.csv:4: 3 cells" in result.output

    result, _ = run_import(tmp_path, good, MAPPING.replace("'103'", "'999'"))
    assert result.exit_code == 2 and "map.yaml:5: questions.999: no such question column" in result.output

    result, _ = run_import(tmp_path, good, MAPPING.replace("q3.a", "q3.zz"))
    assert result.exit_code == 2 and "map.yaml:5:" in result.output and "not a part of exam" in result.output

    result, _ = run_import(tmp_path, good.replace("Sec A", "Sec\x00A", 1))
    assert result.exit_code == 2 and "export.csv:3: a NUL" in result.output

    result, _ = run_import(tmp_path, "name,id\n\"unterminated,1\n")
    assert result.exit_code == 2 and "export.csv:" in result.output

    duplicate = canvas_csv([("5", "A", GOOD), ("5", "A", GOOD)], attempts=[1, 1])
    result, out = run_import(tmp_path, duplicate)
    assert result.exit_code == 2 and "export.csv:4: student '5' appears again (first at line 3)" in result.output


def test_unsafe_ids_become_safe_unique_file_names(tmp_path):
    students = [("../../etc/passwd", "A", GOOD), ("..%2F..%2Fetc", "B", GOOD), ("a b", "C", GOOD), ("a_b", "D", GOOD)]
    result, out = run_import(tmp_path, canvas_csv(students))
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == 4 and all("/" not in f and not f.startswith(".") for f in files)
    assert {load_sheet(out / f).student for f in files} == {s[0] for s in students}


def test_a_localised_moodle_export_maps_by_column_title(tmp_path):
    export = moodle_csv([("9", "Roy", GOOD)]).replace("Response 1", "Réponse 1").replace("Response 2", "Réponse 2")
    export = export.replace("Response 3", "Réponse 3")
    mapping = "exam: seed000-quiz\nquestions:\n  'Réponse 1': q1.i\n  'Réponse 2': q2.i\n"
    result, out = run_import(tmp_path, export, mapping, "--from", "moodle")
    assert result.exit_code == 0, result.output
    assert load_sheet(out / "9.yaml").problem_values["q2"].value == {"i": "0.999"}


def _moodle_rows(rows) -> str:
    """Moodle 4 Responses layout ("Last name", ID number, Username, Email), then its "Overall average" footer."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(["Last name", "First name", "ID number", "Username", "Email address", "State", "Started on",
                     "Completed", "Time taken", "Grade/10.00", "Response 1", "Response 2", "Response 3"])
    for ident, user, email, grade, answers in rows:
        writer.writerow(["L", "F", ident, user, email, "Finished", "", "", "", grade, *answers])
    writer.writerow(["Overall average", "", "", "", "", "", "", "", "", "5.00", "", "", ""])
    return out.getvalue()


def test_moodle_ids_fall_back_per_row_footer_skipped_and_best_attempt_kept(tmp_path):
    rows = [("0123", "jsmith", "j@x.org", "2.00", GOOD),
            ("", "jdoe", "d@x.org", "9,00", ["a", "0.5", "1"]),      # no ID number: Username
            ("", "jdoe", "d@x.org", "3.00", ["b", "0.6", "2"]),      # a lower-graded attempt: not kept
            ("", "", "m@x.org", "-", ["c", "0.7", "3"]),             # only the e-mail address
            ("", "", "m@x.org", "-", ["d", "0.8", "4"])]             # ungraded tie: the later row
    result, out = run_import(tmp_path, _moodle_rows(rows), MOODLE_MAPPING)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["0123.yaml", "jdoe.yaml", "m_x.org.yaml"]
    assert load_sheet(out / "jdoe.yaml").problem_values["q1"].value == {"i": "a"}
    assert load_sheet(out / "m_x.org.yaml").problem_values["q1"].value == {"i": "d"}
    assert "Overall average" not in result.output


def test_canvas_sis_id_falls_back_to_id_per_row(tmp_path):
    students = [("", "Ann", GOOD), ("0042", "Bo", GOOD)]
    result, out = run_import(tmp_path, canvas_csv(students))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["0042.yaml", "1000.yaml"]  # Ann: her Canvas id


def test_a_bad_target_or_missing_column_does_not_stop_the_other_questions_and_rows(tmp_path):
    students = [("0123", "Ann", GOOD), ("0042", "Bo", GOOD)]
    mapping = "exam: seed000-quiz\nquestions:\n  '101': q1.i\n  '102': q9.z\n  '103': q3.a\n  '999': q2.i\n"
    result, out = run_import(tmp_path, canvas_csv(students), mapping)
    assert result.exit_code == 2
    assert "q9.z" in result.stderr and "999" in result.stderr
    for name in ("0123.yaml", "0042.yaml"):
        values = load_sheet(out / name).problem_values
        assert set(values) == {"q1", "q3"} and values["q3"].value == {"a": "7600"}
