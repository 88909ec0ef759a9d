"""Hostile inputs on disk and on the command line: FIFOs, devices, dangling symlinks, symlink
loops, unreadable folders, repeated arguments; NaN and out-of-range numbers in problem files and
options; a batch of poisoned answer files run end to end in a separate process (a hang or a
crash of the interpreter would show there)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examcheck.cli import main
from examcheck.inputs import expand_inputs
from examcheck.loader import load_sets
from examcheck.schema import ValidationFailed

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = ROOT / "problems"
FLAWED = ROOT / "examples" / "answers" / "flawed.yaml"
PERFECT = ROOT / "examples" / "answers" / "perfect.yaml"
HANG_DETECTOR = 240  # seconds: generous; only a hang reaches it


def run_cli(*args, cwd=None, **extra_env):
    """examcheck in a fresh process: a segfault, a hang or a traceback shows here as it would for users."""
    env = {**os.environ, "PYTHONFAULTHANDLER": "1", **extra_env}
    return subprocess.run([sys.executable, "-m", "examcheck", *map(str, args)], capture_output=True, text=True,
                          timeout=HANG_DETECTOR, cwd=cwd, env=env)


def errors_of(result) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    return result.stderr


# ----------------------------------------------------------------------------- files that are not files


@pytest.fixture
def odd_folder(tmp_path):
    folder = tmp_path / "class"
    (folder / "sub").mkdir(parents=True)
    (folder / "good.yaml").write_text(FLAWED.read_text())
    (folder / "sub" / "also.yml").write_text(PERFECT.read_text())
    os.mkfifo(folder / "pipe.yaml")
    (folder / "dangling.yaml").symlink_to(folder / "gone.yaml")
    (folder / "sub" / "loop").symlink_to(folder)           # a symlink loop
    (folder / "link.yaml").symlink_to(folder / "good.yaml")  # the same file twice
    (folder / "notes.txt").write_text("not an answer file")
    if os.path.exists("/dev/zero"):
        (folder / "zero.yaml").symlink_to("/dev/zero")
    return folder


def test_folder_mode_reports_every_non_regular_file(odd_folder):
    paths, errors = expand_inputs([str(odd_folder)])
    assert sorted(p.name for p in paths) == ["also.yml", "good.yaml"]
    messages = {Path(e.source).name: e.message for e in errors}
    assert "FIFO" in messages["pipe.yaml"]
    assert "dangling symlink" in messages["dangling.yaml"]
    if os.path.exists("/dev/zero"):
        assert "character device" in messages["zero.yaml"]


def test_unreadable_subfolder_is_reported(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads every folder")
    locked = tmp_path / "class" / "locked"
    locked.mkdir(parents=True)
    (tmp_path / "class" / "ok.yaml").write_text(FLAWED.read_text())
    locked.chmod(0)
    try:
        paths, errors = expand_inputs([str(tmp_path / "class")])
    finally:
        locked.chmod(0o755)
    assert [p.name for p in paths] == ["ok.yaml"]
    assert any("locked" in e.source and "cannot read folder" in e.message for e in errors)


def test_fifo_named_on_the_command_line_and_in_problems_never_blocks(tmp_path):
    fifo = tmp_path / "answers.yaml"
    os.mkfifo(fifo)
    problems = tmp_path / "problems"
    problems.mkdir()
    (problems / "set.yaml").write_text((PROBLEMS / "seed000-quiz.yaml").read_text())
    os.mkfifo(problems / "stuck.yaml")
    result = run_cli("grade", "--jobs", "1", "--problems", PROBLEMS, fifo, FLAWED, "--format", "json")
    assert result.returncode == 2 and "FIFO" in errors_of(result)
    assert json.loads(result.stdout)["student"] == "flawed-fred"
    result = run_cli("check", problems)
    assert result.returncode == 2 and "stuck.yaml" in errors_of(result) and "FIFO" in result.stderr


def test_repeated_arguments_are_graded_once(tmp_path):
    copies = [str(FLAWED), str(FLAWED.resolve()), str(FLAWED.parent / ".." / "answers" / FLAWED.name)]
    link = tmp_path / "link.yaml"
    link.symlink_to(FLAWED)
    paths, errors = expand_inputs(copies * 5000 + [str(link), str(FLAWED.parent)])
    assert not errors
    assert [p.name for p in paths] == ["flawed.yaml"] + sorted(p.name for p in FLAWED.parent.glob("*.y*ml")
                                                                if p.name != "flawed.yaml")


def test_missing_and_empty_arguments(tmp_path):
    paths, errors = expand_inputs(["", str(tmp_path / "nope.yaml"), str(tmp_path / "*.yaml"), str(tmp_path)])
    assert paths == [] and len(errors) == 4


# ----------------------------------------------------------------------------- numbers in problem files and options

PROBLEM = """exam: nums
title: Numbers
problems:
  - id: q1
    title: t
    parts:
      - id: a
        marks: 1
        answer: number
        reference: "1/2"
"""


@pytest.mark.parametrize("field, value, words", [
    ("marks", ".nan", "finite"), ("marks", ".inf", "finite"), ("marks", "-.inf", "finite"), ("marks", "1e400", "finite"),
    ("marks", "-1", "from 0"), ("marks", "1e300", "from 0"), ("marks", "9" * 500, "from 0"), ("marks", "9" * 5000, "number"),
    ("options", "{time_limit: .nan}", "finite"), ("options", "{time_limit: 1e9}", "60"),
    ("options", "{time_limit: -1}", "from 0"), ("options", "{points: .nan}", "finite"),
    ("precision", "{rtol: .nan}", "finite"), ("precision", "{atol: .inf}", "finite"), ("precision", "{rtol: 5}", "from 0"),
    ("precision", "{sigfigs: .nan}", "finite"), ("given", "{x: .nan}", "finite"),
])
def test_problem_file_numbers_must_be_finite_and_in_range(tmp_path, field, value, words):
    text = PROBLEM + f"        {field}: {value}\n" if field != "marks" else PROBLEM.replace("marks: 1", f"marks: {value}")
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(ValidationFailed) as info:
        load_sets([path])
    first = info.value.errors[0]
    assert first.source == str(path) and first.line and words in first.message, str(first)


@pytest.mark.parametrize("option, value", [
    ("--time-limit", "nan"), ("--time-limit", "NaN"), ("--time-limit", "inf"), ("--time-limit", "-1"),
    ("--time-limit", "0"), ("--time-limit", "1e309"), ("--time-limit", ""), ("--fail-under", "nan"),
    ("--fail-under", "-inf"), ("--fail-under", "101"), ("--jobs", "0"), ("--jobs", "1e3"), ("--jobs", "nan"),
    ("--jobs", "99999999999999999999"), ("--format", "exe"), ("--color", "\x1b"),
])
def test_bad_option_numbers_are_usage_errors(option, value):
    result = CliRunner().invoke(main, ["grade", "--problems", str(PROBLEMS), str(FLAWED), option, value])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output


OPTION_VALUES = st.sampled_from(["nan", "inf", "-inf", "-1", "0", "1", "2.5", "1e309", "", "٣", "1_0", "0x10",
                                 "99999999999999999999", "\x1b[2J", "--", "-", "x" * 300, "/dev/null", ".", "never"])
# (no NUL: a process's arguments cannot contain one)
OPTIONS = st.sampled_from(["--time-limit", "--fail-under", "--jobs", "-j", "--format", "--color", "-o", "--cache",
                           "--assignment", "--points-row", "--summary", "--no-reveal", "--problems", "--bogus"])


@given(st.lists(st.tuples(OPTIONS, OPTION_VALUES), max_size=4), st.sampled_from(["grade", "stats"]))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_cli_argument_fuzz(tmp_path, options, command):
    """Any options: exit 0, 1 or 2, never a traceback; an output file is complete or absent."""
    args = [command, str(FLAWED), "--problems", str(PROBLEMS), "--jobs", "1"]
    for option, value in options:
        if option in ("--points-row", "--summary", "--no-reveal"):
            args.append(option)
        elif option == "-o":
            args += [option, str(tmp_path / "out") if value in ("1", "never") else value]
        elif option == "--cache":  # the cache store has hostile tests of its own (engine); here a plain folder
            args += [option, str(tmp_path / "cache")]
        else:
            args += [option, value]
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(main, args)
    finally:
        os.chdir(cwd)
    assert result.exit_code in (0, 1, 2), (args, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
    assert not list(tmp_path.glob(".examcheck-*")) and not list(tmp_path.glob("**/.*examcheck-*.tmp"))


# ----------------------------------------------------------------------------- one poisoned batch, end to end

POISON = {
    "deep_block.yaml": "answers:\n  q1:\n    " + "- " * 30_000 + "x\n",                      # 60 KB; crashed libyaml
    "deep_flow.yaml": "answers:\n  q1: " + "[" * 50_000 + "]" * 50_000 + "\n",
    "sexagesimal.yaml": "exam: seed000-quiz\nanswers:\n  q1: {i: " + ":".join(["59"] * 330_000) + "}\n",  # 1 MB; was quadratic
    "empty_int.yaml": 'answers:\n  q1: !!int ""\n',
    "python_tag.yaml": "answers:\n  q1: !!python/object/apply:os.system ['touch /tmp/examcheck-pwned']\n",
    "huge_int.yaml": "exam: seed000-quiz\nanswers:\n  q1: {i: " + "9" * 5001 + "}\n  q2: {i: " + "9" * 5001 + "}\n",
    "impossible_date.yaml": "exam: seed000-quiz\nanswers:\n  q1: {i: 2024-02-30}\n  q2: {i: 2024-13-45 25:61:61}\n",
    "laughs.yaml": "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nanswers: {q1: *b}\n",
    "not_utf8.yaml": b"answers:\n  q1: \xff\xfe\n",
    "two_docs.yaml": "answers: {}\n---\nanswers: {}\n",
    "nul.yaml": "answers:\n  q1: a\x00b\n",
    "overflow.yaml": "exam: seed000-quiz\nanswers:\n  q3: {a: 1e309, b: 500!, c: '²', d: '١٢٣'}\n  q4: {a: '²'}\n",
}


def test_a_poisoned_batch_grades_every_good_file_and_names_every_bad_one(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for name, text in POISON.items():
        (folder / name).write_bytes(text if isinstance(text, bytes) else text.encode())
    (folder / "good.yaml").write_text(FLAWED.read_text())
    os.mkfifo(folder / "fifo.yaml")
    out = tmp_path / "grades.json"
    result = run_cli("grade", "--jobs", "1", "--problems", PROBLEMS, folder, "--format", "json", "-o", out)
    stderr = errors_of(result)
    assert result.returncode == 2, stderr
    assert not os.path.exists("/tmp/examcheck-pwned")
    graded = {r["source"].rsplit("/", 1)[-1]: r for r in json.loads(out.read_text())}
    assert {"good.yaml", "huge_int.yaml", "impossible_date.yaml", "sexagesimal.yaml", "overflow.yaml"} <= set(graded)
    bad = set(POISON) - set(graded) | {"fifo.yaml"}
    for name in bad:
        line = next((x for x in stderr.splitlines() if name in x), "")
        assert line.startswith("error:"), (name, stderr)
    for report in graded.values():
        for problem in report["problems"]:
            for part in problem["parts"]:
                assert part["status"] != "undecided", part
                assert "please report" not in (part.get("feedback") or "")


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_file_names_that_are_not_utf8_never_break_an_output(tmp_path, fmt):
    folder = os.fsencode(tmp_path)
    with open(folder + b"/caf\xe9.yaml", "w") as out:  # a Latin-1 file name, no student field
        out.write("exam: seed000-quiz\nanswers:\n  q1: {i: x}\n")
    with open(folder + b"/\xff\x9b.yaml", "w") as out:
        out.write("answers: [unclosed\n")
    result = run_cli("grade", "--jobs", "1", "--problems", PROBLEMS, tmp_path, "--format", fmt,
                     PYTHONIOENCODING="utf-8:strict")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "caf\\udce9" in result.stdout.replace("\\\\", "\\")
    assert "\\udcff\\udc9b.yaml" in result.stderr


OTHER_COMMANDS = st.sampled_from([["check"], ["solve"], ["list"], ["template"], ["schema"], ["solve", "q1"],
                                  ["template", "seed000-quiz"], ["check", "--key"], ["bogus"]])
ARGUMENTS = st.sampled_from(["q1", "seed000-quiz/q3", "/dev/null", "", "-", "--format", "json", "latex", "github",
                             "--problems", str(PROBLEMS), "nan", "\x1b[2J", "x" * 300, str(FLAWED), "--answers", "--key",
                             "q1/q2/q3", "*", "--help"])  # (not "/": walking the whole disk is slow, not wrong)


@given(OTHER_COMMANDS, st.lists(ARGUMENTS, max_size=4))
@settings(max_examples=25, deadline=None)
def test_other_commands_argument_fuzz(command, extra):
    small = PROBLEMS / "seed000-quiz.yaml"  # the smallest set keeps `check` quick
    result = CliRunner().invoke(main, [*command, *[str(small) if a == str(PROBLEMS) else a for a in extra],
                                       "--problems", str(small)])
    assert result.exit_code in (0, 1, 2), (command, extra, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (command, extra, repr(result.exception))
