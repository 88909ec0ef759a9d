"""Every export format, validated against what its consumer expects."""

import csv
import io
import json
import re
from pathlib import Path
from xml.etree import ElementTree as ET

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from examcheck.cli import main
from examcheck.model import Finding
from examcheck.render.exports import github_annotation, github_findings

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = str(ROOT / "problems")
FLAWED = str(ROOT / "examples" / "answers" / "flawed.yaml")
PERFECT = str(ROOT / "examples" / "answers" / "perfect.yaml")


def grade(*args):
    result = CliRunner().invoke(main, ["grade", FLAWED, PERFECT, "--problems", PROBLEMS, "--jobs", "1", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_csv_gradebook():
    rows = list(csv.reader(io.StringIO(grade("--format", "csv", "--points-row"))))
    header, points, *students = rows
    exam = "seed000-quiz"
    assert header[0] == "student" and header[-2:] == [f"{exam}/total", f"{exam}/max"]
    assert f"{exam}/q1.i" in header and f"{exam}/q4.c" in header
    assert points[0] == "Points Possible" and points[-1] == "13" and points[-2] == "13"
    assert [s[0] for s in students] == ["flawed-fred", "perfect-pat"]
    fred = dict(zip(header, students[0]))
    assert fred[f"{exam}/total"] == "3.5" and fred[f"{exam}/q3.a"] == "0" and fred[f"{exam}/q3.b"] == "1"
    assert sum(float(fred[c]) for c in header[1:-2] if fred[c]) == 3.5


def test_canvas_import_csv():
    rows = list(csv.reader(io.StringIO(grade("--format", "canvas", "--assignment", "Quiz 1 (12345)"))))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Quiz 1 (12345)"]
    assert rows[1][0] == "Points Possible" and rows[1][5] == "13"
    assert [(r[0], r[5]) for r in rows[2:]] == [("flawed-fred", "3.5"), ("perfect-pat", "11")]
    assert all(len(r) == 6 for r in rows)


def test_gradescope_results_json():
    import jsonschema

    result = CliRunner().invoke(main, ["grade", FLAWED, "--problems", PROBLEMS, "--format", "gradescope"])
    data = json.loads(result.stdout)
    schema = json.loads((ROOT / "tests" / "data" / "gradescope-results.schema.json").read_text())
    jsonschema.Draft7Validator(schema).validate(data)
    assert data["score"] == 3.5 and data["visibility"] == "visible" and data["output_format"] == "text"
    assert "3.5/11 autograded marks" in data["output"]  # neither hand-marked part (one blank) is in the total
    tests = data["tests"]
    assert len(tests) == 13
    graded = [t for t in tests if "score" in t]
    assert len(graded) == 11  # the two hand-marked parts, answered or blank, are informational
    for test in graded:
        assert test["status"] in ("passed", "failed") and test["visibility"] == "visible"
        assert 0 <= test["score"] <= test["max_score"]
    assert sum(t["score"] for t in graded) == data["score"]
    sign = next(t for t in tests if t["name"] == "q1.i")
    assert sign["status"] == "failed" and "sign error" in sign["output"]


def test_junit_xml():
    root = ET.fromstring(grade("--format", "junit"))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["seed000-quiz.flawed-fred", "seed000-quiz.perfect-pat"]
    for suite in suites:
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases) == 13
        assert int(suite.get("failures")) == len([c for c in cases if c.find("failure") is not None])
        assert int(suite.get("skipped")) == len([c for c in cases if c.find("skipped") is not None])
        properties = {p.get("name"): p.get("value") for p in suite.find("properties")}
        assert properties["file"].endswith(".yaml") and properties["exam"] == "seed000-quiz"
        for case in cases:
            assert case.get("classname") == suite.get("name") and case.get("name") and case.get("file") is None
    fred = suites[0]
    failure = next(c for c in fred.findall("testcase") if c.get("name") == "q3.a").find("failure")
    assert "biases" in failure.get("message")
    missing = next(c for c in fred.findall("testcase") if c.get("name") == "q2.ii")
    assert missing.find("failure") is not None and missing.find("failure").get("type") == "missing"
    blank_by_hand = next(c for c in fred.findall("testcase") if c.get("name") == "q4.b")  # hand-marked, left blank
    assert blank_by_hand.find("skipped") is not None and blank_by_hand.find("failure") is None


def test_junit_never_changes_the_exit_code():
    result = CliRunner().invoke(main, ["grade", FLAWED, "--problems", PROBLEMS, "--format", "junit"])
    assert result.exit_code == 0


ANNOTATION = re.compile(r"^::(error|warning|notice) ((?:[a-z]+=[^,:]*)(?:,[a-z]+=[^,:]*)*)::(.*)$")


def test_github_annotations_escape_properly():
    line = github_annotation("error", "dir/a,b:c.yaml", 14, "q1: bad, key", "50% wrong\nsecond line")
    m = ANNOTATION.match(line)
    assert m, line
    props = dict(p.split("=", 1) for p in m.group(2).split(","))
    assert props == {"file": "dir/a%2Cb%3Ac.yaml", "line": "14", "title": "q1%3A bad%2C key"}
    assert m.group(3) == "50%25 wrong%0Asecond line"


def test_check_in_github_format_points_at_the_problem_line(tmp_path):
    text = (ROOT / "problems" / "seed002-homework.yaml").read_text().replace("key: 21x21", "key: 25x25")
    broken = tmp_path / "hw.yaml"
    broken.write_text(text)
    result = CliRunner().invoke(main, ["check", str(broken), "--format", "github"])
    assert result.exit_code == 1
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("::")]
    assert len(lines) == 1 and ANNOTATION.match(lines[0])
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "25x25" in row)
    assert f",line={line}," in lines[0] and "stated: 25x25" in lines[0].replace("%0A", "\n")


def test_github_findings_for_many():
    findings = [Finding("p.yaml", 3, "e/q1.a", "disagrees", "1", "2", "why")]
    assert github_findings(findings).count("::error ") == 1


def test_jsonl_and_markdown():
    lines = grade("--format", "jsonl").splitlines()
    assert [json.loads(line)["student"] for line in lines] == ["flawed-fred", "perfect-pat"]
    md = grade("--format", "markdown", "--no-reveal")
    assert md.count("# ") >= 2 and "| part | status | marks | your answer, as read | feedback |" in md
    assert "| expected |" not in md and "0.173 (rounded" not in md


COLOR_CODE = re.compile(r"\x1b\[[0-9;]*(3[0-7]|38;[0-9;]+)m")


def test_color_follows_force_color_no_color_and_the_flag(monkeypatch):
    def table(*extra):
        return CliRunner().invoke(main, ["grade", FLAWED, "--problems", PROBLEMS, *extra]).stdout

    assert not COLOR_CODE.search(table())  # not a terminal
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert COLOR_CODE.search(table())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not COLOR_CODE.search(table())
    monkeypatch.delenv("NO_COLOR")
    assert "\x1b[" not in table("--color", "never")
    monkeypatch.delenv("FORCE_COLOR")
    assert COLOR_CODE.search(table("--color", "always"))


def test_gradescope_explains_an_unreadable_submission(tmp_path):
    bad = tmp_path / "answers.yaml"
    bad.write_text("answers: [oops\n")
    out = tmp_path / "results.json"
    result = CliRunner().invoke(main, ["grade", str(bad), "--problems", PROBLEMS, "--format", "gradescope",
                                       "-o", str(out)])
    assert result.exit_code == 2
    data = json.loads(out.read_text())
    assert data["score"] == 0 and "answers.yaml" in data["output"] and data["visibility"] == "visible"


def test_pre_commit_hook_is_declared():
    import yaml

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hooks[0]["entry"] == "examcheck check" and hooks[0]["pass_filenames"] is True


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="[]()!\\<>:|`*_ ajvscript/xX1", max_size=40))
def test_markdown_cells_never_make_links_or_images(text):
    """Student text in a Markdown report (split files, step summary) is shown, never followed or loaded."""
    from markdown_it import MarkdownIt

    from examcheck.render.escape import markdown_cell

    cell = markdown_cell(f"[a](javascript:alert(1)) {text} ![i](http://x/y.png) [b]: javascript:z [b]")
    html = MarkdownIt("commonmark").enable("table").render(f"| h |\n|---|\n| {cell} |\n\n{cell}\n")
    assert "<a " not in html and "<img" not in html, (text, cell, html)
