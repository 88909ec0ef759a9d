"""`where:` conditions over a problem's params: a tiny grammar of its own, never eval.

    condition  := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | comparison
    comparison := sum (("==" | "!=" | "<" | "<=" | ">" | ">=") sum)*      (chained, as in Python)
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/" | "//" | "%") unary)*
    unary      := ("-" | "+") unary | power
    power      := atom ("**" unary)?
    atom       := NUMBER | STRING | NAME | FUNC "(" sum ("," sum)* ")" | "(" or ")"

Numbers are exact (fractions); FUNC is one of abs, min, max.  Exponents are bounded, so no
condition can build a huge number.  Names are the problem's params, nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

MAX_TEXT = 500
MAX_EXPONENT = 64
MAX_DIGITS = 200  # a value beyond this many digits makes the condition fail, never a hang
FUNCTIONS = ("abs", "min", "max")
_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)"
                    r"|(?P<str>'[^'\\\n]*'|\"[^\"\\\n]*\")"
                    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                    r"|(?P<op>\*\*|//|==|!=|<=|>=|[-+*/%<>(),]))")
_COMPARE = ("==", "!=", "<", "<=", ">", ">=")


class ConditionError(ValueError):
    """The condition cannot be read, or refers to a name that is not a param."""


@dataclass(frozen=True)
class Condition:
    text: str
    tree: tuple

    def holds(self, env: dict) -> bool:
        """Whether the condition holds for these param values (a value it cannot compute: it does not)."""
        try:
            return bool(_truth(_compute(self.tree, env)))
        except (ZeroDivisionError, OverflowError, ValueError, TypeError):
            return False

    def failure(self, env: dict) -> str | None:
        """Why the condition cannot be computed for these values (None when it can)."""
        try:
            _compute(self.tree, env)
        except ZeroDivisionError:
            return f"`{self.text}` cannot be computed (a division by zero)"
        except (OverflowError, ValueError, TypeError) as exc:
            return f"`{self.text}` cannot be computed ({exc or type(exc).__name__})"
        return None


def parse_condition(text: str, names: set[str]) -> Condition:
    if not isinstance(text, str) or not text.strip():
        raise ConditionError("expected a condition such as 'a < b'")
    if len(text) > MAX_TEXT:
        raise ConditionError(f"a condition longer than {MAX_TEXT} characters")
    tokens = _tokens(text)
    parser = _Parser(tokens, names)
    tree = parser.disjunction()
    if parser.pos != len(tokens):
        raise ConditionError(f"unexpected {tokens[parser.pos][1]!r} in {text!r}")
    return Condition(text, tree)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ConditionError(f"cannot read {text[pos:].strip()[:20]!r} in {text!r} (allowed: numbers, param names, "
                                 "+ - * / // % **, comparisons, and/or/not, abs/min/max, parentheses)")
        kind = match.lastgroup
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, tokens, names):
        self.tokens, self.names, self.pos = tokens, names, 0
        self.depth = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str) -> bool:
        token = self.peek()
        if token is not None and token[1] == value and token[0] in ("op", "name"):
            self.pos += 1
            return True
        return False

    def expect(self, value: str) -> None:
        if not self.take(value):
            found = self.peek()
            raise ConditionError(f"expected {value!r}, found {found[1] if found else 'the end'!r}")

    def disjunction(self):
        self.depth += 1
        if self.depth > 50:
            raise ConditionError("the condition is nested too deeply")
        node = self.conjunction()
        while self.take("or"):
            node = ("or", node, self.conjunction())
        self.depth -= 1
        return node

    def conjunction(self):
        node = self.negation()
        while self.take("and"):
            node = ("and", node, self.negation())
        return node

    def negation(self):
        if self.take("not"):
            return ("not", self.negation())
        return self.comparison()

    def comparison(self):
        first = self.sum()
        chain = []
        while (token := self.peek()) is not None and token[0] == "op" and token[1] in _COMPARE:
            self.pos += 1
            chain.append((token[1], self.sum()))
        return ("cmp", first, tuple(chain)) if chain else first

    def sum(self):
        node = self.product()
        while (token := self.peek()) is not None and token[0] == "op" and token[1] in "+-" and len(token[1]) == 1:
            self.pos += 1
            node = (token[1], node, self.product())
        return node

    def product(self):
        node = self.unary()
        while (token := self.peek()) is not None and token[0] == "op" and token[1] in ("*", "/", "//", "%"):
            self.pos += 1
            node = (token[1], node, self.unary())
        return node

    def unary(self):
        self.depth += 1
        if self.depth > 100:
            raise ConditionError("the condition is nested too deeply")
        if self.take("-"):
            node = ("neg", self.unary())
        elif self.take("+"):
            node = self.unary()
        else:
            node = self.power()
        self.depth -= 1
        return node

    def power(self):
        node = self.atom()
        if self.take("**"):
            return ("**", node, self.unary())
        return node

    def atom(self):
        token = self.peek()
        if token is None:
            raise ConditionError("the condition ends too early")
        kind, text = token
        self.pos += 1
        if kind == "num":
            return ("num", Fraction(text))
        if kind == "str":
            return ("str", text[1:-1])
        if kind == "name":
            if text in FUNCTIONS and self.take("("):
                args = [self.sum()]
                while self.take(","):
                    args.append(self.sum())
                self.expect(")")
                if text == "abs" and len(args) != 1:
                    raise ConditionError("abs takes one argument")
                return ("call", text, tuple(args))
            if text in ("and", "or", "not"):
                raise ConditionError(f"unexpected {text!r}")
            if text not in self.names:
                known = ", ".join(sorted(self.names)) or "none"
                raise ConditionError(f"unknown name {text!r} (the params are: {known})")
            return ("name", text)
        if text == "(":
            node = self.disjunction()
            self.expect(")")
            return node
        raise ConditionError(f"unexpected {text!r}")


def _truth(value) -> bool:
    return bool(value)


def _bounded(value):
    if isinstance(value, Fraction) and (len(str(abs(value.numerator))) > MAX_DIGITS
                                        or len(str(value.denominator)) > MAX_DIGITS):
        raise OverflowError("a value too large to compare")
    return value


def _number(value) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, (int, Fraction)):
        raise TypeError("arithmetic on text")
    return Fraction(value)


def _compute(node, env):
    kind = node[0]
    if kind == "num" or kind == "str":
        return node[1]
    if kind == "name":
        return env[node[1]]
    if kind == "or":
        return _truth(_compute(node[1], env)) or _truth(_compute(node[2], env))
    if kind == "and":
        return _truth(_compute(node[1], env)) and _truth(_compute(node[2], env))
    if kind == "not":
        return not _truth(_compute(node[1], env))
    if kind == "cmp":
        left = _compute(node[1], env)
        for op, right_node in node[2]:
            right = _compute(right_node, env)
            if not _compare(op, left, right):
                return False
            left = right
        return True
    if kind == "neg":
        return -_number(_compute(node[1], env))
    if kind == "call":
        args = [_number(_compute(a, env)) for a in node[2]]
        return {"abs": lambda: abs(args[0]), "min": lambda: min(args), "max": lambda: max(args)}[node[1]]()
    a, b = _number(_compute(node[1], env)), _number(_compute(node[2], env))
    if kind == "+":
        return _bounded(a + b)
    if kind == "-":
        return _bounded(a - b)
    if kind == "*":
        return _bounded(a * b)
    if kind == "/":
        return _bounded(a / b)
    if kind == "//":
        return Fraction(a // b)
    if kind == "%":
        return _bounded(a % b)
    if kind == "**":
        if b.denominator != 1 or abs(b) > MAX_EXPONENT:
            raise OverflowError(f"exponents are whole numbers up to {MAX_EXPONENT}")
        return _bounded(a ** int(b))
    raise ValueError(f"unknown node {kind}")


def _compare(op: str, a, b) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        if op not in ("==", "!="):
            raise TypeError("text compares only with == and !=")
        return (a == b) if op == "==" else (a != b)
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b
