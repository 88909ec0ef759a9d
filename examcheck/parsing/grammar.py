"""The precedence-climbing parser: tokens in, SymPy objects out, built only from the
vocabulary's whitelist and guarded by the size limits."""

from __future__ import annotations

import math
import re

import sympy as sp

from examcheck.parsing.errors import MAX_DEPTH, MAX_EXPONENT, MAX_NODES, MAX_NUMBER_DIGITS, ParseError, TooComplex
from examcheck.parsing.numbers import WrittenNumber, WrittenSet, read_written_number
from examcheck.parsing.tokens import Token
from examcheck.parsing.vocabulary import (
    CONSTANTS,
    FUNCTIONS,
    INVERSES,
    LOG_NAMES,
    Vocabulary,
    _log,
    canonical_name,
    exp_of,
    integer_part,
    log_of,
    nth_root,
)

CLOSERS = {"(": ")", "[": "]", "{": "}"}


_ELEMENT_END = {",", ";", "&", "rowsep", ")", "]", "}", "end", "kw", "rel", "endcases", "rfloor", "rceil"}
_OPENERS = {"(", "[", "{", "lfloor", "lceil", "cases"}
_CLOSERS_ANY = {")", "]", "}", "rfloor", "rceil", "endcases"}
_CONDITION_WORDS = {"if", "for", "when", "where"}
_TRAILING_SIZER = re.compile(r"(?:\\(?:right|left|middle|[bB]igg?[lrm]?)\s*)+$")


class Parser:
    """tokens -> SymPy.  With ``source`` (the tokenised text) and ``keep_numbers``, an entry of a
    list, tuple or matrix written as a plain number is read by the number reader and kept as a
    WrittenNumber (value + written precision)."""

    def __init__(self, tokens: list[Token], vocab: Vocabulary, source: str = "", keep_numbers: bool = False):
        self.tokens = tokens
        self.source = source
        self.keep_numbers = keep_numbers and bool(source)
        self.k = 0
        self.vocab = vocab
        self.depth = 0
        self.abs_depth = 0
        self.nodes = 0
        self.indices: list[str] = []
        self.placeholders: dict[str, sp.Symbol] = {}
        self.vocab_inverses: set[str] = set()
        self.in_exponent = 0

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
            value = self.relation_chain(scalar(value))
        if self.tok.kind != "end":
            raise ParseError(f"unexpected {self.tok.text or self.tok.kind!r} after a complete answer")
        return value

    def sequence_or_expr(self):
        """One expression, a piecewise definition (x if x > 0 else 0), or a sequence separated by
        commas (entries) and semicolons (rows): '1; 2' is a column, '1, 2; 3, 4' a matrix."""
        first = self.element()
        if self._starts_condition():
            return self.piecewise(first)
        if self.tok.kind not in (",", ";"):
            return first
        rows: list[list] = [[first]]
        while self.tok.kind in (",", ";"):
            if self.advance().kind == ";":
                if self.tok.kind in _CLOSERS_ANY or self.tok.kind == "end":
                    break
                rows.append([])
            rows[-1].append(self.element())
        if len(rows) == 1:
            return rows[0]
        if all(len(r) == 1 for r in rows):
            return [r[0] for r in rows]
        return rows

    def _starts_condition(self) -> bool:
        tok = self.tok
        if tok.kind == "kw" and tok.text in _CONDITION_WORDS | {"otherwise"}:
            return True
        if tok.kind == "," and self.k + 1 < len(self.tokens):
            nxt = self.tokens[self.k + 1]
            return nxt.kind == "kw" and nxt.text in _CONDITION_WORDS | {"otherwise"}
        return False

    def element(self):
        """An entry: a plain number keeps its written precision (in lists), a set literal inside a
        list is a set ({1} in [{1}, 2] is not 1), else an expression."""
        if self.keep_numbers and self._set_literal_here():
            value = self.group()
            return WrittenSet(value if isinstance(value, list) else [value])
        if self.keep_numbers:
            end = self._element_end()
            if end is not None and end > self.k:
                stop = self.tokens[end].pos if self.tokens[end].kind != "end" else len(self.source)
                text = _TRAILING_SIZER.sub("", self.source[self.tokens[self.k].pos:stop]).strip()
                written = read_written_number(text) if text else None
                if written is not None:
                    self.count(None)
                    self.k = end
                    return written
        return self.expr()

    def _set_literal_here(self) -> bool:
        tok = self.tok
        if tok.kind != "{" or (tok.text != "\\{" and "\\" in self.source):
            return False
        depth = 0
        for j in range(self.k, len(self.tokens)):
            kind = self.tokens[j].kind
            depth += kind in _OPENERS
            depth -= kind in _CLOSERS_ANY
            if depth == 0:
                return j + 1 < len(self.tokens) and self.tokens[j + 1].kind in _ELEMENT_END
        return False

    def _element_end(self) -> int | None:
        depth = 0
        for j in range(self.k, len(self.tokens)):
            kind = self.tokens[j].kind
            if depth == 0 and kind in _ELEMENT_END:
                return j
            if kind in _OPENERS:
                depth += 1
            elif kind in _CLOSERS_ANY:
                depth -= 1
        return None

    # piecewise definitions and conditions --------------------------------------------------
    def piecewise(self, value):
        """x if x > 0 else 0;  x for x > 0, 0 otherwise;  x if x>0; 0 otherwise."""
        branches = []
        while True:
            if self.tok.kind == ",":
                self.advance()
            word = self.tok.text if self.tok.kind == "kw" else ""
            if word in _CONDITION_WORDS:
                self.advance()
                branches.append((scalar(value), self.condition()))
            elif word in ("otherwise", "else"):
                self.advance()
                branches.append((scalar(value), sp.true))
                break
            else:
                raise ParseError("expected a condition (if x > 0) or 'otherwise' after a piece")
            if self.tok.kind == "kw" and self.tok.text == "else":
                self.advance()
                if self.tok.kind == ",":
                    self.advance()
                value = self.expr()
                if not self._starts_condition():
                    branches.append((scalar(value), sp.true))
                    break
                continue
            if self.tok.kind in (",", ";", "rowsep"):
                self.advance()
                if self.tok.kind == "kw" and self.tok.text in ("otherwise", "else"):
                    self.advance()
                    if self.tok.kind == ",":
                        self.advance()
                    branches.append((scalar(self.expr()), sp.true))
                    break
                value = self.expr()
                continue
            break
        return self.count(build_piecewise(branches))

    def cases(self):
        """\\begin{cases} x & x > 0 \\\\ 0 & \\text{otherwise} \\end{cases}"""
        self.advance()
        branches = []
        while True:
            value = scalar(self.expr())
            if self.tok.kind == ",":
                self.advance()
            if self.tok.kind == "&":
                self.advance()
            word = self.tok.text if self.tok.kind == "kw" else ""
            if word in ("otherwise", "else"):
                self.advance()
                condition = sp.true
            else:
                if word in _CONDITION_WORDS:
                    self.advance()
                condition = self.condition()
            branches.append((value, condition))
            while self.tok.kind in (",", ";"):
                self.advance()
            if self.tok.kind == "rowsep":
                self.advance()
                if self.tok.kind == "endcases":
                    break
                continue
            break
        self.expect("endcases")
        return self.count(build_piecewise(branches))

    def condition(self):
        """x > 0;  0 <= x < 1;  x > 0 and y > 0;  x \\in [0, 1);  otherwise."""
        parts = [self.conjunction()]
        while self.tok.kind == "kw" and self.tok.text == "or":
            self.advance()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else sp.Or(*parts)

    def conjunction(self):
        parts = [self.simple_condition()]
        while self.tok.kind == "kw" and self.tok.text == "and":
            self.advance()
            parts.append(self.simple_condition())
        return parts[0] if len(parts) == 1 else sp.And(*parts)

    def simple_condition(self):
        if self.tok.kind == "kw" and self.tok.text in ("otherwise", "else"):
            self.advance()
            return sp.true
        self.enter()
        lhs = scalar(self.expr())
        if self.tok.kind == "kw" and self.tok.text == "in":
            self.advance()
            value = self.interval_condition(lhs)
        elif self.tok.kind == "rel":
            value = self.relation_chain(lhs)
        else:
            raise ParseError("expected a condition such as x > 0")
        self.leave()
        return value

    def relation_chain(self, lhs):
        conditions = []
        while self.tok.kind == "rel":
            op = self.advance().text
            rhs = scalar(self.expr())
            conditions.append(relation(lhs, rhs, op))
            lhs = rhs
        return conditions[0] if len(conditions) == 1 else sp.And(*conditions)

    def interval_condition(self, x):
        if self.tok.kind == "reals":
            self.advance()
            return sp.true
        opener = self.advance().kind
        if opener not in ("(", "[", "]"):
            raise ParseError("expected an interval such as [0, 1) after 'in'")
        low = scalar(self.expr())
        self.expect(",")
        high = scalar(self.expr())
        closer = self.advance().kind
        if closer not in (")", "]", "["):
            raise ParseError("expected ) or ] to close the interval")
        lower = sp.Ge(x, low) if opener == "[" else sp.Gt(x, low)
        upper = sp.Le(x, high) if closer == "]" else sp.Lt(x, high)
        return sp.And(lower, upper)

    def indicator(self):
        """1_{x > 0}, \\mathbb{1}[x > 0], \\mathbf{1}\\{x > 0\\}, 1(x > 0): 1 where the condition holds, else 0."""
        self.advance()
        if self.tok.kind == "_":
            self.advance()
        opener = self.tok.kind
        if opener not in ("(", "[", "{"):
            raise ParseError("an indicator needs its condition in brackets: 1_{x > 0} or \\mathbb{1}[x > 0]")
        self.advance()
        self.enter()
        condition = self.condition()
        self.leave()
        if self.tok.kind not in (")", "]", "}"):
            raise ParseError("expected the indicator's condition to end with a bracket")
        self.advance()
        return self.count(build_piecewise([(sp.Integer(1), condition), (sp.Integer(0), sp.true)]))

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
                self._no_adjacent_numbers()
                value = self.arith(value, self.power(), "*")
            else:
                return value

    def _no_adjacent_numbers(self) -> None:
        """'12 544' is the number 12544 or the product 12·544: never a silent pick."""
        before = self.tokens[self.k - 1] if self.k else None
        if before is not None and before.kind == "num" and self.tok.kind == "num":
            a, b = before.text, self.tok.text
            raise ParseError(f"'{a} {b}' has two readings: the number {a}{b} or the product {a}·{b}; "
                             "write it without the space, or with *")

    def starts_atom(self) -> bool:
        kind = self.tok.kind
        if kind == "|":
            return self.abs_depth == 0
        return kind in ("num", "value", "name", "(", "{", "frac", "binom", "big", "indicator", "lfloor", "lceil", "root",
                        "cases") or (kind == "[" and self.tok.text != "matrix")

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
            self.in_exponent += 1
            exponent = self.unary()
            self.in_exponent -= 1
            self.leave()
            return safe_pow(base, exponent)
        return base

    def postfix(self):
        value = self.atom()
        while self.tok.kind == "!":
            self.advance()
            value = self.count(safe_factorial(value))
        if self.tok.kind == "%" and not self.in_exponent:  # 10^{7}%: the percent is of the power
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
        if kind == "value":
            self.advance()
            return self.count(token.value)
        if kind == "indicator":
            return self.indicator()
        if kind == "cases":
            return self.cases()
        if kind in ("lfloor", "lceil"):
            self.advance()
            self.enter()
            inner = scalar(self.expr())
            self.leave()
            self.expect("rfloor" if kind == "lfloor" else "rceil")
            return self.count(integer_part(sp.floor if kind == "lfloor" else sp.ceiling)(inner))
        if kind == "root":
            self.advance()
            index = self.root_index(token.text)
            return self.count(nth_root(scalar(self.braced()), index))
        if kind == "reals":
            raise ParseError("\\mathbb{R}^{...} names a shape, not a value")
        if kind == "emptyset":
            raise ParseError("the empty set is not a value here")
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
        if kind == "binom":
            self.advance()
            top, bottom = scalar(self.braced()), scalar(self.braced())
            return self.count(sp.binomial(top, bottom))
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

    def root_index(self, text: str):
        if re.fullmatch(r"\s*\d+\s*", text) and 2 <= int(text) <= 100:
            return sp.Integer(int(text))
        value = self.vocab.lookup(text.strip())
        if value is None:
            raise ParseError(f"cannot read the root index {text!r}")
        return value

    def group(self):
        opener = self.advance().kind
        self.enter()
        if self.tok.kind == CLOSERS[opener] and opener in "([":
            self.advance()
            self.leave()
            return []
        value = self.sequence_or_expr()
        if self.tok.kind == "rel" and opener in "([" and not isinstance(value, (list, tuple)):
            # an Iverson bracket: [x > 0] or 1(x > 0) is 1 where the condition holds, else 0
            condition = self.relation_chain(scalar(value))
            self.leave()
            self.expect(CLOSERS[opener])
            return self.count(build_piecewise([(sp.Integer(1), condition), (sp.Integer(0), sp.true)]))
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
            entry = self.element()
            rows[-1].append(entry if isinstance(entry, WrittenNumber) else scalar(entry))
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
            exponent = scalar(self.script_exponent())
            if exponent.is_Number and exponent < 0:
                if exponent != -1:
                    raise ParseError(f"{name}^{{{exponent}}} is ambiguous: write 1/{name}(...)^{-exponent} for a power "
                                     f"of the reciprocal")
                name, exponent = self.inverse_name(name), None
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

    def script_exponent(self):
        """The exponent after a function name: ^2, ^{-1}, ^(-1), ^-1."""
        if self.tok.kind == "op" and self.tok.text in "+-":
            sign = self.advance().text
            value = scalar(self.postfix())
            return -value if sign == "-" else value
        return self.postfix()

    def inverse_name(self, name: str) -> str:
        """f^{-1} is the inverse function (\\tanh^{-1} = artanh, \\sigma^{-1} = logit), never 1/f."""
        if name in self.vocab.functions:
            inverse = f"{name}^-1" if not name.endswith("^-1") else name[:-3]
            self.vocab_inverses.add(inverse)
            return inverse
        if name in INVERSES:
            return INVERSES[name]
        raise ParseError(f"{name}^{{-1}} would be the inverse of {name}, which is not defined here; "
                         f"write 1/{name}(...) for the reciprocal")

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
        """\\sum_{k=1}^{3} body: the body is the product that follows.  With whole-number limits the
        index is expanded into subscripts (w_{k+1} -> w_2, w_3, w_4); with a variable limit
        (\\sum_{j=1}^{m} w_j) the result is a SymPy Sum over Indexed entries w[j]."""
        token = self.advance()
        index, low_text = token.sub.split("=", 1)
        low, high = self.limit_value(low_text), self.limit_value(token.sup)
        symbolic = not (low.is_Integer and high.is_Integer)
        if not symbolic and not -1 <= int(high) - int(low) < 100:
            raise TooComplex("the sum or product has too many terms")
        self.indices.append(index)
        self.enter()
        body, rest = self.big_operator_body(index, token.text)
        self.leave()
        self.indices.pop()
        if symbolic:
            j = sp.Symbol(index, integer=True)
            inner = self.symbolic_body(body, index, j)
            total = (sp.Sum if token.text == "sum" else sp.Product)(inner, (j, low, high))
            return self.count(closed_form(total) * rest)
        terms = [self.instantiate(body, index, k) for k in range(int(low), int(high) + 1)]
        total = sp.Add(*terms) if token.text == "sum" else sp.Mul(*terms)
        return self.count(total * rest)

    def limit_value(self, text: str):
        text = text.strip()
        if re.fullmatch(r"-?\d{1,6}", text):
            return sp.Integer(int(text))
        if text in self.indices:  # \sum_{i=1}^{n} \sum_{j=1}^{i}: an outer index as a limit
            return sp.Symbol(text, integer=True)
        from examcheck.parsing.tokens import Tokenizer

        known = frozenset(self.vocab.symbols) | frozenset(self.vocab.values)
        value = scalar(Parser(Tokenizer(text, known).run(), self.vocab).parse())
        if not isinstance(value, sp.Expr) or (value.is_number and not value.is_Integer):
            raise ParseError(f"the limit {text!r} of a sum must be a whole number or a variable")
        return value

    def big_operator_body(self, index: str, kind: str = "sum"):
        """The product that follows.  For a sum every factor is in the body (Σ_k c w_k = c Σ_k w_k);
        for a product, factors that do not mention the index multiply the whole product
        (\\prod_k w_k h(a) is h(a) Π_k w_k)."""
        body, rest = sp.Integer(1), sp.Integer(1)
        op = "*"
        first = True
        while True:
            factor = scalar(self.unary() if first else self.power())
            first = False
            if kind == "sum" or body == 1 and rest == 1 or self._mentions(factor, index):
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
        if sp.Symbol(index, integer=True) in factor.free_symbols:
            return True
        names = {d.name for d in factor.free_symbols if isinstance(d, sp.Dummy)}
        return any(_mentions_index(n, [index]) for n in names)

    def symbolic_body(self, body, index: str, j: sp.Symbol):
        """Placeholders w_j, w_{j+1}, x_{ij} -> Indexed entries of a declared family (w_1, w_2, ... or w_i)."""
        swap = {}
        for name, dummy in self.placeholders.items():
            if dummy not in body.free_symbols:
                continue
            if name == index:
                swap[dummy] = j
                continue
            if self.indices and _mentions_index(name, self.indices) and not _mentions_index(name, [index]):
                continue
            base, sup, sub = _scripts(name)
            family = canonical_name(base, "", sup)
            known = set(self.vocab.symbols) | set(self.vocab.values)
            if not any(k.startswith(family + "_") for k in known):
                raise ParseError(f"unknown symbol {name!r}: {family} has no entries in this part")
            swap[dummy] = sp.Indexed(sp.IndexedBase(family), *self.index_expressions(sub, index))
        return body.xreplace(swap)

    def index_expressions(self, sub: str, index: str) -> list:
        active = set(self.indices) | {index}
        if sub and all(c in active for c in sub) and len(sub) > 1:
            return [sp.Symbol(c, integer=True) for c in sub]
        if not re.fullmatch(r"[A-Za-z0-9]+(?:[+-][A-Za-z0-9]+)*", sub):
            raise ParseError(f"cannot read the subscript {sub!r} of a sum")
        total = sp.Integer(0)
        for sign, term in re.findall(r"([+-]?)([A-Za-z0-9]+)", sub):
            if term.isdigit():
                value = sp.Integer(int(term))
            elif term in active:
                value = sp.Symbol(term, integer=True)
            else:
                found = self.vocab.lookup(term)
                if found is None:
                    raise ParseError(f"unknown index {term!r} in the subscript {sub!r}")
                value = found
            total += -value if sign == "-" else value
        return [total]

    def instantiate(self, body, index: str, k: int):
        swap = {}
        if sp.Symbol(index, integer=True) in body.free_symbols:
            swap[sp.Symbol(index, integer=True)] = sp.Integer(k)
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
                return self.count(not_complex(log_of(args[0], base), "log"))
            if len(args) > 2:
                raise ParseError("log takes one argument, or two: log(x, base)")
            default = 10 if name == "lg" else self.vocab.log_base
            return self.count(not_complex(_log(default)(args), "log"))
        if name in self.vocab.functions or name in self.vocab_inverses:
            return self.count(sp.Function(name)(*args))
        low, high, build = FUNCTIONS[name]
        if not low <= len(args) <= high:
            expected = str(low) if low == high else f"{low} to {high}"
            raise ParseError(f"{name} takes {expected} argument(s), got {len(args)}")
        try:
            value = build(args)
        except ParseError:  # the builder's own reason (too complex: floor of a number with 6000 digits)
            raise
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise ParseError(f"cannot apply {name} here: {exc}") from None
        return self.count(not_complex(value, name))

    # arithmetic with guards -------------------------------------------------
    def arith(self, a, b, op: str):
        a, b = scalar(_as_group(a)), scalar(_as_group(b))
        self.count(None)
        if op == "/" and b.is_zero:
            raise ParseError("division by zero")
        return keep_domain(a, b, op)

    def negate(self, value):
        value = _as_group(value)
        if isinstance(value, (list, tuple)):
            raise ParseError("cannot negate a list")
        return -scalar(value)


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
    return canonical_name(base, _index_arithmetic(sub.replace(index, str(k))), _index_arithmetic(sup.replace(index, str(k))))


def _index_arithmetic(text: str) -> str:
    """'2+1' -> '3', '4-1' -> '3': index arithmetic once the index has a value."""
    def total(m: re.Match) -> str:
        return str(sum(int(t) for t in re.findall(r"[+-]?\d+", m.group(0))))

    return re.sub(r"\d+(?:[+-]\d+)+", total, text)


RELATIONS = {"<": sp.Lt, "<=": sp.Le, ">": sp.Gt, ">=": sp.Ge, "==": sp.Eq, "!=": sp.Ne}


def relation(a, b, op: str):
    if op in ("==", "!="):
        return RELATIONS[op](a, b, evaluate=False)
    return RELATIONS[op](a, b)


def keep_domain(a, b, op: str):
    """a op b, evaluated as SymPy does unless that drops a variable (x/x -> 1, log(x) - log(x) -> 0):
    then kept as written, so the domain of the answer is the domain of what was written."""
    if op == "+":
        value = a + b
    elif op == "-":
        value = a - b
    elif op == "*":
        value = a * b
    else:
        value = a / b
    operands = (a, sp.Pow(b, -1)) if op == "/" else (a, b)
    if value.free_symbols == a.free_symbols | b.free_symbols and not _lost_domain(operands, value):
        return value
    if op == "+":
        return sp.Add(a, b, evaluate=False)
    if op == "-":
        return sp.Add(a, sp.Mul(-1, b, evaluate=False), evaluate=False)
    if op == "*":
        return sp.Mul(a, b, evaluate=False)
    return sp.Mul(a, sp.Pow(b, -1, evaluate=False), evaluate=False)


def closed_form(total):
    """Σ_{i=1}^{n} i -> n(n+1)/2: a sum or product whose body is a polynomial in its index (no
    indexed entries) has a closed form valid for every whole-number limit; anything else stays a Sum."""
    if total.has(sp.Indexed) or len(total.limits) != 1:
        inner = total.function
        if isinstance(inner, (sp.Sum, sp.Product)) and not total.has(sp.Indexed):
            return closed_form(type(total)(closed_form(inner), *total.limits))
        return total
    index = total.limits[0][0]
    body = total.function
    if isinstance(total, sp.Sum) and body.is_polynomial(index) and sp.Poly(body, index).degree() <= 4:
        return sp.factor(total.doit())
    return total


def not_complex(value, what: str):
    """A value such as log(-2) or sqrt(-4) is not a real number: say so rather than carry I along."""
    if isinstance(value, sp.Expr) and value.is_number:
        if value.is_extended_real is False:
            raise ParseError(f"{what}(...) of this argument is not a real number")
        if value.is_finite is False or value.has(sp.zoo, sp.nan):
            raise ParseError(f"{what}(...) of this argument is not a finite number")
    return value


_RESTRICTED = (sp.log, sp.atanh, sp.acosh, sp.asin, sp.acos, sp.erfinv)


def _domain_marks(expr) -> set:
    """What restricts where expr is defined: symbolic bases under a negative or fractional power
    (x in 1/x, √x) and the arguments of log, atanh, ... ."""
    marks = set()
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Pow) and node.base.free_symbols and not (node.exp.is_Integer and node.exp > 0):
            marks.add(("pow", node.base.as_coeff_Mul()[1], bool(node.exp.is_integer)))
        elif isinstance(node, _RESTRICTED):
            marks.add((node.func, node.args[0]))
    return marks


def _lost_domain(operands, value) -> bool:
    """True when evaluating dropped a restriction written by the student: x²/x -> x, √x·√x -> x."""
    if not any(o.has(sp.Pow, *_RESTRICTED) for o in operands):
        return False
    written = set().union(*(_domain_marks(o) for o in operands))
    return bool(written) and not written <= _domain_marks(value)


def build_piecewise(branches):
    if not branches:
        raise ParseError("empty piecewise definition")
    if any(not isinstance(c, sp.logic.boolalg.Boolean) and c is not sp.true for _, c in branches):
        raise ParseError("a piece's condition is not a condition")
    return sp.Piecewise(*branches)


def _as_group(value):
    """In arithmetic, [x] is a bracketed group, as in σ(z)[1 − σ(z)]."""
    if isinstance(value, list) and len(value) == 1 and not isinstance(value[0], (list, tuple)):
        return value[0]
    return value


def scalar(value):
    if isinstance(value, WrittenNumber):
        return value.value
    value = _as_group(value)
    if isinstance(value, WrittenNumber):
        return value.value
    if isinstance(value, (list, tuple)):
        raise ParseError("expected a single expression, not a list")
    return value


def _magnitude(number) -> float:
    """|log10 |number||, exactly enough for huge and tiny rationals (1e-400 does not underflow to 0)."""
    if number.is_Rational:
        return abs(math.log10(abs(int(number.p))) - math.log10(int(number.q)))
    value = abs(float(number))
    return abs(math.log10(value)) if 0 < value < math.inf else float(MAX_NUMBER_DIGITS + 1)


def safe_pow(base, exponent):
    base, exponent = scalar(base), scalar(exponent)
    if exponent.is_Number and exponent.is_finite:
        if abs(exponent) > MAX_EXPONENT and not (base.is_Number and abs(base) in (0, 1)):
            raise TooComplex(f"exponent is too large to check (at most {MAX_EXPONENT})")
        if base.is_Number and base.is_finite and exponent.is_Integer and base != 0:
            digits = abs(int(exponent)) * max(_magnitude(base), math.log10(2.0))
            if digits > MAX_NUMBER_DIGITS:
                raise TooComplex("number is too large to check")
    elif exponent.is_Number is False and exponent.free_symbols == set():
        magnitude = exponent.evalf(15)
        if magnitude.is_Number and abs(magnitude) > MAX_EXPONENT:
            raise TooComplex(f"exponent is too large to check (at most {MAX_EXPONENT})")
    if base.is_zero and exponent.is_negative:
        raise ParseError("division by zero")
    if base == sp.E:
        return exp_of(exponent)
    if isinstance(base, (sp.Pow, sp.exp)) and not (exponent.is_Integer and (
            isinstance(base, sp.exp) or base.exp.is_Integer)):
        return sp.Pow(base, exponent, evaluate=False)  # (x^2)^(1/2) is not x; (√x)^2 is not x
    value = sp.Pow(base, exponent)
    if value.free_symbols != base.free_symbols | exponent.free_symbols:
        return sp.Pow(base, exponent, evaluate=False)  # (0/f(z))^3 stays undefined where f(z) = 0
    return not_complex(value, "power")


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
