"""Tokenising plain math and the LaTeX subset: every command is looked up in a fixed table."""

from __future__ import annotations

import re
from dataclasses import dataclass

from examcheck.parsing.errors import MAX_NUMBER_DIGITS, ParseError, TooComplex
from examcheck.parsing.vocabulary import canonical_name

# names


GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "η": "eta",
    "θ": "theta", "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi", "π": "pi", "ρ": "rho",
    "σ": "sigma", "τ": "tau", "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega",
    "Δ": "Delta", "Σ": "Sigma", "Ω": "Omega",
}
GREEK_COMMANDS = set(GREEK.values()) | {"varepsilon", "vartheta", "varphi", "ell"}

UNICODE_REPLACEMENTS = {
    "·": "*", "×": "*", "⋅": "*", "∗": "*", "−": "-", "–": "-", "—": "-", "÷": "/",
    "²": "^2", "³": "^3", "¹": "^1", "⁰": "^0", "√": " sqrt ", "∞": "oo",
    "≤": "<=", "≥": ">=", "≠": "!=", "′": "'", "∑": "\\sum", "∏": "\\prod",
    "（": "(", "）": ")", "，": ",", "\u00a0": " ", "\u2009": " ", "\u200b": "",
}


@dataclass
class Token:
    kind: str  # num, name, op, (, ), [, ], {, }, ",", |, %, frac, matrix, &, rowsep, end
    text: str
    pos: int
    sub: str = ""
    sup: str = ""


_NUM = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_BRACED = re.compile(r"\{([^{}]*)\}")
_SUBSCRIPT_PLAIN = re.compile(r"[A-Za-z0-9]+")
_LABEL = re.compile(r"\^\{\(([A-Za-z0-9+\-]+)\)\}")
_BIG_LIMITS = re.compile(r"_\{?\s*([A-Za-z])\s*=\s*(-?\d+)\s*\}?\s*\^\s*(?:\{\s*(-?\d+)\s*\}|(-?\d+))")
_SUBSCRIPT_SHORT = re.compile(r"[0-9]+|[A-Za-z][0-9]*")
_MATRIX_ENVS = {"bmatrix", "pmatrix", "matrix", "vmatrix", "Bmatrix", "array"}
_SPACE_COMMANDS = {",", ";", "!", ":", "quad", "qquad", " ", "displaystyle", "left", "right", "boxed",
                   "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr"}
_NAME_WRAPPERS = {"mathbf", "boldsymbol", "mathrm", "mathit", "operatorname", "text", "bm",
                  "vec", "mathsf"}
_ACCENTS = {"hat": "hat", "bar": "bar", "tilde": "tilde", "dot": "dot"}
_LATEX_OPS = {"cdot": "*", "times": "*", "div": "/", "ast": "*"}
_LATEX_FUNCS = {"exp", "ln", "log", "tanh", "sinh", "cosh", "sin", "cos", "tan", "max", "min",
                "sqrt", "sigma", "lg", "sech", "sgn", "infty"}


def normalise(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text.startswith("$") and text.endswith("$"):
        text = text.strip("$")
    if text.startswith(r"\(") and text.endswith(r"\)"):
        text = text[2:-2]
    if text.startswith("\\boxed{") and text.endswith("}"):
        text = text[len("\\boxed{"):-1]
    for old, new in GREEK.items():
        if old != "σ" and old != "π":
            text = text.replace(old, f" {new} ")
    text = text.replace("σ", " sigma ").replace("π", " pi ")
    for old, new in UNICODE_REPLACEMENTS.items():
        text = text.replace(old, new)
    return text


class Tokenizer:
    def __init__(self, text: str, known: frozenset[str] = frozenset()):
        self.text = text
        self.i = 0
        self.tokens: list[Token] = []
        self.known = known

    def error(self, message: str) -> ParseError:
        return ParseError(f"{message} (at character {self.i + 1})")

    def run(self) -> list[Token]:
        text = self.text
        while self.i < len(text):
            c = text[self.i]
            if c.isspace():
                self.i += 1
            elif c.isdigit() or (c == "." and self.i + 1 < len(text) and text[self.i + 1].isdigit()):
                self._number()
            elif c.isalpha() and c.isascii():
                self._identifier()
            elif c == "\\":
                self._command()
            elif text.startswith("**", self.i):
                self._emit("op", "^", 2)
            elif text[self.i:self.i + 2] in ("<=", ">=", "==", "!="):
                self._emit("rel", text[self.i:self.i + 2], 2)
            elif c in "<>":
                self._emit("rel", c, 1)
            elif c == "'":
                self._emit("'", "'", 1)
            elif c in "+-*/^":
                self._emit("op", c, 1)
            elif c in "()[]{},|%&!":
                self._emit(c, c, 1)
            else:
                raise self.error(f"unexpected character {c!r}")
        self.tokens.append(Token("end", "", self.i))
        return self.tokens

    def _emit(self, kind: str, text: str, length: int, **extra) -> None:
        self.tokens.append(Token(kind, text, self.i, **extra))
        self.i += length

    def _number(self) -> None:
        m = _NUM.match(self.text, self.i)
        text = m.group(0)
        if len(text) > MAX_NUMBER_DIGITS:
            raise TooComplex("number has too many digits")
        self._emit("num", text, len(text))

    def _identifier(self) -> None:
        m = _IDENT.match(self.text, self.i)
        start = self._name_start = self.i
        if m.group(0) in ("sum", "prod") and self.text.startswith("_", m.end()):
            self.i = m.end()
            self._big_operator(m.group(0), start)
            return
        self.i = m.end()
        sup = self._superscript_label()
        sub = self._subscript()
        if not sup:
            sup = self._superscript_label()
        self.tokens.append(Token("name", m.group(0), start, sub=sub, sup=sup))

    def _subscript(self) -> str:
        """_i, _{12}, _k1, and chains like _2_1."""
        parts = []
        while self.text.startswith("_", self.i):
            parts.append(self._one_subscript())
        return "_".join(parts)

    def _one_subscript(self) -> str:
        text = self.text
        j = self.i + 1
        if text.startswith("{", j):
            m = _BRACED.match(text, j)
            if not m:
                raise self.error("unclosed subscript")
            self.i = m.end()
            return re.sub(r"[\s{}\\]", "", m.group(1)).replace(",", "")
        m = _SUBSCRIPT_PLAIN.match(text, j)
        if not m:
            raise self.error("empty subscript")
        base = self.tokens[-1].text if self._name_start is None else text[self._name_start:j - 1]
        if canonical_name(base, m.group(0)) not in self.known and not any(
                k.startswith(canonical_name(base, m.group(0)) + "_") for k in self.known):
            m = _SUBSCRIPT_SHORT.match(text, j)
        self.i = m.end()
        return m.group(0)

    def _superscript_label(self) -> str:
        """``a^{(4)}``: a parenthesised superscript is a layer label, not a power."""
        m = _LABEL.match(self.text, self.i)
        if not m:
            return ""
        self.i = m.end()
        return m.group(1)

    def _braced_argument(self) -> str:
        m = _BRACED.match(self.text, self.i)
        if not m:
            raise self.error("expected {...}")
        self.i = m.end()
        return m.group(1).strip()

    def _command(self) -> None:
        text = self.text
        start = self.i
        if text.startswith("\\\\", self.i):
            self._emit("rowsep", "\\\\", 2)
            return
        m = re.compile(r"\\([A-Za-z]+|.)").match(text, self.i)
        if not m:
            raise self.error("dangling backslash")
        name = m.group(1)
        self.i = m.end()
        if name in _SPACE_COMMANDS:
            return
        if name in ("{", "}"):
            self.i = start
            self._emit(name, name, 2)
            return
        if name == "%":
            self.tokens.append(Token("%", "%", start))
        elif name in ("frac", "dfrac", "tfrac"):
            self.tokens.append(Token("frac", name, start))
            self._split_digit_pair()
        elif name in _LATEX_OPS:
            self.tokens.append(Token("op", _LATEX_OPS[name], start))
        elif name in ("begin", "end"):
            env = self._braced_argument()
            if env not in _MATRIX_ENVS:
                raise self.error(f"unsupported LaTeX environment {env!r}")
            if name == "begin" and env == "array":
                self._braced_argument()
            kind = "[" if name == "begin" else "]"
            self.tokens.append(Token(kind, "matrix", start))
        elif name == "text" and self._text_is_a_unit():
            return
        elif name in _NAME_WRAPPERS:
            inner = self._braced_argument().replace("\\", "")
            self._named(inner, start)
        elif name in _ACCENTS:
            inner = self._braced_argument().replace("\\", "")
            self._named(inner, start, suffix="_" + _ACCENTS[name])
        elif name == "lvert" or name == "rvert" or name == "vert" or name == "mid":
            self.tokens.append(Token("|", "|", start))
        elif name in ("sum", "prod"):
            self._big_operator(name, start)
        elif name == "prime":
            self.tokens.append(Token("'", "'", start))
        elif name in _LATEX_FUNCS or name in GREEK_COMMANDS:
            self.tokens.append(Token("name", name, start))
            self._name_start = None
            self._attach_scripts()
        else:
            raise self.error(f"unsupported LaTeX command \\{name}")

    def _text_is_a_unit(self) -> bool:
        """\\text{ bytes} after a value is a unit, not a name: skip it."""
        from examcheck.parsing.units import UNIT_WORDS

        m = _BRACED.match(self.text, self.i)
        if m and m.group(1).strip().lower() in UNIT_WORDS | {""}:
            self.i = m.end()
            return True
        return False

    def _named(self, inner: str, start: int, suffix: str = "") -> None:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", inner):
            raise self.error(f"unsupported name {inner!r}")
        self.tokens.append(Token("name", inner + suffix, start))
        self._name_start = None
        self._attach_scripts()

    def _attach_scripts(self) -> None:
        token = self.tokens[-1]
        sup = self._superscript_label()
        token.sub = self._subscript()
        token.sup = sup or self._superscript_label()

    def _big_operator(self, name: str, start: int) -> None:
        """\\sum_{k=1}^{3}: the index, its first and last value."""
        m = _BIG_LIMITS.match(self.text, self.i)
        if not m:
            raise self.error(f"write {name} with limits, like \\{name}_{{k=1}}^{{3}}")
        self.i = m.end()
        index, low, high = m.group(1), m.group(2), m.group(3) or m.group(4)
        self.tokens.append(Token("big", name, start, sub=f"{index}={low}", sup=high))

    def _split_digit_pair(self) -> None:
        """``\\frac12`` means 1/2."""
        j = self.i
        while j < len(self.text) and self.text[j] == " ":
            j += 1
        pair = self.text[j:j + 2]
        if len(pair) == 2 and pair.isdigit():
            for digit in pair:
                self.tokens.append(Token("{", "{", j))
                self.tokens.append(Token("num", digit, j))
                self.tokens.append(Token("}", "}", j))
            self.i = j + 2


def right_hand_side(text: str) -> str:
    """'da/dw = x sigma' -> 'x sigma': an answer written as an equation counts by its last side."""
    text = text.replace("\\approx", "=").replace("≈", "=")
    depth, cut = 0, -1
    for i, c in enumerate(text):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "=" and depth == 0 and text[i - 1:i] not in ("<", ">", "!", "=") and text[i + 1:i + 2] != "=":
            cut = i
    return text[cut + 1:].strip() if cut >= 0 else text
