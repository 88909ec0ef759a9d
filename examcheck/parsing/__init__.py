"""The only door from text to SymPy.

Plain math (``2x(1-x)``, ``sigma(z)*(1-sigma(z))*x_i``) and a LaTeX subset
(``\\frac{e^{-z}}{(1+e^{-z})^2}``) are tokenised and parsed by a small
precedence-climbing parser that builds SymPy objects directly from a whitelist
of names.  Nothing here calls eval, exec, sympify, parse_expr or lambdify.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.core.evalf import PrecisionExhausted

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
from examcheck.parsing.normal import strip_math_delimiters
from examcheck.parsing.numbers import WrittenNumber, WrittenSet, read_written_number, shown_text  # noqa: F401
from examcheck.parsing.tokens import Tokenizer, equation_sides, normalise, right_hand_side
from examcheck.parsing.units import UNIT_WORDS
from examcheck.parsing.vocabulary import CONSTANTS, FUNCTIONS, Vocabulary, canonical_name  # noqa: F401

# --------------------------------------------------------------------------
# public entry points


_TRAILING_WORD = re.compile(r"^(.*?\S)\s+((?:(?:trainable|learnable|total|feature|output|input|free|distinct)\s+)*)"
                            r"([A-Za-z]+)\.?\s*$", re.S)
_TRAILING_TEXT_UNIT = re.compile(r"^(.*?\S)\s*\\(?:text|mathrm|textrm|mbox|textnormal|operatorname)\s*\{\s*([^{}]*?)\s*\}\s*$",
                                 re.S)


def drop_unit(text: str, vocab: Vocabulary | None = None) -> str:
    """'7600 parameters' -> '7600', '0.69 nats' -> '0.69', '2\\text{ bytes}' -> '2': a trailing unit word is not
    part of the answer (unless the part has a variable of that name)."""
    m = _TRAILING_TEXT_UNIT.match(text)
    if m and m.group(2).lower().strip(".") in UNIT_WORDS:
        return m.group(1)
    if m and m.group(2).lower() in ("percent", "%"):
        return m.group(1) + "%"
    m = _TRAILING_WORD.match(text)
    if not m or m.group(3).lower() not in UNIT_WORDS:
        return text
    if vocab is not None and (m.group(3) in vocab.symbols or m.group(3) in vocab.values):
        return text
    return m.group(1)


def prepare(text: str, vocab: Vocabulary | None = None) -> str:
    """Normalised text of the answer proper: Unicode and delimiters normalised, the right-hand side of
    an equation, without a trailing unit."""
    if not isinstance(text, str):
        raise ParseError("expected text")
    if len(text) > MAX_TEXT:
        raise TooComplex(f"answer is longer than {MAX_TEXT} characters")
    return drop_unit(right_hand_side(normalise(text)), vocab).strip()


def sides_of(text: str, vocab: Vocabulary | None = None) -> list[str]:
    """The sides of an answer written as an equation chain ('p0 = 0.5 = 1/2'), each as prepare() leaves the
    answer proper (a trailing unit dropped); one element when there is no equation."""
    if not isinstance(text, str):
        raise ParseError("expected text")
    if len(text) > MAX_TEXT:
        raise TooComplex(f"answer is longer than {MAX_TEXT} characters")
    return [drop_unit(side, vocab).strip() for side in equation_sides(normalise(text))]


def _known(vocab: Vocabulary) -> frozenset[str]:
    return frozenset(vocab.symbols) | frozenset(vocab.values) | frozenset(vocab.functions)


def parse(text: str, vocab: Vocabulary | None = None):
    """Parse text into a SymPy expression, or a (nested) list of them."""
    vocab = vocab or Vocabulary()
    text = prepare(text, vocab)
    if not text:
        raise ParseError("the answer is empty")
    tokens = Tokenizer(text, _known(vocab)).run()
    return guarded(lambda: Parser(tokens, vocab).parse())


def guarded(read):
    """SymPy may refuse a combination (a comparison of complex numbers, an overflow): a clear
    ParseError, never a traceback.  Recursion too deep is TooComplex."""
    try:
        return read()
    except ParseError:
        raise
    except RecursionError:
        raise TooComplex("expression is nested too deeply") from None
    except PrecisionExhausted:
        raise TooComplex("a number too large to be evaluated exactly") from None
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise ParseError(f"cannot read this answer: {type(exc).__name__}: {exc}") from None


def parse_expression(text: str, vocab: Vocabulary | None = None) -> sp.Expr:
    value = parse(text, vocab)
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], sp.Expr):
        return value[0]  # [x + 1]: an expression in square brackets
    if isinstance(value, (list, tuple)):
        raise ParseError("expected a single expression, not a list")
    if not isinstance(value, sp.Basic):
        raise ParseError("expected an expression")
    return value


def parse_number(text: str, vocab: Vocabulary | None = None) -> WrittenNumber:
    """A numeric answer, remembering the decimals and significant figures written (see parsing.numbers)."""
    if not isinstance(text, str):
        raise ParseError("expected a number")
    normal = prepare(text, vocab)
    if not normal:
        raise ParseError("the answer is empty")
    written = read_written_number(normal)
    if written is not None:
        return written
    value = parse_expression(normal if len(normal) < MAX_TEXT else text, vocab or Vocabulary())
    if not isinstance(value, sp.Expr):
        raise ParseError("expected a number")
    if value.free_symbols:
        raise ParseError("expected a number, found an expression in " +
                         ", ".join(sorted(map(str, value.free_symbols))))
    return WrittenNumber(value, shown=sp.sstr(value))


_TIGHT_THOUSANDS = re.compile(r"(?<![\d.])\d{1,3}(?:,\d{3})+(?![\d.])")


def _check_commas(text: str) -> None:
    """In a list, '1,024' may be one number or two entries: never pick silently.
    Mixed spacing ('[1,024, 512]') or a group with a leading zero ('[1,024,512]') is ambiguous."""
    tight = [m.group(0) for m in _TIGHT_THOUSANDS.finditer(text)]
    if not tight:
        return
    spaced = re.search(r",\s", text) is not None
    leading_zero = any(re.search(r",0\d\d", t) for t in tight)
    if spaced or leading_zero:
        t = tight[0]
        raise ParseError(f"'{t}' has two readings here: the number {t.replace(',', '')} or the entries "
                         f"{', '.join(t.split(','))}; write numbers without thousands commas (or separate entries "
                         "with ', ' everywhere)")


_NUM_TEXT = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_SPACED_VECTOR = re.compile(rf"\[\s*({_NUM_TEXT}(?:\s+{_NUM_TEXT})+)\s*\]")


def _spaced_vectors(text: str) -> str:
    """numpy's '[0.212 0.576 0.212]' and '[[1 2] [3 4]]' are vectors and matrices."""
    def repl(m: re.Match) -> str:
        items = m.group(1).split()
        if all(re.fullmatch(r"\d+", x) for x in items) and re.fullmatch(r"\d{1,3}(?: \d{3})+", " ".join(items)):
            raise ParseError(f"'{m.group(0)}' has two readings: the entries {', '.join(items)} or the number "
                             f"{''.join(items)}; separate entries with commas")
        return "[" + ", ".join(items) + "]"

    changed = _SPACED_VECTOR.sub(repl, text)
    if changed != text:
        changed = re.sub(r"\]\s+\[", "], [", changed)
    return changed


def _top_level_split(text: str, sep: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _expand_plus_minus(body: str) -> str:
    """{±2} is {-2, 2}: an element written with ± stands for both signs."""
    out = []
    for element in _top_level_split(body, ","):
        m = re.fullmatch(r"\s*\\[pm]m\s*(.+?)\s*", element, re.S)
        if m:
            value = m.group(1)
            out += [f"-({value})" if not re.fullmatch(r"[\d.]+", value) else f"-{value}", value]
        else:
            out.append(element)
    return ", ".join(out)


_TIGHT_DECIMAL = re.compile(r"\s*([+-]?)(\d+),(\d+)\s*")
_BRACKETS = {"[": "]", "(": ")", "\\langle": "\\rangle"}


def _semicolon_decimal_commas(text: str) -> str:
    """'[0,09; 0,24; 0,67]', '(3; 3,5)': entries separated by ';' with decimal commas.  When the
    matrix reading [[0, 9], ...] is as plausible (every entry like 1,5), the text names both readings."""
    stripped = text.strip()
    opener = next((o for o in _BRACKETS if stripped.startswith(o) and stripped.endswith(_BRACKETS[o])), None)
    inner = stripped[len(opener):len(stripped) - len(_BRACKETS[opener])] if opener else stripped
    if ";" not in inner:
        return text
    pieces = _top_level_split(inner, ";")
    commas = [_TIGHT_DECIMAL.fullmatch(p) for p in pieces]
    if not any(commas) or any("," in p and not m for p, m in zip(pieces, commas)):
        return text
    thousands = [m.group(0).strip() for m in commas if m and re.fullmatch(r"[1-9]\d{0,2}", m.group(2)) and len(m.group(3)) == 3]
    if thousands:
        t = thousands[0]
        raise ParseError(f"'{t}' has two readings here: {t.replace(',', '.')} (a decimal comma) or "
                         f"{t.replace(',', '')} (a thousands separator); write it without the comma or with a point")
    matrix_possible = all(commas) and all(m.group(2) != "0" and not m.group(3).startswith("0") for m in commas)
    if matrix_possible:
        as_decimals = "; ".join(f"{m.group(1)}{m.group(2)}.{m.group(3)}" for m in commas)
        raise ParseError(f"{text.strip()!r} has two readings: the entries {as_decimals} (decimal commas) or a matrix "
                         "with rows " + "; ".join(f"[{m.group(1)}{m.group(2)}, {m.group(3)}]" for m in commas) +
                         "; write decimal points, or separate entries with ', '")
    fixed = "; ".join(f"{m.group(1)}{m.group(2)}.{m.group(3)}" if m else p for p, m in zip(pieces, commas))
    return (opener + fixed + _BRACKETS[opener]) if opener else fixed


_SET_OPEN = re.compile(r"^\s*(?:\\left\s*)?(\\\{|\{|\\lbrace)")
_SET_CLOSE = re.compile(r"(?:\\right\s*)?(\\\}|\}|\\rbrace)\s*$")


def _set_body(text: str) -> str | None:
    """The inside of a set literal {a, b} / \\{a, b\\}, or None."""
    if text.strip() in ("\\emptyset", "\\varnothing", "\\emptyset ", "{}", "\\{\\}", "\\{ \\}"):
        return ""
    open_m, close_m = _SET_OPEN.match(text), _SET_CLOSE.search(text)
    if not open_m or not close_m or close_m.start() < open_m.end():
        return None
    body = text[open_m.end():close_m.start()]
    depth = 0
    for c in body:  # the braces must enclose the whole text, not {a}{b}
        depth += c in "{"
        depth -= c in "}"
        if depth < 0:
            return None
    return body


def _leaf(value, vocab: Vocabulary):
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return WrittenNumber(sp.Integer(value), 0, max(len(str(abs(value)).lstrip("0")), 1), str(value))
    if isinstance(value, float):
        written = read_written_number(repr(value))
        return written if written is not None else value
    if isinstance(value, str):
        normal = prepare(value, vocab)
        written = read_written_number(normal) if normal else None
        return written if written is not None else parse_expression(value, vocab)
    return value


def parse_list(value, vocab: Vocabulary | None = None):
    """A vector, matrix or tuple (a list; a WrittenSet for a set literal such as {3, 5}).

    Entries written as plain numbers are WrittenNumber (value + written precision), other
    entries SymPy expressions.  A YAML list is read entry by entry."""
    vocab = vocab or Vocabulary()
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_MATRIX_ENTRIES:
            raise TooComplex("matrix is too large to check")
        return [parse_list(v, vocab) if isinstance(v, (list, tuple)) else _leaf(v, vocab) for v in value]
    text = prepare(str(value), vocab)
    if not text:
        raise ParseError("the answer is empty")
    body = _set_body(text)
    if body is not None:
        text = "[" + _expand_plus_minus(body) + "]"
    text = _semicolon_decimal_commas(_spaced_vectors(text))
    _check_commas(text)
    tokens = Tokenizer(text, _known(vocab)).run()
    parsed = guarded(lambda: Parser(tokens, vocab, source=text, keep_numbers=True).parse())
    if isinstance(parsed, tuple):
        parsed = list(parsed)
    if isinstance(parsed, (sp.Expr, WrittenNumber)):
        parsed = [parsed]  # (0.5) or 0.5: a one-entry vector (its length is checked against the reference)
    if not isinstance(parsed, list):
        raise ParseError("expected a list such as [1, 2]")
    entries = _untuple(parsed)
    return WrittenSet(entries) if body is not None else entries


def _untuple(value):
    if isinstance(value, WrittenSet):
        return WrittenSet(_untuple(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [_untuple(v) for v in value]
    return value


# --------------------------------------------------------------------------
# shapes

_REALS = re.compile(r"^\s*(?:\\mathbb\s*\{\s*R\s*\}|R)\s*\^\s*(?:\{(.*)\}|(\w+))\s*$", re.S)
_GROUP_MARK = re.compile(r"(?<=\d)(?:\\,|\{,\}|~|\\ |\\;)(?=\d{3}(?!\d))")
_DIM_SPLIT = re.compile(r"\s*(?:\\times|\*|(?<![A-Za-z])[xX](?![A-Za-z])|\bby\b)\s*")


def parse_shape(value, vocab: Vocabulary | None = None) -> tuple[int, ...]:
    """'256x1025', '256 × 1025', '2,048 x 512', '[256, 1025]', '(256,1025)', '\\mathbb{R}^{64\\times 128}',
    'scalar' -> a tuple of whole numbers."""
    if isinstance(value, (list, tuple)):
        return tuple(_shape_dim(v, vocab) for v in value)
    if not isinstance(value, str):
        raise ParseError("expected a shape such as 4x8")
    if len(value) > 200:
        raise TooComplex("shape is too long")
    text = prepare(value, vocab)
    reals = _REALS.match(text)
    if reals:
        text = reals.group(1) if reals.group(1) is not None else reals.group(2)
    text = _GROUP_MARK.sub("", _strip_outer_group(text.strip()))
    if text.lower() in ("", "scalar", "1 (scalar)", "()"):
        return ()
    parts = _DIM_SPLIT.split(text)
    if len(parts) == 1:
        _check_commas(text)
        parts = re.split(r"\s*[,;]\s*", text)
    if any(p.strip() == "" for p in parts):
        raise ParseError(f"{value.strip()!r} is not a shape (write it like 4x8 or [4, 8])")
    return tuple(_shape_dim(p, vocab) for p in parts)


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


def _shape_dim(value, vocab: Vocabulary | None = None) -> int:
    if isinstance(value, bool):
        raise ParseError("a dimension is a whole number")
    if isinstance(value, int):
        if value < 0:
            raise ParseError(f"{value} is not a dimension (a whole number)")
        return value
    text = str(value).strip()
    if re.fullmatch(r"\d{1,12}", text):
        return int(text)
    if len(text) > 40:
        raise ParseError(f"{text!r} is not a dimension (a whole number)")
    written = read_written_number(text)
    number = written.value if written is not None else None
    if number is None:
        try:
            number = parse_expression(text, vocab)
        except ParseError:
            number = None
    if number is None or not getattr(number, "is_Integer", False) or number < 0:
        raise ParseError(f"{text!r} is not a dimension (a whole number)")
    return int(number)


_TEXT_WRAPPER = re.compile(r"\\(?:text|textbf|textit|textrm|mathrm|mathbf|mathit|texttt|mbox|boxed|emph|textsf|"
                           r"operatorname)\s*\{([^{}]*)\}")


def plain_words(text: str) -> str:
    """'$\\text{True}$' -> 'True', '\\textbf{(B)}' -> '(B)': words out of their LaTeX wrappers."""
    text = strip_math_delimiters(str(text))
    for _ in range(3):
        text = _TEXT_WRAPPER.sub(lambda m: m.group(1), text)
    return text.strip()


_plain_words = plain_words


TRUE_WORDS = {"true", "t", "yes", "y", "1"}
FALSE_WORDS = {"false", "f", "no", "n", "0"}


def parse_boolean(value) -> bool:
    """true/false, yes/no, T/F, 1/0; or an answer that starts with a clear true/false word
    ('True, because the mean cancels b')."""
    if isinstance(value, bool):
        return value
    text = _plain_words(str(value)).strip().strip(".").lower()
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
