"""The double-quoted-LaTeX trap, by category: LaTeX command names whose first letter is a YAML escape
(the answer silently holds a control character) and names whose first letter is not (the file cannot be
read).  Generated with hypothesis; a few end-to-end grades show the part's verdict and the fix."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examcheck.answers import sheet_from_text
from examcheck.latex_quotes import find_traps, repaired, trap_message
from examcheck.yamlio import InputError

ROOT = Path(__file__).resolve().parent.parent

# Escapes that produce a character no one types: any command name starting with these letters is a trap
CONTROL_LETTERS = ["a", "b", "f", "v", "e"]
# Real LaTeX commands starting with t, n, r, L, P (tab, newline, carriage return, line/paragraph separator)
WHITESPACE_COMMANDS = ["theta", "tau", "tanh", "times", "text", "tilde", "tfrac", "top", "nabla", "nu", "neq",
                       "not", "rho", "right", "rangle", "rfloor", "Lambda", "Leftarrow", "Pi", "Phi", "Psi"]
# Letters that are not YAML escapes (and not x/u/U): the file cannot be read at all
BAD_LETTERS = sorted(set(string.ascii_letters) - set("0abtnvfreNLPxuU_"))

tails = st.text(alphabet=string.ascii_letters, min_size=0, max_size=8)
around = st.sampled_from(["", "x ", "2", "1 + ", "\\\\cdot "])  # a doubled backslash is a literal one
after = st.sampled_from(["", "{1}{2}", "(z)", "_1", " x", "^2"])


def answer_file(inner: str) -> str:
    return f'student: s\nexam: seed000-quiz\nanswers:\n  q1:\n    i: "{inner}"\n'


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(CONTROL_LETTERS), tails, around, after)
def test_control_character_escapes_are_found_and_repaired(letter, tail, before, rest):
    command = letter + tail
    sheet = sheet_from_text(answer_file(f"{before}\\{command}{rest}"))
    value = sheet.problem_values["q1"].value["i"]
    traps = find_traps(value)
    assert traps and traps[0].command == "\\" + command
    meant = f"{before}\\{command}{rest}".replace("\\\\", "\\")
    assert repaired(value) == meant
    message = trap_message(value, 5)
    assert message.startswith("line 5: ") and f'"\\{command}"' in message and "single quotes" in message
    assert "'" + meant.replace("'", "''") + "'" in message  # the exact fix, ready to paste


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(WHITESPACE_COMMANDS), around, after)
def test_whitespace_escapes_are_found_when_they_complete_a_command(command, before, rest):
    sheet = sheet_from_text(answer_file(f"{before}\\{command}{rest}"))
    value = sheet.problem_values["q1"].value["i"]
    assert [t.command for t in find_traps(value)][:1] == ["\\" + command]
    assert repaired(value) == f"{before}\\{command}{rest}".replace("\\\\", "\\")


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(BAD_LETTERS), tails, around, after, st.integers(0, 3))
def test_unreadable_escapes_name_the_command_the_line_and_the_fix(letter, tail, before, rest, padding):
    command = letter + tail
    text = "# notes\n" * padding + answer_file(f"{before}\\{command}{rest}")
    with pytest.raises(InputError) as caught:
        sheet_from_text(text, "answers.yaml")
    error = caught.value
    assert error.line == 5 + padding
    assert f'"\\{command}"' in error.message and "single quotes" in error.message and "block scalar" in error.message
    assert str(error).startswith(f"answers.yaml:{5 + padding}:")


@pytest.mark.parametrize("inner", ["\\xi_1", "\\upsilon", "\\Upsilon", "\\frac{1}{\\sigma}"])
def test_hex_escapes_and_a_later_bad_escape(inner):
    with pytest.raises(InputError) as caught:
        sheet_from_text(answer_file(inner), "a.yaml")
    command = "\\" + inner.split("\\")[-1].split("_")[0].split("}")[0]
    assert f'"{command}"' in caught.value.message


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(CONTROL_LETTERS + WHITESPACE_COMMANDS + BAD_LETTERS), tails, after,
       st.sampled_from(["single", "block", "plain"]))
def test_latex_written_correctly_is_never_flagged(start, tail, rest, style):
    latex = f"\\{start}{tail}{rest}"
    if style == "single":
        line = f"    i: '{latex}'\n"
    elif style == "block":
        line = f"    i: |\n      {latex}\n      + \\{start}\n"
    else:
        line = f"    i: x + {latex}\n"
    text = "student: s\nexam: seed000-quiz\nanswers:\n  q1:\n" + line
    try:
        sheet = sheet_from_text(text)
    except InputError:
        return  # a plain scalar YAML refuses (e.g. a flow indicator): not this trap's business
    assert find_traps(sheet.problem_values["q1"].value["i"]) == []


def test_grading_reports_the_trap_on_the_part():
    from examcheck.engine import grade_sheet
    from examcheck.loader import load_sets

    sets = [s for s in load_sets([ROOT / "problems"]) if s.exam == "seed000-quiz"]
    sheet = sheet_from_text(answer_file("\\frac{e^{-z}}{(1+e^{-z})^2} x_i"), "ann.yaml")
    report = grade_sheet(sheet, sets)
    part = report.problems[0].parts[0]
    assert part.status == "invalid" and part.score == 0
    assert "form feed" in part.feedback and "'\\frac{e^{-z}}{(1+e^{-z})^2} x_i'" in part.feedback
    assert "line 5" in part.feedback and "unknown symbol" not in part.feedback
    # written in single quotes the same answer is correct
    fixed = sheet_from_text(answer_file("").replace('""', "'\\frac{e^{-z}}{(1+e^{-z})^2} x_i'"), "ann.yaml")
    assert grade_sheet(fixed, sets).problems[0].parts[0].status == "correct"
