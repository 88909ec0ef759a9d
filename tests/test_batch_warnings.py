"""Blind test 17, F5: an answer under a problem or part id the exam does not have (`Q3`, `q3.B`, `'d '`) is
ignored with a warning naming file:line.  In a class run that warning goes to stderr in every format (bounded:
at most 20 lines, then how many more), and into each student's own feedback (--split)."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examcheck.cli import main

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = str(ROOT / "problems")
FLAWED = (ROOT / "examples" / "answers" / "flawed.yaml").read_text()
PARTS = {"q1": ["i", "ii"], "q2": ["i", "ii", "iii", "iv"], "q3": ["a", "b", "c", "d"], "q4": ["a", "b", "c"]}
FORMATS = ["table", "json", "jsonl", "csv", "canvas", "moodle", "brightspace", "junit", "github", "markdown", "html"]


def _misspelt_problem(pid: str) -> st.SearchStrategy[str]:
    return st.sampled_from([pid.upper(), pid + " ", "Q" + pid[1:] + "x", pid.replace("q", "question")])


@st.composite
def sheets(draw):
    """An answer file for seed000-quiz with 1-3 answers under ids the exam does not have, and the lines."""
    lines = ["student: typo", "exam: seed000-quiz", "answers:"]
    wrong: list[int] = []
    for pid, parts in PARTS.items():
        kind = draw(st.sampled_from(["ok", "problem", "part"]))
        if kind == "problem":
            lines.append(f"  '{draw(_misspelt_problem(pid))}': {{{parts[0]}: 1}}")
            wrong.append(len(lines))
        elif kind == "part":
            bad = draw(st.sampled_from([parts[0].upper(), parts[0] + " ", parts[-1] + "x", "z"]))
            lines += [f"  {pid}:", f"    '{bad}': 1"]
            wrong.append(len(lines))
    if not wrong:
        lines.append("  Q9: {a: 1}")
        wrong.append(len(lines))
    return "\n".join(lines) + "\n", wrong


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sheet=sheets(), fmt=st.sampled_from(FORMATS))
def test_every_ignored_answer_is_named_on_stderr_in_every_format(tmp_path, sheet, fmt):
    text, wrong = sheet
    folder = tmp_path / f"class-{fmt}-{abs(hash(text))}"
    folder.mkdir()
    (folder / "typo.yaml").write_text(text)
    (folder / "fred.yaml").write_text(FLAWED)
    result = CliRunner().invoke(main, ["grade", str(folder), "--problems", PROBLEMS, "--jobs", "1", "--format", fmt])
    assert result.exit_code == 0, result.output
    said = {int(m) for m in re.findall(r"typo\.yaml:(\d+): answers\.\S+.*ignored", result.stderr)}
    assert said == set(wrong), result.stderr
    assert "fred.yaml:" not in result.stderr


def test_warnings_are_bounded_and_counted(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for i in range(15):
        (folder / f"s{i:02}.yaml").write_text(f"student: s{i:02}\nexam: seed000-quiz\nanswers:\n  Q1: {{i: 1}}\n  Q2: {{i: 1}}\n")
    result = CliRunner().invoke(main, ["grade", str(folder), "--problems", PROBLEMS, "--jobs", "1", "--format", "csv"])
    warned = [line for line in result.stderr.splitlines() if "ignored" in line]
    assert len(warned) == 20
    assert "... and 10 more warning(s); 15 file(s) have warnings" in result.stderr


def test_split_feedback_shows_the_warnings(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "typo.yaml").write_text("student: typo\nexam: seed000-quiz\nanswers:\n  Q3: {a: 7600}\n")
    (folder / "fred.yaml").write_text(FLAWED)
    split = tmp_path / "split"
    result = CliRunner().invoke(main, ["grade", str(folder), "--problems", PROBLEMS, "--jobs", "1", "--format", "csv",
                                       "--split", str(split)])
    assert result.exit_code == 0, result.output
    for suffix in (".md", ".html"):
        (mine,) = split.glob(f"typo*{suffix}")
        assert "typo.yaml:4: answers.Q3: no problem" in mine.read_text()
        (other,) = split.glob(f"flawed-fred*{suffix}")
        assert "warning" not in other.read_text()
