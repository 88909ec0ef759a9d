"""The one number reader: every common spelling of a number, with the precision it was written to.

``read_written_number(text)`` reads a whole text as ONE number, or returns None when the text is not
a number spelling (the caller may then read it as an expression), or raises ParseError when the
text is a number spelling with two plausible readings (``12 34``: 1234 or 12·34) — never a silent
pick of one.

Spellings read (after ``tokens.normalise``: Unicode digits, superscripts and minus signs are ASCII):

- plain ``0.0470``, ``.5``, ``-3``; ``4.7e-3``, ``4.7E+05``
- ``4.7×10^-3``, ``4.7 x 10^{-3}``, ``4.7*10^(-3)``, ``4.7\\,\\times\\,10^{-3}``, ``4.7 \\cdot 10^{-3}``,
  ``4.7*10**-3``, ``10^{-4}`` alone (an exact power of ten)
- ``\\num{1.5e3}``, ``\\SI{45}{\\percent}``, ``\\qty{2}{\\bit}`` (the unit argument is dropped)
- ``45%``, ``45\\%``, ``45 percent``, ``45 per cent``
- repeating decimals ``0.\\overline{6}``, ``0.1\\overline{6}``, ``0.(6)``, ``0.666...``, ``0.1666…``, ``0.\\dot{6}``
  (exact values: no written precision)
- digit groups: ``12 544``, ``12\\,544``, ``12~544``, ``1{,}234``, ``1,234``, ``1'234``, thin spaces,
  Indian ``1,23,456``; ``1,234.5``; European ``1.234.567`` and ``1.234,5``; fraction groups ``0.123 45``
- a decimal comma where it cannot be a thousands separator: ``0,85``, ``12,5``, ``1234,5``, ``1,2345``

Precision: ``decimals`` is the number of decimal places written (negative for ``1.2e5``: -4),
``sigfigs`` the significant figures written; both None for an exact value (a repeating decimal or a
bare power of ten).  ``shown`` is the value as read, in a spelling that this reader reads back to the
same value AND precision (``12 544`` -> ``12544``, ``4.70x10^-3`` -> ``0.00470``, ``1.2e5`` stays ``1.2e5``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy as sp

from examcheck.parsing.errors import MAX_NUMBER_DIGITS, ParseError, TooComplex


@dataclass(frozen=True)
class WrittenNumber:
    """A number together with the precision it was written to, and its value as read."""

    value: sp.Expr
    decimals: int | None = None
    sigfigs: int | None = None
    shown: str = ""

    @property
    def exact(self) -> bool:
        return self.decimals is None

    def __str__(self) -> str:
        return self.shown or sp.sstr(self.value)


class WrittenSet(list):
    """A set literal ({3, 5}, \\{4\\}, ∅) as written: the elements in order, duplicates KEPT
    (so a check can notice {3, 5, 3}).  A list subclass, so code that walks lists keeps working;
    ``isinstance(x, WrittenSet)`` tells a set from a vector."""

    @property
    def elements(self) -> list:
        return list(self)

    def __repr__(self) -> str:
        return "WrittenSet(" + list.__repr__(self) + ")"

    def __eq__(self, other):
        if isinstance(other, WrittenSet) or not isinstance(other, list):
            return list.__eq__(self, other)
        return False

    __hash__ = None


# --------------------------------------------------------------------------------------------------
# pieces of the grammar (regular expressions over normalised text)

_SP = r"(?:\s|\\[,;:! ]|\\quad|\\qquad|~|\\thinspace|\\enspace)*"
_GROUP_SEP = r"(?:[ ,'~]|\\[,;: ]|\{,\}|\\thinspace)"
_MANTISSA = rf"(?:\d(?:\d|\.|{_GROUP_SEP})*\d\.?|\d\.?|\.\d+)"
_SIGNED = r"[+-]?\s*\d+"
_EXPONENT_VALUE = rf"(?:\{{{_SP}\(?{_SP}({_SIGNED}){_SP}\)?{_SP}\}}|\({_SP}({_SIGNED}){_SP}\)|({_SIGNED}))"
_TIMES = r"(?:\*|x|X|\\times|\\cdot|\\ast)"
_TEN_POWER = rf"10{_SP}(?:\^|\*\*){_SP}{_EXPONENT_VALUE}"
_REPEAT = (r"(?:\\overline\s*\{(\d+)\}|\\bar\s*\{(\d+)\}|\\dot\s*\{?(\d)\}?(?:(\d*)\\dot\s*\{?(\d)\}?)?"
           r"|\((\d+)\)|(\.\.\.|…|\\ldots|\\dots|\\cdots))")
_PERCENT = r"(?:%|\\%|\\percent|\s+per\s*cent|\s*percent)"

_NUMBER = re.compile(
    rf"^{_SP}([+-])?{_SP}(?:({_MANTISSA}){_REPEAT}?"
    rf"(?:{_SP}[eE]({_SIGNED})|{_SP}{_TIMES}{_SP}{_TEN_POWER})?"
    rf"|({_TEN_POWER}))"
    rf"{_SP}({_PERCENT})?{_SP}$"
)
_WRAPPER = re.compile(r"^\s*\\(?:num|SI|qty)\s*(?:\[[^\]]*\])?\s*\{((?:[^{}]|\{[^{}]*\})*)\}\s*"
                      r"(?:\{((?:[^{}]|\{[^{}]*\})*)\})?\s*$")
_SPACE_RUN = re.compile(r"(?:\s|\\[,;: ]|~|\\thinspace|')+")


def _power(groups) -> int | None:
    for g in groups:
        if g is not None:
            return int(re.sub(r"\s+", "", g))
    return None


def read_written_number(text: str) -> WrittenNumber | None:
    """The whole text as one number, None if it is not a number spelling, ParseError if ambiguous."""
    if len(text) > MAX_NUMBER_DIGITS + 200:
        raise TooComplex("number has too many digits")
    wrapped = _WRAPPER.match(text)
    percent_unit = False
    if wrapped:
        text = wrapped.group(1).replace("\\,", " ")
        unit = (wrapped.group(2) or "").strip()
        percent_unit = unit in ("\\percent", "%", "\\%")
    m = _NUMBER.match(text)
    if not m:
        return None
    g = m.groups()
    sign, mantissa = g[0], g[1]
    repeat_overline, repeat_bar, dot1, dot_mid, dot2, repeat_paren, ellipsis = g[2:9]
    e_power = g[9]
    times_power = _power(g[10:13])
    bare = g[13]
    percent = bool(g[17]) or percent_unit
    if bare is not None:
        power = _power(g[14:17])
        _check_power(power)
        value = sp.Rational(10) ** power
        value = -value if sign == "-" else value
        if percent:
            value = value / 100
        return WrittenNumber(value, None, None, _shown_exact(value))
    whole, frac = read_mantissa(mantissa)
    power = int(re.sub(r"\s+", "", e_power)) if e_power is not None else (times_power or 0)
    _check_power(power)
    if len(whole) + len(frac) > MAX_NUMBER_DIGITS:
        raise TooComplex("number has too many digits")
    repeating = repeat_overline or repeat_bar or repeat_paren
    if dot1 is not None:
        repeating = dot1 + (dot_mid or "") + (dot2 or "") if dot2 else dot1
    if repeat_paren and frac:
        raise ParseError(f"{text.strip()!r} has two readings: {whole}.{frac} followed by {repeat_paren} repeating, "
                         f"or the product {whole}.{frac}·{repeat_paren}; write 0.1\\overline{{6}} or use *")
    if ellipsis:
        frac, repeating = _period(whole, frac, mantissa)
    if repeating:
        if not (mantissa.rstrip().endswith(".") or "." in mantissa or "," in mantissa):
            return None
        value = _repeating_value(whole, frac, repeating) * sp.Rational(10) ** power
        value = -value if sign == "-" else value
        if percent:
            value = value / 100
        return WrittenNumber(value, None, None, _shown_exact(value))
    value = sp.Rational(int(whole + frac or "0"), 10 ** len(frac)) * sp.Rational(10) ** power
    value = -value if sign == "-" else value
    decimals = len(frac) - power
    sigfigs = max(len((whole + frac).lstrip("0")), 1)
    if percent:
        value = value / 100
        decimals += 2
    return WrittenNumber(value, decimals, sigfigs, shown_text(value, decimals))


def _check_power(power: int) -> None:
    if abs(power) > MAX_NUMBER_DIGITS:
        raise TooComplex("number is too large to check")


def _period(whole: str, frac: str, mantissa: str) -> tuple[str, str]:
    """0.666... -> ('', '6'); 0.1666... -> ('1', '6'); 0.142857142857... -> ('', '142857')."""
    for size in range(1, len(frac) // 2 + 1):
        block = frac[-size:]
        if frac[-2 * size:-size] == block:
            start = len(frac) - 2 * size
            while start - size >= 0 and frac[start - size:start] == block:
                start -= size
            while start > 0 and frac[start - 1] == frac[start - 1 + size]:
                start -= 1
            return frac[:start], frac[start:start + size]
    raise ParseError(f"{mantissa.strip()}... is not a repeating decimal I can read: "
                     r"write the repeating digits at least twice (0.1666...) or with \overline{6}")


def _repeating_value(whole: str, frac: str, repeating: str) -> sp.Rational:
    head = sp.Rational(int(whole + frac or "0"), 10 ** len(frac))
    tail = sp.Rational(int(repeating), (10 ** len(repeating) - 1) * 10 ** len(frac))
    return head + tail


def read_mantissa(raw: str) -> tuple[str, str]:
    """Digits with group separators and a decimal mark -> (whole digits, fraction digits)."""
    text = raw.strip().replace("{,}", ",")
    spaced = _SPACE_RUN.sub(" ", text)
    if " " in spaced:
        return _space_grouped(spaced, raw)
    commas, dots = spaced.count(","), spaced.count(".")
    if not commas and dots <= 1:
        whole, _, frac = spaced.partition(".")
        return whole, frac
    if commas and not dots:
        if commas == 1:
            whole, frac = spaced.split(",")
            if _thousands(spaced):
                return whole + frac, ""
            return whole, frac  # a decimal comma: it cannot be a thousands separator here
        if _thousands(spaced) or re.fullmatch(r"\d{1,2}(?:,\d\d)*,\d{3}", spaced):
            return spaced.replace(",", ""), ""
        raise ParseError(f"{raw.strip()!r} is not a number: the commas are neither thousands separators nor a decimal comma")
    if dots and not commas:
        if re.fullmatch(r"\d{1,3}(?:\.\d{3}){2,}", spaced):
            return spaced.replace(".", ""), ""
        raise ParseError(f"{raw.strip()!r} is not a number: more than one decimal point")
    whole, mark, frac = _split_last(spaced)
    if mark == "." and _thousands(whole):
        return whole.replace(",", ""), frac
    if mark == "," and re.fullmatch(r"\d{1,3}(?:\.\d{3})+", whole):
        return whole.replace(".", ""), frac
    raise ParseError(f"{raw.strip()!r} is not a number: mixed '.' and ',' in a way that has no single reading")


def _split_last(text: str) -> tuple[str, str, str]:
    i = max(text.rfind("."), text.rfind(","))
    return text[:i], text[i], text[i + 1:]


def _thousands(text: str) -> bool:
    return re.fullmatch(r"[1-9]\d{0,2}(?:,\d{3})+", text) is not None


def _space_grouped(spaced: str, raw: str) -> tuple[str, str]:
    """'12 544', '1 234,5', '0.123 45': groups of three, split by spaces."""
    if spaced.count(".") + spaced.count(",") > 1:
        raise ParseError(f"{raw.strip()!r} is not a number: digit groups with more than one decimal mark")
    mark = "." if "." in spaced else "," if "," in spaced else ""
    if mark and re.search(r"\s[.,]|[.,]\s", spaced):
        raise ParseError(f"{raw.strip()!r} is not one number: a list? (a decimal mark has no space next to it)")
    whole, _, frac = spaced.partition(mark) if mark else (spaced, "", "")
    if mark == "," and re.fullmatch(r"[1-9]\d{0,2}", whole) and re.match(r"\d{3}( |$)", frac):
        raise ParseError(f"{raw.strip()!r} has two readings: the comma may be a decimal comma or a thousands separator; "
                         "write it without spaces or with a decimal point")
    groups = whole.strip().split(" ") if whole.strip() else []
    ok = bool(groups) and 1 <= len(groups[0]) <= 3 and all(len(x) == 3 for x in groups[1:])
    frac_groups = frac.strip().split(" ") if frac.strip() else []
    if len(frac_groups) > 1:  # 0.123 45: fraction digits grouped from the decimal mark
        ok = ok and all(len(x) == 3 for x in frac_groups[:-1]) and 1 <= len(frac_groups[-1]) <= 3
    if (len(groups) > 1 and groups[0].startswith("0")) or not ok:
        together = "".join(groups) + (("." + "".join(frac_groups)) if mark else "")
        apart = " · ".join(spaced.split())
        raise ParseError(f"{raw.strip()!r} has two readings: the number {together} or the product {apart}; "
                         "write it without spaces (or with *)")
    return "".join(groups), "".join(frac_groups)


def shown_text(value: sp.Rational, decimals: int) -> str:
    """A spelling of value that reads back with the same decimals (and so the same sigfigs)."""
    scaled = value * sp.Rational(10) ** decimals
    if not scaled.is_Integer:  # cannot happen for a value read with these decimals
        return sp.sstr(value)
    n = int(scaled)
    sign = "-" if n < 0 else ""
    digits = str(abs(n))
    exponent = len(digits) - 1 - decimals
    if n == 0 and decimals >= 0:
        return "0" + ("." + "0" * decimals if decimals > 0 else "")
    if decimals < 0 or exponent < -4:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{exponent}"
    if decimals == 0:
        return sign + digits
    digits = digits.rjust(decimals + 1, "0")
    return f"{sign}{digits[:-decimals]}.{digits[-decimals:]}"


def _shown_exact(value: sp.Rational) -> str:
    """An exact value in a spelling that reads back as exact: 10^-4, 2/3."""
    magnitude = abs(value)
    if magnitude != 0 and int(magnitude.p) in (1, 10 ** (len(str(magnitude.p)) - 1)) \
            and int(magnitude.q) == 10 ** (len(str(magnitude.q)) - 1) and (magnitude.p == 1 or magnitude.q == 1):
        power = len(str(magnitude.p)) - len(str(magnitude.q))
        return ("-" if value < 0 else "") + f"10^{power}"
    return sp.sstr(value)
