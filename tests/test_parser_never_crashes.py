"""Every entry point of the parser raises only ParseError (TooComplex is one) on any text:
random Unicode, and random mixes of the fragments the grammar reacts to."""

from __future__ import annotations

import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examcheck.domains import DomainError, parse_domain
from examcheck.parsing import (
    ParseError,
    Vocabulary,
    parse,
    parse_boolean,
    parse_expression,
    parse_list,
    parse_number,
    parse_shape,
)

VOCAB = Vocabulary({n: sp.Symbol(n, real=True) for n in ["x", "y", "w_1", "w_j", "n"]}, functions=frozenset({"f"}))
FRAGMENTS = list("xyn0123456789+-*/^()[]{},.;|%_ =<>'!&~") + [
    "\\frac", "\\left(", "\\right)", "\\right.", "\\sum_{k=1}^{3}", "\\sum_{j=1}^{n}", "\\mathbb{1}", "\\big(", "\\Bigr]",
    "\\begin{cases}", "\\end{cases}", "\\begin{bmatrix}", "\\end{bmatrix}", "\\\\", "\\text{if}", " if ", " else ",
    " otherwise", "\\lfloor", "\\rfloor", "\\lceil", "\\sqrt[3]", "\\sqrt", "^{-1}", "^{\\prime}", "\\sinh", "sigma",
    "w_{k+1}", "w_j", "\\overline{3}", "\\num{", "\\SI{", "}{\\percent}", "10^{", "\\,", "{,}", "\\times", "e-",
    "₂", "⁻", "²", "ᵗ", "١", "½", "∛", "±", "Σ", "⟨", "⟩", "∅", "ŷ", "ϵ", "…", "\u2009", "\u202f", "\\operatorname{clip}",
    "softplus", "erf", "logit", "\\in", "\\hat ", "\\binom", "\\pm", "percent", " nats", "\\infty", "1e-400", "0.(",
    ")...", "\\dot{", "f'", "f^{-1}", "H(", "\\emptyset",
]
texts = st.one_of(st.text(max_size=60), st.lists(st.sampled_from(FRAGMENTS), max_size=25).map("".join))
READERS = [lambda t: parse(t, VOCAB), lambda t: parse_expression(t, VOCAB), lambda t: parse_number(t, VOCAB),
           lambda t: parse_list(t, VOCAB), lambda t: parse_shape(t, VOCAB), parse_boolean]


@given(texts, st.sampled_from(range(len(READERS))))
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_only_parse_errors_escape(text, reader):
    try:
        READERS[reader](text)
    except ParseError:
        pass


@given(st.one_of(st.text(max_size=40), st.lists(st.sampled_from(list("xp0123456789<>=!≤≥≠∈()[], .-") +
                                                                ["inf", "\\infty", "\\le", "\\geq", "in", "nonzero",
                                                                 "integer", "positive"]), max_size=12).map("".join)))
@settings(max_examples=300, deadline=None)
def test_domains_raise_only_domain_errors(text):
    try:
        parse_domain(text)
    except DomainError:
        pass
