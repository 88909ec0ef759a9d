"""The only door from text to SymPy.

Plain math (``2x(1-x)``, ``sigma(z)*(1-sigma(z))*x_i``) and a LaTeX subset
(``\\frac{e^{-z}}{(1+e^{-z})^2}``) are tokenised and parsed by a small
precedence-climbing parser that builds SymPy objects directly from a whitelist
of names.  Nothing here calls eval, exec, sympify, parse_expr or lambdify.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import sympy as sp

from examcheck.mathfuncs import sigma

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


# --------------------------------------------------------------------------
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


def canonical_name(base: str, sub: str = "", sup: str = "") -> str:
    """One spelling for a (possibly sub- or superscripted) name: x_{i} -> x_i."""
    name = base
    if sup:
        name += f"^({sup})"
    if sub:
        name += f"_{sub}"
    return name


# --------------------------------------------------------------------------
# vocabulary: what a part allows


def _log(base):
    def build(args):
        if len(args) == 2:
            return sp.log(args[0], args[1])
        return sp.log(args[0]) if base is None else sp.log(args[0], base)

    return build


def _relu(args):
    return sp.Max(0, args[0])


FUNCTIONS: dict[str, tuple[int, int, object]] = {
    # name: (min args, max args, builder)
    "sigma": (1, 1, lambda a: sigma(a[0])),
    "sigmoid": (1, 1, lambda a: sigma(a[0])),
    "exp": (1, 1, lambda a: sp.exp(a[0])),
    "ln": (1, 1, lambda a: sp.log(a[0])),
    "log10": (1, 1, lambda a: sp.log(a[0], 10)),
    "log2": (1, 1, lambda a: sp.log(a[0], 2)),
    "sqrt": (1, 1, lambda a: sp.sqrt(a[0])),
    "tanh": (1, 1, lambda a: sp.tanh(a[0])),
    "sinh": (1, 1, lambda a: sp.sinh(a[0])),
    "cosh": (1, 1, lambda a: sp.cosh(a[0])),
    "sech": (1, 1, lambda a: sp.sech(a[0])),
    "sin": (1, 1, lambda a: sp.sin(a[0])),
    "cos": (1, 1, lambda a: sp.cos(a[0])),
    "tan": (1, 1, lambda a: sp.tan(a[0])),
    "relu": (1, 1, _relu),
    "ReLU": (1, 1, _relu),
    "max": (2, 16, lambda a: sp.Max(*a)),
    "min": (2, 16, lambda a: sp.Min(*a)),
    "abs": (1, 1, lambda a: sp.Abs(a[0])),
    "floor": (1, 1, lambda a: sp.floor(a[0])),
    "ceil": (1, 1, lambda a: sp.ceiling(a[0])),
    "ceiling": (1, 1, lambda a: sp.ceiling(a[0])),
    "sign": (1, 1, lambda a: sp.sign(a[0])),
    "sgn": (1, 1, lambda a: sp.sign(a[0])),
    "Heaviside": (1, 1, lambda a: sp.Heaviside(a[0])),
}
LOG_NAMES = {"log", "lg"}
CONSTANTS = {"e": sp.E, "pi": sp.pi, "oo": sp.oo, "inf": sp.oo, "infty": sp.oo}


@dataclass(frozen=True)
class Vocabulary:
    """The names one part accepts, and how it reads ``log``."""

    symbols: dict[str, sp.Symbol] = field(default_factory=dict)
    values: dict[str, sp.Expr] = field(default_factory=dict)
    log_base: int | None = None
    functions: frozenset[str] = frozenset()  # unknown functions such as an activation h

    def lookup(self, name: str):
        if name in self.symbols:
            return self.symbols[name]
        if name in self.values:
            return self.values[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        return None

    def is_function(self, name: str) -> bool:
        if name in self.functions:
            return True
        return (name in FUNCTIONS or name in LOG_NAMES) and name not in self.symbols

    def describe(self) -> str:
        names = sorted(self.symbols) + [f"{f}(·)" for f in sorted(self.functions)]
        return ", ".join(names) if names else "none (numbers only)"


# --------------------------------------------------------------------------
# tokens


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
_SPACE_COMMANDS = {",", ";", "!", ":", "quad", "qquad", " ", "displaystyle", "left", "right",
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


# --------------------------------------------------------------------------
# parser


CLOSERS = {"(": ")", "[": "]", "{": "}"}


class Parser:
    def __init__(self, tokens: list[Token], vocab: Vocabulary):
        self.tokens = tokens
        self.k = 0
        self.vocab = vocab
        self.depth = 0
        self.abs_depth = 0
        self.nodes = 0
        self.indices: list[str] = []
        self.placeholders: dict[str, sp.Symbol] = {}

    # helpers ---------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.k]

    def advance(self) -> Token:
        token = self.tokens[self.k]
        self.k += 1
        return token

    def expect(self, kind: str) -> Token:
        if self.tok.kind != kind:
            found = self.tok.text or "end of input"
            raise ParseError(f"expected {kind!r} but found {found!r}")
        return self.advance()

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise TooComplex("expression is nested too deeply")

    def leave(self) -> None:
        self.depth -= 1

    def count(self, value):
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise TooComplex("expression is too large")
        return value

    # grammar -----------------------------------------------------------------
    def parse(self):
        value = self.sequence_or_expr()
        if self.tok.kind == "rel":
            op = self.advance().text
            value = relation(scalar(value), scalar(self.expr()), op)
        if self.tok.kind != "end":
            raise ParseError(f"unexpected {self.tok.text!r} after a complete answer")
        return value

    def sequence_or_expr(self):
        first = self.expr()
        if self.tok.kind != ",":
            return first
        items = [first]
        while self.tok.kind == ",":
            self.advance()
            items.append(self.expr())
        return items

    def expr(self):
        self.enter()
        value = self.term()
        while self.tok.kind == "op" and self.tok.text in "+-":
            op = self.advance().text
            rhs = self.term()
            value = self.arith(value, rhs, op)
        self.leave()
        return value

    def term(self):
        value = self.unary()
        while True:
            if self.tok.kind == "op" and self.tok.text in "*/":
                op = self.advance().text
                value = self.arith(value, self.unary(), op)
            elif self.starts_atom():
                value = self.arith(value, self.power(), "*")
            else:
                return value

    def starts_atom(self) -> bool:
        kind = self.tok.kind
        if kind == "|":
            return self.abs_depth == 0
        return kind in ("num", "name", "(", "{", "frac", "big") or (kind == "[" and self.tok.text != "matrix")

    def unary(self):
        if self.tok.kind == "op" and self.tok.text in "+-":
            op = self.advance().text
            self.enter()
            value = self.unary()
            self.leave()
            return self.negate(value) if op == "-" else value
        return self.power()

    def power(self):
        base = self.postfix()
        if self.tok.kind == "op" and self.tok.text == "^":
            self.advance()
            self.enter()
            exponent = self.unary()
            self.leave()
            return safe_pow(base, exponent)
        return base

    def postfix(self):
        value = self.atom()
        while self.tok.kind == "!":
            self.advance()
            value = self.count(safe_factorial(value))
        if self.tok.kind == "%":
            self.advance()
            value = self.arith(value, sp.Integer(100), "/")
        return value

    def atom(self):
        token = self.tok
        kind = token.kind
        if kind == "!":
            raise ParseError("unexpected '!'")
        if kind == "num":
            self.advance()
            return self.count(number_value(token.text))
        if kind == "name":
            return self.name()
        if kind in ("(", "{") or (kind == "[" and token.text != "matrix"):
            return self.group()
        if kind == "[":
            return self.latex_matrix()
        if kind == "|":
            self.advance()
            self.abs_depth += 1
            self.enter()
            inner = self.expr()
            self.leave()
            self.abs_depth -= 1
            self.expect("|")
            return self.count(sp.Abs(scalar(inner)))
        if kind == "big":
            return self.big_operator()
        if kind == "frac":
            self.advance()
            numerator = self.braced()
            denominator = self.braced()
            return self.arith(numerator, denominator, "/")
        if kind == "end":
            raise ParseError("the answer ends too early")
        raise ParseError(f"unexpected {token.text!r}")

    def braced(self):
        if self.tok.kind == "{":
            self.advance()
            value = self.expr()
            self.expect("}")
            return value
        return self.atom()

    def group(self):
        opener = self.advance().kind
        self.enter()
        if self.tok.kind == CLOSERS[opener] and opener in "([":
            self.advance()
            self.leave()
            return []
        value = self.sequence_or_expr()
        self.leave()
        self.expect(CLOSERS[opener])
        if opener == "[" and not isinstance(value, list):
            return [value]
        if opener == "(" and isinstance(value, list):
            return tuple(value)
        return value

    def latex_matrix(self):
        self.advance()
        rows: list[list] = [[]]
        while True:
            rows[-1].append(scalar(self.expr()))
            if self.tok.kind == "&":
                self.advance()
            elif self.tok.kind == "rowsep":
                self.advance()
                if self.tok.kind == "]":
                    break
                rows.append([])
            else:
                break
        self.expect("]")
        if len(rows) == 1:
            return rows[0]
        if any(len(r) == 1 for r in rows) and all(len(r) == 1 for r in rows):
            return [r[0] for r in rows]
        return rows

    def name(self):
        token = self.advance()
        name = canonical_name(token.text, token.sub, token.sup)
        if token.text in self.vocab.functions and not token.sub and self.tok.kind in ("(", "{", "'"):
            return self.function(token.text)
        if self.indices and _mentions_index(name, self.indices):
            return self.count(self.placeholders.setdefault(name, sp.Dummy(name)))
        value = self.vocab.lookup(name)
        if value is not None:
            return self.count(value)
        if token.text in LOG_NAMES and not token.sup:
            return self.function(token.text, log_base=token.sub or None)
        if not token.sub and not token.sup and self.vocab.is_function(token.text):
            return self.function(token.text)
        pieces = split_name(token.text, self.vocab)
        if pieces is None:
            raise ParseError(
                f"unknown symbol {name!r}; this part's variables are {self.vocab.describe()}"
            )
        *leading, last = pieces
        value = sp.Integer(1)
        for piece in leading:
            value = self.arith(value, self.vocab.lookup(piece), "*")
        last_name = canonical_name(last, token.sub, token.sup)
        if self.vocab.is_function(last) and not token.sub:
            return self.arith(value, self.function(last), "*")
        found = self.vocab.lookup(last_name)
        if found is None:
            raise ParseError(
                f"unknown symbol {last_name!r}; this part's variables are {self.vocab.describe()}"
            )
        if self.tok.kind == "op" and self.tok.text == "^":  # wds^2 is w·d·s², not (wds)²
            self.advance()
            self.enter()
            found = safe_pow(found, self.unary())
            self.leave()
        return self.arith(value, found, "*")

    def function(self, name: str, log_base: str | None = None):
        exponent = None
        order = 0
        while self.tok.kind == "'":
            self.advance()
            order += 1
        if order > 3:
            raise TooComplex("derivatives beyond the third are not checked")
        if self.tok.kind == "op" and self.tok.text == "^":
            self.advance()
            exponent = self.postfix()
        if self.tok.kind in ("(", "{"):
            opener = self.advance().kind
            self.enter()
            args = [scalar(self.expr())]
            while self.tok.kind == ",":
                self.advance()
                args.append(scalar(self.expr()))
            self.leave()
            self.expect(CLOSERS[opener])
        elif self.tok.kind == "|" and self.abs_depth == 0:
            args = [scalar(self.atom())]
        elif self.starts_atom():
            self.enter()
            args = [scalar(self.power())]
            self.leave()
        else:
            raise ParseError(f"function {name!r} needs an argument")
        value = self.call(name, args, log_base) if not order else self.derivative(name, args, order)
        return safe_pow(value, exponent) if exponent is not None else value

    def derivative(self, name: str, args: list, order: int):
        """h'(a): the derivative of a function of one variable, evaluated at a."""
        if len(args) != 1 or name in LOG_NAMES:
            raise ParseError(f"{name}' takes one argument")
        xi = sp.Dummy("xi")
        inner = sp.Function(name)(xi) if name in self.vocab.functions else self.call(name, [xi], None)
        value = sp.diff(inner, xi, order)
        if name in self.vocab.functions:
            return self.count(sp.Subs(value, xi, args[0]))
        return self.count(value.subs(xi, args[0]))

    def big_operator(self):
        """\\sum_{k=1}^{3} body: the body is the product that follows; k is expanded into subscripts."""
        token = self.advance()
        index, low = token.sub.split("=")
        low, high = int(low), int(token.sup)
        if not 0 <= high - low < 100:
            raise TooComplex("the sum or product has too many terms")
        self.indices.append(index)
        self.enter()
        body, rest = self.big_operator_body(index)
        self.leave()
        self.indices.pop()
        terms = [self.instantiate(body, index, k) for k in range(low, high + 1)]
        total = sp.Add(*terms) if token.text == "sum" else sp.Mul(*terms)
        return self.count(total * rest)

    def big_operator_body(self, index: str):
        """The factors that follow, up to the first one that does not mention the index
        (\\prod_k w_k h(a) is h(a) Π_k w_k); the rest multiply the whole sum or product."""
        body, rest, inside = sp.Integer(1), sp.Integer(1), True
        op = "*"
        while True:
            factor = scalar(self.unary() if op == "*" and body == 1 else self.power())
            inside = inside and self._mentions(factor, index)
            if inside or body == 1:
                body = self.arith(body, factor, op)
            else:
                rest = self.arith(rest, factor, op)
            if self.tok.kind == "op" and self.tok.text in "*/":
                op = self.advance().text
            elif self.starts_atom():
                op = "*"
            else:
                return body, rest

    def _mentions(self, factor, index: str) -> bool:
        names = {d.name for d in factor.free_symbols if isinstance(d, sp.Dummy)}
        return any(_mentions_index(n, [index]) for n in names)

    def instantiate(self, body, index: str, k: int):
        swap = {}
        for name, dummy in self.placeholders.items():
            if dummy not in body.free_symbols:
                continue
            if name == index:
                swap[dummy] = sp.Integer(k)
                continue
            concrete = _substitute_index(name, index, k)
            if self.indices and _mentions_index(concrete, self.indices):
                swap[dummy] = self.placeholders.setdefault(concrete, sp.Dummy(concrete))
                continue
            value = self.vocab.lookup(concrete)
            if value is None:
                raise ParseError(
                    f"unknown symbol {concrete!r}; this part's variables are {self.vocab.describe()}")
            swap[dummy] = value
        return body.xreplace(swap)

    def call(self, name: str, args: list, log_base: str | None):
        if name in LOG_NAMES:
            if log_base is not None:
                if len(args) != 1:
                    raise ParseError("log with a subscript base takes one argument")
                base = number_value(log_base) if log_base.replace(".", "").isdigit() else None
                if base is None:
                    base = self.vocab.lookup(log_base)
                if base is None:
                    raise ParseError(f"unknown log base {log_base!r}")
                return self.count(sp.log(args[0], base))
            if len(args) > 2:
                raise ParseError("log takes one argument, or two: log(x, base)")
            default = 10 if name == "lg" else self.vocab.log_base
            return self.count(_log(default)(args))
        if name in self.vocab.functions:
            return self.count(sp.Function(name)(*args))
        low, high, build = FUNCTIONS[name]
        if not low <= len(args) <= high:
            expected = str(low) if low == high else f"{low} to {high}"
            raise ParseError(f"{name} takes {expected} argument(s), got {len(args)}")
        return self.count(build(args))

    # arithmetic with guards -------------------------------------------------
    def arith(self, a, b, op: str):
        a, b = scalar(_as_group(a)), scalar(_as_group(b))
        self.count(None)
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if b.is_zero:
            raise ParseError("division by zero")
        return a / b

    def negate(self, value):
        if isinstance(value, (list, tuple)):
            raise ParseError("cannot negate a list")
        return -value


_NAME_PARTS = re.compile(r"^(?P<base>[^_^]+)(?:\^\((?P<sup>[^)]*)\))?(?:_(?P<sub>.*))?$")


def _scripts(name: str) -> tuple[str, str, str]:
    m = _NAME_PARTS.match(name)
    return (m.group("base"), m.group("sup") or "", m.group("sub") or "") if m else (name, "", "")


def _mentions_index(name: str, indices: list[str]) -> bool:
    if name in indices:
        return True
    _, sup, sub = _scripts(name)
    return any(i in sub or i in sup for i in indices)


def _substitute_index(name: str, index: str, k: int) -> str:
    if name == index:
        return str(k)
    base, sup, sub = _scripts(name)
    return canonical_name(base, sub.replace(index, str(k)), sup.replace(index, str(k)))


RELATIONS = {"<": sp.Lt, "<=": sp.Le, ">": sp.Gt, ">=": sp.Ge, "==": sp.Eq, "!=": sp.Ne}


def relation(a, b, op: str):
    if op in ("==", "!="):
        return RELATIONS[op](a, b, evaluate=False)
    return RELATIONS[op](a, b)


def _as_group(value):
    """In arithmetic, [x] is a bracketed group, as in σ(z)[1 − σ(z)]."""
    if isinstance(value, list) and len(value) == 1 and not isinstance(value[0], (list, tuple)):
        return value[0]
    return value


def scalar(value):
    if isinstance(value, (list, tuple)):
        raise ParseError("expected a single expression, not a list")
    return value


def safe_pow(base, exponent):
    base, exponent = scalar(base), scalar(exponent)
    if exponent.is_Number and exponent.is_finite:
        if abs(exponent) > MAX_EXPONENT and not (base.is_Number and abs(base) in (0, 1)):
            raise TooComplex("exponent is too large to check")
        if base.is_Number and base.is_finite and exponent.is_Integer and base != 0:
            digits = abs(int(exponent)) * math.log10(max(abs(float(base)), 1 / abs(float(base)), 2.0))
            if digits > MAX_NUMBER_DIGITS:
                raise TooComplex("number is too large to check")
    elif exponent.is_Number is False and exponent.free_symbols == set():
        magnitude = exponent.evalf(15)
        if magnitude.is_Number and abs(magnitude) > MAX_EXPONENT:
            raise TooComplex("exponent is too large to check")
    if base.is_zero and exponent.is_negative:
        raise ParseError("division by zero")
    return sp.Pow(base, exponent)


MAX_FACTORIAL = 500


def safe_factorial(value):
    value = scalar(value)
    if value.is_Integer and value >= 0:
        if value > MAX_FACTORIAL:
            raise TooComplex("factorial is too large to check")
        return sp.factorial(value)
    if value.is_Number:
        raise ParseError("factorial needs a whole number")
    return sp.factorial(value)


def number_value(text: str) -> sp.Rational:
    """An exact rational for a decimal literal: '0.98' -> 49/50."""
    mantissa, _, exponent = text.lower().partition("e")
    power = int(exponent) if exponent else 0
    if abs(power) > MAX_NUMBER_DIGITS:
        raise TooComplex("number is too large to check")
    if "." in mantissa:
        whole, frac = mantissa.split(".")
        digits = int((whole or "0") + frac) if (whole or frac) else 0
        value = sp.Rational(digits, 10 ** len(frac))
    else:
        value = sp.Integer(int(mantissa))
    return value * sp.Rational(10) ** power


def split_name(name: str, vocab: Vocabulary) -> list[str] | None:
    """Read an unknown run of letters as a product of known names: 'xy' -> x*y.
    Only the last piece may be a function."""
    known = set(vocab.symbols) | set(vocab.values) | set(CONSTANTS)
    functions = {f for f in FUNCTIONS if vocab.is_function(f)} | LOG_NAMES

    def solve(start: int) -> list[str] | None:
        if start == len(name):
            return []
        for end in range(len(name), start, -1):
            piece = name[start:end]
            if piece in known:
                rest = solve(end)
                if rest is not None:
                    return [piece, *rest]
            elif piece in functions and end == len(name):
                return [piece]
        return None

    if len(name) > 40:
        return None
    pieces = solve(0)
    return pieces if pieces and len(pieces) > 1 else None


# --------------------------------------------------------------------------
# public entry points


def parse(text: str, vocab: Vocabulary | None = None):
    """Parse text into a SymPy expression, or a (nested) list of them."""
    vocab = vocab or Vocabulary()
    if not isinstance(text, str):
        raise ParseError("expected text")
    if len(text) > MAX_TEXT:
        raise TooComplex(f"answer is longer than {MAX_TEXT} characters")
    text = right_hand_side(normalise(text))
    if not text:
        raise ParseError("the answer is empty")
    known = frozenset(vocab.symbols) | frozenset(vocab.values)
    tokens = Tokenizer(text, known).run()
    return Parser(tokens, vocab).parse()


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


_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_PLAIN_NUMBER = re.compile(
    r"^\s*([+-]?)\s*(\d+\.?\d*|\.\d+)(?:[eE]([+-]?\d+)|\s*\*\s*10\s*\^\s*\{?\s*([+-]?\d+)\s*\}?)?\s*(%?)\s*$"
)


def parse_number(text: str, vocab: Vocabulary | None = None) -> WrittenNumber:
    """A numeric answer, remembering the decimals and significant figures written."""
    if isinstance(text, str) and len(text) > MAX_TEXT:
        raise TooComplex(f"answer is longer than {MAX_TEXT} characters")
    normal = right_hand_side(normalise(text)).replace("\\%", "%").replace("\\times", "*").replace("\\cdot", "*")
    if _THOUSANDS.fullmatch(normal.strip()):
        normal = normal.replace(",", "")
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
    text = right_hand_side(normalise(value).replace("\\times", "*").replace("\\", "")).strip()
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
    if isinstance(value, bool):
        return value
    text = str(value).strip().strip(".").lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
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
