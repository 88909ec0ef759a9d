"""Finding 13.3: the paper's .tex keeps the instructor's $...$ math as math (a formula typesets), while
dangerous TeX inside it is neutralised and everything outside math is escaped as text."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from examcheck.render.latex import tex_with_math

DANGEROUS = ["input", "include", "write", "openout", "openin", "read", "catcode", "def", "edef", "gdef", "let",
             "immediate", "usepackage", "newcommand", "renewcommand", "csname", "special", "directlua",
             "documentclass", "end", "begin", "makeatletter", "expandafter", "shipout"]
PIECES = st.sampled_from([r"\frac{1}{2}", "x^{2}", r"\sigma(z)", "+", " ", "-1", "{", "}", "%", "#", "&", "^^5c",
                          "\\\\", "\n", "σ", "é", "_", "\\"] + ["\\" + d + "{/etc/passwd}" for d in DANGEROUS])


@settings(max_examples=200, deadline=None)
@given(st.lists(PIECES, max_size=12), st.lists(PIECES, max_size=6))
def test_no_dangerous_command_survives(inside, outside):
    text = "".join(outside) + " $" + "".join(inside).replace("$", "") + "$ " + "".join(outside)
    out = tex_with_math(text)
    for name in DANGEROUS:
        assert not re.search(r"\\" + name + r"(?![A-Za-z])", out), (text, out)
    assert "^^" not in out
    assert all(ord(c) < 127 for c in out)
    assert not re.search(r"(?<!\\)[%#&]", out), out          # no comment or parameter character in force
    depth = 0
    for c in re.sub(r"\\.", "", out):
        depth += {"{": 1, "}": -1}.get(c, 0)
        assert depth >= 0, out
    assert depth == 0, out


def test_formulas_typeset_and_text_is_escaped():
    out = tex_with_math(r"Let $f(x) = \frac{1}{2} x^{2} + (-1)$ for 50% of the {cases}, cost \$5.")
    assert out == r"Let $f(x) = \frac{1}{2} x^{2} + (-1)$ for 50\% of the \{cases\}, cost \$5."
    assert tex_with_math(r"$\input{/etc/passwd}$") == r"$\backslash\mathrm{input}{/etc/passwd}$"


# ----------------------------------------------------------------------------- findings 13.9 and 13.11

from examcheck.paper import file_stem, id_problem  # noqa: E402

IDS = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(IDS, IDS)
def test_file_names_differ_case_insensitively_and_never_start_with_a_dash(a, b):
    for student in (a, b):
        stem = file_stem(student)
        assert not stem.startswith(("-", ".")) and re.fullmatch(r"[A-Za-z0-9._-]+", stem)
        assert stem.split(".")[0].lower() not in {"con", "prn", "aux", "nul", "com1", "lpt1"}
    if a != b:
        assert file_stem(a).lower() != file_stem(b).lower()


def test_ids_that_cannot_be_used():
    assert id_problem("") and id_problem("   ") and id_problem("a\nb: 1") and "unprintable" in id_problem("a\tb")
    assert id_problem("x" * 201) and id_problem("alice") is None
    assert file_stem("alice") == "alice" and file_stem("Alice") != "Alice" and file_stem("-rf").startswith("rf-")
