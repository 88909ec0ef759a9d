"""`solve --format latex` is valid LaTeX: a strict checker (ASCII only, balanced braces and math, known
commands only, math commands only in math, matched environments) on hostile generated text and on every
bundled problem, and a real pdflatex run when a TeX engine is installed."""

import re
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examcheck.families import Step
from examcheck.render.latex import GREEK, MATH, tex
from examcheck.render.solutions import solution_latex
from examcheck.solving import PartSolution, ProblemSolution, solve_problem

TEXT_COMMANDS = {"subsection", "begin", "end", "item", "texttt", "textbf", "textit", "textbackslash",
                 "textasciicircum", "textasciitilde", "textless", "textgreater", "textbar", "textbullet", "S", "P",
                 "copyright", "pounds", "mbox", "par"}
MATH_COMMANDS = {m.lstrip("\\").split("{")[0] for m in MATH.values() if m.startswith("\\")} | set(GREEK.values())
ACCENT_SYMBOLS = set("'`^\"~")
ESCAPED_SYMBOLS = set("{}$&#%_| ")
ENVIRONMENTS = {"enumerate", "itemize"}
TOKEN = re.compile(r"\\([A-Za-z]+)|\\(.)|([{}$\[\]])|([^\\{}$\[\]]+)", re.S)


def check_latex(source: str) -> None:
    """Raise AssertionError describing the first way source is not valid LaTeX for pdflatex."""
    assert source.isascii(), [c for c in source if not c.isascii()][:5]
    assert all(c.isprintable() or c in "\n\t" for c in source)
    depth, math, envs = 0, False, []
    tokens = list(TOKEN.finditer(source))
    for i, m in enumerate(tokens):
        word, symbol, brace, _text = m.groups()
        if word is not None:
            if math:
                assert word in MATH_COMMANDS or word == "mathbf", f"\\{word} in math mode"
            else:
                assert word in TEXT_COMMANDS or word in {"c", "v"}, f"unknown or math-only command \\{word} in text"
            if word in ("begin", "end"):
                name = re.match(r"\{(\w+)\}", source[m.end():])
                assert name and name.group(1) in ENVIRONMENTS, source[m.start():m.end() + 20]
                if word == "begin":
                    envs.append(name.group(1))
                else:
                    assert envs and envs.pop() == name.group(1), "\\end without its \\begin"
            if word == "item":
                assert envs, "\\item outside a list"
        elif symbol is not None:
            assert symbol in ESCAPED_SYMBOLS or symbol in ACCENT_SYMBOLS or symbol == "\\" and False or \
                symbol in ESCAPED_SYMBOLS | ACCENT_SYMBOLS, f"unknown control symbol \\{symbol}"
            if symbol in ACCENT_SYMBOLS:
                assert not math and source[m.end()] == "{", "accent needs a braced letter in text"
        elif brace == "{":
            depth += 1
        elif brace == "}":
            depth -= 1
            assert depth >= 0, "unbalanced }"
        elif brace == "$":
            math = not math
            assert not (math and i + 1 < len(tokens) and tokens[i + 1].group(3) == "$"), "empty math $$"
    assert not re.search(r"[\^_]\{[^{}]*\}[\^_]", source), "double superscript or subscript"
    assert depth == 0, "unbalanced {"
    assert not math, "math mode left open"
    assert not envs, f"unclosed environments {envs}"


hostile = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)


@settings(max_examples=200, deadline=None)
@given(hostile)
def test_any_text_becomes_valid_latex(text):
    check_latex(tex(text))
    check_latex(r"\texttt{" + tex(text) + "}")


@settings(max_examples=100, deadline=None)
@given(hostile, hostile, hostile, hostile, hostile, st.lists(st.tuples(hostile, hostile), max_size=3))
def test_a_solution_with_hostile_text_renders_valid_latex(title, statement, prompt, answer, error, steps):
    sol = ProblemSolution("exam", "q1", title, statement, "cnn", [
        PartSolution("a", prompt, 1, "number", answer, [Step(t, m) for t, m in steps]),
        PartSolution("b", prompt, 1, "number", None, error=error or "x", rubric=[prompt])])
    check_latex(solution_latex(sol))


def test_escaping_is_done_once():
    assert tex("\\{x}") == r"\textbackslash{}\{x\}"
    assert tex("a_b^c") == r"a\_b\textasciicircum{}c"
    assert tex("σ(z)→∞") == r"$\sigma$(z)$\to\infty$"
    assert tex("f⁻¹(u), x₁₂") == r"f$^{-1}$(u), x$_{12}$"
    assert tex("50% & #1 $5") == r"50\% \& \#1 \$5"


def test_strict_checker_rejects_broken_latex():
    for bad in ["$x^{-}^{1}$", "\\texttt{σ}", "\\{x}}", "$\\sigma", "\\sigma", "\\item x", "\\begin{itemize}", "\\foo{}",
                "\\textbackslash\\{\\}" + "}"]:
        with pytest.raises(AssertionError):
            check_latex(bad)


def _all_solutions(sets):
    return "\n\n".join(solution_latex(solve_problem(s, p)) for s in sets for p in s.problems)


def test_every_bundled_solution_is_valid_latex(sets):
    check_latex(_all_solutions(sets))


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="no TeX engine installed")
def test_every_bundled_solution_compiles_with_pdflatex(sets, tmp_path):
    body = _all_solutions(sets)
    document = "\\documentclass{article}\n\\begin{document}\n" + body + "\n\\end{document}\n"
    (tmp_path / "solutions.tex").write_text(document, encoding="ascii")
    out = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "solutions.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-2000:]
    assert "Missing character" not in (tmp_path / "solutions.log").read_text(errors="replace")


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="no TeX engine installed")
def test_hostile_text_compiles_with_pdflatex(tmp_path):
    samples = ["σ′(z) = σ(z)(1 − σ(z)) ⇒ ¼", "\\{}$&#%_^~<>|\"", "f⁻¹(u) → ∞, x₁₂ ≥ ‖w‖²", "café naïve Ω ∂L/∂Wᵀ ⊙ ∇",
               "漢字 🙂 \u200b \u00a0 tab\tend", "}{", "$$", "\\end{document}", "⌊(n + 2p − k)/s⌋ + 1"]
    sol = ProblemSolution("exam", "q1", samples[0], "\n\n".join(samples), "cnn", [
        PartSolution("a", s, 1, "number", s, [Step(s, s)], rubric=[s]) for s in samples])
    body = solution_latex(sol)
    check_latex(body)
    (tmp_path / "h.tex").write_text("\\documentclass{article}\n\\begin{document}\n" + body + "\n\\end{document}\n",
                                    encoding="ascii")
    out = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "h.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-2000:]
