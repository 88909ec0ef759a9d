"""A class's outputs for people: terminal, Markdown and HTML escape whatever a student wrote;
--split writes one report per student under a safe name; --fail-under names who fell below,
and an exam with no marks to give never passes it."""

import re
from pathlib import Path
from xml.etree import ElementTree as ET

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from examcheck.classrun import below, unjudged
from examcheck.cli import main
from examcheck.model import PartResult, ProblemResult, Report, Status
from examcheck.render import RenderOptions, render_text
from examcheck.render.feedback import safe_name
from tests.class_reports import identifiers

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = str(ROOT / "problems")
FLAWED = (ROOT / "examples" / "answers" / "flawed.yaml").read_text()
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

hostile = st.lists(st.sampled_from(list("a<>&|*_`#[]()!\x1b\x07\x00\r\n\t\u202e\x9b\x85é") + ["\x1b[2J", "<script>"]),
                   min_size=1, max_size=12).map("".join)


def _report(name: str, text: str) -> Report:
    parts = [PartResult("i", Status.INCORRECT, 0, 1, given=text, interpreted=text, feedback=text, note=text),
             PartResult("ii", Status.CORRECT, 1, 1, given="1")]
    return Report(name, "quiz1", [ProblemResult("q1", parts)], source=f"{name}.yaml", warnings=[text])


@settings(max_examples=80, deadline=None)
@given(hostile, hostile)
def test_terminal_markdown_and_html_show_control_characters_as_escapes(name, text):
    for fmt in ("table", "markdown", "html", "github"):
        for batch in ([_report(name, text)], [_report(name, text), _report(text, name)]):
            out = render_text("reports", fmt, batch, RenderOptions(color="never", to_file=True))
            assert not CONTROL.search(out.replace("\n", "").replace("\t", "")), (fmt, out)
    html = render_text("reports", "html", [_report(name, text)], RenderOptions())
    assert "<script>" not in html
    ET.fromstring(html.split("\n", 1)[1])  # well-formed: every tag opened is closed
    page = render_text("reports", "html", [_report(name, text), _report(text, name)], RenderOptions())
    assert len(ET.fromstring(page.split("\n", 1)[1]).find("body").findall("section")) == 2  # one page, a section each
    markdown = render_text("reports", "markdown", [_report(name, text)], RenderOptions())
    table_rows = [line for line in markdown.splitlines() if line.startswith("| q1.")]
    assert len(table_rows) == 2 and all(row.count(" | ") == 5 for row in table_rows)  # no cell broke the table


@settings(max_examples=200, deadline=None)
@given(identifiers, identifiers)
def test_split_names_are_safe_and_distinct(a, b):
    for name in (safe_name(a), safe_name(b)):
        assert name and not name.startswith(".") and "/" not in name and "\\" not in name and "\x00" not in name
        assert len(name.encode()) < 200 and not CONTROL.search(name)
    assert (safe_name(a) == safe_name(b)) == (a == b)


def test_split_writes_one_markdown_and_html_report_per_student(tmp_path):
    folder = tmp_path / "answers"
    folder.mkdir()
    names = ["0123", "../../etc/passwd", "Zoë <b>", "\x1b[31mred"]
    for i, name in enumerate(names):
        escaped = name.replace("\x1b", "\\e")
        (folder / f"{i}.yaml").write_text(FLAWED.replace("student: flawed-fred", f'student: "{escaped}"'))
    out = tmp_path / "feedback"
    result = CliRunner().invoke(main, ["grade", str(folder), "--problems", PROBLEMS, "--jobs", "1", "--split", str(out),
                                       "--no-reveal", "--format", "csv"])
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == 2 * len(names) and all(p.parent == out for p in out.iterdir())
    assert "0123.seed000-quiz.md" in files and "0123.seed000-quiz.html" in files
    assert not (tmp_path / "etc").exists()
    for path in out.iterdir():
        text = path.read_text()
        assert "\x1b" not in text and "<b>" not in text and "Total: 3.5 / 13" in text
        assert "expected" not in text.replace("unexpected", "").replace("expected a", "")


def _zero_marks_exam(tmp_path) -> Path:
    problem = (ROOT / "problems" / "seed000-quiz.yaml").read_text()
    problem = re.sub(r"marks: [0-9.]+", "marks: 0", problem).replace("exam: seed000-quiz", "exam: zero-quiz")
    path = tmp_path / "zero.yaml"
    path.write_text(problem)
    return path


def test_fail_under_names_who_fell_below_and_a_zero_mark_exam_is_not_judged(tmp_path):
    folder = tmp_path / "answers"
    folder.mkdir()
    (folder / "fred.yaml").write_text(FLAWED)
    (folder / "pat.yaml").write_text((ROOT / "examples" / "answers" / "perfect.yaml").read_text())
    args = ["grade", str(folder), "--problems", PROBLEMS, "--jobs", "1", "--format", "csv"]
    result = CliRunner().invoke(main, [*args, "--fail-under", "50"])
    assert result.exit_code == 1
    # 3.5 of the 11 autograded marks (the blank hand-marked part is not in the percentage)
    assert "flawed-fred" in result.stderr and "31.8%" in result.stderr and "perfect-pat" not in result.stderr
    assert CliRunner().invoke(main, [*args, "--fail-under", "20"]).exit_code == 0
    zero = _zero_marks_exam(tmp_path)
    (folder / "fred.yaml").write_text(FLAWED.replace("exam: seed000-quiz", "exam: zero-quiz"))
    (folder / "pat.yaml").unlink()
    result = CliRunner().invoke(main, ["grade", str(folder), "--problems", str(zero), "--jobs", "1", "--format", "csv",
                                       "--fail-under", "50"])
    assert result.exit_code == 0 and "flawed-fred" in result.stderr and "not judged" in result.stderr, result.output


def test_below_judges_autograded_marks_only():
    """The percentage is of the autograded maximum; with none (0-mark or only hand-marked parts) nobody is judged."""
    empty = Report("a", "e", [ProblemResult("q", [PartResult("i", Status.CORRECT, 0, 0)])])
    assert below([empty], 1) == [] and [u.student for u in unjudged([empty])] == ["a"]
    by_hand = [PartResult("t", Status.MISSING, 0, 2, feedback="marked by hand: the rubric"),
               PartResult("u", Status.UNGRADED, 0, 3, feedback="marked by hand")]
    hand_only = Report("b", "e", [ProblemResult("q", by_hand)])
    assert below([hand_only], 50) == [] and [u.student for u in unjudged([hand_only])] == ["b"]
    mixed = Report("c", "e", [ProblemResult("q", [*by_hand, PartResult("n", Status.CORRECT, 1, 1)])])
    assert below([mixed], 100) == [] and unjudged([mixed]) == []  # 1/1 autograded: 100 %, whatever by hand
    half = Report("d", "e", [ProblemResult("q", [*by_hand, PartResult("n", Status.PARTIAL, 0.5, 1)])])
    assert [round(b.percent, 1) for b in below([half], 60)] == [50.0]


def test_lms_naming_and_gradescope_options_that_cannot_apply_are_input_errors(tmp_path):
    folder = tmp_path / "two"
    folder.mkdir()
    (folder / "fred.yaml").write_text(FLAWED)
    (folder / "pat.yaml").write_text((ROOT / "examples" / "answers" / "perfect.yaml").read_text())
    args = ["grade", str(folder), "--problems", PROBLEMS, "--jobs", "1"]
    typo = CliRunner().invoke(main, [*args, "--format", "canvas", "--assignment-id", "nosuch=12"])
    assert typo.exit_code == 2 and "nosuch" in typo.stderr and "seed000-quiz" in typo.stderr
    letters = CliRunner().invoke(main, [*args, "--format", "canvas", "--assignment-id", "seed000-quiz=abc"])
    assert letters.exit_code == 2 and "number" in letters.stderr
    several = CliRunner().invoke(main, [*args, "--format", "gradescope"])
    assert several.exit_code == 2 and "ONE submission" in several.stderr and several.stdout == ""
    named = CliRunner().invoke(main, [*args, "--format", "brightspace", "--assignment", "Quiz 3"])
    assert named.exit_code == 0 and named.stdout.splitlines()[0].count("Quiz 3 Points Grade") == 1
    ok = CliRunner().invoke(main, [*args, "--format", "canvas", "--assignment-id", "seed000-quiz=48213"])
    assert ok.exit_code == 0 and "(48213)" in ok.stdout.splitlines()[0]

