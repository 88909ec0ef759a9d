"""Small helpers shared by families and answer tests: exact values from
instructor-written given parameters, and one way to show values to people."""

from __future__ import annotations

import math
import re

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.printing.str import StrPrinter

from examcheck.parsing import Vocabulary, WrittenNumber, WrittenSet, parse_expression, parse_number


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
    """A compact, readable rendering of a result for tables and solutions ("as read" text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, WrittenNumber):
        return str(value)
    if isinstance(value, WrittenSet):
        return "{" + ", ".join(show(v) for v in value) + "}" if len(value) else "∅"
    if isinstance(value, tuple):
        return "scalar" if not value else "×".join(str(v) for v in value)
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, (int, str)):
        return str(value)
    if isinstance(value, float):
        return approx_text(value)
    if isinstance(value, sp.Basic):
        return show_expr(value)
    return str(value)


def approx_text(value: float, least: int = 3) -> str:
    """An approximate value to 6 significant figures, trailing zeros dropped, but never fewer than `least`
    figures unless the shorter text is the value itself: 0.9000000005 is 0.900 (0.9 would claim 1 figure)."""
    text = f"{value:.6g}"
    if not math.isfinite(value) or float(text) == value:
        return text
    mantissa, _, exponent = f"{value:#.6g}".partition("e")
    while mantissa.endswith("0") and len(mantissa.lstrip("-0.").replace(".", "")) > least:
        mantissa = mantissa[:-1]
    mantissa = mantissa.rstrip(".")
    return mantissa + ("e" + exponent if exponent else "")


def _terminating_decimal(value: sp.Rational) -> str | None:
    """1/100 -> '0.01'; 1/3 -> None."""
    q = int(value.q)
    for prime in (2, 5):
        while q % prime == 0:
            q //= prime
    if q != 1:
        return None
    number = float(value)
    if not math.isfinite(number):  # beyond float range (1e400): shown as a fraction instead
        return None
    text = f"{number:.12f}".rstrip("0").rstrip(".")
    return text if sp.Rational(text) == value else None


def show_expr(expr: sp.Basic) -> str:
    if expr.is_Rational and not expr.is_Integer:
        return _terminating_decimal(expr) or sp.sstr(expr)
    if expr.is_Number and not expr.is_Integer and not expr.is_Rational:
        return approx_text(float(expr))
    if expr.is_number and not expr.is_Rational and not expr.free_symbols and not isinstance(expr, sp.logic.boolalg.Boolean):
        exact_text = readable(expr)
        try:
            approx = approx_text(float(sp.N(expr, 20))) if expr.is_real else exact_text
        except (TypeError, ValueError):
            approx = exact_text
        if len(exact_text) > 24 or expr.is_Float:
            return approx
        return f"{exact_text} ≈ {approx}" if approx != exact_text else exact_text
    return readable(expr)


GREEK_LETTERS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "zeta": "ζ", "eta": "η", "theta": "θ",
    "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "rho": "ρ", "sigma": "σ", "tau": "τ",
    "upsilon": "υ", "phi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ",
    "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}
_INVERSE_NAMES = {"asin": "sin⁻¹", "acos": "cos⁻¹", "atan": "tan⁻¹", "asinh": "sinh⁻¹", "acosh": "cosh⁻¹",
                  "atanh": "tanh⁻¹", "erfinv": "erf⁻¹"}
_NAME_PART = re.compile(r"^([A-Za-z]+)(.*)$", re.S)


def _greek_name(name: str) -> str:
    """'beta_2' -> 'β_2', 'sigma' -> 'σ'; other names unchanged (never a substring replacement)."""
    m = _NAME_PART.match(name)
    if not m:
        return name
    return GREEK_LETTERS.get(m.group(1), m.group(1)) + m.group(2)


class _Readable(StrPrinter):
    """SymPy's str printer with readable names: whole-name replacements only (floor stays floor)."""

    def _print_Symbol(self, expr):
        return _greek_name(expr.name)

    _print_Dummy = _print_Symbol

    def _print_Pi(self, expr):
        return "π"

    def _print_Infinity(self, expr):
        return "∞"

    def _print_NegativeInfinity(self, expr):
        return "-∞"

    def _print_Function(self, expr):
        name = expr.func.__name__
        args = ", ".join(self._print(a) for a in expr.args)
        if name in _INVERSE_NAMES:
            return f"{_INVERSE_NAMES[name]}({args})"
        if name.endswith("^-1"):
            return f"{_greek_name(name[:-3])}⁻¹({args})"
        return f"{_greek_name(name)}({args})"

    def _print_floor(self, expr):
        return f"⌊{self._print(expr.args[0])}⌋"

    def _print_ceiling(self, expr):
        return f"⌈{self._print(expr.args[0])}⌉"

    def _print_Abs(self, expr):
        return f"|{self._print(expr.args[0])}|"

    def _print_Pow(self, expr, rational=False):
        if expr.exp == sp.S.Half:
            return f"√({self._print(expr.base)})"
        return super()._print_Pow(expr, rational)

    def _print_Piecewise(self, expr):
        pieces = []
        for value, condition in expr.args:
            shown = self._print(value)
            pieces.append(f"{shown} otherwise" if condition == sp.true else f"{shown} if {self._print(condition)}")
        return "{" + "; ".join(pieces) + "}"

    def _print_Relational(self, expr):
        op = {"<=": "≤", ">=": "≥", "!=": "≠", "==": "="}.get(expr.rel_op, expr.rel_op)
        return f"{self._print(expr.lhs)} {op} {self._print(expr.rhs)}"

    def _print_And(self, expr):
        return " and ".join(self._print(a) for a in expr.args)

    def _print_Or(self, expr):
        return " or ".join(self._print(a) for a in expr.args)

    def _print_BooleanTrue(self, expr):
        return "true"

    def _print_Indexed(self, expr):
        return f"{_greek_name(str(expr.base))}_{{{', '.join(self._print(i) for i in expr.indices)}}}"

    def _print_Sum(self, expr):
        limits = "".join(f"Σ_{{{self._print(i)}={self._print(a)}}}^{{{self._print(b)}}} " for i, a, b in reversed(expr.limits))
        return f"{limits}({self._print(expr.function)})"

    def _print_Product(self, expr):
        limits = "".join(f"Π_{{{self._print(i)}={self._print(a)}}}^{{{self._print(b)}}} " for i, a, b in reversed(expr.limits))
        return f"{limits}({self._print(expr.function)})"

    def _print_Subs(self, expr):
        inner = expr.expr
        if isinstance(inner, sp.Derivative) and isinstance(inner.expr, AppliedUndef) and len(expr.point) == 1:
            order = sum(count for _, count in inner.variable_count)
            return f"{_greek_name(inner.expr.func.__name__)}{chr(39) * int(order)}({self._print(expr.point[0])})"
        return super()._print_Subs(expr)

    def _print_Derivative(self, expr):
        inner = expr.expr
        if isinstance(inner, AppliedUndef) and len(inner.args) == 1:
            order = sum(count for _, count in expr.variable_count)
            return f"{_greek_name(inner.func.__name__)}{chr(39) * int(order)}({self._print(inner.args[0])})"
        return super()._print_Derivative(expr)


_PRINTER = _Readable()


def readable(expr: sp.Basic) -> str:
    """Readable Unicode text of an expression: ^ for powers, · for products, Greek letters, ⌊x⌋, √(x),
    {x if x > 0; 0 otherwise}, sinh⁻¹(x)."""
    return _PRINTER.doprint(expr).replace("**", "^").replace("*", "·")
