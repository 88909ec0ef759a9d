"""The --resume state as a class-scale run meets it (blind test 11): inputs changed between the
interrupted run and the resume, two runs on one output at once, an interruption at any moment
(real SIGKILL / SIGINT of a subprocess), and progress that is durable before any file finishes."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from examcheck.engine import Engine
from examcheck.loader import load_sets
from examcheck.stream import ReportStore, ResumeBusy, state_path
from tests.signals import interruptible

ROOT = Path(__file__).resolve().parent.parent
QUIZ = ROOT / "problems" / "seed000-quiz.yaml"
FLAWED = (ROOT / "examples" / "answers" / "flawed.yaml").read_text()


def sheet(student: str, q3a: str = "7500", q1i: str = "-\\\\frac{e^{-z}}{(1+e^{-z})^2} x_i") -> str:
    text = FLAWED.replace("flawed-fred", student).replace("a: 7500", f"a: {q3a}")
    return text.replace('i: "-\\\\frac{e^{-z}}{(1+e^{-z})^2} x_i"', f'i: "{q1i}"')


def make_class(folder: Path, students: int, distinct: bool = False) -> list[Path]:
    """students files; distinct: each with answers of its own (nothing to dedup, so checks take a while)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(students):
        path = folder / f"s{i:04d}.yaml"
        q1i = f"x_i*sigma(z)*(1-sigma(z)) + {i}*sin(z)^2" if distinct else "-\\\\frac{e^{-z}}{(1+e^{-z})^2} x_i"
        path.write_text(sheet(f"student-{i:04d}", str(7000 + (i if distinct else i % 3)), q1i))
        paths.append(path)
    return paths


def cli(*args, env=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "examcheck", "grade", *map(str, args), "--problems", str(QUIZ)],
                            cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, preexec_fn=interruptible)


def counts(state: Path) -> tuple[int, int]:
    """(files finished, verdicts found) in a resume state; (-1, -1) while it cannot be read."""
    try:
        db = sqlite3.connect(f"file:{state}?mode=ro", uri=True)
        try:
            return (db.execute("SELECT count(*) FROM outcomes WHERE file != ''").fetchone()[0],
                    db.execute("SELECT count(*) FROM verdicts").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error:
        return -1, -1


def wait_for(condition, run: subprocess.Popen, seconds: float = 120) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and run.poll() is None:
        if condition():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture(scope="module")
def quiz():
    return load_sets([QUIZ])


def interrupted_state(paths: list[Path], out: Path, quiz) -> None:
    """The state an interrupted `--resume -o out` run leaves when it finished these files (not written)."""
    with Engine(quiz, jobs=1) as engine:
        store = ReportStore.for_output(out, engine.run_fingerprint())
        engine.grade_paths(paths, store=store)
        store.close(finished=False)


def test_a_resume_after_inputs_changed_equals_a_fresh_run_on_the_current_inputs(tmp_path, quiz):
    folder = tmp_path / "class"
    paths = make_class(folder, 8)
    out = tmp_path / "grades.jsonl"
    interrupted_state(paths, out, quiz)
    paths[0].write_text(sheet("student-0000", "7600"))               # edited (new answers)
    paths[1].rename(folder / "renamed.yaml")                          # renamed
    paths[2].unlink()                                                 # deleted
    (folder / "late.yaml").write_text(sheet("student-late", "7601"))  # added
    fresh = cli(folder, "--format", "jsonl", "-o", tmp_path / "fresh.jsonl")
    resumed = cli(folder, "--format", "jsonl", "-o", out, "--resume")
    assert fresh.wait(300) == 0 and resumed.wait(300) == 0
    stderr = resumed.stderr.read()
    assert "resumed: 5 file(s)" in stderr and "3 report(s) of the interrupted run were dropped" in stderr
    assert out.read_bytes() == (tmp_path / "fresh.jsonl").read_bytes()
    text = out.read_text()
    assert text.count('"student-0000"') == 1 and text.count('"student-0001"') == 1 and '"student-0002"' not in text
    assert not state_path(out).exists()


def test_a_second_resume_run_on_the_same_output_is_refused_while_the_first_runs(tmp_path, quiz):
    paths = make_class(tmp_path / "class", 3)
    out = tmp_path / "grades.jsonl"
    with Engine(quiz, jobs=1) as engine:
        holder = ReportStore.for_output(out, engine.run_fingerprint())  # a live run's lock (flock)
        try:
            with pytest.raises(ResumeBusy):
                ReportStore.for_output(out, engine.run_fingerprint())
            second = cli(*paths, "--format", "jsonl", "-o", out, "--resume")
            assert second.wait(120) == 2
            stderr = second.stderr.read()
            assert "another examcheck run is using this resume state" in stderr and "Traceback" not in stderr
            assert not out.exists() and counts(state_path(out)) == (0, 0)  # the live run's state untouched
        finally:
            holder.close()
    again = cli(*paths, "--format", "jsonl", "-o", out, "--resume")  # the lock went with its holder
    assert again.wait(120) == 0 and len(out.read_text().splitlines()) == 3


def test_two_resume_runs_started_together_never_interleave(tmp_path):
    folder = tmp_path / "class"
    make_class(folder, 40)
    out = tmp_path / "same.jsonl"
    runs = [cli(folder, "--format", "jsonl", "--jobs", "1", "-o", out, "--resume", env={"EXAMCHECK_WINDOW": "4"})
            for _ in range(2)]
    codes = sorted(run.wait(300) for run in runs)
    errors = [run.stderr.read() for run in runs]
    assert codes in ([0, 0], [0, 2]), errors  # the second refused (or started after the first had finished)
    if codes == [0, 2]:
        assert any("another examcheck run is using this resume state" in e for e in errors)
    assert len(out.read_text().splitlines()) == 40 and "resumed" not in "".join(errors)


@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT"])
def test_checked_answers_are_durable_before_any_file_finishes(tmp_path, how):
    folder = tmp_path / "class"
    make_class(folder, 200, distinct=True)  # long enough that the run is still checking when it is stopped
    whole = tmp_path / "whole.jsonl"
    uninterrupted = cli(folder, "--format", "jsonl", "--jobs", "2", "-o", whole)
    out = tmp_path / "grades.jsonl"
    state = state_path(out)
    run = cli(folder, "--format", "jsonl", "--jobs", "2", "-o", out, "--resume", env={"EXAMCHECK_WINDOW": "1000"})
    assert wait_for(lambda: counts(state)[1] > 0, run), run.stderr.read()  # one window: no file finished yet
    os.kill(run.pid, signal.SIGSTOP)
    files, verdicts = counts(state)
    os.kill(run.pid, getattr(signal, how))
    os.kill(run.pid, signal.SIGCONT)
    code = run.wait(60)
    stderr = run.stderr.read()
    assert code == (-9 if how == "SIGKILL" else 130), stderr
    if how == "SIGINT":
        assert "interrupted; no output was written (run again with --resume to continue)" in stderr
        assert "Aborted" not in stderr
    assert files == 0 and verdicts > 0 and not out.exists()  # checked answers kept though no file finished
    assert counts(state)[1] >= verdicts  # what was committed stays
    resumed = cli(folder, "--format", "jsonl", "--jobs", "2", "-o", out, "--resume")
    assert resumed.wait(300) == 0 and uninterrupted.wait(300) == 0
    assert out.read_bytes() == whole.read_bytes() and not state.exists()


def test_ctrl_c_before_grading_starts_exits_130_with_the_documented_message(tmp_path):
    folder = tmp_path / "class"
    make_class(folder, 4)
    out = tmp_path / "grades.jsonl"
    state = state_path(out)
    run = cli(folder, "--format", "jsonl", "-o", out, "--resume")
    assert wait_for(lambda: state.exists(), run)  # the state is made before the references are computed
    run.send_signal(signal.SIGINT)
    code = run.wait(60)
    stderr = run.stderr.read()
    assert code == 130, stderr
    assert "interrupted; no output was written (run again with --resume to continue)" in stderr
    assert "Aborted" not in stderr and "Traceback" not in stderr and not out.exists()
