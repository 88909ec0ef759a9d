"""A run killed (SIGKILL) while writing its output NAME leaves a `.NAME.examcheck-<token>.tmp` beside it; the
next write of NAME removes it, and never a file that is not provably ours (another name, another output's
temporary, an older naming) or that a live writer holds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from examcheck.cli import main
from examcheck.outputs import (
    MAX_NAME_BYTES,
    _create_temporary,
    _remove,
    _unlock,
    atomic_write,
    is_temporary_of,
    remove_stale_temporaries,
    temporary_stem,
    write_output,
)

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
    return sorted(folder.glob(".*examcheck-*.tmp"))


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
        assert remove_stale_temporaries(tmp_path / "out.txt") == []
        write_output(tmp_path / "out.txt", "x")
        assert live.exists()
    finally:
        proc.kill()
        proc.wait()
    assert remove_stale_temporaries(tmp_path / "out.txt") == [live.name]  # its writer is gone now


def test_only_our_own_stale_files_of_the_same_output_are_removed(tmp_path):
    ours = tmp_path / ".out.txt.examcheck-0123456789abcdef.tmp"
    young = tmp_path / ".out.txt.examcheck-fedcba9876543210.tmp"
    others = [tmp_path / ".examcheck-abc123.tmp",                      # somebody's file (blind test 17, F14)
              tmp_path / ".examcheck-0123456789ab.tmp",                # the old, target-less naming: not provably ours
              tmp_path / ".other.txt.examcheck-0123456789abcdef.tmp",  # another output's temporary
              tmp_path / ".out.txt.examcheck-0123456789ABCDEF.tmp",    # not our token's spelling
              tmp_path / ".out.txt.examcheck-0123456789abcde.tmp",     # one digit short
              tmp_path / ".out.txt.examcheck-0123456789abcdef0.tmp",   # one digit long
              tmp_path / ".out.txt.examcheck-notes.tmp", tmp_path / "out.txt.examcheck-0123456789abcdef.tmp",
              tmp_path / ".out.txt.examcheck-0123456789abcdef.tmp.bak"]
    for path in [ours, young, *others]:
        path.write_text("data")
    folder = tmp_path / ".out.txt.examcheck-abcdefabcdefabcd.tmp"  # a folder with our name: not a file
    folder.mkdir()
    link = tmp_path / ".out.txt.examcheck-feedfeedfeedfeed.tmp"  # a symlink with our name: not followed, not removed
    link.symlink_to(others[0])
    for path in [ours, *others, folder, link]:
        _age(path)
    assert remove_stale_temporaries(tmp_path / "out.txt") == [ours.name]
    assert young.exists() and folder.is_dir() and link.is_symlink() and all(p.exists() for p in others)
    assert remove_stale_temporaries(tmp_path / "other.txt") == [others[2].name]  # that output's own


NAMES = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\0"), min_size=1, max_size=300)


@settings(max_examples=200, deadline=None)
@given(NAMES, NAMES, st.binary(min_size=8, max_size=8))
def test_a_temporary_name_belongs_to_its_own_output_only(target, other, token):
    """Generated output names (short, long past a file name's limit, any characters): the name a temporary of
    target gets is recognised for target and for no other output; no name of another shape is."""
    made = temporary_stem(target) + token.hex() + ".tmp"
    assert len(os.fsencode(made)) <= MAX_NAME_BYTES
    assert is_temporary_of(made, target)
    if other != target:
        assert not is_temporary_of(made, other)
        assert not is_temporary_of(other, target) or other.startswith(temporary_stem(target))
    assert not is_temporary_of(made[:-5] + ".tmp", target) and not is_temporary_of(made[:-4] + "0.tmp", target)
    assert not is_temporary_of(made.replace(".tmp", ".txt"), target)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["out.csv", ".hidden", "x" * 223, "y" * 224, "z" * 255, "é" * 127, "a.examcheck-0123456789abcdef.tmp"]))
def test_the_temporary_made_for_an_output_is_the_one_later_writes_remove(tmp_path_factory, name):
    folder = tmp_path_factory.mktemp("t")
    target = folder / name
    created: list[str] = []
    handle, lock = _create_temporary(target, created)  # as a killed write leaves it
    os.close(handle)
    _unlock(lock)
    [temporary] = created
    assert Path(temporary).parent == folder and is_temporary_of(Path(temporary).name, name)
    _age(Path(temporary))
    bystander = folder / ".examcheck-0123456789abcdef.tmp"  # no target: not ours
    bystander.write_text("not ours")
    _age(bystander)
    write_output(target, "new\n")
    assert not Path(temporary).exists() and bystander.exists() and target.read_text() == "new\n"
    _remove([str(bystander)])


def test_atomic_write_cleans_up_too_and_leaves_nothing(tmp_path):
    stale = tmp_path / ".cache.json.examcheck-a1b2c3d4e5f6a7b8.tmp"
    stale.write_text("half")
    _age(stale)
    atomic_write(tmp_path / "cache.json", "{}")
    assert _temporaries(tmp_path) == [] and (tmp_path / "cache.json").read_text() == "{}"


def test_grade_removes_its_own_stale_temporary_and_nothing_else(tmp_path):
    stale = tmp_path / ".out.jsonl.examcheck-00ff00ff00ff00ff.tmp"
    stale.write_text('{"student": "half a report')
    foreign = [tmp_path / ".examcheck-abc123.tmp", tmp_path / ".examcheck-00ff00ff00ff.tmp",
               tmp_path / ".o.csv.examcheck-00ff00ff00ff00ff.tmp"]
    for path in [stale, *foreign]:
        path.write_text("x")
        _age(path, 3600)
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["grade", str(ROOT / "examples" / "answers" / "flawed.yaml"), "--problems",
                                       str(ROOT / "problems"), "--format", "jsonl", "-o", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert out.read_text().count("\n") == 1 and not stale.exists()
    assert all(path.read_text() == "x" for path in foreign)
