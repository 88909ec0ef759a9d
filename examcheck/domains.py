"""Symbol domains as problem files write them ("real", "0 < p < 1",
"positive integer"): SymPy assumptions, and where to draw test points."""

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
        return out

    def symbol(self, name: str) -> sp.Symbol:
        return sp.Symbol(name, **self.assumptions())

    def sample(self, rng: random.Random) -> float:
        if self.integer:
            low = math.ceil(self.low + (1e-9 if self.open_low else 0))
            high = math.floor(self.high - (1e-9 if self.open_high else 0))
            return float(rng.randint(low, high))
        span = self.high - self.low
        margin = 0.02 * span
        return rng.uniform(self.low + margin, self.high - margin)


REAL = Domain()
_WORDS = {
    "real": Domain(),
    "positive": Domain(0.0, 4.0),
    "negative": Domain(-4.0, 0.0),
    "nonnegative": Domain(0.0, 4.0, open_low=False),
    "nonpositive": Domain(-4.0, 0.0, open_high=False),
    "integer": Domain(-6, 6, integer=True, open_low=False, open_high=False),
    "positive integer": Domain(1, 9, integer=True, open_low=False, open_high=False),
    "nonnegative integer": Domain(0, 9, integer=True, open_low=False, open_high=False),
    "probability": Domain(0.0, 1.0),
}
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?"
_CHAIN = re.compile(rf"^\s*({_NUMBER})\s*(<=?)\s*[A-Za-z_{{}}0-9\\^()]+\s*(<=?)\s*({_NUMBER})\s*$")
_INTERVAL = re.compile(rf"^\s*([(\[])\s*({_NUMBER})\s*,\s*({_NUMBER})\s*([)\]])\s*$")
_BOUND = re.compile(rf"^\s*[A-Za-z_{{}}0-9\\^()]+\s*(<=?|>=?)\s*({_NUMBER})\s*$")


def parse_domain(text: str) -> Domain:
    """'real', 'positive integer', '0 < p < 1', '(0, 1)', 'x > 2' -> a Domain."""
    words = " ".join(str(text).lower().split())
    if words.replace("_", " ") in _WORDS:
        return _WORDS[words.replace("_", " ")]
    if m := _CHAIN.match(words):
        low, op1, op2, high = m.groups()
        return _interval(float(low), float(high), op1 == "<", op2 == "<")
    if m := _INTERVAL.match(words):
        left, low, high, right = m.groups()
        return _interval(float(low), float(high), left == "(", right == ")")
    if m := _BOUND.match(words):
        op, value = m.group(1), float(m.group(2))
        if op.startswith(">"):
            return Domain(value, value + 4.0, open_low=op == ">")
        return Domain(value - 4.0, value, open_high=op == "<")
    raise DomainError(
        f"cannot read domain {text!r} (expected real, positive, integer, positive integer, "
        "'0 < p < 1', '(0, 1)' or 'x > 2')"
    )


def _interval(low: float, high: float, open_low: bool, open_high: bool) -> Domain:
    if not low < high:
        raise DomainError(f"empty interval: {low} to {high}")
    return Domain(low, high, open_low=open_low, open_high=open_high)
