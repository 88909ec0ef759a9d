"""The precedence-climbing parser: tokens in, SymPy objects out, built only from the
vocabulary's whitelist and guarded by the size limits."""

from __future__ import annotations

import math
import re

import sympy as sp

from examcheck.parsing.errors import MAX_DEPTH, MAX_EXPONENT, MAX_NODES, MAX_NUMBER_DIGITS, ParseError, TooComplex
from examcheck.parsing.tokens import Token
from examcheck.parsing.vocabulary import CONSTANTS, FUNCTIONS, LOG_NAMES, Vocabulary, _log, canonical_name

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
