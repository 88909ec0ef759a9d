"""Editors and students: the published schemas are draft-07 (what the YAML language server supports) and ship
with the package; `template` starts with the schema modeline and gives every statement, prompt, allowed names
and quoting advice; every command's --help has an example and the exit codes; shell completion works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import click
import jsonschema
import pytest
from click.testing import CliRunner

from examcheck.answers import sheet_from_text
from examcheck.cli import main
from examcheck.loader import load_sets
from examcheck.reference import Resolver
from examcheck.schema_files import DRAFT_07, published, published_text, shipped_path
from examcheck.yamlio import load_file

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = ROOT / "problems"
SETS = load_sets([PROBLEMS])


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("which, args", [("problems", []), ("answers", ["--answers"])])
def test_schema_command_is_draft_07_and_equals_the_shipped_file(which, args):
    out = run("schema", *args)
    assert out.exit_code == 0
    schema = json.loads(out.output)
    assert schema["$schema"] == DRAFT_07
    jsonschema.Draft7Validator.check_schema(schema)
    assert "$defs" not in out.output and "#/$defs/" not in out.output
    if which == "answers":
        assert shipped_path(which).read_text(encoding="utf-8") == published_text(which), \
            "regenerate the shipped schema: python -m examcheck.schema_files"


def test_the_answer_file_schema_is_in_the_wheel():
    from examcheck.gradescope import package_files

    assert "examcheck/schemas/answer-file.schema.json" in {name for name, _ in package_files()}


PROBLEM_VALIDATOR = jsonschema.Draft7Validator(published("problems"))
ANSWER_VALIDATOR = jsonschema.Draft7Validator(published("answers"))


@pytest.mark.parametrize("path", sorted(PROBLEMS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_bundled_problem_set_satisfies_the_draft_07_schema(path):
    data = load_file(path).data
    assert not [e.message for e in PROBLEM_VALIDATOR.iter_errors(data)][:3]


def test_the_draft_07_schema_still_refuses_what_the_loader_refuses():
    data = load_file(PROBLEMS / "seed000-quiz.yaml").data
    bad_family = json.loads(json.dumps(data))
    bad_family["problems"][0]["family"] = "no-such-family"
    assert list(PROBLEM_VALIDATOR.iter_errors(bad_family))
    bad_given = json.loads(json.dumps(data))
    cnn = next(p for p in bad_given["problems"] if p.get("family") == "cnn")
    cnn["parts"][0]["result"] = "no_such_result"
    assert list(PROBLEM_VALIDATOR.iter_errors(bad_given))


@pytest.mark.parametrize("problem_set", SETS, ids=lambda s: s.exam)
def test_template_has_modeline_statements_allowed_names_and_reads_back(problem_set, tmp_path):
    out = run("template", problem_set.exam, "--problems", str(PROBLEMS))
    assert out.exit_code == 0
    text = out.output
    first = text.splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    target = Path(unquote(urlparse(first.split("$schema=", 1)[1]).path))
    assert target.is_file() and json.loads(target.read_text())["$schema"] == DRAFT_07
    assert "single quotes" in text.lower() and "block scalar" in text and "double quotes" in text
    for problem in problem_set.problems:
        for line in problem.statement.strip().splitlines():
            if line.strip():
                assert f"#   {line.rstrip()}" in text
    resolver = Resolver()
    for problem in problem_set.problems:
        for part in problem.parts:
            if part.answer == "expression":
                vocab = resolver.reference(problem, part).options.vocab
                if vocab is not None and vocab.symbols:
                    assert f"allowed names: {vocab.describe()}" in text
    sheet = sheet_from_text(text, str(tmp_path / "blank.yaml"))
    assert not list(ANSWER_VALIDATOR.iter_errors(sheet.doc.data))
    assert sheet.exam == problem_set.exam
    assert all(v.value is None or all(x is None for x in v.value.values()) for v in sheet.problem_values.values())


def test_template_takes_a_schema_url():
    out = run("template", "seed000-quiz", "--problems", str(PROBLEMS), "--schema-url", "https://example.edu/a.json")
    assert out.output.splitlines()[0] == "# yaml-language-server: $schema=https://example.edu/a.json"


def _commands(group: click.Group, prefix=()):
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


@pytest.mark.parametrize("path", [p for p, _ in _commands(main)], ids=" ".join)
def test_every_help_shows_an_example_and_the_exit_codes(path):
    out = run(*path, "--help")
    assert out.exit_code == 0
    assert "Example" in out.output and "Exit codes:" in out.output
    assert "examcheck " + path[0] in out.output.split("Example", 1)[1]


def test_shell_completion_script_and_completions():
    env = {**os.environ, "_EXAMCHECK_COMPLETE": "bash_source"}
    exe = Path(sys.executable).parent / "examcheck"
    script = subprocess.run([str(exe)], env=env, capture_output=True, text=True, timeout=60)
    assert script.returncode == 0 and "complete" in script.stdout and "_EXAMCHECK_COMPLETE" in script.stdout
    env = {**os.environ, "_EXAMCHECK_COMPLETE": "bash_complete", "COMP_WORDS": "examcheck gra", "COMP_CWORD": "1"}
    words = subprocess.run([str(exe)], env=env, capture_output=True, text=True, timeout=60).stdout
    assert "grade" in words and "gradescope" in words
    assert "_EXAMCHECK_COMPLETE" in run("--help").output


def test_an_answer_file_is_skipped_with_the_right_reason(tmp_path):
    from examcheck.problem_files import only_problem_sets

    answers = tmp_path / "answers.yaml"
    answers.write_text("exam: seed000-quiz\nanswers: {}\n")
    other = tmp_path / "workflow.yaml"
    other.write_text("on: push\n")
    kept, notes = only_problem_sets([answers, other])
    assert kept == []
    assert "an answer file (`answers:` and no `problems:`" in notes[0]
    assert "not a problem set (no `problems:` or `exam:`" in notes[1]
