"""One identity per answer file (blind findings 12.1, 12.2, 12.9, 13.1, 13.2, 13.7, 13.13, 13.15, 13.16).

The student an answer file is credited to and the student its variants are drawn for are one and the
same, resolved before grading.  By category: generated rosters and every spelling an LMS download or a
student may give an identity (case, Canvas with LATE_ either side, Moodle folders, Brightspace names,
`student:` on the roster) against the oracle `assignment(exam, roster id)`; the testers' copy scenarios
end to end (a copied classmate's file scores as a wrong variant); the attempt and variant are the
instructor's; Gradescope grades by the metadata identity from a zip that carries the lock."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examcheck.answers import sheet_from_text
from examcheck.cli import main
from examcheck.grading import scan_sheet
from examcheck.identity import IdentityOptions
from examcheck.loader import load_set
from examcheck.roster import roster_from_text
from examcheck.variants import assignment, deploy_and_write, lock_path
from examcheck.yamlio import InputError

FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

EXAM = """\
exam: idv
title: Identity and variants
problems:
  - id: q1
    title: Doubling
    params:
      b: {type: integer, min: 10, max: 99}
    statement: "Double {b}."
    parts:
      - {id: a, marks: 1, answer: integer, reference: "{b} * 2"}
  - id: q2
    title: Tripling
    params:
      c: {type: integer, min: 10, max: 99}
    statement: "Triple {c}."
    parts:
      - {id: a, marks: 1, answer: integer, reference: "{c} * 3"}
"""

FIRST = ["Alice", "Bruno", "Chloé", "Dmitri", "Esther", "Farid", "Grace", "Hiro"]
LAST = ["Smith", "Okafor", "Müller", "Ivanova", "Nakamura", "Lopez", "Chen", "Dubois"]


@pytest.fixture(scope="module")
def exam(tmp_path_factory):
    folder = tmp_path_factory.mktemp("idv")
    path = folder / "idv.yaml"
    path.write_text(EXAM)
    assert deploy_and_write(path, None, 12).ok
    return path, load_set(path)


def _key(problem_set, student: str, attempt: int = 1) -> dict[str, int]:
    """The correct answers of this roster id's variants (the oracle: the assignment itself)."""
    chosen = assignment(problem_set, student, attempt)
    out = {}
    for problem in problem_set.problems:
        if problem.variant == chosen[problem.id]:
            factor = 2 if problem.id == "q1" else 3
            out[problem.id] = factor * problem.params["b" if problem.id == "q1" else "c"]
    return out


def _roster(rows: list[tuple[str, str, str, str, str]]):
    lines = ["Student,ID,SIS User ID,SIS Login ID,Email"]
    lines += [f'"{last}, {first}",{uid},{sis},{login},{login}@uni.example' for first, last, uid, sis, login in rows]
    return roster_from_text("\n".join(lines) + "\n", "roster.csv")


@st.composite
def class_and_spelling(draw):
    size = draw(st.integers(2, 6))
    people = draw(st.permutations(range(len(FIRST))))[:size]
    uids = draw(st.lists(st.integers(10000, 99999), min_size=size, max_size=size, unique=True))
    rows = []
    for n, (who, uid) in enumerate(zip(people, uids)):
        first, last = FIRST[who], LAST[who]
        sis = draw(st.sampled_from(["S", "s", "Id", "x"])) + f"{uid % 1000:03d}{n}"
        login = (first[0] + last).lower()
        rows.append((first, last, str(uid), sis, login))
    me = draw(st.integers(0, size - 1))
    first, last, uid, sis, login = rows[me]
    case = draw(st.sampled_from([str.lower, str.upper, str.title, lambda s: s]))
    late = draw(st.sampled_from(["", "LATE_", "late_"]))
    kind = draw(st.sampled_from(["canvas", "canvas-late-first", "moodle", "brightspace", "id-file", "sis-file",
                                 "login-file", "email-file", "declared"]))
    squashed = case(f"{last}{first}".replace("é", "e").replace("ü", "u").lower())
    field = None
    if kind == "canvas":
        source = f"dl/{squashed}_{late}{uid}_{draw(st.integers(1, 9999))}_answers.yaml"
    elif kind == "canvas-late-first":
        source = f"dl/{late or 'LATE_'}{squashed}_{uid}_{draw(st.integers(1, 9999))}_answers.yaml"
    elif kind == "moodle":
        source = f"dl/{case(first + ' ' + last)}_{draw(st.integers(1, 99999))}_assignsubmission_file_/answers.yaml"
    elif kind == "brightspace":
        source = f"dl/123-456 - {case(first + ' ' + last)} - Mar 3, 2026 1021 AM - answers.yaml"
    elif kind == "declared":
        source = "dl/answers-copy.yaml"
        field = case(draw(st.sampled_from([uid, sis, login, f"{login}@uni.example"])))
    else:
        text = {"id-file": uid, "sis-file": sis, "login-file": login, "email-file": f"{login}@uni.example"}[kind]
        source = f"dl/{case(text)}.yaml"
    # a student: line naming someone else never moves a file the LMS named (except "declared": its only identity)
    if field is None and draw(st.booleans()):
        field = rows[(me + 1) % size][2]
    return rows, uid, source, field


@FAST
@given(case=class_and_spelling())
def test_the_credited_id_is_the_id_the_variants_are_drawn_for(exam, case):
    _path, problem_set = exam
    rows, uid, source, field = case
    roster = _roster(rows)
    head = f"student: {json.dumps(field)}\n" if field is not None else ""
    sheet = sheet_from_text(f"{head}exam: idv\nanswers:\n  q1: 1\n", source)
    scan = scan_sheet(sheet, [problem_set], IdentityOptions(roster))
    assert scan.student == uid  # the canonical roster id, case as in the roster
    assert scan.variants == assignment(problem_set, uid)


@FAST
@given(name=st.text(alphabet="abcdefgXYZ019_", min_size=1, max_size=12), declared=st.booleans())
def test_without_a_roster_the_declared_id_or_file_name_is_both_credit_and_variant(exam, name, declared):
    _path, problem_set = exam
    text = (f"student: {json.dumps(name)}\n" if declared else "") + "exam: idv\nanswers:\n  q1: 1\n"
    scan = scan_sheet(sheet_from_text(text, "in/other-name.yaml" if declared else f"in/{name}.yaml"), [problem_set])
    assert scan.variants == assignment(problem_set, scan.student)
    assert scan.student == name


# ----------------------------------------------------------------------------- the testers' copy scenarios


def grade(*args: str):
    return CliRunner().invoke(main, ["grade", *args])


def reports(path: Path) -> list[dict]:
    found = json.loads(path.read_text())
    return found if isinstance(found, list) else [found]


def _answers(key: dict[str, int], student: str | None = None, extra: str = "") -> str:
    head = f"student: {student}\n" if student else ""
    return f"{head}exam: idv\n{extra}answers:\n" + "".join(f"  {pid}: {value}\n" for pid, value in key.items())


def _two_with_different_variants(problem_set):
    ids = ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "hugo"]
    for a in ids:
        for b in ids:
            if a != b and all(x != y for x, y in zip(_key(problem_set, a).values(), _key(problem_set, b).values())):
                return a, b
    raise AssertionError("no two students with different variants")


def _simple_roster(folder: Path, ids) -> Path:
    path = folder / "roster.csv"
    path.write_text("id,name\n" + "".join(f"{i},{i.title()} X\n" for i in ids))
    return path


def test_a_copied_file_uploaded_under_another_name_is_graded_on_the_uploader_variants(exam, tmp_path):
    path, problem_set = exam
    mine, friend = _two_with_different_variants(problem_set)
    roster = _simple_roster(tmp_path, [mine, friend])
    (tmp_path / "lms" / mine).mkdir(parents=True)
    (tmp_path / "lms" / mine / "submission.yaml").write_text(_answers(_key(problem_set, friend), friend))
    (tmp_path / "lms" / f"{mine.title()}.yaml").write_text(_answers(_key(problem_set, mine)))  # honest, capitalised
    out = grade(str(tmp_path / "lms"), "--problems", str(path), "--roster", str(roster), "--format", "json",
                "-o", str(tmp_path / "o.json"))
    assert out.exit_code == 0, out.output
    found = {r["source"].rsplit("/", 1)[-1]: r for r in reports(tmp_path / "o.json")}
    copied, honest = found["submission.yaml"], found[f"{mine.title()}.yaml"]
    assert copied["student"] == mine and copied["score"] == 0  # the friend's numbers are wrong for mine
    assert honest["student"] == mine and honest["score"] == honest["max_score"] == 2


def test_the_attempt_and_variant_in_an_answer_file_are_never_trusted(exam, tmp_path):
    path, problem_set = exam
    other = _key(problem_set, "alice", 7)
    file = tmp_path / "alice.yaml"
    file.write_text(_answers(other, "alice", "attempt: 7\n"))
    out = grade(str(file), "--problems", str(path))
    assert out.exit_code == 2 and "alice.yaml:3: attempt: this file says attempt 7" in out.output
    out = grade(str(file), "--problems", str(path), "--attempt", "7", "--format", "json", "-o", str(tmp_path / "o.json"))
    assert out.exit_code == 0 and reports(tmp_path / "o.json")[0]["score"] == 2  # the instructor's choice
    out = grade(str(file), "--problems", str(path), "--attempt", "3")
    assert out.exit_code == 2 and "attempt 7, but it is graded as attempt 3" in out.output


def test_a_student_claim_never_replaces_the_lms_named_file(exam, tmp_path):
    path, problem_set = exam
    jane_key = _key(problem_set, "12345")
    roster = tmp_path / "roster.csv"
    roster.write_text('Student,ID,SIS User ID,SIS Login ID\n"Smith, Jane",12345,0123,jsmith\n"Doe, John",12346,0456,jdoe\n')
    folder = tmp_path / "dl"
    folder.mkdir()
    (folder / "smithjane_12345_678_answers.yaml").write_text(_answers(jane_key))
    (folder / "zzz.yaml").write_text(_answers({"q1": 0, "q2": 0}, '"0123"'))
    (folder / "LATE_doejohn_12346_679_answers.yaml").write_text(_answers(_key(problem_set, "12346"), '"0123"'))
    args = [str(folder), "--problems", str(path), "--roster", str(roster)]
    out = grade(*args, "--format", "csv")
    import csv as csv_module
    import io

    table = list(csv_module.DictReader(io.StringIO(out.output[out.output.index("student,"):])))
    rows = {row["student"]: row for row in table}
    exam_id = problem_set.exam
    for sid in ("12345", "12346"):  # both on their own variants, in full
        assert rows[sid][f"{exam_id}/total"] == rows[sid][f"{exam_id}/max"] == "2", rows[sid]
    assert "zzz.yaml: unknown student" in out.output
    assert grade(*args, "--strict", "--format", "csv").exit_code == 1
    canvas = grade(*args, "--format", "canvas")
    assert "zzz" not in canvas.output.split("warning")[0]


def test_students_not_on_the_roster_never_reach_lms_imports(exam, tmp_path):
    path, problem_set = exam
    roster = _simple_roster(tmp_path, ["alice"])
    (tmp_path / "x.yaml").write_text(_answers({"q1": 1}, "other.section.student"))
    (tmp_path / "alice.yaml").write_text(_answers(_key(problem_set, "alice")))
    for fmt in ("canvas", "moodle", "brightspace"):
        out = CliRunner().invoke(main, ["grade", str(tmp_path / "x.yaml"), str(tmp_path / "alice.yaml"), "--problems",
                                        str(path), "--roster", str(roster), "--format", fmt, "-o", str(tmp_path / f"o.{fmt}")])
        assert out.exit_code == 0, out.output
        written = (tmp_path / f"o.{fmt}").read_text()
        assert "other.section.student" not in written and "alice" in written.lower()
        assert "unknown student" in out.output


def test_gradescope_zip_carries_the_lock_and_grades_by_metadata_identity(exam, tmp_path):
    from examcheck.gradescope import run_submission

    path, problem_set = exam
    mine, friend = _two_with_different_variants(problem_set)
    archive = tmp_path / "ag.zip"
    out = CliRunner().invoke(main, ["gradescope", "build", "idv", "--problems", str(path), "-o", str(archive)])
    assert out.exit_code == 0, out.output
    with zipfile.ZipFile(archive) as z:
        assert "problems/idv.variants.yaml" in z.namelist()
        assert z.read("problems/idv.variants.yaml") == lock_path(path).read_bytes()
        root = tmp_path / "autograder"
        z.extractall(root / "source")
    (root / "submission").mkdir()
    meta = {"users": [{"sid": mine, "email": f"{mine}@x.example", "id": 1, "name": mine.title()}]}
    (root / "submission_metadata.json").write_text(json.dumps(meta))
    (root / "submission" / "answers.yaml").write_text(_answers(_key(problem_set, friend), friend))
    copied = run_submission(root)
    assert copied["score"] == 0 and copied["extra_data"]["student"] == mine
    (root / "submission" / "answers.yaml").write_text(_answers(_key(problem_set, mine), friend))
    honest = run_submission(root)
    assert honest["score"] == 2


def test_a_file_naming_another_attempt_is_an_input_error_at_its_line(exam):
    _path, problem_set = exam
    sheet = sheet_from_text("student: ann\nexam: idv\nattempt: 2\nanswers:\n  q1: 1\n", "ann.yaml")
    with pytest.raises(InputError) as info:
        scan_sheet(sheet, [problem_set], IdentityOptions(attempt=1))
    assert info.value.line == 3
    assert scan_sheet(sheet, [problem_set], IdentityOptions(attempt=2)).variants == assignment(problem_set, "ann", 2)
