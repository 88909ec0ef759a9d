"""Blind test 17, F3: several answer files claiming one student for one exam.  A one-row-per-student gradebook
(csv, canvas, moodle, brightspace) never credits an arbitrary claimant: the file whose own name (or folder's)
is the student id wins over files that only claim it; when none or several are so named, no claimant is credited
and the files are listed on stderr.  Other formats keep every report; --strict still fails on duplicates."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from examcheck.classrun import identified
from examcheck.cli import main
from examcheck.roster import id_key, roster_from_text

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = str(ROOT / "problems")
FLAWED = (ROOT / "examples" / "answers" / "flawed.yaml").read_text()
PERFECT = (ROOT / "examples" / "answers" / "perfect.yaml").read_text()

VICTIM = "a0100005"
OTHER_NAMES = st.sampled_from(["000", "zzz", "a0100004", "a01000050", "A0100005", "m", "steal", "_"])


@dataclass(frozen=True)
class _Report:  # what the join reads of a report
    source: str
    student: str
    exam: str = "quiz"
    warnings: tuple = ()


def _report(source: str, student: str) -> _Report:
    return _Report(source, student)


@settings(max_examples=150, deadline=None)
@given(own=st.lists(st.sampled_from([f"{VICTIM}.yaml", f"{VICTIM}.yml", f"{VICTIM}/answers.yaml"]), unique=True,
                    max_size=2),
       claimants=st.lists(OTHER_NAMES, unique=True, max_size=4), folder=st.sampled_from(["subs", "x/y"]),
       order=st.randoms(use_true_random=False))
def test_a_one_row_gradebook_credits_only_the_file_named_for_the_student(own, claimants, folder, order):
    sources = [f"{folder}/{name}" for name in own] + [f"{folder}/{name}.yaml" for name in claimants]
    named = [f"{folder}/{name}" for name in own] + [f"{folder}/{name}.yaml" for name in claimants if id_key(name) == VICTIM]
    bystander = _report(f"{folder}/b.yaml", "bob")
    reports = [_report(source, VICTIM) for source in sources] + [bystander]
    order.shuffle(reports)
    for one_row in (True, False):
        kept, identities = identified(reports, None, one_row=one_row)
        credited = [r.source for r in kept]
        assert bystander.source in credited
        mine = [s for s in credited if s != bystander.source]
        if not one_row or len(sources) <= 1:
            assert sorted(mine) == sorted(sources)  # every report kept (jsonl, table, ...), or nothing contested
        elif len(named) == 1:
            assert mine == named  # the file named for the student (in any spelling of the id), wherever it sorts
        else:
            assert mine == []  # none or several named: no claimant stands in the row
            assert any(VICTIM in m and "no grade" in m for m in identities.messages())
        assert len(kept) == len(credited)
        if len(sources) > 1:
            assert identities.problems  # --strict still fails


@settings(max_examples=60, deadline=None)
@given(claimants=st.lists(OTHER_NAMES, unique=True, min_size=2, max_size=4), order=st.randoms(use_true_random=False))
def test_with_a_roster_files_that_only_claim_a_student_are_not_credited_either(claimants, order):
    roster = roster_from_text(f"id,name\n{VICTIM},Victim V\nb0,Bee\n")
    claimants = [c for c in claimants if c.lower() != VICTIM.lower()] + ["q", "r"]
    reports = [_report(f"subs/{name}.yaml", VICTIM) for name in claimants] + [_report("subs/b0.yaml", "b0")]
    order.shuffle(reports)
    kept, _ = identified(reports, roster, known_only=True, one_row=True)
    assert [r.student for r in kept] == ["b0"]
    kept, _ = identified(reports, roster, known_only=True, one_row=False)
    assert sorted(r.student for r in kept) == sorted([VICTIM] * len(claimants) + ["b0"])


def _steal(tmp_path, own_name: str) -> Path:
    folder = tmp_path / own_name / "submissions"
    folder.mkdir(parents=True)
    (folder / f"{own_name}.yaml").write_text(FLAWED.replace("flawed-fred", VICTIM))  # 3.5 of 13
    (folder / "000.yaml").write_text(PERFECT.replace("perfect-pat", VICTIM))   # 11 of 13, sorts first
    (folder / "zzz.yaml").write_text(PERFECT.replace("perfect-pat", VICTIM))
    return folder


def _grade(folder, *args):
    return CliRunner().invoke(main, ["grade", str(folder), "--problems", PROBLEMS, "--jobs", "1", *args])


def test_the_testers_case_the_students_own_file_wins_in_every_one_row_format(tmp_path):
    folder = _steal(tmp_path, VICTIM)
    for fmt, column in (("csv", -2), ("canvas", -1), ("moodle", -1), ("brightspace", -2)):
        result = _grade(folder, "--format", fmt)
        assert result.exit_code == 0, result.output
        rows = [r for r in csv.reader(io.StringIO(result.stdout)) if any(VICTIM in cell for cell in r)]
        assert len(rows) == 1 and rows[0][column] == "3.5", (fmt, rows)
        assert "000.yaml" in result.stderr and "not credited" in result.stderr
    jsonl = _grade(folder, "--format", "jsonl")
    assert len(jsonl.stdout.splitlines()) == 3
    assert _grade(folder, "--format", "csv", "--strict").exit_code == 1


def test_no_file_named_for_the_student_leaves_their_row_blank_and_lists_the_files(tmp_path):
    folder = _steal(tmp_path, "mine")
    result = _grade(folder, "--format", "csv")
    assert result.exit_code == 0, result.output
    assert VICTIM not in result.stdout
    assert f"student '{VICTIM}': no grade" in result.stderr
    assert all(name in result.stderr for name in ("000.yaml", "mine.yaml", "zzz.yaml"))


def test_contested_files_still_get_their_own_split_feedback(tmp_path):
    folder = _steal(tmp_path, "mine")
    split = tmp_path / "split"
    result = _grade(folder, "--format", "csv", "--split", str(split))
    assert result.exit_code == 0, result.output
    assert VICTIM not in result.stdout
    assert len(list(split.glob("*.md"))) == 3


def test_an_exam_nobody_could_be_credited_for_keeps_its_column_in_every_one_row_format(tmp_path):
    """Blind test 17b, N6: every file of the exam is contested; the import keeps its shape (the exam's column,
    blank), with a roster or without, revealed or not."""
    folder = _steal(tmp_path, "mine")
    roster = tmp_path / "roster.csv"
    roster.write_text(f"Student,ID,SIS User ID,SIS Login ID,Section\nVictim,1,{VICTIM},{VICTIM},S1\nBee,2,b0,b0,S1\n")
    for extra in ((), ("--roster", str(roster)), ("--roster", str(roster), "--no-reveal")):
        for fmt in ("csv", "canvas", "moodle", "brightspace"):
            result = _grade(folder, "--format", fmt, *extra)
            assert result.exit_code == 0, result.output
            header = next(csv.reader(io.StringIO(result.stdout)))
            assert any("quiz" in cell.lower() for cell in header), (fmt, extra, header)
            assert "3.5" not in result.stdout and "11" not in result.stdout.split("\n", 2)[-1], (fmt, extra)
