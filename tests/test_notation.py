"""Notation the parser reads, by category, with generated inputs: piecewise definitions and indicators,
delimiter sizes, floor/ceil brackets, n-th roots, primes, accents, ε, Greek letters with subscripts,
Unicode scripts, sums (index arithmetic, nested, symbolic limits), a minus before a bracket, inverse
functions, the DL functions, construction without domain-changing simplification, domain words, and
the "as read" display.  Values are checked against tests/exactish.py (exact / mpmath) at points."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from examcheck.domains import parse_domain
from examcheck.mathfuncs import sigma
from examcheck.parsing import ParseError, Vocabulary, parse_expression
from examcheck.values import show
from tests import exactish

FAST = settings(max_examples=80, deadline=None)
x, y, z, n = sp.symbols("x y z n", real=True)
GREEK = ["alpha", "beta", "gamma", "delta", "epsilon", "eta", "theta", "lambda", "mu", "rho", "sigma", "tau", "phi",
         "omega"]
GREEK_CHAR = dict(zip(GREEK, "αβγδεηθλμρστφω"))
NAMES = ["x", "y", "z", "w_1", "w_2", "w_3", "w_4", "w_5", "x_1", "x_2", "x_3", "x_4", "x_5", "eta", "epsilon", "y_hat"]
VOCAB = Vocabulary({name: sp.Symbol(name, real=True) for name in NAMES}, functions=frozenset({"f", "g"}))
S = VOCAB.symbols
SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
SIZES = [f"\\{size}{side}" for size in ("big", "Big", "bigg", "Bigg") for side in ("", "l", "r", "m")]


def points(k: int = 6, low: int = -6, high: int = 6):
    rng = random.Random(k * 7919 + low)
    return [{name: Fraction(rng.randint(low * 100, high * 100), rng.choice([7, 10, 13, 100])) for name in NAMES}
            for _ in range(k)]


def equal_as_functions(a, b, pts=None) -> bool:
    return all(exactish.same(exactish.outcome(a, p), exactish.outcome(b, p)) for p in pts or points())


def read(text: str):
    return parse_expression(text, VOCAB)


# ------------------------------------------------------------------ piecewise definitions and indicators

conditions = st.tuples(st.sampled_from([">", ">=", "<", "<="]), st.integers(-4, 4))
REL_LATEX = {">": [">", "\\gt"], ">=": ["\\geq", "\\ge", ">=", "\\geqslant"], "<": ["<", "\\lt"],
             "<=": ["\\leq", "\\le", "<=", "\\leqslant"]}
REL_PLAIN = {">": [">"], ">=": [">=", "≥"], "<": ["<"], "<=": ["<=", "≤"]}
NEGATE = {">": "<=", ">=": "<", "<": ">=", "<=": ">"}
RELATION = {">": sp.Gt, ">=": sp.Ge, "<": sp.Lt, "<=": sp.Le}


def threshold_points(c: int):
    pts = points()
    for v in (c, c - Fraction(1, 1000), c + Fraction(1, 1000)):
        p = dict(pts[0])
        p["x"] = Fraction(v)
        pts.append(p)
    return pts


@given(conditions, st.integers(-9, 9), st.integers(-9, 9), st.data())
@FAST
def test_cases_environments(cond, a, b, data):
    op, c = cond
    rel = data.draw(st.sampled_from(REL_LATEX[op]))
    first = data.draw(st.sampled_from([f"x {rel} {c}", f"\\text{{if }} x {rel} {c}", f"\\text{{for }} x {rel} {c}",
                                       f"\\text{{if}}\\ x {rel} {c}"]))
    negated = data.draw(st.sampled_from(REL_LATEX[NEGATE[op]]))
    other = data.draw(st.sampled_from(["\\text{otherwise}", "\\text{else}", f"x {negated} {c}", "\\text{otherwise.}",
                                       "\\text{o.w.}"]))
    comma = data.draw(st.sampled_from(["", ",", ", "]))
    env = data.draw(st.sampled_from(["cases", "dcases"]))
    text = f"\\begin{{{env}}} {a}x{comma} & {first} \\\\ {b}{comma} & {other} \\end{{{env}}}"
    want = sp.Piecewise((a * x, RELATION[op](x, c)), (b, True))
    assert equal_as_functions(read(text), want, threshold_points(c)), text


@given(conditions, st.integers(-9, 9), st.integers(-9, 9), st.data())
@FAST
def test_plain_if_else_piecewise(cond, a, b, data):
    op, c = cond
    rel = data.draw(st.sampled_from(REL_PLAIN[op]))
    text = data.draw(st.sampled_from([
        f"{a}*x if x {rel} {c} else {b}", f"{a}x if x {rel} {c}, {b} otherwise", f"{a}x for x {rel} {c}; {b} otherwise",
        f"{a}x if x {rel} {c}, otherwise {b}", f"{a}x, if x {rel} {c}; {b}, otherwise", f"({a}x if x {rel} {c} else {b})",
        f"{{{a}x if x {rel} {c}; {b} otherwise}}"]))
    want = sp.Piecewise((a * x, RELATION[op](x, c)), (b, True))
    assert equal_as_functions(read(text), want, threshold_points(c)), text


@given(conditions, st.data())
@FAST
def test_indicator_functions(cond, data):
    op, c = cond
    rel = data.draw(st.sampled_from(REL_LATEX[op]))
    text = data.draw(st.sampled_from([f"\\mathbb{{1}}[x {rel} {c}]", f"\\mathbb{{1}}_{{x {rel} {c}}}",
                                      f"\\mathbf{{1}}\\{{x {rel} {c}\\}}", f"1_{{x {rel} {c}}}", f"1(x {rel} {c})",
                                      f"\\mathbb{{1}}\\left[x {rel} {c}\\right]", f"𝟙[x {rel} {c}]",
                                      f"\\mathbb{{1}}\\{{x {rel} {c}\\}}", f"[x {rel} {c}]"]))
    want = sp.Piecewise((1, RELATION[op](x, c)), (0, True))
    assert equal_as_functions(read(text) * y, want * y, threshold_points(c)), text


@given(st.integers(-5, 0), st.integers(1, 5), st.sampled_from(["[{a}, {b}]", "[{a}, {b})", "({a}, {b}]", "({a}, {b})"]))
@FAST
def test_conditions_with_intervals_and_chains(a, b, form):
    interval = form.format(a=a, b=b)
    want = sp.Piecewise((1, sp.And((x >= a) if interval[0] == "[" else (x > a), (x <= b) if interval[-1] == "]" else (x < b))),
                        (0, True))
    pts = threshold_points(a) + threshold_points(b)
    assert equal_as_functions(read(f"1 if x \\in {interval} else 0"), want, pts)
    low = "\\le" if interval[0] == "[" else "<"
    high = "\\le" if interval[-1] == "]" else "<"
    assert equal_as_functions(read(f"\\mathbb{{1}}[{a} {low} x {high} {b}]"), want, pts)


# ------------------------------------------------------------------ delimiters, brackets, roots, fractions


@given(st.sampled_from(SIZES), st.sampled_from([("(", ")"), ("[", "]"), ("\\{", "\\}"), ("|", "|")]), st.integers(1, 9))
@FAST
def test_every_delimiter_size(size, brackets, k):
    left, right = brackets
    close = size.replace("l", "r") if size.endswith("l") else size
    text = f"{k} {size}{left} x - y {close}{right}"
    want = k * (sp.Abs(x - y) if left == "|" else (x - y))
    assert equal_as_functions(read(text), want), text


@given(st.sampled_from(["\\lfloor {} \\rfloor", "\\left\\lfloor {} \\right\\rfloor", "⌊{}⌋", "floor({})",
                        "\\operatorname{{floor}}({})"]),
       st.sampled_from(["\\lceil {} \\rceil", "\\left\\lceil {} \\right\\rceil", "⌈{}⌉", "ceil({})", "ceiling({})"]),
       st.integers(1, 9))
@FAST
def test_floor_and_ceil_brackets(floor_form, ceil_form, k):
    text = floor_form.format(f"x/{k}") + " + " + ceil_form.format(f"y/{k}")
    want = sp.floor(x / k) + sp.ceiling(y / k)
    assert equal_as_functions(read(text), want), text


@given(st.integers(2, 7), st.integers(-50, 50))
@FAST
def test_nth_roots_are_real_roots(index, value):
    got = read(f"\\sqrt[{index}]{{{value}}}")
    if index % 2 == 0 and value < 0:
        return
    want = (1 if value >= 0 else -1) * abs(value) ** (1 / index)
    assert abs(float(got) - want) < 1e-9 * max(1, abs(want))
    cube = read("\\sqrt[3]{x^3}")
    assert equal_as_functions(cube, x)


@given(st.sampled_from(["\\frac", "\\dfrac", "\\tfrac", "\\cfrac"]), st.integers(1, 9), st.integers(1, 9))
@FAST
def test_fraction_commands(frac, a, b):
    assert equal_as_functions(read(f"{frac}{{{a}}}{{{b} + {frac}{{x}}{{y}}}}"), sp.Integer(a) / (b + x / y))


@given(st.sampled_from(["-\\left[x + y\\right]", "-\\Big[x + y\\Big]", "-\\bigg[x + y\\bigg]", "-[x + y]",
                        "-\\left(x + y\\right)", "-\\{x + y\\}", "- \\Bigl( x + y \\Bigr)"]))
def test_a_minus_before_a_bracket(text):
    assert equal_as_functions(read(text), -(x + y))


# ------------------------------------------------------------------ names: primes, accents, ε, Greek, scripts


@given(st.integers(1, 3), st.sampled_from(["{}^{{{}}}", "{}^{}", "{}"]))
@FAST
def test_primes(order, form):
    primes = ["'" * order, "\\prime" * order, "{" + "\\prime" * order + "}"]
    for spelled in primes:
        text = f"f^{spelled}(x)" if "prime" in spelled else f"f{spelled}(x)"
        got = read(text)
        assert isinstance(got, sp.Subs) and got.expr.derivative_count == order, text


@given(st.sampled_from(["\\hat y", "\\hat{y}", "\\widehat{y}", "ŷ", "\\hat{ y }"]))
def test_hats_with_and_without_braces(text):
    assert read(text) == S["y_hat"]


@given(st.sampled_from(["\\epsilon", "\\varepsilon", "ε", "ϵ", "epsilon"]), st.integers(1, 9))
def test_every_epsilon_is_the_declared_epsilon(spelled, k):
    assert read(f"\\frac{{\\eta m}}{{{k} + {spelled}}}".replace("m}", "}")) == S["eta"] / (k + S["epsilon"])


@given(st.sampled_from(GREEK), st.integers(0, 12), st.integers(0, 3))
@FAST
def test_greek_letters_with_subscripts(letter, index, style):
    name = f"{letter}_{index}"
    vocab = Vocabulary({name: sp.Symbol(name, real=True)})
    spelled = [f"\\{letter}_{index}" if index < 10 else f"\\{letter}_{{{index}}}", f"\\{letter}_{{{index}}}",
               GREEK_CHAR[letter] + str(index).translate(SUB), f"{letter}_{index}" if index < 10 else f"{letter}_{{{index}}}"]
    assert parse_expression(spelled[style], vocab) == vocab.symbols[name]


@given(st.integers(1, 5), st.integers(2, 25))
@FAST
def test_unicode_sub_and_superscripts(k, power):
    got = read(f"w{str(k).translate(SUB)}{str(power).translate(SUP)} + x{str(k).translate(SUB)}")
    assert got == S[f"w_{k}"] ** power + S[f"x_{k}"]
    assert read("10" + str(-power).translate(SUP)) == sp.Rational(1, 10 ** power)


@given(st.sampled_from(list("٠١٢٣٤٥٦٧٨٩")) | st.sampled_from(list("０１２３４５６７８９")) | st.sampled_from(list("۰۱۲۳۴۵۶۷۸۹")))
def test_unicode_digits(digit):
    import unicodedata

    assert equal_as_functions(read(f"{digit}{digit} x"), 11 * unicodedata.decimal(digit) * x)


# ------------------------------------------------------------------ sums


SUM_HEADS = ["\\sum_{{k={a}}}^{{{b}}}", "\\sum\\limits_{{k={a}}}^{{{b}}}", "\\sum^{{{b}}}_{{k={a}}}", "sum_{{k={a}}}^{{{b}}}",
             "∑_{{k={a}}}^{{{b}}}", "Σ_{{k={a}}}^{{{b}}}"]


@given(st.integers(0, 3), st.integers(0, 2), st.sampled_from(SUM_HEADS),
       st.integers(0, 2))
@FAST
def test_sums_with_index_arithmetic(low, length, head, shift):
    high = min(low + length, 5 - shift)
    low = min(low, high)
    low = max(low, 1 - shift)
    if low > high:
        return
    sub = "k" if shift == 0 else f"k+{shift}"
    text = head.format(a=low, b=high) + f" w_{{{sub}}} x_{{{sub}}}"
    want = sum(S[f"w_{k + shift}"] * S[f"x_{k + shift}"] for k in range(low, high + 1))
    assert sp.expand(read(text) - want) == 0, text


@given(st.integers(1, 3), st.integers(1, 3))
@FAST
def test_nested_sums(a, b):
    got = read(f"\\sum_{{i=1}}^{{{a}}}\\sum_{{j=1}}^{{{b}}} w_i x_j")
    want = sum(S[f"w_{i}"] * S[f"x_{j}"] for i in range(1, a + 1) for j in range(1, b + 1))
    assert sp.expand(got - want) == 0


@given(st.integers(0, 3), st.integers(0, 2))
@FAST
def test_sums_with_a_symbolic_upper_limit(power, low):
    vocab = Vocabulary({"n": sp.Symbol("n", integer=True, positive=True)})
    m = vocab.symbols["n"]
    got = parse_expression(f"\\sum_{{i={low}}}^{{n}} i^{{{power}}}", vocab)
    for value in range(low, 8):
        assert got.subs(m, value) == sum(i ** power for i in range(low, value + 1))
    w_vocab = Vocabulary({"m": sp.Symbol("m", integer=True, positive=True), "w_j": sp.Symbol("w_j", real=True)})
    summed = parse_expression("\\sum_{j=1}^{m} w_{j+1}", w_vocab)
    assert isinstance(summed, sp.Sum) and summed.function == sp.Indexed(sp.IndexedBase("w"), sp.Symbol("j", integer=True) + 1)


# ------------------------------------------------------------------ inverse functions and the DL functions

INVERSE_SPELLINGS = {
    "asinh": ["\\sinh^{-1}({})", "sinh^-1({})", "\\operatorname{arsinh}({})", "arcsinh({})", "asinh({})"],
    "atanh": ["\\tanh^{-1}({})", "tanh^(-1)({})", "\\operatorname{artanh}({})", "arctanh({})", "atanh({})"],
    "logit": ["\\sigma^{-1}({})", "σ^{-1}({})", "\\operatorname{logit}({})", "logit({})", "sigmoid^-1({})"],
    "atan": ["\\tan^{-1}({})", "\\arctan({})", "arctan({})"], "asin": ["\\sin^{-1}({})", "\\arcsin({})"],
}
INVERSE = {"asinh": sp.asinh, "atanh": sp.atanh, "logit": lambda a: sp.log(a / (1 - a)), "atan": sp.atan,
           "asin": sp.asin}


@given(st.sampled_from(sorted(INVERSE_SPELLINGS)), st.data(), st.integers(2, 9))
@FAST
def test_inverse_function_notation_is_the_inverse(name, data, k):
    form = data.draw(st.sampled_from(INVERSE_SPELLINGS[name]))
    got = read(form.replace("{}", f"x/{k}"))
    pts = [{**p, "x": p["x"] / 8} for p in points()]
    assert equal_as_functions(got, INVERSE[name](x / k), pts), form


@given(st.sampled_from(["\\sinh", "\\tanh", "\\sin", "\\cos", "\\sigma"]), st.integers(2, 4))
@FAST
def test_a_positive_power_of_a_function_stays_a_power(fn, power):
    got = read(f"{fn}^{{{power}}}(x)")
    base = {"\\sinh": sp.sinh, "\\tanh": sp.tanh, "\\sin": sp.sin, "\\cos": sp.cos, "\\sigma": sigma}[fn](x)
    assert equal_as_functions(got, base ** power)


def test_the_inverse_of_a_declared_function_is_not_a_reciprocal():
    got = read("f^{-1}(x)")
    assert got.func.__name__ == "f^-1" and got.args == (x,)
    assert "f⁻¹(x)" in show(got)
    with pytest.raises(ParseError):
        read("\\max^{-1}(x)")


DL = {"softplus({})": lambda a: sp.log(1 + sp.exp(a)), "\\operatorname{softplus}({})": lambda a: sp.log(1 + sp.exp(a)),
      "erf({})": sp.erf, "\\mathrm{erf}({})": sp.erf, "erfc({})": sp.erfc, "logit({})": lambda a: sp.log(a / (1 - a)),
      "artanh({})": sp.atanh, "clip({}, -1, 2)": lambda a: sp.Min(sp.Max(a, -1), 2),
      "\\operatorname{clip}({}, 0, 1)": lambda a: sp.Min(sp.Max(a, 0), 1), "sin({})": sp.sin, "\\cos {}": sp.cos,
      "hardtanh({})": lambda a: sp.Min(sp.Max(a, -1), 1), "relu({})": lambda a: sp.Max(a, 0),
      "\\max(0, {})": lambda a: sp.Max(a, 0), "abs({})": sp.Abs, "sign({})": sp.sign, "H({})": sp.Heaviside,
      "Heaviside({})": sp.Heaviside, "\\exp({})": sp.exp, "\\log_2({})": lambda a: sp.log(a) / sp.log(2),
      "\\log_{10}({})": lambda a: sp.log(a) / sp.log(10), "gelu({})": lambda a: a * (1 + sp.erf(a / sp.sqrt(2))) / 2,
      "\\tanh({})": sp.tanh, "sigma({})": sigma}


@given(st.sampled_from(sorted(DL)), st.integers(1, 9))
@FAST
def test_dl_functions(form, k):
    with_argument = "({})" in form
    got = read(form.replace("{}", f"x/{k}" if with_argument else "x"))
    want = DL[form](x / k if with_argument else x)
    assert equal_as_functions(got, want), form


# ------------------------------------------------------------------ construction keeps the domain


@pytest.mark.parametrize("text, undefined_at", [
    ("exp(log(x))", -1), ("e^{\\ln x}", -2), ("(\\sqrt{x})^2", -3), ("(√x)²", -1), ("log(x) - log(x) + 1", -1),
    ("x/x", 0), ("\\frac{x^2}{x}", 0), ("\\sqrt{x}\\sqrt{x}", -4),
])
def test_construction_keeps_the_domain_as_written(text, undefined_at):
    got = read(text)
    p = {**points()[0], "x": Fraction(undefined_at)}
    assert exactish.outcome(got, p) == "undefined", (text, got)
    q = {**points()[0], "x": Fraction(5, 2)}
    assert exactish.outcome(got, q) != "undefined"


@given(st.integers(-9, 9).filter(bool))
@FAST
def test_log_of_exp_stays_as_written(k):
    got = read(f"\\log(e^{{{k}x}})")
    assert got.has(sp.exp) or got.has(sp.E)
    assert equal_as_functions(got, k * x)


# ------------------------------------------------------------------ domain words


@given(st.integers(-9, 8), st.integers(1, 9), st.booleans(), st.booleans(), st.integers(0, 3))
@FAST
def test_interval_domains(low, width, closed_low, closed_high, style):
    high = low + width
    left, right = "[" if closed_low else "(", "]" if closed_high else ")"
    rel_low, rel_high = ("<=" if closed_low else "<"), ("<=" if closed_high else "<")
    text = [f"{left}{low}, {high}{right}", f"{low} {rel_low} x {rel_high} {high}", f"x in {left}{low}, {high}{right}",
            f"x ∈ {left}{low}, {high}{right}"][style]
    d = parse_domain(text)
    assert d.contains(low) == closed_low and d.contains(high) == closed_high
    assert d.contains(low + width / 2) and not d.contains(high + 1) and not d.contains(low - 1)
    rng = random.Random(low)
    assert all(d.contains(d.sample(rng)) and d.contains(d.sample_wide(rng)) for _ in range(20))


@pytest.mark.parametrize("text, inside, outside", [
    ("nonzero", [-5, 3, 1e6], [0]), ("x != 0", [-1e-6, 2], [0]), ("x ≠ 0", [7], [0]), ("non-zero", [1], [0]),
    ("negative", [-1, -1e6], [0, 1]), ("nonnegative", [0, 5e5], [-1]), ("non-negative", [0], [-0.5]),
    ("x >= 0", [0, 3], [-1]), ("x \\geq 0", [0], [-2]), ("x > 2", [2.5, 1e5], [2, 1]), ("0 < x", [1], [0]),
    ("positive integer", [1, 7, 1000], [0, 1.5, -1]), ("natural number", [3], [0]), ("real", [-1e9, 0, 1e9], []),
    ("[0, \\infty)", [0, 1e8], [-1]), ("probability", [0.5], [0, 1]), ("nonzero integer", [-3, 2], [0, 0.5]),
])
def test_domain_words(text, inside, outside):
    d = parse_domain(text)
    assert all(d.contains(v) for v in inside) and not any(d.contains(v) for v in outside)
    rng = random.Random(0)
    assert all(d.contains(d.sample(rng)) for _ in range(30))
    assert all(d.contains(d.sample_wide(rng)) for _ in range(30))


def test_nonzero_domains_give_nonzero_symbols():
    assert parse_domain("nonzero").symbol("x").is_nonzero
    assert parse_domain("x != 0").symbol("x").is_zero is False


# ------------------------------------------------------------------ display: as read, names intact


@given(st.sampled_from(sorted({"floor", "ceil", "softplus", "erf", "logit", "sign", "Heaviside", "atanh", "asinh", "clip",
                               "cos", "sin", "exp", "abs", "hardtanh", "sqrt", "log"})))
def test_the_display_never_corrupts_a_name(name):
    text = f"{name}(x, 0, 1)" if name in ("clip",) else f"{name}(x)"
    shown = show(read(text))
    assert "∞" not in shown and "fl∞r" not in shown
    assert "oo" not in shown.replace("floor", "")


@given(st.integers(1000, 10 ** 9), st.sampled_from([" ", "\u2009", "\\,", "{,}", ","]))
@FAST
def test_numbers_are_shown_as_read(value, sep):
    from examcheck.parsing import parse_list, parse_number

    digits = str(value)
    head = len(digits) % 3 or 3
    grouped = sep.join([digits[:head]] + [digits[i:i + 3] for i in range(head, len(digits), 3)])
    assert show(parse_number(grouped)) == digits
    if sep != ",":  # '[12,345, 1]' mixes a thousands comma with entry commas: refused (two readings)
        assert show(parse_list(f"[{grouped}, 1]")) == f"[{digits}, 1]"


def test_readable_sets_piecewise_and_inverses():
    from examcheck.parsing import parse_list

    assert show(parse_list("{3, 5, 3}")) == "{3, 5, 3}"
    assert show(read("x if x > 0 else 0")) == "{x if x > 0; 0 otherwise}"
    assert show(read("\\tanh^{-1}(x)")) == "tanh⁻¹(x)"
    assert show(read("\\lfloor x \\rfloor")) == "⌊x⌋"
