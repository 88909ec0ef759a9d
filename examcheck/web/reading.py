"""The answer "as read": the value the answer test's own reader produces from
the student's text, shown as text and as MathML from SymPy's presentation printer.

Nothing is read here that the checker does not read the same way: each answer
type uses the reader its answer test uses (examcheck.answertests), and those
go through examcheck.parsing, the one door from text to SymPy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.entities import html5
from xml.sax.saxutils import escape

import sympy as sp

from examcheck.answertests import Options, Verdict, read
from examcheck.answertests.expressions import read_expression
from examcheck.answertests.numbers import read_number
from examcheck.answertests.structures import leaf_value
from examcheck.parsing import ParseError, TooComplex
from examcheck.values import show

MATH_OPEN = '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">'


@dataclass
class Reading:
    """ok: the text was read; shown: the reading as text; mathml: as MathML; message: why not."""

    ok: bool
    shown: str = ""
    mathml: str = ""
    message: str = ""

    def to_dict(self) -> dict:
        return {"ok": self.ok, "shown": self.shown, "mathml": self.mathml, "message": self.message}


def _math(inner: str) -> str:
    return f"{MATH_OPEN}{inner}</math>"


def _mtext(text: str) -> str:
    return f"<mtext>{escape(text)}</mtext>"


_XML_ENTITIES = {"lt", "gt", "amp", "quot", "apos"}
_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")


def _unicode_entities(markup: str) -> str:
    """&InvisibleTimes; -> U+2062: the page parses MathML as XML, which knows only the five XML entities."""
    def swap(m):
        name = m.group(1)
        if name in _XML_ENTITIES:
            return m.group(0)
        return escape(html5.get(name + ";", "")) or m.group(0)

    return _ENTITY.sub(swap, markup)


def expr_mathml(expr) -> str:
    """The presentation MathML of one SymPy value (without the <math> root); terminating decimals as decimals."""
    if not isinstance(expr, sp.Basic):
        return _mtext(str(expr))
    if expr.is_Rational and not expr.is_Integer:
        text = show(expr)
        if re.fullmatch(r"-?\d+\.\d+", text):
            return f"<mrow><mo>-</mo><mn>{text[1:]}</mn></mrow>" if text.startswith("-") else f"<mn>{text}</mn>"
    return _unicode_entities(sp.printing.mathml(expr, printer="presentation")).replace("<mi>sigma</mi>", "<mi>σ</mi>")


def _leaf_mathml(entry, options: Options) -> str:
    """One entry as its answer test holds it: a written number's value, a SymPy value, or text read as a number."""
    entry = leaf_value(entry)
    if isinstance(entry, sp.Basic):
        return expr_mathml(entry)
    written = read_number(entry, options)
    if isinstance(written, Verdict):
        parsed = read_expression(entry, options)
        if isinstance(parsed, Verdict):
            raise ParseError(parsed.feedback)
        return expr_mathml(parsed)
    return expr_mathml(written.value)


def list_mathml(entries, options: Options, open_: str = "[", close: str = "]") -> str:
    if entries and all(isinstance(row, list) for row in entries):
        rows = "".join("<mtr>" + "".join(f"<mtd>{_leaf_mathml(e, options)}</mtd>" for e in row) + "</mtr>"
                       for row in entries)
        return f"<mrow><mo>{open_}</mo><mtable>{rows}</mtable><mo>{close}</mo></mrow>"
    inner = "<mo>,</mo>".join(
        list_mathml(e, options) if isinstance(e, list) else _leaf_mathml(e, options) for e in entries)
    return f"<mrow><mo>{escape(open_)}</mo>{inner}<mo>{escape(close)}</mo></mrow>"


def _listed(entries: list, shown: str, options: Options, open_: str, close: str) -> Reading:
    try:
        mathml = list_mathml(entries, options, open_, close)
    except TooComplex as exc:
        return Reading(False, message=f"too complex to check: {exc}")
    except ParseError as exc:
        return Reading(False, message=f"could not read an entry: {exc}")
    return Reading(True, shown, _math(mathml))


def _shape_mathml(shape: tuple) -> str:
    if not shape:
        return _mtext("scalar")
    return "<mrow>" + "<mo>×</mo>".join(f"<mn>{d}</mn>" for d in shape) + "</mrow>"


def read_answer(answer_type: str, text: str, options: Options) -> Reading:
    """How the checker of answer_type reads text: the answer test's own reader (answertests.read),
    rendered.  Run it in the sandbox: reading is bounded there."""
    if not text.strip():
        return Reading(False, message="")
    if answer_type == "text":
        return Reading(True, text.strip(), "", "marked by hand")
    answer = read(answer_type, text, options)
    if isinstance(answer, Verdict):
        return Reading(False, message=answer.feedback)
    value, shown = answer.value, answer.shown
    if answer_type == "shape":
        return Reading(True, shown, _math(_shape_mathml(value)))
    if answer_type in ("number", "integer"):
        return Reading(True, shown, _math(expr_mathml(value.value)))
    if answer_type == "expression":
        return Reading(True, shown, _math(expr_mathml(value)))
    if answer_type in ("vector", "matrix", "tuple"):
        return _listed(value, shown, options, "[", "]")
    if answer_type == "set":
        return _listed(list(value), shown, options, "{", "}")
    return Reading(True, shown, _math(_mtext(shown)))  # boolean, choice
