"""Statements and prompts on the page: `$...$` as MathML, everything else escaped (blind test F3).

By category: any text (hypothesis, with LaTeX pieces and markup mixed in) becomes HTML whose only
elements are whitelisted MathML (or the <code> fallback), whose only attributes are whitelisted, and
whose visible text outside math is the input's; every statement and prompt of the bundled problem
sets renders with no segment left as raw LaTeX.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examcheck.web.texmath import ATTRIBUTES, TAGS, text_html

pytest.importorskip("latex2mathml")


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attrs, self.text_outside, self.depth = [], [], [], 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, name, value) for name, value in attrs]
        if tag in ("math", "code"):
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in ("math", "code"):
            self.depth -= 1

    def handle_data(self, data):
        if self.depth == 0:
            self.text_outside.append(data)


def _parse(html: str) -> _Collect:
    parser = _Collect()
    parser.feed(html)
    parser.close()
    return parser


PIECES = ["$", "$$", "\\$", "x", "^", "_", "{", "}", "\\frac{1}{2}", "\\sigma(z)", "\\text{<script>alert(1)</script>}",
          "\\href{javascript:alert(1)}{x}", "<b>", "&amp;", "&", "<", ">", '"', "'", "\\mathbb{E}", "\\begin{matrix}",
          "\\end{matrix}", "\\\\", " ", "\n", "é", "\u202e", "\\style{color:red}{x}", "\\color{red}", "\\unknowncommand",
          "\\sum_{i=1}^n", "\\sqrt{", "<math>", "</math>", "<mi onclick=x>"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PIECES) | st.text(max_size=3), max_size=20).map("".join))
def test_any_text_becomes_whitelisted_markup(text):
    html = text_html(text)
    parsed = _parse(html)
    assert set(parsed.tags) <= TAGS | {"code"}, html
    for tag, name, value in parsed.attrs:
        assert name in ATTRIBUTES or (tag, name) in (("math", "xmlns"), ("code", "class")), (tag, name, html)
        assert "javascript" not in (value or "").lower()
    assert "<script" not in html.lower() and "<b>" not in html


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="$\\"), max_size=60))
def test_text_without_math_is_only_escaped(text):
    html = text_html(text)
    parsed = _parse(html)
    assert parsed.tags == [] and "".join(parsed.text_outside) == text


def test_a_segment_latex2mathml_would_pass_markup_through_falls_back_to_escaped_source():
    html = text_html("see $\\text{<img src=x onerror=alert(1)>}$ here")
    assert "<img" not in html and "&lt;img" in html and '<code class="tex">' in html


def test_escaped_dollar_and_unpaired_dollar_stay_text():
    assert text_html("costs \\$5 and $x$").startswith("costs $5 and <math")
    assert text_html("a lone $ sign") == "a lone $ sign"


def test_every_bundled_statement_and_prompt_renders_as_math():
    from examcheck.loader import load_sets
    from tests.conftest import PROBLEMS

    segments = 0
    for problem_set in load_sets([PROBLEMS]):
        for problem in problem_set.problems:
            for text in [problem.statement, problem.title] + [part.prompt for part in problem.parts]:
                html = text_html(text or "")
                segments += html.count("<math")
                assert '<code class="tex">' not in html, (problem_set.exam, problem.id, text)
    assert segments >= 8


def test_the_page_cuts_math_where_substitution_and_paper_do():
    """One reading of `$...$` (math_spans): an escaped dollar inside math does not end it, and the text
    after an unclosed dollar is text, not italic maths."""

    html = text_html("$a \\$ b$ and unclosed $x^2")
    assert html.count("<math") == 1 and html.endswith(" and unclosed $x^2")
    assert "<mi>a</mi><mi>n</mi>" not in html


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["$", "$$", "\\$", "x", " ", "y^2", "\\frac{1}{2}"]), max_size=14).map("".join))
def test_math_segments_on_the_page_are_math_spans(text):
    from examcheck.math_spans import math_spans

    html = text_html(text)
    assert html.count("<math") + html.count('<code class="tex">') == len(math_spans(text))


def test_a_command_latex2mathml_does_not_know_is_shown_as_source():
    html = text_html("$\\unknowncmd{a}$")
    assert html == '<code class="tex">$\\unknowncmd{a}$</code>'
