"""Small helpers shared by families and answer tests: exact values from
instructor-written given parameters, and one way to show values to people."""

from __future__ import annotations

import re

import sympy as sp

from examcheck.parsing import Vocabulary, parse_expression, parse_number


def exact(value) -> sp.Expr:
    """An exact SymPy number for a given value: 0.01 -> 1/100, '1/3' -> 1/3."""
    if isinstance(value, bool):
        raise ValueError("expected a number, found true/false")
    if isinstance(value, int):
        return sp.Integer(value)
    if isinstance(value, float):
        return sp.Rational(repr(value))
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, str):
        return parse_number(value).value
    raise ValueError(f"expected a number, found {value!r}")



def expression(text: str, symbols: dict[str, sp.Symbol], log_base=None) -> sp.Expr:
    return parse_expression(str(text), Vocabulary(symbols, log_base=log_base))



def show(value) -> str:
    """A compact, readable rendering of a result for tables and solutions."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "scalar" if not value else "×".join(str(v) for v in value)
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, (int, str)):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, sp.Basic):
        return show_expr(value)
    return str(value)


_PRETTY = [("**", "^"), ("sigma", "σ"), ("*", "·"), ("sqrt", "√"), ("pi", "π"), ("oo", "∞")]


def _terminating_decimal(value: sp.Rational) -> str | None:
    """1/100 -> '0.01'; 1/3 -> None."""
    q = int(value.q)
    for prime in (2, 5):
        while q % prime == 0:
            q //= prime
    if q != 1:
        return None
    text = f"{float(value):.12f}".rstrip("0").rstrip(".")
    return text if sp.Rational(text) == value else None


def show_expr(expr: sp.Basic) -> str:
    if expr.is_Rational and not expr.is_Integer:
        return _terminating_decimal(expr) or sp.sstr(expr)
    if expr.is_Number and not expr.is_Integer and not expr.is_Rational:
        return f"{float(expr):.6g}"
    if expr.is_number and not expr.is_Rational and not expr.free_symbols:
        exact_text = sp.sstr(expr)
        approx = f"{float(sp.N(expr, 20)):.6g}" if expr.is_real else exact_text
        if len(exact_text) > 24 or expr.is_Float:
            return approx
        return f"{_prettify(exact_text)} ≈ {approx}"
    text = sp.sstr(expr)
    return _prettify(text)


_ARG = r"((?:[^()]|\([^()]*\))+)"
_SUBS_DERIVATIVE = re.compile(r"Subs\(Derivative\((\w+)\((_\w+)\), (?:\2|\(\2, (\d+)\))\), \2, " + _ARG + r"\)")
_DERIVATIVE = re.compile(r"Derivative\((\w+)\(" + _ARG + r"\), (?:\2|\(\2, (\d+)\))\)")


def _prime(name: str, order: str | None, arg: str) -> str:
    return f"{name}{chr(39) * int(order or 1)}({arg})"


def _prettify(text: str) -> str:
    text = _SUBS_DERIVATIVE.sub(lambda m: _prime(m.group(1), m.group(3), m.group(4)), text)
    text = _DERIVATIVE.sub(lambda m: _prime(m.group(1), m.group(3), m.group(2)), text)
    for old, new in _PRETTY:
        text = text.replace(old, new)
    return text
