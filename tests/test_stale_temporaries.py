"""A run killed (SIGKILL) while writing its output leaves a `.examcheck-*.tmp` beside it; the next
write into that folder removes it, and never a file that is not ours or that a live writer holds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from click.testing import CliRunner

from examcheck.cli import main
from examcheck.outputs import atomic_write, remove_stale_temporaries, write_output

ROOT = Path(__file__).resolve().parent.parent

WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from examcheck.outputs import write_output

    target, marker = sys.argv[1], Path(sys.argv[2])

    def chunks():
        yield "first half\\n"
        marker.write_text("writing")
        time.sleep(120)
        yield "never\\n"

    write_output(target, chunks())
""")


def _temporaries(folder: Path) -> list[Path]:
    return sorted(folder.glob(".examcheck-*.tmp"))


def _age(path: Path, seconds: float = 600) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past), follow_symlinks=False)


def _writer_in_the_middle(tmp_path: Path) -> subprocess.Popen:
    marker = tmp_path / "marker"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path / "out.txt"), str(marker)], cwd=ROOT)
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the writer did not start writing"
        time.sleep(0.05)
    return proc


def test_a_sigkilled_write_leaves_a_temporary_that_the_next_write_removes(tmp_path):
    proc = _writer_in_the_middle(tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = _temporaries(tmp_path)
    assert len(left) == 1 and not (tmp_path / "out.txt").exists()
    _age(left[0])
    write_output(tmp_path / "out.txt", "new\n")
    assert _temporaries(tmp_path) == []
    assert (tmp_path / "out.txt").read_text() == "new\n"


def test_a_live_writers_temporary_is_left_alone_however_old(tmp_path):
    proc = _writer_in_the_middle(tmp_path)
    try:
        [live] = _temporaries(tmp_path)
        _age(live)
        assert remove_stale_temporaries(tmp_path) == []
        write_output(tmp_path / "other.txt", "x")
        assert live.exists()
    finally:
        proc.kill()
        proc.wait()
    assert remove_stale_temporaries(tmp_path) == [live.name]  # its writer is gone now


def test_only_our_own_stale_files_are_removed(tmp_path):
    ours = tmp_path / ".examcheck-0123456789ab.tmp"
    young = tmp_path / ".examcheck-ba9876543210.tmp"
    others = [tmp_path / ".examcheck-notes.txt", tmp_path / "examcheck-0123456789ab.tmp",
              tmp_path / ".examcheck-has space.tmp", tmp_path / ".examcheck-x.tmp"]
    for path in [ours, young, *others]:
        path.write_text("data")
    folder = tmp_path / ".examcheck-abcdefabcdef.tmp"  # a folder with our name: not a file
    folder.mkdir()
    link = tmp_path / ".examcheck-feedfeedfeed.tmp"  # a symlink with our name: not followed, not removed
    link.symlink_to(others[0])
    for path in [ours, *others, folder, link]:
        _age(path)
    assert remove_stale_temporaries(tmp_path) == [ours.name]
    assert young.exists() and folder.is_dir() and link.is_symlink() and all(p.exists() for p in others)


def test_atomic_write_cleans_up_too_and_leaves_nothing(tmp_path):
    stale = tmp_path / ".examcheck-a1b2c3d4e5f6.tmp"
    stale.write_text("half")
    _age(stale)
    atomic_write(tmp_path / "cache.json", "{}")
    assert _temporaries(tmp_path) == [] and (tmp_path / "cache.json").read_text() == "{}"


def test_grade_removes_a_stale_temporary_beside_its_output(tmp_path):
    stale = tmp_path / ".examcheck-00ff00ff00ff.tmp"
    stale.write_text('{"student": "half a report')
    _age(stale)
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["grade", str(ROOT / "examples" / "answers" / "flawed.yaml"), "--problems",
                                       str(ROOT / "problems"), "--format", "jsonl", "-o", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert out.read_text().count("\n") == 1 and _temporaries(tmp_path) == []

