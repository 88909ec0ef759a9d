"""Helpers shared by families, each defined once: logarithms under a convention, matrices,
rotate-180 and valid/full correlations, output sizes, and walkers over layer stacks."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import sympy as sp

from examcheck.families import FamilyError

# ----------------------------------------------------------------------------- logarithms


def log(x, base="e"):
    """log of x under a log-base convention ('e', 2 or 10)."""
    return sp.log(x) if base in (None, "e") else sp.log(x, base)


def parser_log_base(base) -> int | None:
    """The parser's log base (None for natural log) for a convention value."""
    return None if base in (None, "e") else int(base)


# ----------------------------------------------------------------------------- matrices


def shape_of(m) -> tuple[int, int]:
    rows = len(m)
    cols = {len(r) for r in m}
    if rows == 0 or len(cols) != 1:
        raise FamilyError("a matrix needs rows of one common, non-zero length")
    return rows, cols.pop()


def rotate180(m):
    """The matrix turned by 180° (flipped up-down and left-right)."""
    return [list(reversed(row)) for row in reversed(m)]


def cross_correlate(x, k):
    """Valid cross-correlation: Y[i][j] = Σ_ab X[i+a][j+b]·K[a][b]."""
    (h, w), (kh, kw) = shape_of(x), shape_of(k)
    if kh > h or kw > w:
        raise FamilyError("the kernel is larger than the input")
    return [[sum(x[i + a][j + b] * k[a][b] for a in range(kh) for b in range(kw))
             for j in range(w - kw + 1)] for i in range(h - kh + 1)]


def full_convolution(g, k):
    """Σ of g[i][j]·k placed at (i, j): the gradient of a valid cross-correlation with respect to its input."""
    (gh, gw), (kh, kw) = shape_of(g), shape_of(k)
    out = [[0] * (gw + kw - 1) for _ in range(gh + kh - 1)]
    for i in range(gh):
        for j in range(gw):
            for a in range(kh):
                for b in range(kw):
                    out[i + a][j + b] += g[i][j] * k[a][b]
    return out


# ----------------------------------------------------------------------------- sizes


def conv_output(n: int, k: int, stride: int, padding, dilation: int = 1) -> tuple[int, str]:
    """Output length along one axis (floor convention, as PyTorch and Keras), and the formula used.
    padding: 'valid', 'same' (output ⌈n/stride⌉) or a number of zeros on each side."""
    k_eff = dilation * (k - 1) + 1
    if padding == "same":
        return math.ceil(n / stride), f"⌈{n}/{stride}⌉"
    pad = 0 if padding == "valid" else int(padding)
    if n + 2 * pad < k_eff:
        raise FamilyError(f"kernel {k_eff} is larger than the padded input {n + 2 * pad}")
    return (n + 2 * pad - k_eff) // stride + 1, f"⌊({n} + 2·{pad} − {k_eff})/{stride}⌋ + 1"


# ----------------------------------------------------------------------------- layer stacks


@dataclass(frozen=True)
class LayerAt:
    """One layer of a stack, with its 1-based position after repeats are expanded,
    and the index of the `layers` entry it came from (for error messages)."""

    number: int
    entry: int
    spec: object


def expand_repeats(layers: list) -> list:
    """Each mapping with `repeat: n` stands for n copies of itself."""
    return [layer for layer in layers for _ in range(layer.get("repeat", 1) if isinstance(layer, dict) else 1)]


def walk_layers(layers: list) -> Iterator[LayerAt]:
    """The layers of a stack in order, repeats expanded, numbered from 1."""
    number = 0
    for entry, spec in enumerate(layers):
        for _ in range(spec.get("repeat", 1) if isinstance(spec, dict) else 1):
            number += 1
            yield LayerAt(number, entry, spec)


# ----------------------------------------------------------------------------- one-sided analysis at a point


def _sign_of(value) -> int | None:
    if value.is_positive:
        return 1
    if value.is_negative:
        return -1
    if value.is_zero:
        return 0
    return None


def _sign_near(g, h) -> int | None:
    """The sign (-1, 0 or 1) of g(h) for all small h > 0; None if it cannot be decided."""
    if g == 0:
        return 0
    try:
        at_zero = g.subs(h, 0)
        if at_zero.is_finite and not at_zero.has(sp.nan):
            sign = _sign_of(at_zero)
            if sign:
                return sign
        series = sp.series(g, h, 0, 8).removeO()
        if series != 0:
            sign = _sign_of(series.as_leading_term(h).subs(h, 1))
            if sign:
                return sign
        elif sp.simplify(g) == 0:
            return 0
        value = sp.limit(sp.sign(g), h, 0, "+")
    except (NotImplementedError, ValueError, TypeError, AttributeError, sp.PoleError):
        return None
    return int(value) if value in (-1, 0, 1) else None


_OPS = {
    sp.StrictLessThan: lambda s: s < 0, sp.LessThan: lambda s: s <= 0,
    sp.StrictGreaterThan: lambda s: s > 0, sp.GreaterThan: lambda s: s >= 0,
    sp.Equality: lambda s: s == 0, sp.Unequality: lambda s: s != 0,
}


class _Side:
    """Resolves max, min, abs, sign, Heaviside and Piecewise to the branch that holds on one side of z = a."""

    def __init__(self, z, a, side: int):
        self.z, self.a, self.side = z, a, side
        self.h = sp.Dummy("h", positive=True)

    def sign(self, expr) -> int:
        sign = _sign_near(sp.expand(self.branch(expr)).subs(self.z, self.a + self.side * self.h), self.h)
        if sign is None:
            raise FamilyError(f"cannot decide the sign of {expr} next to {self.a}")
        return sign

    def holds(self, cond) -> bool:
        if cond in (sp.true, True):
            return True
        if cond in (sp.false, False):
            return False
        if isinstance(cond, sp.And):
            return all(self.holds(c) for c in cond.args)
        if isinstance(cond, sp.Or):
            return any(self.holds(c) for c in cond.args)
        if isinstance(cond, sp.Not):
            return not self.holds(cond.args[0])
        for kind, test in _OPS.items():
            if isinstance(cond, kind):
                return test(self.sign(cond.lhs - cond.rhs))
        raise FamilyError(f"cannot decide whether {cond} holds next to {self.a}")

    def branch(self, expr):
        if not isinstance(expr, sp.Basic) or not expr.has(sp.Max, sp.Min, sp.Abs, sp.sign, sp.Heaviside, sp.Piecewise):
            return expr
        if isinstance(expr, (sp.Max, sp.Min)):
            args = [self.branch(arg) for arg in expr.args]
            best = args[0]
            for other in args[1:]:
                difference = self.sign(other - best)
                if (difference > 0) == isinstance(expr, sp.Max) and difference != 0:
                    best = other
            return best
        if isinstance(expr, sp.Abs):
            inner = self.branch(expr.args[0])
            return -inner if self.sign(inner) < 0 else inner
        if isinstance(expr, sp.sign):
            return sp.Integer(self.sign(expr.args[0]))
        if isinstance(expr, sp.Heaviside):
            sign = self.sign(expr.args[0])
            return sp.Heaviside(0) if sign == 0 else sp.Integer(1 if sign > 0 else 0)
        if isinstance(expr, sp.Piecewise):
            for piece, cond in expr.args:
                if self.holds(cond):
                    return self.branch(piece)
            raise FamilyError(f"{expr} is not defined next to {self.a}")
        return expr.func(*(self.branch(arg) for arg in expr.args))


def branch_near(f, z, a, side: int):
    """The expression that f equals just left (side −1) or just right (side 1) of z = a:
    max, min, abs, sign, Heaviside and Piecewise are resolved from the branch that holds on that
    side, not at a itself."""
    return _Side(z, a, side).branch(f)


def _finite(value) -> bool:
    return value is not None and not value.has(sp.zoo, sp.nan, sp.oo, -sp.oo, sp.Limit, sp.Subs)


def one_sided(f, z, a, side: int, branch=None) -> tuple:
    """(limit of f, derivative of f) at z = a from one side (−1 left, 1 right), from the branch
    that applies on that side.  The derivative is ±∞ when f jumps there; None if undecidable."""
    branch = branch_near(f, z, a, side) if branch is None else branch
    h = sp.Dummy("h", positive=True)
    limit = branch.subs(z, a)
    if not _finite(limit):
        try:
            limit = sp.limit(branch.subs(z, a + side * h), h, 0, "+")
        except (NotImplementedError, ValueError, TypeError):
            return None, None
    at = f.subs(z, a)
    if not _finite(at) or at.has(sp.Piecewise):
        return limit, None
    if _finite(limit) and sp.simplify(limit - at) != 0:  # a jump: the difference quotient diverges
        jump = sp.simplify(at - limit) if side < 0 else sp.simplify(limit - at)
        return limit, sp.oo * sp.sign(jump)
    derivative = sp.diff(branch, z).subs(z, a)
    if not _finite(derivative):
        quotient = (at - branch.subs(z, a - h)) / h if side < 0 else (branch.subs(z, a + h) - at) / h
        try:
            derivative = sp.limit(quotient, h, 0, "+")
        except (NotImplementedError, ValueError, TypeError):
            return limit, None
        if derivative.has(sp.Limit):
            return limit, None
    return sp.simplify(limit), sp.simplify(derivative)


def one_sided_second(branch, z, a):
    """The second derivative of a side's branch at a."""
    value = sp.diff(branch, z, 2).subs(z, a)
    return sp.simplify(value) if _finite(value) else None
