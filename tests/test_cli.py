"""Every command and exit code, through click's CliRunner."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from examcheck.cli import main

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = str(ROOT / "problems")
FLAWED = str(ROOT / "examples" / "answers" / "flawed.yaml")
PERFECT = str(ROOT / "examples" / "answers" / "perfect.yaml")


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_help_lists_commands():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("grade", "solve", "check", "list", "template", "schema"):
        assert command in result.output


def test_grade_table():
    result = run("grade", FLAWED, "--problems", PROBLEMS)
    assert result.exit_code == 0
    assert "sign error" in result.output and "total 3.5/13" in result.output


def test_grade_json_and_no_reveal():
    result = run("grade", FLAWED, "--problems", PROBLEMS, "--format", "json", "--no-reveal")
    report = json.loads(result.output)
    assert report["student"] == "flawed-fred" and report["max_score"] == 13
    assert all(p["expected"] is None for q in report["problems"] for p in q["parts"])
    assert any(p["feedback"] for q in report["problems"] for p in q["parts"])


def test_grade_many_files_json_list():
    result = run("grade", FLAWED, PERFECT, "--problems", PROBLEMS, "--format", "json")
    assert [r["student"] for r in json.loads(result.output)] == ["flawed-fred", "perfect-pat"]


def test_fail_under():
    assert run("grade", FLAWED, "--problems", PROBLEMS, "--fail-under", "50").exit_code == 1
    assert run("grade", PERFECT, "--problems", PROBLEMS, "--fail-under", "50").exit_code == 0


def test_grade_input_errors_exit_2_but_grade_the_rest(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("answers: [1, 2\n")
    result = CliRunner().invoke(main, ["grade", str(bad), PERFECT, "--problems", PROBLEMS])
    assert result.exit_code == 2
    assert "perfect-pat" in result.stdout
    assert "bad.yaml:1" in result.stderr or "bad.yaml:2" in result.stderr


def test_grade_missing_file_exit_2():
    result = CliRunner().invoke(main, ["grade", "nope.yaml", "--problems", PROBLEMS])
    assert result.exit_code == 2 and "nope.yaml" in result.stderr


def test_solve_formats():
    text = run("solve", "seed000-quiz/q3", "--problems", PROBLEMS)
    assert text.exit_code == 0 and "7600" in text.output and "(5·5·3 + 1)·100" in text.output
    data = json.loads(run("solve", "seed002-homework/q5", "--problems", PROBLEMS, "--format", "json").output)
    assert data["id"] == "q5" and data["parts"][0]["steps"]
    assert "\\begin{enumerate}" in run("solve", "q2.4", "--problems", PROBLEMS, "--format", "latex").output
    assert "**Answer:**" in run("solve", "q2.4", "--problems", PROBLEMS, "--format", "markdown").output


def test_solve_ambiguous_and_unknown(tmp_path):
    copy = tmp_path / "copy.yaml"
    copy.write_text((ROOT / "problems" / "seed000-quiz.yaml").read_text().replace("exam: seed000-quiz", "exam: other"))
    result = CliRunner().invoke(main, ["solve", "q3", "--problems", PROBLEMS, "--problems", str(copy)])
    assert result.exit_code == 2 and "other/q3" in result.stderr and "seed000-quiz/q3" in result.stderr
    assert CliRunner().invoke(main, ["solve", "q99", "--problems", PROBLEMS]).exit_code == 2


def test_check_passes_on_bundled_sets():
    result = run("check", PROBLEMS)
    assert result.exit_code == 0 and "all keys agree" in result.output


def test_check_fails_on_a_wrong_key(tmp_path):
    text = (ROOT / "problems" / "seed002-homework.yaml").read_text()
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("key: 21x21", "key: 25x25"))
    result = run("check", str(broken))
    assert result.exit_code == 1
    line = next(i for i, row in enumerate(broken.read_text().splitlines(), 1) if "25x25" in row)
    assert f"broken.yaml:{line}: seed002-homework/q2.4.a" in result.output
    assert "stated: 25x25" in result.output and "computed: 21×21" in result.output


def test_check_key_file(tmp_path):
    key = tmp_path / "key.yaml"
    key.write_text("exam: seed002-homework\nanswers:\n  q2.4: {a: 21x21}\n  q5: {2b_i: 1.41}\n")
    result = run("check", PROBLEMS, "--key", str(key))
    assert result.exit_code == 1 and "key.yaml:4" in result.output and "q5.2b_i" in result.output


def test_check_reports_log_base_convention(tmp_path):
    problem = tmp_path / "loss.yaml"
    problem.write_text("""\
exam: loss
title: Loss
problems:
  - id: q1
    title: KL
    family: entropy
    given: {P: ["1/2", "1/4", "1/4"], Q: ["1/4", "1/4", "1/2"]}
    parts:
      - {id: a, marks: 1, result: kl, answer: number, precision: {decimals: 3}, key: 0.075}
""")
    result = run("check", str(problem))
    assert result.exit_code == 1 and "matches only if the computation uses log base 10" in result.output


def test_check_invalid_problem_file_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("exam: x\ntitle: X\nproblems:\n  - id: q1\n    title: t\n    parts:\n"
                   "      - {id: a, marks: many, answer: number, reference: '1'}\n")
    result = CliRunner().invoke(main, ["check", str(bad)])
    assert result.exit_code == 2
    assert "bad.yaml:7: problems[0].parts[0].marks: expected a number" in result.stderr


def test_list_and_template():
    listing = run("list", "--problems", PROBLEMS)
    assert "seed000-quiz" in listing.output and "seed002-homework" in listing.output
    blank = run("template", "seed000-quiz", "--problems", PROBLEMS)
    assert blank.exit_code == 0 and "exam: seed000-quiz" in blank.output and "# (i) Give da/dw_i" in blank.output
    assert CliRunner().invoke(main, ["template", "nosuch", "--problems", PROBLEMS]).exit_code == 2


def test_template_round_trips_to_all_missing(tmp_path):
    blank = tmp_path / "blank.yaml"
    blank.write_text(run("template", "seed002-homework", "--problems", PROBLEMS).output)
    report = json.loads(run("grade", str(blank), "--problems", PROBLEMS, "--format", "json").output)
    assert {p["status"] for q in report["problems"] for p in q["parts"]} == {"missing"}


def test_schema_is_json_schema():
    schema = json.loads(run("schema").output)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#" and "problems" in schema["properties"]
    assert "answers" in json.loads(run("schema", "--answers").output)["properties"]


@pytest.mark.parametrize("args", [["grade"], ["solve"], ["nosuch"], ["grade", "--format", "xml", FLAWED]])
def test_usage_errors_exit_2(args):
    assert CliRunner().invoke(main, args).exit_code == 2


def test_without_problems_folder_the_bundled_library_is_used(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("list")
    assert result.exit_code == 0 and "seed000-quiz" in result.output and "seed002-homework" in result.output


def test_local_problems_folder_wins(tmp_path, monkeypatch):
    (tmp_path / "problems").mkdir()
    (tmp_path / "problems" / "mine.yaml").write_text(
        "exam: mine\ntitle: Mine\nproblems:\n  - id: q1\n    title: t\n    parts:\n"
        "      - {id: a, marks: 1, answer: number, reference: '2/4', key: 0.5}\n")
    monkeypatch.chdir(tmp_path)
    result = run("list")
    assert "mine" in result.output and "seed000-quiz" not in result.output
    assert run("check").exit_code == 0
