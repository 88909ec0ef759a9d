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


def _sign_near(g, h):
    """The sign (-1, 0 or 1) of g(h) for all small h > 0; None if it cannot be decided."""
    g = sp.simplify(g)
    if g == 0:
        return 0
    try:
        value = sp.limit(sp.sign(g), h, 0, "+")
    except (NotImplementedError, ValueError, TypeError, AttributeError):
        value = None
    if value in (-1, 0, 1):
        return int(value)
    try:
        lead = sp.limit(g, h, 0, "+")
        if lead.is_positive:
            return 1
        if lead.is_negative:
            return -1
    except (NotImplementedError, ValueError, TypeError, AttributeError):
        pass
    return None


_OPS = {
    sp.StrictLessThan: lambda s: s < 0, sp.LessThan: lambda s: s <= 0,
    sp.StrictGreaterThan: lambda s: s > 0, sp.GreaterThan: lambda s: s >= 0,
    sp.Equality: lambda s: s == 0, sp.Unequality: lambda s: s != 0,
}


def _holds_near(cond, z, a, side: int, h) -> bool:
    """Whether a Piecewise condition holds at every point of (a, a+ε) (side 1) or (a−ε, a) (side −1)."""
    if cond in (sp.true, True):
        return True
    if cond in (sp.false, False):
        return False
    if isinstance(cond, sp.And):
        return all(_holds_near(c, z, a, side, h) for c in cond.args)
    if isinstance(cond, sp.Or):
        return any(_holds_near(c, z, a, side, h) for c in cond.args)
    if isinstance(cond, sp.Not):
        return not _holds_near(cond.args[0], z, a, side, h)
    for kind, test in _OPS.items():
        if isinstance(cond, kind):
            sign = _sign_near((cond.lhs - cond.rhs).subs(z, a + side * h), h)
            if sign is None:
                raise FamilyError(f"cannot decide whether {cond} holds next to {a}")
            return test(sign)
    raise FamilyError(f"cannot decide whether {cond} holds next to {a}")


def branch_near(f, z, a, side: int):
    """The expression that f equals just left (side −1) or just right (side 1) of z = a:
    max, min, abs, Heaviside and Piecewise are resolved from the branch whose condition holds
    on that side, not at a itself."""
    h = sp.Dummy("h", positive=True)
    expr = sp.piecewise_fold(f.rewrite(sp.Piecewise))
    for _ in range(20):
        if not expr.has(sp.Piecewise):
            return expr
        if not isinstance(expr, sp.Piecewise):
            raise FamilyError(f"cannot split {f} into branches")
        expr = next((e for e, c in expr.args if _holds_near(c, z, a, side, h)), None)
        if expr is None:
            raise FamilyError(f"{f} is not defined next to {a}")
        expr = sp.piecewise_fold(expr)
    raise FamilyError(f"cannot split {f} into branches")


def _finite(value) -> bool:
    return value is not None and not value.has(sp.zoo, sp.nan, sp.oo, -sp.oo, sp.Limit, sp.Subs)


def one_sided(f, z, a, side: int) -> tuple:
    """(limit of f, derivative of f) at z = a from one side (−1 left, 1 right), from the branch
    that applies on that side.  The derivative is ±∞ when f jumps there; None if undecidable."""
    branch = branch_near(f, z, a, side)
    h = sp.Dummy("h", positive=True)
    limit = branch.subs(z, a)
    if not _finite(limit):
        try:
            limit = sp.limit(branch.subs(z, a + side * h), h, 0, "+")
        except (NotImplementedError, ValueError, TypeError):
            return None, None
    at = f.subs(z, a)
    if not _finite(at) or at.has(sp.Heaviside, sp.Piecewise):
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


def one_sided_second(f, z, a, side: int):
    """The second derivative of the branch that applies on one side, at a."""
    value = sp.diff(branch_near(f, z, a, side), z, 2).subs(z, a)
    return sp.simplify(value) if _finite(value) else None
