"""The one number reader, by category with generated inputs: random values in random spellings read
back to the same exact value AND the same written precision (decimals, significant figures), alone,
inside vectors/matrices/tuples/sets, and as shapes; ambiguous spellings are refused with both readings."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from examcheck.parsing import ParseError, WrittenNumber, WrittenSet, parse_list, parse_number, parse_shape

FAST = settings(max_examples=200, deadline=None)
SUPERSCRIPT = str.maketrans("0123456789-+", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺")
DIGIT_SCRIPTS = [str.maketrans("0123456789", "".join(chr(base + i) for i in range(10)))
                 for base in (0xFF10, 0x0660, 0x06F0, 0x0966, 0x1D7CE)]


@dataclass(frozen=True)
class Written:
    negative: bool
    whole: str          # digits before the decimal mark ('' for .5)
    frac: str           # digits after it
    exponent: int | None
    percent: bool

    @property
    def value(self) -> sp.Rational:
        v = Fraction(int(self.whole + self.frac or "0"), 10 ** len(self.frac)) * Fraction(10) ** (self.exponent or 0)
        v = -v if self.negative else v
        if self.percent:
            v /= 100
        return sp.Rational(v.numerator, v.denominator)

    @property
    def decimals(self) -> int:
        return len(self.frac) - (self.exponent or 0) + (2 if self.percent else 0)

    @property
    def sigfigs(self) -> int:
        return max(len((self.whole + self.frac).lstrip("0")), 1)


whole_parts = st.one_of(st.just("0"), st.integers(1, 10 ** 9).map(str))
written_numbers = st.builds(Written, st.booleans(), whole_parts, st.text("0123456789", max_size=6),
                            st.one_of(st.none(), st.integers(-40, 40)), st.booleans())


def group(digits: str, sep: str) -> str:
    head = len(digits) % 3 or 3
    return sep.join([digits[:head]] + [digits[i:i + 3] for i in range(head, len(digits), 3)])


def spell(w: Written, draw) -> str:
    """One of the common spellings of w, chosen by hypothesis."""
    whole, frac = w.whole, w.frac
    mark = "."
    if len(whole) > 3 and draw(st.booleans()):
        sep = draw(st.sampled_from([",", " ", "\u2009", "\u202f", "\\,", "{,}", "~", "'", "\u00a0"]))
        if sep == " " and draw(st.booleans()):
            mark = draw(st.sampled_from([".", ","]))  # ISO: 1 234,5
        whole = group(whole, sep)
        if sep == "," and not frac:
            mark = "."
    elif frac and draw(st.booleans()) and (len(frac) != 3 or whole == "0" or len(whole) > 3):
        mark = ",", "{,}"  # a decimal comma where it cannot be a thousands separator
        mark = draw(st.sampled_from(mark))
    elif len(whole) > 6 and draw(st.booleans()) and frac:
        whole, mark = group(whole, "."), ","  # European 1.234.567,89
    mantissa = whole + (mark + frac if frac else "")
    if not frac and draw(st.booleans()) and whole != "0":
        mantissa = whole + "."  # '12.' : a trailing point
    text = mantissa
    if w.exponent is not None:
        e = w.exponent
        form = draw(st.integers(0, 10))
        text += [f"e{e}", f"E{e:+d}", f"×10^{e}", f" x 10^{e}", f"*10^({e})", f" \\times 10^{{{e}}}",
                 f"\\,\\times\\,10^{{{e}}}", f" \\cdot 10^{{{e}}}", f"*10**{e}", "·10" + str(e).translate(SUPERSCRIPT),
                 f"\\times10^{{({e})}}"][form]
    if w.percent:
        text += draw(st.sampled_from(["%", "\\%", " percent", " %"]))
    if w.negative:
        text = draw(st.sampled_from(["-", "−", "- "])) + text
    if w.exponent is None and not w.percent and "\\" not in text and draw(st.integers(0, 4)) == 0:
        text = text.translate(draw(st.sampled_from(DIGIT_SCRIPTS)))
    wrapper = draw(st.integers(0, 6))
    if wrapper == 1 and "\\" not in text and "10" not in text[len(mantissa):] and not w.percent:
        text = f"\\num{{{text}}}"
    elif wrapper == 2:
        text = f"${text}$"
    elif wrapper == 3:
        text = f"≈ {text}"
    return text


def same_precision(got: WrittenNumber, w: Written):
    assert got.value == w.value
    assert got.decimals == w.decimals
    assert got.sigfigs == w.sigfigs


@given(written_numbers, st.data())
@FAST
def test_every_spelling_reads_back_to_the_same_value_and_precision(w, data):
    text = spell(w, data.draw)
    got = parse_number(text)
    same_precision(got, w)
    again = parse_number(got.shown)  # the text "as read" reads back identically
    assert (again.value, again.decimals, again.sigfigs) == (got.value, got.decimals, got.sigfigs), got.shown
    assert " " not in got.shown and "," not in got.shown


@given(st.integers(1, 10 ** 12), st.sampled_from([" ", "\u2009", "\u202f", "\\,", "{,}", ",", "~"]))
@FAST
def test_digit_groups_are_one_number_never_a_product(n, sep):
    text = group(str(n), sep)
    got = parse_number(text)
    assert got.value == n and got.shown == str(n)
    if len(str(n)) > 3:
        assert parse_shape(f"{text} x 7") == (n, 7)


@given(st.integers(1, 999), st.integers(1, 99).filter(lambda k: k % 10), st.sampled_from([" ", "\u2009"]))
@FAST
def test_groups_of_the_wrong_size_name_both_readings(head, tail, sep):
    text = f"{head}{sep}{tail}"  # '12 34': not a digit grouping, so 1234 and 12·34 stay plausible
    with pytest.raises(ParseError) as info:
        parse_number(text)
    message = str(info.value)
    assert f"{head}{tail}" in message and "two readings" in message


@given(st.integers(0, 999), st.text("0123456789", min_size=1, max_size=4), st.text("0123456789", min_size=1, max_size=3))
@FAST
def test_repeating_decimals_are_exact(whole, head, period):
    period = period if period.strip("0") else "3"
    exact = Fraction(int(str(whole) + head), 10 ** len(head)) + Fraction(int(period), (10 ** len(period) - 1) * 10 ** len(head))
    for text in (f"{whole}.{head}\\overline{{{period}}}", f"{whole}.{head}{period * 3}...", f"{whole}.{head}{period * 2}…"):
        got = parse_number(text)
        if text.endswith(("...", "…")) and got.value != exact:
            continue  # '0.1333...' may also be read with a shorter head: the value must then still be the same number
        assert got.value == sp.Rational(exact.numerator, exact.denominator), text
        assert got.exact
    got = parse_number(f"{whole}.({period})")
    assert got.value == sp.Rational(whole) + sp.Rational(int(period), 10 ** len(period) - 1)


@given(st.integers(1, 9), st.integers(-12, 12), st.sampled_from(["10^{%d}", "10^%d", "10**%d", "10^(%d)"]))
@FAST
def test_bare_powers_of_ten_are_exact(digit, power, form):
    got = parse_number(form % power)
    assert got.value == sp.Rational(10) ** power and got.exact
    got = parse_number("10" + str(power).translate(SUPERSCRIPT))
    assert got.value == sp.Rational(10) ** power


# ------------------------------------------------------------------ structures keep each entry's precision

entries = st.builds(Written, st.booleans(), st.one_of(st.just("0"), st.integers(1, 999).map(str)),
                    st.text("0123456789", min_size=1, max_size=4), st.one_of(st.none(), st.integers(-9, 9)),
                    st.just(False))


def entry_text(w: Written, latex: bool) -> str:
    text = w.whole + "." + w.frac
    if w.exponent is not None:
        text += f" \\times 10^{{{w.exponent}}}" if latex else f"e{w.exponent}"
    return ("-" if w.negative else "") + text


@given(st.lists(entries, min_size=1, max_size=6), st.sampled_from(["[{}]", "({})", "⟨{}⟩", "\\langle {} \\rangle",
                                                                   "\\left[{}\\right]", "{}"]),
       st.sampled_from([", ", ",", "; ", " ,  "]))
@FAST
def test_vectors_keep_the_precision_of_each_entry(ws, brackets, sep):
    if len(ws) == 1 and brackets == "{}":
        brackets = "[{}]"
    got = parse_list(brackets.format(sep.join(entry_text(w, "\\" in brackets) for w in ws)))
    assert len(got) == len(ws)
    for entry, w in zip(got, ws):
        assert isinstance(entry, WrittenNumber)
        same_precision(entry, w)


@given(st.lists(entries, min_size=2, max_size=6))
@FAST
def test_numpy_printed_vectors_are_vectors(ws):
    ws = [Written(False, w.whole, w.frac, None, False) for w in ws]
    got = parse_list("[" + "  ".join(entry_text(w, False) for w in ws) + "]")
    assert [e.value for e in got] == [w.value for w in ws]
    assert [e.decimals for e in got] == [w.decimals for w in ws]


@given(st.integers(1, 4), st.integers(1, 4), st.data())
@FAST
def test_matrices_keep_the_precision_of_each_entry(rows, cols, data):
    grid = [[data.draw(entries) for _ in range(cols)] for _ in range(rows)]
    style = data.draw(st.integers(0, 2))
    if style == 0:
        text = "\\begin{bmatrix}" + " \\\\ ".join(" & ".join(entry_text(w, True) for w in row) for row in grid) + \
            "\\end{bmatrix}"
    elif style == 1:
        text = "[" + ", ".join("[" + ", ".join(entry_text(w, False) for w in row) + "]" for row in grid) + "]"
    else:
        text = "[" + "; ".join(", ".join(entry_text(w, False) for w in row) for row in grid) + "]"
    got = parse_list(text)
    flat = [e for row in (got if isinstance(got[0], list) else [[e] for e in got] if cols == 1 else [got])
            for e in row]
    expected = [w for row in grid for w in row]
    assert len(flat) == len(expected)
    for entry, w in zip(flat, expected):
        same_precision(entry, w)


@given(st.lists(st.integers(-50, 50), min_size=1, max_size=6), st.sampled_from(["{{{}}}", "\\{{{}\\}}",
                                                                                 "\\left\\{{{}\\right\\}}"]))
@FAST
def test_sets_are_sets_with_every_written_element(values, form):
    got = parse_list(form.format(", ".join(map(str, values))))
    assert isinstance(got, WrittenSet)
    assert [e.value for e in got] == values  # duplicates kept, so a check can see {3, 5, 3}


def test_a_list_is_not_a_set():
    assert not isinstance(parse_list("[3, 5]"), WrittenSet)
    assert isinstance(parse_list("∅"), WrittenSet) and len(parse_list("∅")) == 0


@given(st.lists(st.integers(1, 99_999), min_size=1, max_size=4), st.data())
@FAST
def test_shapes_with_thousands_separators(dims, data):
    sep = data.draw(st.sampled_from([" x ", "x", " × ", " \\times ", " by ", "*"]))
    group_sep = data.draw(st.sampled_from(["", ",", "\u2009", "{,}", "\\,", " "]))
    text = sep.join(group(str(d), group_sep) for d in dims)
    if len(dims) == 1:
        if group_sep == ",":
            return  # '(1,100)' is the shape 1x100: a comma between dimensions separates them
        text = f"({text})"
    assert parse_shape(text) == tuple(dims)
    times = " \\times "
    assert parse_shape("\\mathbb{R}^{" + times.join(map(str, dims)) + "}") == tuple(dims)


@given(st.integers(1, 999), st.integers(0, 999), st.integers(1, 99))
@FAST
def test_a_comma_that_may_be_a_separator_in_a_list_names_both_readings(a, b, c):
    text = f"[{a},{b:03d}, {c}]"  # 1,024 beside ', ': one number or two entries
    with pytest.raises(ParseError) as info:
        parse_list(text)
    assert f"{a}{b:03d}" in str(info.value) and "two readings" in str(info.value)


@given(st.integers(0, 9), st.integers(1, 9), st.integers(1, 9))
@FAST
def test_a_repeating_group_after_decimals_is_ambiguous(a, b, c):
    with pytest.raises(ParseError) as info:
        parse_number(f"{a}.{b}({c})")
    assert "two readings" in str(info.value)


@given(st.integers(0, 999), st.integers(0, 999))
@FAST
def test_a_list_in_a_number_part_is_refused(a, b):
    with pytest.raises(ParseError):
        parse_number(f"{a}, {b}")


@given(st.sampled_from(["nats", "bits", "parameters", "trainable parameters", "bytes", "FLOPs", "MACs", "neurons",
                        "\\text{ nats}", "\\,\\mathrm{bits}", "\\text{ parameters}"]), st.integers(0, 10 ** 6))
@FAST
def test_unit_words_after_a_value(unit, n):
    assert parse_number(f"{n} {unit}").value == n
