"""Size limits on untrusted text, and the errors the parser raises."""

from __future__ import annotations

MAX_TEXT = 4000
MAX_DEPTH = 60
MAX_EXPONENT = 1000
MAX_NUMBER_DIGITS = 2000
MAX_NODES = 5000
MAX_MATRIX_ENTRIES = 10000


class ParseError(ValueError):
    """The text is not a well-formed answer; the message says why."""


class TooComplex(ParseError):
    """The text is well formed but beyond the checker's size limits."""

