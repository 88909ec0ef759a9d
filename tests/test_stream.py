"""Streamed, deduplicated, resumable batches: reports ordered by student, identical answers
checked once across the batch, and an interrupted run (SIGKILL, Ctrl-C) resumed without
regrading what it finished, to the same output as an uninterrupted run."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from examcheck.engine import Engine, grade_paths
from examcheck.render.reports import report_dict
from examcheck.stream import ReportStore, state_path
from tests.signals import interruptible

ROOT = Path(__file__).resolve().parent.parent
FLAWED = ROOT / "examples" / "answers" / "flawed.yaml"
PROBLEMS = ROOT / "problems"


def make_class(folder: Path, students: int) -> list[Path]:
    """Copies of flawed.yaml under other names (in reverse order of file name), one answer made unique,
    and two poisoned files."""
    folder.mkdir(parents=True, exist_ok=True)
    text = FLAWED.read_text()
    paths = []
    for i in range(students):
        path = folder / f"file{i:04d}.yaml"
        path.write_text(text.replace("flawed-fred", f"student-{students - i:04d}").replace("7500", str(7000 + i % 7)))
        paths.append(path)
    (folder / "poison-yaml.yaml").write_text("answers: [unclosed\n")
    (folder / "poison-deep.yaml").write_text("answers: " + "[" * 200 + "]" * 200 + "\n")
    return paths


@pytest.fixture(scope="module")
def quiz(sets):
    return [s for s in sets if s.exam == "seed000-quiz"]


def test_reports_are_ordered_by_student_whatever_the_file_order(tmp_path, quiz):
    paths = make_class(tmp_path / "class", 5)
    store = ReportStore()
    with Engine(quiz, jobs=1) as engine:
        result = engine.grade_paths(paths, store=store)
        students = [r.student for r in result.reports]
        assert students == sorted(students) and len(students) == 5
        assert [r.source for r in result.reports] == [str(p) for p in reversed(paths)]  # not the order given
    store.close()


def test_identical_answers_across_the_batch_are_checked_once(tmp_path, quiz):
    paths = make_class(tmp_path / "class", 21)
    one = grade_paths(paths[:1], quiz)
    many = grade_paths(paths, quiz, jobs=2)
    assert many.answers == 21 * one.answers
    assert many.checks == one.checks + 6  # the one answer that differs, in 7 ways
    by_student = {r.student: report_dict(r) for r in many.reports}
    assert by_student["student-0021"]["problems"] == report_dict(one.reports[0])["problems"]


def _run(args, env=None, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "examcheck", "grade", *map(str, args)], cwd=ROOT,
                            env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, preexec_fn=interruptible, **kwargs)


def _finished_files(state: Path) -> int:
    try:
        with sqlite3.connect(state) as db:
            return db.execute("SELECT count(*) FROM outcomes WHERE file != ''").fetchone()[0]
    except sqlite3.Error:
        return 0


def _worker_pids(parent: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(parent)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT"])
def test_an_interrupted_run_resumes_to_the_same_output(tmp_path, how):
    folder = tmp_path / "class"
    make_class(folder, 160)
    args = [folder, "--problems", PROBLEMS, "--format", "jsonl", "--jobs", "2"]
    whole = tmp_path / "whole.jsonl"
    uninterrupted = _run([*args, "-o", whole])
    assert uninterrupted.wait(300) == 2  # the poisoned files
    out = tmp_path / "grades.jsonl"
    state = state_path(out)
    run = _run([*args, "-o", out, "--resume"], env={"EXAMCHECK_WINDOW": "8"})
    deadline = time.monotonic() + 120
    while _finished_files(state) < 24 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(run.pid, signal.SIGSTOP)  # hold it part-way while we look
    workers = _worker_pids(run.pid)
    os.kill(run.pid, getattr(signal, how))
    os.kill(run.pid, signal.SIGCONT)
    code = run.wait(60)
    assert code == (-9 if how == "SIGKILL" else 130), run.stderr.read()
    done = _finished_files(state)
    assert 0 < done < 162 and not out.exists()  # part-way; outputs are complete or absent
    time.sleep(1.0)
    assert not any(_alive(p) for p in workers)  # workers die with their parent
    resumed = _run([*args, "-o", out, "--resume"])
    assert resumed.wait(300) == 2
    stderr = resumed.stderr.read()
    assert f"resumed: {done} file(s)" in stderr and stderr.count("poison") == 2
    assert out.read_bytes() == whole.read_bytes()
    assert not state.exists()
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["student"] for r in lines] == sorted(r["student"] for r in lines) and len(lines) == 160


def test_a_resume_state_of_another_run_is_not_reused(tmp_path, quiz):
    paths = make_class(tmp_path / "class", 3)
    state = tmp_path / "state.sqlite"
    with Engine(quiz, jobs=1) as engine:
        first = ReportStore(state, engine.run_fingerprint())
        engine.grade_paths(paths, store=first)
        first.close()
    import dataclasses

    from examcheck.limits import Limits

    with Engine(quiz, jobs=1, limits=dataclasses.replace(Limits(), seconds=1.5)) as engine:
        other = ReportStore(state, engine.run_fingerprint())
        assert other.changed and not other.finished(str(paths[0]), "x")
        result = engine.grade_paths(paths, store=other)
        assert other.resumed == 0 and len(result.reports) == 3
        other.close()


def test_who_is_credited_and_which_variant_is_part_of_the_run(quiz):
    """A resume state made with another roster, attempt or trusted identities is another run's."""
    import dataclasses

    from examcheck.identity import IdentityOptions
    from examcheck.roster import Roster, Student

    alice = Roster([Student("alice", "Alice A")])
    options = [None, IdentityOptions(), IdentityOptions(attempt=2), IdentityOptions(roster=alice),
               IdentityOptions(roster=Roster([Student("alice", "Alice A", sis_id="9")])),
               IdentityOptions(overrides={"a.yaml": "alice"})]
    prints = []
    for identity in options:
        with Engine(quiz, jobs=1, identity=identity) as engine:
            prints.append(engine.run_fingerprint())
    assert prints[0] == prints[1]  # no options and the default options are the same run
    assert len(set(prints[1:])) == len(prints) - 1
    with Engine(quiz, jobs=1, identity=dataclasses.replace(options[2])) as engine:
        assert engine.run_fingerprint() == prints[2]  # and it is stable
