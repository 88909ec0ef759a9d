"""The only door from text to SymPy.

Plain math (``2x(1-x)``, ``sigma(z)*(1-sigma(z))*x_i``) and a LaTeX subset
(``\\frac{e^{-z}}{(1+e^{-z})^2}``) are tokenised and parsed by a small
precedence-climbing parser that builds SymPy objects directly from a whitelist
of names.  Nothing here calls eval, exec, sympify, parse_expr or lambdify.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy as sp

from examcheck.parsing.errors import (  # noqa: F401 - the public interface
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_MATRIX_ENTRIES,
    MAX_NODES,
    MAX_NUMBER_DIGITS,
    MAX_TEXT,
    ParseError,
    TooComplex,
)
from examcheck.parsing.grammar import CLOSERS, Parser, number_value, split_name  # noqa: F401
from examcheck.parsing.tokens import Tokenizer, normalise, right_hand_side
from examcheck.parsing.units import UNIT_WORDS
from examcheck.parsing.vocabulary import CONSTANTS, FUNCTIONS, Vocabulary, canonical_name  # noqa: F401

# --------------------------------------------------------------------------
# public entry points


_TRAILING_WORD = re.compile(r"^(.*?\S)\s+(?:feature\s+)?([A-Za-z]+)\.?\s*$", re.S)


def drop_unit(text: str, vocab: Vocabulary | None = None) -> str:
    """'7600 parameters' -> '7600': a trailing unit word is not part of the answer
    (unless the part has a variable of that name)."""
    m = _TRAILING_WORD.match(text)
    if not m or m.group(2).lower() not in UNIT_WORDS:
        return text
    if vocab is not None and (m.group(2) in vocab.symbols or m.group(2) in vocab.values):
        return text
    return m.group(1)


def parse(text: str, vocab: Vocabulary | None = None):
    """Parse text into a SymPy expression, or a (nested) list of them."""
    vocab = vocab or Vocabulary()
    if not isinstance(text, str):
        raise ParseError("expected text")
    if len(text) > MAX_TEXT:
        raise TooComplex(f"answer is longer than {MAX_TEXT} characters")
    text = drop_unit(right_hand_side(normalise(text)), vocab)
    if not text:
        raise ParseError("the answer is empty")
    known = frozenset(vocab.symbols) | frozenset(vocab.values)
    tokens = Tokenizer(text, known).run()
    return Parser(tokens, vocab).parse()


def parse_expression(text: str, vocab: Vocabulary | None = None) -> sp.Expr:
    value = parse(text, vocab)
    if isinstance(value, (list, tuple)):
        raise ParseError("expected a single expression, not a list")
    return value


@dataclass(frozen=True)
class WrittenNumber:
    """A number together with the precision it was written to."""

    value: sp.Expr
    decimals: int | None = None
    sigfigs: int | None = None

    @property
    def exact(self) -> bool:
        return self.decimals is None


_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+\s*%?")  # 0,42 (after _THOUSANDS: 7,600 is seven thousand six hundred)
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_PLAIN_NUMBER = re.compile(
    r"^\s*([+-]?)\s*(\d+\.?\d*|\.\d+)(?:[eE]([+-]?\d+)|\s*\*\s*10\s*\^\s*\{?\s*([+-]?\d+)\s*\}?)?\s*(%?)\s*$"
)


def parse_number(text: str, vocab: Vocabulary | None = None) -> WrittenNumber:
    """A numeric answer, remembering the decimals and significant figures written."""
    if isinstance(text, str) and len(text) > MAX_TEXT:
        raise TooComplex(f"answer is longer than {MAX_TEXT} characters")
    normal = drop_unit(right_hand_side(normalise(text)), vocab).replace("\\%", "%").replace("\\times", "*").replace("\\cdot", "*")
    if _THOUSANDS.fullmatch(normal.strip()):
        normal = normal.replace(",", "")
    elif _DECIMAL_COMMA.fullmatch(normal.strip()):
        normal = normal.replace(",", ".")
    m = _PLAIN_NUMBER.match(normal)
    if not m:
        value = parse_expression(text, vocab or Vocabulary())
        if value.free_symbols:
            raise ParseError("expected a number, found an expression in " +
                             ", ".join(sorted(map(str, value.free_symbols))))
        return WrittenNumber(value)
    sign, mantissa, exponent, times_ten, percent = m.groups()
    power = int(exponent or times_ten or 0)
    if abs(power) > MAX_NUMBER_DIGITS or len(mantissa) > MAX_NUMBER_DIGITS:
        raise TooComplex("number is too large to check")
    value = number_value(mantissa) * sp.Rational(10) ** power
    if sign == "-":
        value = -value
    frac_digits = len(mantissa.split(".")[1]) if "." in mantissa else 0
    digits = mantissa.replace(".", "").lstrip("0")
    sigfigs = max(len(digits), 1)
    decimals = frac_digits - power
    if percent:
        value = value / 100
        decimals += 2
    return WrittenNumber(value, decimals=decimals, sigfigs=sigfigs)




def parse_shape(value) -> tuple[int, ...]:
    """'256x1025', '256 × 1025', '[256, 1025]', '(256,1025)', 'scalar' -> a tuple."""
    if isinstance(value, (list, tuple)):
        return tuple(_shape_dim(v) for v in value)
    if not isinstance(value, str):
        raise ParseError("expected a shape such as 4x8")
    if len(value) > 200:
        raise TooComplex("shape is too long")
    text = drop_unit(right_hand_side(normalise(value).replace("\\times", "*").replace("\\", "")).strip())
    text = _strip_outer_group(text)
    if text.lower() in ("", "scalar", "1 (scalar)"):
        return ()
    parts = _split_top_level(text)
    if any(p == "" for p in parts):
        raise ParseError(f"{value.strip()!r} is not a shape (write it like 4x8 or [4, 8])")
    return tuple(_shape_dim(p) for p in parts)


def _strip_outer_group(text: str) -> str:
    """'(4, 8)' -> '4, 8', but '(3+1) x (7+1)' stays as it is."""
    while len(text) >= 2 and text[0] in "([{" and text[-1] == CLOSERS[text[0]]:
        depth = 0
        for i, c in enumerate(text):
            depth += c in "([{"
            depth -= c in ")]}"
            if depth == 0 and i < len(text) - 1:
                return text
        text = text[1:-1].strip()
    return text


def _split_top_level(text: str) -> list[str]:
    """Split at x, ×, *, ',' or 'by' outside brackets."""
    parts, depth, start = [], 0, 0
    for m in re.finditer(r"[()\[\]{}]|\s*(?:x|X|\*|,|\bby\b)\s*", text):
        token = m.group(0)
        if token in "([{":
            depth += 1
        elif token in ")]}":
            depth -= 1
        elif depth == 0:
            parts.append(text[start:m.start()].strip())
            start = m.end()
    parts.append(text[start:].strip())
    return parts


def _shape_dim(value) -> int:
    text = str(value).strip()
    if re.fullmatch(r"\d{1,12}", text):
        return int(text)
    try:
        number = parse_expression(text)
    except ParseError:
        number = None
    if number is None or not number.is_Integer or number < 0 or len(text) > 40:
        raise ParseError(f"{text!r} is not a dimension (a whole number)")
    return int(number)


TRUE_WORDS = {"true", "t", "yes", "y", "1"}
FALSE_WORDS = {"false", "f", "no", "n", "0"}


def parse_boolean(value) -> bool:
    """true/false, yes/no, T/F, 1/0; or an answer that starts with a clear true/false word
    ('True, because the mean cancels b')."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().strip(".").lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    first = re.split(r"[\s,.;:!()-]+", text, maxsplit=1)[0]
    if first in ("true", "yes"):
        return True
    if first in ("false", "no"):
        return False
    raise ParseError("expected true or false (or yes/no, T/F)")


def parse_list(value, vocab: Vocabulary | None = None):
    """A vector or matrix: a YAML list, or text like '[1, 0.98]' or a LaTeX bmatrix."""
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_MATRIX_ENTRIES:
            raise TooComplex("matrix is too large to check")
        return [parse_list(v, vocab) if isinstance(v, (list, tuple)) else v for v in value]
    parsed = parse(str(value), vocab)
    if isinstance(parsed, tuple):
        parsed = list(parsed)
    if not isinstance(parsed, list):
        raise ParseError("expected a list such as [1, 2]")
    return _untuple(parsed)


def _untuple(value):
    if isinstance(value, (list, tuple)):
        return [_untuple(v) for v in value]
    return value
