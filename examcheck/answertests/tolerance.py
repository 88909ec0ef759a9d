"""Precision rules as exact arithmetic.

Every comparison here is between Python Fractions, so a rule holds exactly as stated at every
magnitude (1e-300 and 1e300 alike): there is no float64 rounding and no absolute floor.  A value
that is not rational (sqrt(2), e^-2, a Float reference) is turned into a Fraction from a
high-precision evaluation (``DIGITS`` significant digits), far beyond any tolerance a rule states.

The rules (the README's "Trust" table says the same, with the reasons):

=========  ===========================================================================================
default    the answer must be right to the last digit written (|s - r| <= 1/2 unit in that place) and
           written with at least ``min_sigfigs`` significant figures; an exact spelling (9/10, 1/3,
           sqrt(2)) must equal the reference within a relative ``EXACT_SPELLING_RTOL`` (1e-6)
exact      s == r (rationals compared as rationals; other values to ``PROOF_DIGITS`` digits)
decimals   s and r round to the same n decimals, and at least n decimals written
sigfigs    s and r round to the same multiple of r's n-th significant figure; at least n figures written
rtol       |s - r| <= t * |r|
atol       |s - r| <= t
=========  ===========================================================================================

"Fewer figures written than the rule asks" is reported as insufficient precision, unless the
value written is exactly the reference (``0.5`` for 1/2 under ``decimals: 3`` is right).

Why 1e-6 for exact spellings under the default rule: a written decimal claims its digits, an exact
spelling claims every digit.  A computed reference may carry a numerical stabiliser (Adam's
eps = 1e-8 makes step 1 0.9000000005, not 9/10); ``0.900`` passes there, so ``9/10``, closer still,
must pass too.  No default-rule decimal can claim more than the reference agrees with at 1e-6
unless it writes 7 figures, and two different closed forms that happen to be close
(sqrt(3)/10 = 0.17321 against ln(2)/4 = 0.17329, 5e-4 apart) are still told apart.  ``exact`` parts
keep s == r: there the instructor has asked for the value itself.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from fractions import Fraction

import mpmath
import sympy as sp

DIGITS = 80
PROOF_DIGITS = 100
EXACT_SPELLING_RTOL = Fraction(1, 10 ** 6)  # default rule: how close an exact spelling (9/10) must be


class NotANumber(ValueError):
    """The value is not a finite real number."""


@dataclass(frozen=True)
class Exact:
    """A value as a Fraction; ``exact`` is False when it is a high-precision approximation,
    ``rel_error`` bounds how far the Fraction may be from the true value (relative)."""

    value: Fraction
    exact: bool
    rel_error: Fraction = Fraction(0)


def mpf_fraction(x) -> Fraction:
    """An mpmath mpf as the exact Fraction it stores."""
    man, exp = mpmath.mpf(x).man_exp
    if man == 0:
        return Fraction(0)
    return Fraction(int(man) * 2 ** int(exp)) if exp >= 0 else Fraction(int(man), 2 ** int(-exp))


@functools.lru_cache(maxsize=4096)
def as_exact(value) -> Exact:
    """A SymPy number (or int/float/Fraction) as a Fraction, exactly where it can be."""
    if isinstance(value, Fraction):
        return Exact(value, True)
    if isinstance(value, bool):
        raise NotANumber("true/false is not a number")
    if isinstance(value, int):
        return Exact(Fraction(value), True)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise NotANumber("not finite")
        return Exact(Fraction(value), False, Fraction(1, 2 ** 52))
    if not isinstance(value, sp.Basic):
        raise NotANumber(f"not a number: {value!r}")
    if value.is_Rational:
        return Exact(Fraction(int(value.p), int(value.q)), True)
    if value.free_symbols:
        raise NotANumber("the value still contains a variable")
    if value.is_Float:
        bits = max(int(value._prec), 2)
        return Exact(_float_fraction(value), False, Fraction(1, 2 ** (bits - 2)))
    has_float = bool(value.atoms(sp.Float))
    approx = sp.N(value, DIGITS)
    if not approx.is_Number or approx in (sp.oo, -sp.oo, sp.zoo, sp.nan):
        if approx.is_number and approx.is_real is not False:
            re, im = approx.as_real_imag()
            if im == 0 and re.is_Number and re.is_finite:
                approx = re
            else:
                raise NotANumber("not a finite real number")
        else:
            raise NotANumber("not a finite real number")
    if approx.is_Rational:
        return Exact(Fraction(int(approx.p), int(approx.q)), not has_float)
    bits = min((int(f._prec) for f in value.atoms(sp.Float)), default=10 ** 6)
    error = Fraction(1, 10 ** (DIGITS - 5))
    if has_float:
        error = max(error, Fraction(1, 2 ** (bits - 2)))
    return Exact(_float_fraction(approx), False, error)


def _float_fraction(value: sp.Float) -> Fraction:
    exact = sp.Rational(value)
    return Fraction(int(exact.p), int(exact.q))


def pow10(k: int) -> Fraction:
    return Fraction(10) ** k


def half_unit(decimals: int) -> Fraction:
    """Half a unit in the place of the given decimal (negative: left of the point)."""
    return Fraction(1, 2) * pow10(-decimals)


def exponent10(x: Fraction) -> int:
    """floor(log10 |x|), exactly, for x != 0."""
    x = abs(x)
    e = len(str(x.numerator)) - len(str(x.denominator))
    while pow10(e) > x:
        e -= 1
    while pow10(e + 1) <= x:
        e += 1
    return e


def sigfig_half_unit(r: Fraction, sigfigs: int) -> Fraction:
    """Half a unit in the n-th significant figure of r (0 when r is 0)."""
    if r == 0:
        return Fraction(0)
    return half_unit(sigfigs - 1 - exponent10(r))


def rule_value(value) -> Fraction:
    """A tolerance written in a problem file (0.001, 1e-3, 2) as the exact decimal it spells."""
    if isinstance(value, bool):
        raise ValueError("a tolerance must be a number")
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


def same_value(s: Exact, r: Exact) -> bool:
    """s equals r: exactly for rationals; within the approximation's own error otherwise."""
    if s.exact and r.exact:
        return s.value == r.value
    slack = (s.rel_error + r.rel_error) * max(abs(s.value), abs(r.value)) * 4
    return abs(s.value - r.value) <= slack


def written_half_unit(decimals: int | None) -> Fraction | None:
    return None if decimals is None else half_unit(decimals)


@dataclass(frozen=True)
class Judgement:
    ok: bool
    reason: str = ""  # "", "insufficient_precision", "not_exact"; when ok: "" or "near_exact"


def near_exact(s: Exact, r: Exact) -> bool:
    """An exact spelling under the default rule: equal to r within a relative EXACT_SPELLING_RTOL."""
    slack = (s.rel_error + r.rel_error) * max(abs(s.value), abs(r.value)) * 4
    return abs(s.value - r.value) <= EXACT_SPELLING_RTOL * abs(r.value) + slack


def judge(s: Exact, r: Exact, kind: str, amount, decimals: int | None, sigfigs: int | None,
          min_sigfigs: int = 3) -> Judgement:
    """Does the written value s (written with `decimals` decimals and `sigfigs` significant
    figures; both None for an exact spelling such as 1/3) satisfy the rule against r?"""
    if same_value(s, r):
        return Judgement(True)
    diff = abs(s.value - r.value)
    slack = (s.rel_error + r.rel_error) * max(abs(s.value), abs(r.value)) * 4
    written = decimals is not None
    if kind == "exact":
        return Judgement(False, "not_exact" if written and diff <= half_unit(decimals) else "")
    if kind == "rtol":
        return Judgement(diff <= rule_value(amount) * abs(r.value) + slack)
    if kind == "atol":
        return Judgement(diff <= rule_value(amount) + slack)
    if kind == "decimals":
        n = int(amount)
        if written and decimals < n:
            return Judgement(False, _short_reason(s, diff, decimals, slack))
        return Judgement(same_rounding(s.value, r.value, pow10(-n)))
    if kind == "sigfigs":
        n = int(amount)
        if written and (sigfigs or 0) < n:
            return Judgement(False, _short_reason(s, diff, decimals, slack))
        if r.value == 0 or s.value == 0:
            return Judgement(False)
        return Judgement(same_rounding(s.value, r.value, pow10(exponent10(r.value) - n + 1)))
    # default: as written, with at least min_sigfigs significant figures
    if not written:
        return Judgement(True, "near_exact") if near_exact(s, r) else Judgement(False)
    close_as_written = diff <= half_unit(decimals) + slack
    if (sigfigs or 0) < min_sigfigs:
        return Judgement(False, _short_reason(s, diff, decimals, slack))
    return Judgement(close_as_written)


def _short_reason(s: Exact, diff: Fraction, decimals: int, slack: Fraction) -> str:
    """Fewer figures than the rule asks: 'insufficient precision' if what was written is right as far as it
    goes (a bare 0 for a nonzero value is not: it is simply wrong)."""
    if s.value == 0:
        return ""
    return "insufficient_precision" if diff <= half_unit(decimals) + slack else ""


def roundings(x: Fraction, unit: Fraction) -> set[Fraction]:
    """x rounded to a multiple of unit: one value, or both neighbours at an exact tie (half up and half
    down are both accepted there)."""
    q = x / unit
    return {Fraction(math.floor(q + Fraction(1, 2))) * unit, Fraction(math.ceil(q - Fraction(1, 2))) * unit}


def same_rounding(s: Fraction, r: Fraction, unit: Fraction) -> bool:
    """s and r round to the same multiple of unit ("rounded to n decimals" / "to n significant figures")."""
    return bool(roundings(s, unit) & roundings(r, unit))


def within_rule(s: Exact, candidate: Exact, kind: str, amount, decimals, sigfigs, min_sigfigs: int = 3) -> bool:
    """For diagnoses: would s pass had the reference been `candidate`?  Precision shortfalls are
    forgiven here (a slip is named by the value, not by the number of digits)."""
    if same_value(s, candidate):
        return True
    diff = abs(s.value - candidate.value)
    if kind == "exact":
        return diff <= (half_unit(decimals) if decimals is not None else abs(candidate.value) / 10 ** 9)
    if kind in ("rtol", "atol", "decimals", "sigfigs"):
        return judge(s, candidate, kind, amount, None, None, min_sigfigs).ok or (
            decimals is not None and diff <= half_unit(decimals))
    if decimals is None:
        return near_exact(s, candidate)
    return diff <= half_unit(decimals)
