"""JUnit against Jenkins' own junit-10.xsd (an XSD validator, not our reading of it), and GitHub's
annotation limits (10 errors and 10 warnings per step), by category with generated classes."""

import re
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examcheck.cli import main
from examcheck.model import PartResult, ProblemResult, Report, Status
from examcheck.render import RenderOptions, render_text
from examcheck.render.ci import MAX_ANNOTATIONS
from tests.class_reports import classes, identifiers, reports

xmlschema = pytest.importorskip("xmlschema")

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = str(ROOT / "problems")
ANSWERS = sorted(str(p) for p in (ROOT / "examples" / "answers").glob("*.yaml"))
SCHEMA = xmlschema.XMLSchema(str(ROOT / "tests" / "data" / "junit-10.xsd"))
ANNOTATION = re.compile(r"^::(error|warning|notice) ((?:[a-z]+=[^,:]*)(?:,[a-z]+=[^,:]*)*)::(.*)$")


def junit(reports) -> str:
    return render_text("reports", "junit", reports, RenderOptions())


def assert_valid(document: str) -> ET.Element:
    SCHEMA.validate(document)  # raises with the reason when invalid
    return ET.fromstring(document)


def test_the_schema_is_the_real_one_and_refuses_what_we_used_to_write():
    """The old output put file and line on <testcase>: junit-10.xsd refuses that."""
    old = ("<testsuites><testsuite name='s' tests='1' failures='0' errors='0'>"
           "<testcase classname='e' name='q1' file='a.yaml' line='3'/></testsuite></testsuites>")
    assert not SCHEMA.is_valid(old)
    assert SCHEMA.is_valid(old.replace(" file='a.yaml' line='3'", ""))


def test_real_grading_validates_and_keeps_file_and_line_as_properties():
    result = CliRunner().invoke(main, ["grade", *ANSWERS, "--problems", PROBLEMS, "--jobs", "1", "--format", "junit"])
    assert result.exit_code == 0, result.output
    root = assert_valid(result.stdout)
    suites = root.findall("testsuite")
    assert len(suites) == len(ANSWERS)
    for suite in suites:
        props = {p.get("name"): p.get("value") for p in suite.find("properties")}
        assert props["file"] in ANSWERS and suite.get("name") == f"{props['exam']}.{props['student']}"
        assert any(name.startswith("line.") for name in props)
        for case in suite.findall("testcase"):
            assert case.get("classname") == suite.get("name")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(reports(), min_size=0, max_size=6))
def test_any_class_validates_with_unique_ids_and_missing_as_failures(batch):
    root = assert_valid(junit(batch))
    ids = [(c.get("classname"), c.get("name")) for c in root.iter("testcase")]
    assert len(ids) == len(set(ids)), "test ids collide"
    cases = list(root.iter("testcase"))
    parts = [q for r in batch for p in r.problems for q in p.parts]
    assert len(cases) == len(parts)
    for case, part in zip(cases, parts):
        failed, skipped = case.find("failure") is not None, case.find("skipped") is not None
        assert failed == (part.status is not Status.CORRECT and not part.hand_marked), part.status
        assert skipped == part.hand_marked  # hand-marked, answered or blank: skipped, never a failure
    for suite, report in zip(root.findall("testsuite"), batch):
        props = {p.get("name"): p.get("value") for p in suite.find("properties")}
        assert props["file"] == report.source
        for problem in report.problems:
            for part in problem.parts:
                if part.line:
                    assert props[f"line.{problem.id}.{part.id}"] == str(part.line)


@settings(max_examples=60, deadline=None)
@given(identifiers)
def test_a_control_character_in_a_name_never_breaks_the_document(name):
    report = Report(name, "quiz1", [ProblemResult("q1", [PartResult("i", Status.INCORRECT, 0, 1, feedback=name)])],
                    source=f"{name}.yaml")
    root = assert_valid(junit([report, report]))
    names = [s.get("name") for s in root.findall("testsuite")]
    assert names[0] != names[1]  # the same student twice for one exam: still two ids


# ----------------------------------------------------------------------------- GitHub


def _annotations(text: str):
    lines = text.splitlines()
    parsed = [ANNOTATION.match(line) for line in lines]
    assert all(parsed), lines
    return parsed


@settings(max_examples=50, deadline=None)
@given(classes(max_students=8))
def test_github_never_writes_more_than_github_shows(batch):
    parsed = _annotations(render_text("reports", "github", batch, RenderOptions()))
    errors = [m for m in parsed if m.group(1) == "error"]
    warnings = [m for m in parsed if m.group(1) == "warning"]
    notices = [m for m in parsed if m.group(1) == "notice"]
    assert len(errors) <= MAX_ANNOTATIONS and len(warnings) <= MAX_ANNOTATIONS and len(notices) == 1
    assert parsed[-1].group(1) == "notice"
    wrong = [q for r in batch for p in r.problems for q in p.parts if q.status.is_failure and not q.status.is_warning]
    assert len(errors) == min(MAX_ANNOTATIONS, len(wrong))
    assert f"{len(wrong)} error(s)" in notices[0].group(3)


def test_github_shows_the_worst_first():
    def report(student, lost):
        part = PartResult("i", Status.INCORRECT, 0.0, float(lost), feedback="wrong")
        return Report(student, "quiz1", [ProblemResult("q1", [part])], source=f"{student}.yaml")

    batch = [report(f"s{i:02d}", lost) for i, lost in enumerate([1, 5, 2, 9, 1, 1, 1, 1, 1, 1, 1, 1, 7, 1, 1])]
    parsed = _annotations(render_text("reports", "github", batch, RenderOptions()))
    titles = [dict(p.split("=", 1) for p in m.group(2).split(","))["title"] for m in parsed if m.group(1) == "error"]
    assert titles[:4] == ["s03%3A q1.i", "s12%3A q1.i", "s01%3A q1.i", "s02%3A q1.i"]
    assert len(titles) == 10 and "5 more" in parsed[-1].group(3)


def test_the_full_table_goes_to_the_step_summary(tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = CliRunner().invoke(main, ["grade", *ANSWERS, "--problems", PROBLEMS, "--jobs", "1", "--format", "github"])
    assert result.exit_code == 0, result.output
    text = summary.read_text()
    assert text.startswith("earlier step\n") and "| student | exam | score |" in text
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("::")]
    errors = [ln for ln in lines if ln.startswith("::error")]
    table_rows = [ln for ln in text.splitlines() if ln.startswith("| ") and ("incorrect" in ln or "invalid" in ln)]
    assert len(errors) == MAX_ANNOTATIONS < len(table_rows)  # what was not annotated is in the table


def test_check_findings_are_capped_too():
    from examcheck.model import Finding
    from examcheck.render.exports import github_findings

    findings = [Finding(f"p{i}.yaml", i + 1, f"e/q{i}", "disagrees, 50%", "1", "2") for i in range(25)]
    parsed = _annotations(github_findings(findings))
    assert [m.group(1) for m in parsed] == ["error"] * MAX_ANNOTATIONS + ["notice"]
    assert "25 findings" in parsed[-1].group(3) and "p24.yaml%3A25" not in parsed[-1].group(3)
    assert "p24.yaml:25" in parsed[-1].group(3) and "%0A" not in parsed[-1].group(3)
    assert len(_annotations(github_findings(findings[:3]))) == 3
