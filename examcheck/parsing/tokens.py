"""Tokenising plain math and the LaTeX subset: every command is looked up in a fixed table."""

from __future__ import annotations

import re
from dataclasses import dataclass

from examcheck.parsing.errors import MAX_NUMBER_DIGITS, ParseError, TooComplex
from examcheck.parsing.normal import GREEK, normalise  # noqa: F401 - re-exported
from examcheck.parsing.numbers import read_written_number
from examcheck.parsing.vocabulary import FUNCTIONS, canonical_name

GREEK_COMMANDS = set(GREEK.values()) | {"varepsilon", "vartheta", "varphi", "varrho", "varsigma", "varpi", "ell"}
VARIANT_GREEK = {"varepsilon": "epsilon", "vartheta": "theta", "varphi": "phi", "varrho": "rho",
                 "varsigma": "sigma", "varpi": "pi"}
KEYWORDS = {"if", "else", "otherwise", "for", "when", "and", "or", "elsewhere", "then", "where"}


@dataclass
class Token:
    kind: str  # num, name, op, (, ), [, ], {, }, ",", |, %, frac, matrix, &, rowsep, end
    text: str
    pos: int
    sub: str = ""
    sup: str = ""
    value: object = None  # kind "value": an exact SymPy number read by the number reader


_NUM = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_GROUP_JOIN = re.compile(r"(?:\\,|\\thinspace|~|\{,\}|\\;|\\:|\\ )(?=\d{3}(?!\d))")
_REPEATING_TAIL = re.compile(r"\\overline\s*\{\d+\}|\\bar\s*\{\d+\}|\\dot\s*\{?\d\}?"
                             r"|\(\d+\)(?!\s*[\^(A-Za-z\\])|\.\.\.|\\ldots|\\dots|\\cdots")
_DECIMAL_BRACE_COMMA = re.compile(r"\{,\}(?=\d)")
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_BRACED = re.compile(r"\{([^{}]*)\}")
_NESTED_BRACED = re.compile(r"\{((?:[^{}]|\{[^{}]*\})*)\}")
_SUBSCRIPT_PLAIN = re.compile(r"[A-Za-z0-9]+")
_LABEL = re.compile(r"\^\{\(([A-Za-z0-9+\-]+)\)\}")
_LIMIT_VALUE = r"(?:\{\s*([^{}]+?)\s*\}|(-?\d+|[A-Za-z]))"
_LOWER = re.compile(r"_\s*\{\s*([A-Za-z])\s*=\s*([^{}]+?)\s*\}|_\s*([A-Za-z])\s*=\s*(-?\d+)")
_UPPER = re.compile(r"\^\s*" + _LIMIT_VALUE)
_SUBSCRIPT_SHORT = re.compile(r"[0-9]+|[A-Za-z][0-9]*")
_MATRIX_ENVS = {"bmatrix", "pmatrix", "matrix", "vmatrix", "Bmatrix", "array", "smallmatrix", "bmatrix*", "pmatrix*"}
_CASES_ENVS = {"cases", "dcases", "rcases", "cases*"}
_SIZES = {f"{size}{side}" for size in ("big", "Big", "bigg", "Bigg") for side in ("", "l", "r", "m")}
_SPACE_COMMANDS = {",", ";", "!", ":", " ", "quad", "qquad", "displaystyle", "textstyle", "boxed", "limits",
                   "nolimits", "thinspace", "enspace", "medspace", "thickspace", "negthinspace", "middle", "mathop",
                   "nonumber", "notag"} | _SIZES
_DELIMITER_SIZERS = {"left", "right", "middle"} | _SIZES
_NAME_WRAPPERS = {"mathbf", "boldsymbol", "mathrm", "mathit", "operatorname", "bm", "vec", "mathsf", "mathnormal",
                  "pmb", "mathcal", "mathbb", "mathds", "mathbbm", "mathscr", "mathfrak", "textbf", "textit",
                  "textrm", "mathtt", "texttt", "text", "mbox", "textnormal"}
_ACCENTS = {"hat": "hat", "widehat": "hat", "bar": "bar", "overline": "bar", "tilde": "tilde", "widetilde": "tilde",
            "dot": "dot"}
_LATEX_OPS = {"cdot": "*", "times": "*", "div": "/", "ast": "*", "cdotp": "*", "centerdot": "*", "bullet": "*"}
_RELATIONS = {"leq": "<=", "le": "<=", "leqslant": "<=", "geq": ">=", "ge": ">=", "geqslant": ">=", "neq": "!=",
              "ne": "!=", "lt": "<", "gt": ">"}
_LOGIC = {"land": "and", "wedge": "and", "lor": "or", "vee": "or"}
_BRACKETS = {"langle": "[", "rangle": "]", "lbrack": "[", "rbrack": "]", "lbrace": "{", "rbrace": "}",
             "lfloor": "lfloor", "rfloor": "rfloor", "lceil": "lceil", "rceil": "rceil",
             "lvert": "|", "rvert": "|", "vert": "|", "mid": "|", "lparen": "(", "rparen": ")"}
_TEXT_KEYWORDS = {"if": "if", "for": "for", "when": "when", "where": "where", "and": "and", "or": "or",
                  "otherwise": "otherwise", "else": "else", "elsewhere": "otherwise", "o.w.": "otherwise",
                  "ow": "otherwise", "then": "then", "else,": "else", "if:": "if"}
_LATEX_FUNCS = {"exp", "ln", "log", "tanh", "sinh", "cosh", "sin", "cos", "tan", "max", "min", "sqrt", "sigma", "lg",
                "sech", "csch", "coth", "sec", "csc", "cot", "sgn", "infty", "arcsin", "arccos", "arctan", "arsinh",
                "arcsinh", "arccosh", "arcosh", "arctanh", "artanh", "erf", "erfc", "sign"}


class Tokenizer:
    def __init__(self, text: str, known: frozenset[str] = frozenset()):
        self.text = text
        self.i = 0
        self.tokens: list[Token] = []
        self.known = known
        self._name_start: int | None = None

    def error(self, message: str) -> ParseError:
        return ParseError(f"{message} (at character {self.i + 1})")

    def run(self) -> list[Token]:
        text = self.text
        while self.i < len(text):
            c = text[self.i]
            if c.isspace() or c == "~":
                self.i += 1
            elif c.isdigit() or (c == "." and self.i + 1 < len(text) and text[self.i + 1].isdigit()):
                self._number()
            elif c.isalpha() and c.isascii():
                self._identifier()
            elif c == "\\":
                self._command()
            elif text.startswith("**", self.i):
                self._emit("op", "^", 2)
            elif text.startswith("...", self.i):
                raise self.error("'...' is not part of an answer I can check")
            elif text[self.i:self.i + 2] in ("<=", ">=", "==", "!=", "=<", "=>"):
                rel = text[self.i:self.i + 2]
                self._emit("rel", {"=<": "<=", "=>": ">="}.get(rel, rel), 2)
            elif text[self.i:self.i + 2] in ("&&", "||"):
                self._emit("kw", "and" if c == "&" else "or", 2)
            elif c in "<>":
                self._emit("rel", c, 1)
            elif c == "'":
                self._emit("'", "'", 1)
            elif c in "+-*/^":
                self._emit("op", c, 1)
            elif c in "()[]{},|%&!;":
                self._emit(c, c, 1)
            elif c == "_" and self.tokens and self.tokens[-1].kind == "indicator":
                self._emit("_", "_", 1)
            else:
                raise self.error(f"unexpected character {c!r}")
        self.tokens.append(Token("end", "", self.i))
        return self.tokens

    def _emit(self, kind: str, text: str, length: int, **extra) -> None:
        self.tokens.append(Token(kind, text, self.i, **extra))
        self.i += length

    def _number(self) -> None:
        """A decimal literal; digit groups joined by \\, ~ {,} or a thin space are one number
        (12\\,544 is 12544, never a product); 0{,}85 is a decimal comma."""
        start = self.i
        m = _NUM.match(self.text, self.i)
        text = m.group(0)
        end = m.end()
        if not m.group(2) and "." not in text and len(text) <= 3:
            while (g := _GROUP_JOIN.match(self.text, end)) is not None:
                text += self.text[g.end():g.end() + 3]
                end = g.end() + 3
            d = _DECIMAL_BRACE_COMMA.match(self.text, end)
            if d and len(text) <= 3:
                frac = re.compile(r"\d+").match(self.text, d.end())
                if frac and len(frac.group(0)) != 3:
                    text += "." + frac.group(0)
                    end = frac.end()
        if len(text) > MAX_NUMBER_DIGITS:
            raise TooComplex("number has too many digits")
        repeat = _REPEATING_TAIL.match(self.text, end) if "." in text and not m.group(2) else None
        if repeat:
            written = read_written_number(self.text[start:repeat.end()])
            if written is not None:
                self.tokens.append(Token("value", str(written), start, value=written.value))
                self.i = repeat.end()
                return
        self.tokens.append(Token("num", text, start))
        self.i = end
        if text == "1" and self.text.startswith("_", self.i):
            self.tokens[-1] = Token("indicator", "1", start)

    def _identifier(self) -> None:
        m = _IDENT.match(self.text, self.i)
        start = self._name_start = self.i
        word = m.group(0)
        if word in ("sum", "prod") and re.match(r"\s*[_^]", self.text[m.end():m.end() + 3]):
            self.i = m.end()
            self._big_operator(word, start)
            return
        if word in KEYWORDS and word not in self.known:
            self._emit("kw", {"elsewhere": "otherwise"}.get(word, word), len(word))
            return
        if word in ("percent", "pct") and word not in self.known:
            self._emit("%", "%", len(word))
            return
        self.i = m.end()
        sup = self._superscript_label()
        sub = self._subscript()
        if not sup:
            sup = self._superscript_label()
        self.tokens.append(Token("name", word, start, sub=sub, sup=sup))

    def _skip_spaces(self) -> None:
        while self.i < len(self.text) and self.text[self.i] == " ":
            self.i += 1

    def _subscript(self) -> str:
        """_i, _{12}, _k1, and chains like _2_1."""
        parts = []
        while True:
            j = self.i
            while j < len(self.text) and self.text[j] == " ":
                j += 1
            if not self.text.startswith("_", j):
                break
            self.i = j
            parts.append(self._one_subscript())
        return "_".join(parts)

    def _one_subscript(self) -> str:
        text = self.text
        j = self.i + 1
        while j < len(text) and text[j] == " ":
            j += 1
        if text.startswith("{", j):
            m = _NESTED_BRACED.match(text, j)
            if not m:
                raise self.error("unclosed subscript")
            self.i = m.end()
            inner = re.sub(r"\\(?:mathrm|text|mathit|operatorname)\s*", "", m.group(1))
            inner = re.sub(r"\\([A-Za-z]+)", lambda g: VARIANT_GREEK.get(g.group(1), g.group(1)), inner)
            return re.sub(r"[\s{}\\]", "", inner).replace(",", "")
        if text.startswith("\\", j):
            g = re.compile(r"\\([A-Za-z]+)").match(text, j)
            if g and g.group(1) in GREEK_COMMANDS:
                self.i = g.end()
                return VARIANT_GREEK.get(g.group(1), g.group(1))
        m = _SUBSCRIPT_PLAIN.match(text, j)
        if not m:
            raise self.error("empty subscript")
        base = self.tokens[-1].text if self._name_start is None else _IDENT.match(text, self._name_start).group(0)
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
        self._skip_spaces()
        m = _NESTED_BRACED.match(self.text, self.i)
        if not m:
            raise self.error("expected {...}")
        self.i = m.end()
        return m.group(1).strip()

    def _accent_argument(self) -> str:
        """\\hat{y}, \\hat y, \\hat\\theta."""
        self._skip_spaces()
        if self.text.startswith("{", self.i):
            return self._braced_argument()
        m = re.compile(r"\\[A-Za-z]+|[A-Za-z]").match(self.text, self.i)
        if not m:
            raise self.error("expected a letter after the accent")
        self.i = m.end()
        return m.group(0)

    def _command(self) -> None:
        text = self.text
        start = self.i
        if text.startswith("\\\\", self.i):
            self._emit("rowsep", "\\\\", 2)
            if (m := re.compile(r"\[\s*-?\d*\.?\d*\s*[a-z]{2}\s*\]").match(text, self.i)) is not None:
                self.i = m.end()  # \\[2pt]
            return
        m = re.compile(r"\\([A-Za-z]+|.)").match(text, self.i)
        if not m:
            raise self.error("dangling backslash")
        name = m.group(1)
        self.i = m.end()
        if name in _SPACE_COMMANDS or name in _DELIMITER_SIZERS:
            if name in _DELIMITER_SIZERS:
                self._skip_spaces()
                if text.startswith(".", self.i):
                    self.i += 1  # \right. : no delimiter
            return
        if name in ("{", "}"):
            self.i = start
            self._emit(name, "\\" + name, 2)  # \{ \}: set braces, not LaTeX grouping
            return
        if name == "|":
            self.tokens.append(Token("|", "|", start))
            return
        if name == "%":
            self.tokens.append(Token("%", "%", start))
        elif name in ("binom", "dbinom", "tbinom"):
            self.tokens.append(Token("binom", name, start))
            self._split_digit_pair()
        elif name in ("frac", "dfrac", "tfrac", "cfrac"):
            self.tokens.append(Token("frac", name, start))
            if text.startswith("[", self.i) and name == "cfrac" and "]" in text[self.i:]:
                self.i = text.index("]", self.i) + 1
            self._split_digit_pair()
        elif name in ("num", "SI", "qty"):
            self._siunitx(start)
        elif name in _LATEX_OPS:
            self.tokens.append(Token("op", _LATEX_OPS[name], start))
        elif name in _RELATIONS:
            self.tokens.append(Token("rel", _RELATIONS[name], start))
        elif name in _LOGIC:
            self.tokens.append(Token("kw", _LOGIC[name], start))
        elif name == "in":
            self.tokens.append(Token("kw", "in", start))
        elif name in _BRACKETS:
            kind = _BRACKETS[name]
            self.tokens.append(Token(kind, kind, start))
        elif name in ("begin", "end"):
            env = self._braced_argument()
            if env in _CASES_ENVS:
                self.tokens.append(Token("cases" if name == "begin" else "endcases", env, start))
                return
            if env not in _MATRIX_ENVS:
                raise self.error(f"unsupported LaTeX environment {env!r}")
            if name == "begin" and env == "array":
                self._braced_argument()
            kind = "[" if name == "begin" else "]"
            self.tokens.append(Token(kind, "matrix", start))
        elif name in ("text", "textrm", "mbox", "textnormal", "mathrm", "textit") and self._text_words(start):
            return
        elif name == "sqrt" and text.startswith("[", self.i):
            close = text.find("]", self.i)
            if close < 0:
                raise self.error("unclosed root index")
            self.tokens.append(Token("root", text[self.i + 1:close].strip(), start))
            self.i = close + 1
        elif name in ("mathbb", "mathbf", "mathds", "mathbbm", "boldsymbol", "bm") and self._indicator(start):
            return
        elif name in _NAME_WRAPPERS:
            inner = self._braced_argument()
            inner = re.sub(r"\\([A-Za-z]+)", r"\1", inner).replace(" ", "")
            if name in ("mathbb", "mathds", "mathbbm") and inner in ("R", "N", "Z"):
                self.tokens.append(Token("reals", inner, start))
                return
            self._named(VARIANT_GREEK.get(inner, inner), start)
        elif name in _ACCENTS:
            inner = self._accent_argument().replace("\\", "")
            inner = VARIANT_GREEK.get(inner, inner)
            self._named(inner, start, suffix="_" + _ACCENTS[name])
        elif name in ("sum", "prod"):
            self._big_operator(name, start)
        elif name == "prime":
            self.tokens.append(Token("'", "'", start))
        elif name in ("emptyset", "varnothing"):
            self.tokens.append(Token("emptyset", "", start))
        elif name in _LATEX_FUNCS or name in GREEK_COMMANDS or name in FUNCTIONS or name in self.known:
            canonical = VARIANT_GREEK.get(name, name) if name not in self.known else name
            self.tokens.append(Token("name", canonical, start))
            self._name_start = None
            self._attach_scripts()
        else:
            raise self.error(f"unsupported LaTeX command \\{name}")

    def _siunitx(self, start: int) -> None:
        """\\num{1.5e3}, \\SI{45}{\\percent}: the number reader reads the braces; a unit argument is dropped."""
        m = re.compile(r"\s*(?:\[[^\]]*\])?\s*\{((?:[^{}]|\{[^{}]*\})*)\}(?:\s*\{((?:[^{}]|\{[^{}]*\})*)\})?"
                       ).match(self.text, self.i)
        if not m:
            raise self.error("expected \\num{...}")
        self.i = m.end()
        written = read_written_number(m.group(1).strip())
        if written is None:
            raise self.error(f"{m.group(1).strip()!r} is not a number")
        self.tokens.append(Token("value", str(written), start, value=written.value))
        if m.group(2) and m.group(2).strip() in ("\\percent", "%", "\\%"):
            self.tokens.append(Token("%", "%", start))

    def _text_words(self, start: int) -> bool:
        """\\text{ bytes} after a value is a unit (skipped); \\text{if}, \\text{otherwise} are keywords."""
        from examcheck.parsing.units import UNIT_WORDS

        save = self.i
        self._skip_spaces()
        m = _BRACED.match(self.text, self.i)
        if not m:
            self.i = save
            return False
        words = m.group(1).strip().lower().strip(":")
        if words in UNIT_WORDS or words == "":
            self.i = m.end()
            return True
        pieces = [w if w in _TEXT_KEYWORDS else w.rstrip(".,;:") for w in re.split(r"[\s,]+", words) if w]
        if pieces and all(w in _TEXT_KEYWORDS for w in pieces):
            self.i = m.end()
            for w in pieces:
                self.tokens.append(Token("kw", _TEXT_KEYWORDS[w], start))
            return True
        self.i = save
        return False

    def _indicator(self, start: int) -> bool:
        """\\mathbb{1}, \\mathbf{1}, \\mathbb{I}: the indicator function."""
        save = self.i
        self._skip_spaces()
        m = _BRACED.match(self.text, self.i)
        if m and (m.group(1).strip() == "1" or (m.group(1).strip() == "I" and "I" not in self.known)):
            self.i = m.end()
            self.tokens.append(Token("indicator", "1", start))
            return True
        self.i = save
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
        """\\sum_{k=1}^{3}, \\sum\\limits_{k=1}^{n}, \\sum^{n}_{k=1}: the index, its first and last value."""
        text = self.text
        skip = re.compile(r"(?:\s|\\limits|\\nolimits|\\displaystyle)*")
        hint = f"write {name} with limits, like \\{name}_{{k=1}}^{{3}}"
        self.i = skip.match(text, self.i).end()
        upper = None
        if text.startswith("^", self.i):
            u = _UPPER.match(text, self.i)
            if not u:
                raise self.error(hint)
            upper = (u.group(1) or u.group(2)).strip()
            self.i = skip.match(text, u.end()).end()
        lower = _LOWER.match(text, self.i)
        if not lower:
            raise self.error(hint)
        self.i = skip.match(text, lower.end()).end()
        index = lower.group(1) or lower.group(3)
        low = (lower.group(2) or lower.group(4)).strip()
        if upper is None:
            u = _UPPER.match(text, self.i)
            if not u:
                raise self.error(hint)
            upper = (u.group(1) or u.group(2)).strip()
            self.i = u.end()
        self.tokens.append(Token("big", name, start, sub=f"{index}={low}", sup=upper))

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


def equation_sides(text: str) -> list[str]:
    """'f = 0.25 = 1/4' -> ['f', '0.25', '1/4']: the sides of an equation (or approximation) chain, split at
    every '=' outside brackets ('<=', '>=', '!=', '==' are not equations).  One side: no equation."""
    text = text.replace("\\approx", "=").replace("≈", "=")
    depth, cuts = 0, []
    for i, c in enumerate(text):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "=" and depth == 0 and text[i - 1:i] not in ("<", ">", "!", "=") and text[i + 1:i + 2] != "=":
            cuts.append(i)
    if not cuts:
        return [text]
    bounds = [-1, *cuts, len(text)]
    return [text[a + 1:b].strip() for a, b in zip(bounds, bounds[1:])]


def right_hand_side(text: str) -> str:
    """'da/dw = x sigma' -> 'x sigma': an answer written as an equation counts by its last side."""
    sides = equation_sides(text)
    return sides[-1] if len(sides) > 1 else sides[0]
