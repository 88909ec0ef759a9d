"""Symbol domains as problem files write them: SymPy assumptions, and where to draw test points.

Words read (case and spacing free; LaTeX and Unicode relations accepted):
  real (reals, any real, R, ℝ), positive, negative, nonnegative / non-negative, nonpositive / non-positive,
  nonzero / non-zero (also "nonzero real", "real, nonzero"), integer, positive integer (natural number),
  nonnegative integer, negative integer, nonzero integer, probability;
  bounds: 'x > 0', 'x >= 0', 'x != 0', 'x ≥ 0', '0 < x', 'x < 5';
  chains: '0 < p < 1', '-1 <= x <= 1', '0 \\le x < 1';
  intervals: '(0, 1)', '[a, b]', '(a, b]', '[0, \\infty)', 'x in [0, 1]', 'x ∈ (0, 1)'.

``Domain.low``/``high`` are the window that ``sample`` draws from (a bounded window even for an
unbounded domain); ``unbounded_low``/``unbounded_high`` say whether the domain really goes on to
∓∞ there, and ``excluded`` lists excluded points (nonzero: 0).  ``sample_wide`` draws across
scales (tiny, unit and large magnitudes, both signs where allowed) inside the real domain.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass

import sympy as sp


class DomainError(ValueError):
    pass


@dataclass(frozen=True)
class Domain:
    low: float = -3.0
    high: float = 3.0
    integer: bool = False
    open_low: bool = True
    open_high: bool = True
    excluded: tuple[float, ...] = ()
    unbounded_low: bool = False
    unbounded_high: bool = False

    def assumptions(self) -> dict:
        out: dict = {"real": True}
        if self.integer:
            out["integer"] = True
        if self.low > 0 or (self.low == 0 and self.open_low):
            out["positive"] = True
        elif self.low >= 0:
            out["nonnegative"] = True
        elif self.high < 0 or (self.high == 0 and self.open_high):
            out["negative"] = True
        elif self.high <= 0:
            out["nonpositive"] = True
        elif 0.0 in self.excluded:
            out["nonzero"] = True
        return out

    def symbol(self, name: str) -> sp.Symbol:
        return sp.Symbol(name, **self.assumptions())

    def contains(self, x: float) -> bool:
        if self.integer and float(x) != math.floor(x):
            return False
        if x in self.excluded:
            return False
        low_ok = self.unbounded_low or (x > self.low if self.open_low else x >= self.low)
        high_ok = self.unbounded_high or (x < self.high if self.open_high else x <= self.high)
        return low_ok and high_ok

    def sample(self, rng: random.Random) -> float:
        """A point of the window [low, high], away from its ends and from excluded points."""
        for _ in range(50):
            x = self._sample_window(rng)
            if all(abs(x - e) > 1e-3 for e in self.excluded) and self.contains(x):
                return x
        return x

    def _sample_window(self, rng: random.Random) -> float:
        if self.integer:
            low = math.ceil(self.low + (1e-9 if self.open_low else 0))
            high = math.floor(self.high - (1e-9 if self.open_high else 0))
            return float(rng.randint(low, max(low, high)))
        span = self.high - self.low
        margin = 0.02 * span
        return rng.uniform(self.low + margin, self.high - margin)

    def sample_wide(self, rng: random.Random) -> float:
        """A point of the whole domain across scales: magnitudes from 1e-6 to 1e6 where the domain
        reaches them, both signs where allowed; integers for an integer domain."""
        for _ in range(100):
            magnitude = 10.0 ** rng.uniform(-6, 6)
            sign = rng.choice((-1.0, 1.0))
            if rng.random() < 0.3:
                x = self._sample_window(rng)
            elif self.unbounded_low or self.unbounded_high:
                x = sign * magnitude
                if not self.unbounded_low and x < self.low:
                    x = self.low + magnitude
                if not self.unbounded_high and x > self.high:
                    x = self.high - magnitude
            else:  # a bounded interval: near either end at several scales, or inside
                edge = self.low if rng.random() < 0.5 else self.high
                x = edge + (1 if edge == self.low else -1) * (self.high - self.low) * 10.0 ** rng.uniform(-6, 0)
            if self.integer:
                x = float(round(x))
            if self.contains(x):
                return x
        return self.sample(rng)


REAL = Domain(unbounded_low=True, unbounded_high=True)
_UP = {"unbounded_high": True}
_DOWN = {"unbounded_low": True}
_WORDS = {
    "real": REAL,
    "positive": Domain(0.0, 4.0, **_UP),
    "negative": Domain(-4.0, 0.0, **_DOWN),
    "nonnegative": Domain(0.0, 4.0, open_low=False, **_UP),
    "nonpositive": Domain(-4.0, 0.0, open_high=False, **_DOWN),
    "nonzero": Domain(excluded=(0.0,), unbounded_low=True, unbounded_high=True),
    "integer": Domain(-6, 6, integer=True, open_low=False, open_high=False, unbounded_low=True, unbounded_high=True),
    "positive integer": Domain(1, 9, integer=True, open_low=False, open_high=False, **_UP),
    "nonnegative integer": Domain(0, 9, integer=True, open_low=False, open_high=False, **_UP),
    "negative integer": Domain(-9, -1, integer=True, open_low=False, open_high=False, **_DOWN),
    "nonzero integer": Domain(-6, 6, integer=True, open_low=False, open_high=False, excluded=(0.0,),
                              unbounded_low=True, unbounded_high=True),
    "probability": Domain(0.0, 1.0),
}
_SYNONYMS = {
    "reals": "real", "any real": "real", "real number": "real", "real numbers": "real", "r": "real",
    "any": "real", "all reals": "real", "unrestricted": "real",
    "positive real": "positive", "strictly positive": "positive", "positive number": "positive", "positive reals": "positive",
    "negative real": "negative", "strictly negative": "negative", "negative number": "negative",
    "non-negative": "nonnegative", "non negative": "nonnegative", "nonnegative real": "nonnegative",
    "non-negative real": "nonnegative", "non-positive": "nonpositive", "non positive": "nonpositive",
    "nonzero": "nonzero", "non-zero": "nonzero", "non zero": "nonzero", "nonzero real": "nonzero",
    "non-zero real": "nonzero", "real, nonzero": "nonzero", "real nonzero": "nonzero", "real, non-zero": "nonzero",
    "integers": "integer", "int": "integer", "whole number": "integer",
    "positive integers": "positive integer", "natural": "positive integer", "natural number": "positive integer",
    "natural numbers": "positive integer", "positive int": "positive integer", "strictly positive integer": "positive integer",
    "non-negative integer": "nonnegative integer", "non negative integer": "nonnegative integer",
    "nonnegative int": "nonnegative integer", "negative integers": "negative integer",
    "non-zero integer": "nonzero integer", "probabilities": "probability",
}
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|[-+]?inf(?:ty|inity)?"
_NAME = r"[A-Za-z_{}0-9\\^()]+"
_REL = r"<=|>=|<|>|!="
_CHAIN = re.compile(rf"^\s*({_NUMBER})\s*(<=?)\s*{_NAME}\s*(<=?)\s*({_NUMBER})\s*$")
_CHAIN_DOWN = re.compile(rf"^\s*({_NUMBER})\s*(>=?)\s*{_NAME}\s*(>=?)\s*({_NUMBER})\s*$")
_INTERVAL = re.compile(rf"^\s*(?:{_NAME}\s+in\s+)?([(\[\]])\s*({_NUMBER})\s*[,;]\s*({_NUMBER})\s*([)\]\[])\s*$")
_BOUND = re.compile(rf"^\s*{_NAME}\s*({_REL})\s*({_NUMBER})\s*$")
_BOUND_LEFT = re.compile(rf"^\s*({_NUMBER})\s*({_REL})\s*{_NAME}\s*$")
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "!=": "!="}


def _normal_words(text: str) -> str:
    words = str(text).strip().strip("$")
    for old, new in (("\\infty", "inf"), ("\\left", ""), ("\\right", ""),
                     ("≤", "<="), ("⩽", "<="), ("≥", ">="), ("⩾", ">="), ("≠", "!="), ("−", "-"), ("∈", " in "),
                     ("∞", "inf"), ("ℝ", "r"), ("\\leq", "<="), ("\\le", "<="), ("\\geq", ">="), ("\\ge", ">="),
                     ("\\neq", "!="), ("\\ne", "!="), ("\\lt", "<"), ("\\gt", ">"), ("\\in", " in "),
                     ("\\mathbb{r}", "r"), ("\\mathbb{R}", "r"), ("=<", "<="), ("=>", ">=")):
        words = words.replace(old, new)
    return " ".join(words.lower().replace("_", " ").split()) if not re.search(r"[<>=\[\]()]", words) \
        else " ".join(words.lower().split())


def _value(text: str) -> float:
    if "inf" in text:
        return -math.inf if text.startswith("-") else math.inf
    return float(text)


def parse_domain(text: str) -> Domain:
    """'real', 'positive integer', 'nonzero', '0 < p < 1', '(0, 1]', 'x >= 0', 'x != 0' -> a Domain."""
    words = _normal_words(text)
    words = _SYNONYMS.get(words, words)
    if words in _WORDS:
        return _WORDS[words]
    if m := _CHAIN.match(words):
        low, op1, op2, high = m.groups()
        return _interval(_value(low), _value(high), op1 == "<", op2 == "<")
    if m := _CHAIN_DOWN.match(words):
        high, op1, op2, low = m.groups()
        return _interval(_value(low), _value(high), op2 == ">", op1 == ">")
    if m := _INTERVAL.match(words):
        left, low, high, right = m.groups()
        return _interval(_value(low), _value(high), left in "(]", right in ")[")
    if m := _BOUND.match(words):
        return _bound(m.group(1), _value(m.group(2)), text)
    if m := _BOUND_LEFT.match(words):
        return _bound(_FLIP[m.group(2)], _value(m.group(1)), text)
    raise DomainError(
        f"cannot read domain {text!r} (expected real, positive, negative, nonnegative, nonzero, integer, "
        "positive integer, '0 < p < 1', '(0, 1]', 'x >= 0' or 'x != 0')"
    )


def _bound(op: str, value: float, text: str) -> Domain:
    if not math.isfinite(value):
        raise DomainError(f"cannot read domain {text!r}: the bound is not a finite number")
    if op == "!=":
        return Domain(value - 3.0, value + 3.0, excluded=(value,), unbounded_low=True, unbounded_high=True)
    if op.startswith(">"):
        return Domain(value, value + 4.0, open_low=op == ">", unbounded_high=True)
    return Domain(value - 4.0, value, open_high=op == "<", unbounded_low=True)


def _interval(low: float, high: float, open_low: bool, open_high: bool) -> Domain:
    if not low < high:
        raise DomainError(f"empty interval: {low} to {high}")
    unbounded_low, unbounded_high = math.isinf(low), math.isinf(high)
    if unbounded_low and unbounded_high:
        return REAL
    if unbounded_low:
        return Domain(high - 4.0, high, open_high=open_high, unbounded_low=True)
    if unbounded_high:
        return Domain(low, low + 4.0, open_low=open_low, unbounded_high=True)
    return Domain(low, high, open_low=open_low, open_high=open_high)
