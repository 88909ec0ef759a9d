"""Finding 13.14: a negative param in a statement or prompt must read as the math means.  Oracle: the prose
text, read as math by SymPy's own parser (test code only), equals the value of the same template substituted
as an expression (the path the keys take, which parenthesises negatives)."""

import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

from examcheck.variants import substitute

TEMPLATES = ["{a}^2", "2^{a}", "{a}*{b}", "{b}**2", "x - {a}", "3 + {a}", "{a}^{b}", "2*{a}", "{a}/{b}",
             "1 - {a}^2", "{a} + {b}", "-{a}", "{a}*{a}*{b}"]
NUMBERS = st.one_of(st.integers(-9, 9), st.sampled_from([-0.5, -0.3, -2.5, 0.25, 1.5, -1e-05]))


def _math(text: str):
    return parse_expr(text.replace("×", "*"), transformations=(*standard_transformations, convert_xor),
                      local_dict={"x": sp.Symbol("x")})


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(TEMPLATES), NUMBERS, NUMBERS.filter(lambda v: v != 0))
def test_prose_reads_as_the_key_computes(template, a, b):
    params = {"a": a, "b": b}
    prose = substitute({"statement": template}, params)["statement"]
    key = substitute({"reference": "(" + template + ")"}, params)["reference"]
    key_text = key if isinstance(key, str) else str(key)
    if isinstance(prose, str):
        assert "--" not in prose and "+-" not in prose.replace(" ", "") and "*-" not in prose.replace(" ", "")
        read, keyed = _math(prose), _math(key_text)  # 0^(-1) is zoo both ways, and zoo - zoo is nan
        assert read == keyed or sp.simplify(read - keyed) == 0, (template, params, prose, key_text)


def test_finding_13_14_statement():
    text = substitute({"statement": "x0 = {x0}, r = {r}; compute {x0}^2 and 2^{x0} and {r}*{r}"},
                      {"x0": -2, "r": -0.3})["statement"]
    assert text == "x0 = -2, r = -0.3; compute (-2)^2 and 2^(-2) and (-0.3)*(-0.3)"


def test_math_segments_brace_exponents_and_parenthesise_after_operators():
    text = substitute({"prompt": r"Let $f(x) = \frac{1}{2} x^{2} + {x0}$; $2^{x0}$, $x^{n}$ at x = {x0}"},
                      {"x0": -1, "n": 12})["prompt"]
    assert text == r"Let $f(x) = \frac{1}{2} x^{2} + (-1)$; $2^{-1}$, $x^{12}$ at x = -1"
