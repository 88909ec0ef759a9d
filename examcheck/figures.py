"""A computed reference shown to people at the figures its part's rule asks for.

Whatever shows a reference (the report's expected column, `solve`, `check` findings) shows each number so
that a student who copies it earns the marks: under the default rule with at least ``min_sigfigs``
significant figures (0.9000000005 is ``0.900``, never ``0.9``), under ``decimals: n`` with n decimals, under
``sigfigs: n`` with n significant figures (trailing zeros kept), under ``rtol``/``atol`` with as many figures
as the interval needs.  Exact values (integers, 1/4, 1/3, ln(2)/4) keep their exact spelling, which every
rule accepts.  Every decimal chosen here is read back by the number reader and judged against the
reference under the part's rule before it is shown (the first candidate that passes is used).
"""

from __future__ import annotations

import math
from fractions import Fraction

import sympy as sp

from examcheck.answertests import Precision
from examcheck.answertests.tolerance import NotANumber, as_exact, exponent10, judge
from examcheck.parsing import WrittenSet, read_written_number
from examcheck.values import show

MAX_FIGURES = 40


def _scaled(x: Fraction, places: int) -> int:
    """x * 10^places rounded to an integer (half to even: either neighbour is a correct rounding at a tie)."""
    return round(x * Fraction(10) ** places)


def fixed_text(x: Fraction, places: int) -> str:
    """x rounded to `places` decimals (>= 0), trailing zeros kept: 0.9000000005 at 3 -> '0.900'."""
    n = _scaled(x, places)
    sign = "-" if n < 0 else ""
    digits = str(abs(n)).rjust(places + 1, "0")
    if places == 0:
        return sign + digits
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def figures_text(x: Fraction, figures: int, strip_to: int | None = None) -> str:
    """x to `figures` significant figures, as Python's 'g' lays it out (fixed for 1e-4 <= |x| < 10^figures,
    else scientific) but with trailing zeros kept; strip_to: drop trailing zeros down to that many figures."""
    if x == 0:
        return "0"
    e = exponent10(x)
    n = _scaled(x, figures - 1 - e)
    if abs(n) >= 10 ** figures:  # 9.996 -> 10.0: the rounding moved to the next power of ten
        e += 1
        n = _scaled(x, figures - 1 - e)
    digits = str(abs(n))
    zeros = len(digits) - len(digits.rstrip("0")) if strip_to is not None else 0
    zeros = min(zeros, len(digits) - max(strip_to or 1, 1))
    sign = "-" if n < 0 else ""
    if -4 <= e < figures:  # fixed: only zeros after the point may go
        places = figures - 1 - e
        zeros = max(min(zeros, places), 0)
        places -= zeros
        digits = digits[:len(digits) - zeros]
        if places == 0:
            return sign + digits
        whole = digits.rjust(places + 1, "0")
        return f"{sign}{whole[:-places]}.{whole[-places:]}"
    digits = digits[:len(digits) - zeros]
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{mantissa}e{e:+03d}"


def _candidates(x: Fraction, rule: Precision, extra: int = 0):
    if rule.kind == "decimals":
        n = max(int(rule.value), 0)
        yield fixed_text(x, n + extra)
        yield from (figures_text(x, k) for k in range(6 + extra, MAX_FIGURES + 1, 2))
    elif rule.kind == "sigfigs":
        n = max(int(rule.value), 1) + extra
        yield figures_text(x, n)
        yield from (figures_text(x, k) for k in range(n + 1, MAX_FIGURES + 1))
    elif rule.kind == "default":
        least = max(rule.min_sigfigs, 1) + extra
        for k in range(max(6, least), MAX_FIGURES + 1):
            yield figures_text(x, k, strip_to=least)
    else:  # rtol, atol, exact: as few figures as pass (an exact part accepts no decimal of an inexact value)
        for k in range(max(6, 1 + extra), MAX_FIGURES + 1):
            yield figures_text(x, k, strip_to=1 + extra)


def number_text(value, rule: Precision, extra: int = 0) -> str | None:
    """A numeric reference as a decimal that the part's rule accepts, or None (not a finite real number,
    or no decimal of up to MAX_FIGURES figures passes, as under `exact` for an irrational value).
    extra: figures beyond the rule's (to tell the elements of a set apart)."""
    try:
        r = as_exact(value)
    except (NotANumber, TypeError, ValueError, ArithmeticError):
        return None
    for text in _candidates(r.value, rule, extra):
        written = read_written_number(text)
        if written is None:
            continue
        s = as_exact(written.value)
        if judge(s, r, rule.kind, rule.value, written.decimals, written.sigfigs, rule.min_sigfigs).ok:
            return text
    return None


def _is_number(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return not isinstance(value, float) or math.isfinite(value)
    return isinstance(value, sp.Basic) and value.is_number and not isinstance(value, sp.logic.boolalg.Boolean) and \
        bool(value.is_real)


def _is_exact(value) -> bool:
    if isinstance(value, int):
        return True
    return isinstance(value, sp.Basic) and not value.atoms(sp.Float)


def leaf_text(value, rule: Precision, rounded: str = "", extra: int = 0) -> str:
    """One number of a reference.  rounded: "" keeps exact spellings (2, 1/3, ln(2)/4 ≈ 0.173287); "entries"
    (decimals/sigfigs parts) keeps integers and the exact spelling of an irrational beside its rounding
    (σ(-1/2)/2 ≈ 0.189); "decimals" keeps integers and shows all else as decimals (a family that displays
    decimals); "all" rounds every value (a number part: 0.200 (rounded to 3 decimal place(s)))."""
    text = show(value)
    if not _is_number(value) or rule.kind == "exact":
        return text
    exact = _is_exact(value) and rounded != "all"
    if exact and rounded == "decimals" and not (isinstance(value, int) or value.is_Integer):
        exact = False
    if exact and (isinstance(value, int) or value.is_Integer or (value.is_Rational and not rounded)):
        return text  # 2, 1/4, 1/3: an exact spelling, which every rule accepts
    if exact and " ≈ " in text:  # ln(2)/4 ≈ 0.173287: the approximation at the rule's figures
        decimal = number_text(value, rule, extra)
        return f"{text.split(' ≈ ')[0]} ≈ {decimal}" if decimal else text
    decimal = number_text(value, rule, extra)
    return decimal if decimal is not None else text


def reference_text(value, rule: Precision, rounded: str = "") -> str:
    """A reference (a number, a vector, a matrix, a tuple or a set of them) at the rule's figures; other
    values as values.show() writes them."""
    if isinstance(value, WrittenSet):
        return "{" + ", ".join(reference_text(v, rule, rounded) for v in value) + "}" if len(value) else "∅"
    if isinstance(value, sp.FiniteSet):
        return "{" + ", ".join(reference_text(v, rule, rounded) for v in value.args) + "}" if value.args else "∅"
    if isinstance(value, list):
        return "[" + ", ".join(reference_text(v, rule, rounded) for v in value) + "]"
    if isinstance(value, (tuple, str)) or value is None:
        return show(value)
    return leaf_text(value, rule, rounded)


def set_text(elements: list, rule: Precision, rounded: str = "") -> str:
    """The elements of a set reference, each at the rule's figures, with more figures where two distinct
    elements would otherwise be shown alike (a set shown as {0.001, 0.001} could not be copied)."""
    texts = [reference_text(e, rule, rounded) for e in elements]
    for extra in range(1, MAX_FIGURES):
        copied = {text.rsplit(" ≈ ", 1)[-1] for text in texts}  # an exact form is copied as its decimal
        if len(copied) == len(texts) or not all(_is_number(e) for e in elements):
            break
        texts = [leaf_text(e, rule, rounded, extra) for e in elements]
    return "[" + ", ".join(texts) + "]"


def all_numeric(value) -> bool:
    """Every leaf of a (nested) list/set is a finite real number."""
    if isinstance(value, (list, WrittenSet)):
        return all(all_numeric(v) for v in value)
    if isinstance(value, sp.FiniteSet):
        return all(all_numeric(v) for v in value.args)
    return _is_number(value)
