"""Evaluate SymPy expressions numerically by walking the tree: no lambdify, no generated code.

Two evaluators share one vocabulary of heads:

- ``vector_eval(expr, columns)`` evaluates at many points at once with NumPy float64 and says, per point,
  whether float64 can be trusted there: each point is OK, UNDEFINED (a domain error float64 is sure of,
  such as log of a clearly negative number) or UNSURE (overflow, underflow, catastrophic cancellation,
  floor/ceil/sign/Heaviside/a condition too close to its switch, a domain test on a value float64 may
  have rounded).  UNSURE points are decided by:
- ``mp_eval(expr, point, dps)`` evaluates at one point, given as exact rationals (every float64 sample
  point is one), with mpmath at ``dps`` digits; switches that sit within the arithmetic's noise of their
  boundary are decided exactly with SymPy rational arithmetic.  Raises ``Undefined`` where the expression
  is undefined and ``TooLarge`` where the value cannot be represented in bounded time and memory.

``evaluate(expr, point)`` is the scalar convenience used by families: a float, or None where undefined.
"""

from __future__ import annotations

import functools
import math
import random
import zlib
from fractions import Fraction

import mpmath
import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from examcheck.mathfuncs import sigma

OK, UNDEFINED, UNSURE = 0, 1, 2
CANCELLATION = 1e-9  # an Add whose result is this small against its largest term has lost most digits
SWITCH_MARGIN = 1e-9  # float64 does not decide a floor/sign/condition this close (relative) to its switch
MAX_MP_EXPONENT = 10 ** 12  # exp(x), x**y beyond e^(1e12): too large to evaluate
MAX_TERMS = 20000  # terms of one Sum/Product at one point (float64)
MAX_MP_TERMS = 400  # terms of one Sum/Product at one point in mpmath (more: the point is skipped)
TINY = 2.2250738585072014e-308
KEEP_DIGITS = 32  # in strict mpmath evaluation a sum, or a log near 1, or a sine near a zero, that keeps fewer
# correct digits than this raises Cancelled (the caller retries with more): values are then good to ~1e-32


class Undefined(Exception):
    """The expression has no real value at this point."""


class TooLarge(Exception):
    """The value exists but is too large (or too costly) to compute."""


class Unsupported(Exception):
    """No numeric rule for this head (and SymPy could not evaluate it either)."""


class Cancelled(Exception):
    """A sum lost (nearly) all its digits at this precision: retry with more digits (at least `digits`)."""

    def __init__(self, message: str = "cancellation", digits: int = 0):
        super().__init__(message)
        self.digits = digits


def _digits_for_integer_part(w, x) -> int:
    """The digits that decide floor(x) as well as w.dps decides a small number: x's own, and w.dps more."""
    return int(mpmath.log10(abs(x))) + w.dps if x else w.dps


# ------------------------------------------------------------------------------------------------
# unknown functions (an activation h the problem leaves open)


class SmoothFunction:
    """A fixed, smooth stand-in for a function the problem leaves unknown (an activation h):
    a short random sum of sines seeded by its name, with exact derivatives.  Two answers that
    agree for it at random points agree for every reasonable h."""

    def __init__(self, name: str):
        rng = random.Random(zlib.crc32(name.encode()))
        self.terms = [(rng.uniform(0.5, 1.5), rng.uniform(0.3, 1.7), rng.uniform(0, math.tau)) for _ in range(3)]
        self.slope = rng.uniform(0.2, 1.0)

    def __call__(self, x, order: int = 0):
        if isinstance(x, np.ndarray):
            value = sum(a * b ** order * np.sin(b * x + c + order * math.pi / 2) for a, b, c in self.terms)
        elif isinstance(x, mpmath.mpf):
            value = sum(a * b ** order * mpmath.sin(b * x + c + order * mpmath.pi / 2) for a, b, c in self.terms)
        else:
            value = sum(a * b ** order * math.sin(b * x + c + order * math.pi / 2) for a, b, c in self.terms)
        return value + (self.slope * x if order == 0 else self.slope if order == 1 else 0.0)


_SMOOTH: dict[str, SmoothFunction] = {}


def smooth(name: str) -> SmoothFunction:
    if name not in _SMOOTH:
        _SMOOTH[name] = SmoothFunction(name)
    return _SMOOTH[name]


def indexed_value(base: str, index, salt: float = 0.0):
    """A fixed value for the leaf base[index] (w_{j+1} inside a sum): a hash of the name and the index,
    in (-3, 3); the same at every evaluation, so both sides of a comparison see the same w."""
    h = (zlib.crc32(base.encode()) % 9973) / 9973.0
    if isinstance(index, np.ndarray):
        return 3.0 * np.sin(index * 12.9898 + h * 78.233 + salt * 0.7 + 1.3) * np.cos(index * 4.1414 + h)
    k = float(index)
    return 3.0 * math.sin(k * 12.9898 + h * 78.233 + salt * 0.7 + 1.3) * math.cos(k * 4.1414 + h)


# ------------------------------------------------------------------------------------------------
# float64, vectorised


def _erf(x):
    return np.vectorize(math.erf, otypes=[float])(x) if x.size else x


def _erfc(x):
    return np.vectorize(math.erfc, otypes=[float])(x) if x.size else x


def _gamma(x):
    def one(v):
        try:
            return math.gamma(v)
        except (ValueError, OverflowError):
            return math.nan
    return np.vectorize(one, otypes=[float])(x) if x.size else x


def _sigma_vec(x):
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    e = np.exp(x[~pos])
    out[~pos] = e / (1.0 + e)
    return out


_NP_UNARY = {
    sp.exp: np.exp, sp.sin: np.sin, sp.cos: np.cos, sp.tan: np.tan, sp.sinh: np.sinh, sp.cosh: np.cosh,
    sp.tanh: np.tanh, sp.atan: np.arctan, sp.asinh: np.arcsinh, sp.Abs: np.abs, sigma: _sigma_vec,
    sp.erf: _erf, sp.erfc: _erfc,
}
_CAN_UNDERFLOW = {sp.exp, sp.erfc, sigma}
# domain of a unary head: a test that is True where the float argument is inside it
_DOMAINS = {
    sp.atanh: lambda x: np.abs(x) < 1, sp.acosh: lambda x: x >= 1,
    sp.asin: lambda x: np.abs(x) <= 1, sp.acos: lambda x: np.abs(x) <= 1,
}
_NP_DOMAIN_FUNCS = {sp.atanh: np.arctanh, sp.acosh: np.arccosh, sp.asin: np.arcsin, sp.acos: np.arccos}
_RECIPROCAL = {sp.sech: np.cosh, sp.csch: np.sinh, sp.coth: np.tanh, sp.sec: np.cos, sp.csc: np.sin, sp.cot: np.tan}


class _Vec:
    __slots__ = ("v", "state")

    def __init__(self, v: np.ndarray, state: np.ndarray):
        self.v = v
        self.state = state


def vector_eval(expr, columns: dict[str, np.ndarray], n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Values at every point (float64) and a state per point: OK, UNDEFINED or UNSURE."""
    if n is None:
        n = len(next(iter(columns.values()))) if columns else 1
    with np.errstate(all="ignore"):
        out = _VectorWalker(columns, n).walk(expr)
        v = np.array(out.v, dtype=float, copy=True)
        state = out.state.copy()
        bad = ~np.isfinite(v) & (state == OK)
        state[bad] = UNSURE
    return v, state


class _VectorWalker:
    def __init__(self, columns: dict[str, np.ndarray], n: int):
        self.columns = columns
        self.n = n

    def ok(self, v) -> _Vec:
        return _Vec(v, np.zeros(self.n, dtype=np.int8))

    def const(self, expr) -> _Vec:
        value, state = _constant(expr)
        return _Vec(np.full(self.n, value), np.full(self.n, state, dtype=np.int8))

    def walk(self, expr) -> _Vec:
        if expr.is_Symbol:
            if expr.name not in self.columns:
                raise Undefined(f"no value for {expr.name}")
            return self.ok(np.asarray(self.columns[expr.name], dtype=float))
        if expr.is_Number or expr.is_NumberSymbol:
            if expr.is_Number and not expr.is_real:
                return _Vec(np.full(self.n, math.nan), np.full(self.n, UNDEFINED, dtype=np.int8))
            return self.const(expr)
        func = expr.func
        handler = _VECTOR_HANDLERS.get(func)
        if handler is not None:
            return handler(self, expr)
        if func in _NP_UNARY:
            a = self.walk(expr.args[0])
            v = _NP_UNARY[func](a.v)
            state = a.state.copy()
            if func in _CAN_UNDERFLOW:
                state[(np.abs(v) < TINY) & (state == OK)] = UNSURE
            return _Vec(v, state)
        if func in _DOMAINS and len(expr.args) == 1:
            a = self.walk(expr.args[0])
            inside = _DOMAINS[func](a.v)
            state = a.state.copy()
            # outside the domain: sure only if the argument is trusted and not within rounding of the edge
            edge = _near_domain_edge(func, a.v)
            state[(~inside) & (state == OK) & ~edge] = UNDEFINED
            state[(~inside) & (state == OK) & edge] = UNSURE
            v = _NP_DOMAIN_FUNCS[func](np.where(inside, a.v, np.nan))
            return _Vec(v, state)
        if func in _RECIPROCAL:
            a = self.walk(expr.args[0])
            d = _RECIPROCAL[func](a.v)
            state = a.state.copy()
            state[((d == 0) | ~np.isfinite(d)) & (state == OK)] = UNSURE
            return _Vec(1.0 / d, state)
        if isinstance(expr, AppliedUndef):
            if len(expr.args) != 1:
                raise Undefined("functions of several variables")
            a = self.walk(expr.args[0])
            return _Vec(smooth(func.__name__)(a.v), a.state.copy())
        return self.pointwise(expr)

    def pointwise(self, expr) -> _Vec:
        """Heads without a vector rule (Sum, Derivative, ...): one point at a time in mpmath."""
        values = np.full(self.n, math.nan)
        state = np.full(self.n, OK, dtype=np.int8)
        names = sorted(self.columns)
        for i in range(self.n):
            point = {k: float(self.columns[k][i]) for k in names}
            try:
                values[i] = float(mp_eval(expr, point, 20))
                if not math.isfinite(values[i]) or (values[i] != 0 and abs(values[i]) < TINY):
                    state[i] = UNSURE
            except Undefined:
                state[i] = UNDEFINED
            except (TooLarge, OverflowError, Unsupported, Cancelled):
                state[i] = UNSURE
        return _Vec(values, state)


@functools.lru_cache(maxsize=4096)
def _constant(expr) -> tuple[float, int]:
    """A number as a float, and whether float64 holds it (1e-400 and 1e400 do not)."""
    if expr is sp.nan or expr is sp.zoo:
        return math.nan, UNDEFINED
    try:
        value = float(expr)
    except (TypeError, OverflowError, ValueError):
        return math.nan, UNSURE
    exact = value != 0 or expr.is_zero
    state = OK if math.isfinite(value) and exact and (abs(value) >= TINY or value == 0) else UNSURE
    return value, state


def _near_domain_edge(func, x: np.ndarray) -> np.ndarray:
    if func is sp.acosh:
        return np.abs(x - 1) <= 1e-12
    return np.abs(np.abs(x) - 1) <= 1e-12


def _merge(states: list[np.ndarray]) -> np.ndarray:
    out = states[0].copy()
    for s in states[1:]:
        np.maximum(out, s, out=out)  # UNSURE (2) > UNDEFINED (1) > OK (0): unsure wins, mp decides
    return out


def _v_add(w: _VectorWalker, expr) -> _Vec:
    parts = [w.walk(a) for a in expr.args]
    stack = np.vstack([p.v for p in parts])
    total = np.sum(stack, axis=0)
    state = _merge([p.state for p in parts])
    biggest = np.max(np.abs(stack), axis=0)
    lost = (np.abs(total) <= CANCELLATION * biggest) & (biggest > 0)
    state[lost & (state == OK)] = UNSURE
    return _Vec(total, state)


def _v_mul(w: _VectorWalker, expr) -> _Vec:
    parts = [w.walk(a) for a in expr.args]
    out = parts[0].v.copy()
    nonzero = parts[0].v != 0
    for p in parts[1:]:
        out = out * p.v
        nonzero &= p.v != 0
    state = _merge([p.state for p in parts])
    underflow = nonzero & (np.abs(out) < TINY)
    state[underflow & (state == OK)] = UNSURE
    return _Vec(out, state)


def _v_pow(w: _VectorWalker, expr) -> _Vec:
    base_expr, exp_expr = expr.args
    b = w.walk(base_expr)
    if not np.all(np.isfinite(b.v)):  # 1/inf is 0 in float64, but the true value is merely small
        b = _Vec(b.v, b.state.copy())
        b.state[~np.isfinite(b.v) & (b.state == OK)] = UNSURE
    if exp_expr.is_Integer:
        k = int(exp_expr)
        if abs(k) > 10 ** 6:
            return _Vec(np.full(w.n, math.nan), np.full(w.n, UNSURE, dtype=np.int8))
        state = b.state.copy()
        zero = b.v == 0
        if k < 0:
            state[zero & (state == OK)] = UNDEFINED
        v = np.power(b.v, float(k))
        state[(b.v != 0) & (np.abs(v) < TINY) & (state == OK)] = UNSURE
        return _Vec(v, state)
    if exp_expr.is_Rational:
        p, q = int(exp_expr.p), int(exp_expr.q)
        state = b.state.copy()
        neg = b.v < 0
        if q % 2 == 0:
            state[neg & (state == OK)] = UNDEFINED
            v = np.power(np.where(neg, np.nan, b.v), p / q)
        else:  # an odd root of a negative number is real: (-8)^(1/3) = -2
            mag = np.power(np.abs(b.v), p / q)
            v = np.where(neg & (p % 2 == 1), -mag, mag)
        if p < 0:
            state[(b.v == 0) & (state == OK)] = UNDEFINED
        state[(b.v != 0) & (np.abs(v) < TINY) & (state == OK)] = UNSURE
        return _Vec(v, state)
    e = w.walk(exp_expr)
    state = _merge([b.state, e.state])
    integral = e.v == np.round(e.v)
    neg = b.v < 0
    state[neg & ~integral & (state == OK)] = UNDEFINED
    state[(b.v == 0) & (e.v < 0) & (state == OK)] = UNDEFINED
    v = np.where(neg & integral, np.power(b.v, np.round(e.v)), np.power(np.abs(b.v), e.v))
    state[(b.v != 0) & (np.abs(v) < TINY) & (state == OK)] = UNSURE
    # a huge exponent on a base that may be rounded: float cannot say
    state[(np.abs(e.v) > 1e6) & (state == OK)] = UNSURE
    return _Vec(v, state)


def _v_log(w: _VectorWalker, expr) -> _Vec:
    x, base = w.walk(expr.args[0]), w.walk(expr.args[1])
    state = _merge([x.state, base.state])
    bad = (x.v <= 0) | (base.v <= 0) | (base.v == 1)
    state[bad & (state == OK)] = UNDEFINED
    return _Vec(np.log(np.where(bad, np.nan, x.v)) / np.log(np.where(bad, np.nan, base.v)), state)


def _v_max(w: _VectorWalker, expr) -> _Vec:
    parts = [w.walk(a) for a in expr.args]
    stack = np.vstack([p.v for p in parts])
    v = np.max(stack, axis=0) if expr.func is sp.Max else np.min(stack, axis=0)
    return _Vec(v, _merge([p.state for p in parts]))


def _switch_unsure(v: np.ndarray, boundary: np.ndarray) -> np.ndarray:
    return np.abs(v - boundary) <= SWITCH_MARGIN * np.maximum(1.0, np.abs(v))


def _v_floor(w: _VectorWalker, expr) -> _Vec:
    a = w.walk(expr.args[0])
    state = a.state.copy()
    state[_switch_unsure(a.v, np.round(a.v)) & (state == OK)] = UNSURE
    v = np.floor(a.v) if expr.func is sp.floor else np.ceil(a.v)
    return _Vec(v, state)


def _v_sign(w: _VectorWalker, expr) -> _Vec:
    a = w.walk(expr.args[0])
    state = a.state.copy()
    state[(np.abs(a.v) < TINY) & (state == OK)] = UNSURE
    if expr.func is sp.sign:
        return _Vec(np.sign(a.v), state)
    if expr.func is sp.DiracDelta:
        state[(a.v == 0) & (state == OK)] = UNDEFINED
        return _Vec(np.zeros(w.n), state)
    h0 = 0.5
    if len(expr.args) > 1:
        h = w.walk(expr.args[1])
        h0 = h.v
    return _Vec(np.where(a.v > 0, 1.0, np.where(a.v < 0, 0.0, h0)), state)


def _v_mod(w: _VectorWalker, expr) -> _Vec:
    a, b = w.walk(expr.args[0]), w.walk(expr.args[1])
    state = _merge([a.state, b.state])
    state[(b.v == 0) & (state == OK)] = UNDEFINED
    q = a.v / b.v
    state[_switch_unsure(q, np.round(q)) & (state == OK)] = UNSURE
    return _Vec(a.v - b.v * np.floor(q), state)


def _v_piecewise(w: _VectorWalker, expr) -> _Vec:
    chosen = np.full(w.n, -1)
    state = np.zeros(w.n, dtype=np.int8)
    for i, (_, cond) in enumerate(expr.args):
        truth, cstate = _v_condition(w, cond)
        pending = chosen < 0
        state[pending] = np.maximum(state[pending], cstate[pending])
        chosen[pending & truth] = i
    v = np.full(w.n, math.nan)
    for i, (value, _) in enumerate(expr.args):
        pick = chosen == i
        if not pick.any():
            continue
        branch = w.walk(value)
        v[pick] = branch.v[pick]
        state[pick] = np.maximum(state[pick], branch.state[pick])
    state[(chosen < 0) & (state == OK)] = UNDEFINED
    return _Vec(v, state)


_REL = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal, "==": np.equal, "!=": np.not_equal}


def _v_condition(w: _VectorWalker, cond) -> tuple[np.ndarray, np.ndarray]:
    """(truth per point, state per point) of a condition."""
    if cond is sp.true or cond is True:
        return np.ones(w.n, dtype=bool), np.zeros(w.n, dtype=np.int8)
    if cond is sp.false or cond is False:
        return np.zeros(w.n, dtype=bool), np.zeros(w.n, dtype=np.int8)
    if isinstance(cond, (sp.And, sp.Or)):
        parts = [_v_condition(w, c) for c in cond.args]
        combine = np.logical_and.reduce if isinstance(cond, sp.And) else np.logical_or.reduce
        return combine([p[0] for p in parts]), _merge([p[1] for p in parts])
    if isinstance(cond, sp.Not):
        truth, state = _v_condition(w, cond.args[0])
        return ~truth, state
    if isinstance(cond, sp.core.relational.Relational):
        lhs, rhs = w.walk(cond.lhs), w.walk(cond.rhs)
        state = _merge([lhs.state, rhs.state])
        close = np.abs(lhs.v - rhs.v) <= SWITCH_MARGIN * np.maximum(np.abs(lhs.v), np.abs(rhs.v))
        state[close & (state == OK)] = UNSURE
        return _REL[cond.rel_op](lhs.v, rhs.v), state
    raise Undefined(f"condition {type(cond).__name__}")


def _v_factorial(w: _VectorWalker, expr) -> _Vec:
    a = w.walk(expr.args[0])
    state = a.state.copy()
    state[((a.v < 0) & (a.v == np.round(a.v))) & (state == OK)] = UNDEFINED
    v = _gamma(a.v + 1.0)
    state[~np.isfinite(v) & (state == OK)] = UNSURE
    return _Vec(v, state)


def _v_gamma(w: _VectorWalker, expr) -> _Vec:
    a = w.walk(expr.args[0])
    state = a.state.copy()
    state[((a.v <= 0) & (a.v == np.round(a.v))) & (state == OK)] = UNDEFINED
    return _Vec(_gamma(a.v), state)


def _v_binomial(w: _VectorWalker, expr) -> _Vec:
    n, k = w.walk(expr.args[0]), w.walk(expr.args[1])
    state = _merge([n.state, k.state])
    v = np.full(w.n, math.nan)
    for i in range(w.n):
        a, b = n.v[i], k.v[i]
        if a == round(a) and b == round(b) and abs(a) < 1e6:
            v[i] = float(math.comb(int(a), int(b))) if 0 <= b <= a else 0.0
        else:
            state[i] = UNSURE
    state[~np.isfinite(v) & (state == OK)] = UNSURE
    return _Vec(v, state)


def _v_atan2(w: _VectorWalker, expr) -> _Vec:
    y, x = w.walk(expr.args[0]), w.walk(expr.args[1])
    state = _merge([y.state, x.state])
    state[(y.v == 0) & (x.v == 0) & (state == OK)] = UNDEFINED
    return _Vec(np.arctan2(y.v, x.v), state)


def _v_subs(w: _VectorWalker, expr) -> _Vec:
    inner = dict(w.columns)
    for variable, value in zip(expr.variables, expr.point):
        inner[variable.name] = w.walk(value).v
    return _VectorWalker(inner, w.n).walk(expr.expr)


def _v_derivative(w: _VectorWalker, expr) -> _Vec:
    inner = expr.expr
    if not isinstance(inner, AppliedUndef) or len(inner.args) != 1 or len(expr.variable_count) != 1:
        return w.pointwise(expr)
    variable, order = expr.variable_count[0]
    if inner.args[0] != variable:
        return w.pointwise(expr)
    x = w.walk(variable)
    return _Vec(smooth(inner.func.__name__)(x.v, int(order)), x.state.copy())


def _v_sum(w: _VectorWalker, expr) -> _Vec:
    """A sum (product) with symbolic limits: per point, the body over all its terms at once."""
    return _v_sum_limits(w, expr.function, list(expr.limits), isinstance(expr, sp.Sum))


def _v_sum_limits(w: _VectorWalker, body, limits: list, is_sum: bool) -> _Vec:
    variable, low, high = limits[-1]  # SymPy stores the innermost limit first
    lo, hi = w.walk(low), w.walk(high)
    values = np.full(w.n, math.nan)
    state = _merge([lo.state, hi.state])
    for i in range(w.n):
        if state[i] != OK:
            continue
        a, b = lo.v[i], hi.v[i]
        if a != round(a) or b != round(b):
            state[i] = UNDEFINED
            continue
        count = int(b) - int(a) + 1
        if count > MAX_TERMS:
            state[i] = UNSURE
            continue
        if count <= 0:
            values[i] = 0.0 if is_sum else 1.0
            continue
        columns = {k: np.full(count, v[i]) for k, v in w.columns.items()}
        columns[variable.name] = np.arange(int(a), int(b) + 1, dtype=float)
        inner = _VectorWalker(columns, count)
        terms = _v_sum_limits(inner, body, limits[:-1], is_sum) if len(limits) > 1 else inner.walk(body)
        if np.any(terms.state == UNDEFINED):
            state[i] = UNDEFINED
        elif np.any(terms.state == UNSURE):
            state[i] = UNSURE
        values[i] = float(np.sum(terms.v)) if is_sum else float(np.prod(terms.v))
    return _Vec(values, state)


def _v_indexed(w: _VectorWalker, expr) -> _Vec:
    base = str(expr.base.label) if hasattr(expr.base, "label") else str(expr.base)
    indices = [w.walk(i) for i in expr.indices]
    state = _merge([i.state for i in indices])
    k = np.zeros(w.n)
    for n, index in enumerate(indices):
        state[(index.v != np.round(index.v)) & (state == OK)] = UNDEFINED
        k = k + np.round(index.v) * 1000.0 ** n
    return _Vec(indexed_value(base, k), state)


_VECTOR_HANDLERS = {
    sp.Add: _v_add, sp.Mul: _v_mul, sp.Pow: _v_pow, sp.Max: _v_max, sp.Min: _v_max,
    sp.floor: _v_floor, sp.ceiling: _v_floor, sp.sign: _v_sign, sp.Heaviside: _v_sign, sp.DiracDelta: _v_sign,
    sp.Mod: _v_mod, sp.Piecewise: _v_piecewise, sp.factorial: _v_factorial, sp.gamma: _v_gamma,
    sp.binomial: _v_binomial, sp.atan2: _v_atan2, sp.Subs: _v_subs, sp.Derivative: _v_derivative,
    sp.Sum: _v_sum, sp.Product: _v_sum, sp.Indexed: _v_indexed,
}


def _v_log_dispatch(w: _VectorWalker, expr) -> _Vec:
    if len(expr.args) == 1:
        a = w.walk(expr.args[0])
        inside = a.v > 0
        state = a.state.copy()
        edge = np.abs(a.v) <= 1e-300
        state[(~inside) & (state == OK) & ~edge] = UNDEFINED
        state[(~inside) & (state == OK) & edge] = UNSURE
        return _Vec(np.log(np.where(inside, a.v, np.nan)), state)
    return _v_log(w, expr)


_VECTOR_HANDLERS[sp.log] = _v_log_dispatch


# ------------------------------------------------------------------------------------------------
# mpmath, one point, exact rational inputs


def to_mpf(value) -> mpmath.mpf:
    if isinstance(value, Fraction):
        return mpmath.mpf(value.numerator) / value.denominator
    return mpmath.mpf(value)


def mp_eval(expr, point: dict, dps: int = 30, strict: bool = False) -> mpmath.mpf:
    """expr at point (name -> float or Fraction, taken as the exact rational it is) with mpmath at dps
    digits.  Raises Undefined where expr has no real value, TooLarge where it cannot be computed, and,
    when strict, Cancelled where a sum lost nearly all its digits (the caller retries with more)."""
    with mpmath.workdps(dps):
        walker = _MpWalker(point, dps, strict)
        value = walker.walk(expr)
        if isinstance(value, mpmath.mpc):
            raise Undefined("not real")
        if mpmath.isnan(value) or mpmath.isinf(value):
            raise Undefined("not finite")
        return +value


_NOT_FINITE = (sp.zoo, sp.nan, sp.oo, sp.S.NegativeInfinity)


class _MpWalker:
    def __init__(self, point: dict, dps: int, strict: bool = False):
        self.point = point
        self.dps = dps
        self.strict = strict
        self.cancel_level = mpmath.mpf(2) ** int((KEEP_DIGITS - dps) * 3.3219)  # a sum must keep KEEP_DIGITS digits
        self.switch_level = mpmath.mpf(2) ** int(-(dps // 2) * 3.3219)
        self.values = {k: to_mpf(v) for k, v in point.items()}

    def walk(self, expr):
        if expr in _NOT_FINITE:
            raise Undefined("not a finite number")
        if expr.is_Symbol:
            if expr.name not in self.values:
                raise Undefined(f"no value for {expr.name}")
            return self.values[expr.name]
        if expr.is_Number:
            if expr is sp.nan or expr is sp.zoo or not expr.is_real:
                raise Undefined("not a real number")
            if expr.is_infinite:
                raise Undefined("infinite")
            if expr.is_Rational:
                return mpmath.mpf(int(expr.p)) / int(expr.q)
            return mpmath.mpf(expr._to_mpmath(mpmath.mp.prec))
        if expr.is_NumberSymbol:
            return mpmath.mpf(expr._as_mpf_val(mpmath.mp.prec))
        handler = _MP_HANDLERS.get(expr.func)
        if handler is not None:
            return handler(self, expr)
        if isinstance(expr, AppliedUndef):
            if len(expr.args) != 1:
                raise Undefined("functions of several variables")
            return smooth(expr.func.__name__)(self.walk(expr.args[0]))
        return self.fallback(expr)

    def fallback(self, expr):
        """A head with no rule here (only trusted references can hold one): SymPy's own evalf."""
        try:
            value = self.exact(expr).evalf(self.dps + 5)
        except Exception as exc:  # noqa: BLE001 - SymPy raises many kinds here
            raise Unsupported(f"cannot evaluate {expr.func.__name__}") from exc
        if not value.is_number:
            raise Unsupported(f"cannot evaluate {expr.func.__name__}")
        try:
            re, im = value.as_real_imag()
            if re.has(*_NOT_FINITE) or im.has(*_NOT_FINITE) or not re.is_Number or not re.is_finite:
                raise Undefined("not finite")
            if im != 0 and abs(im) > 10 ** (-self.dps) * max(abs(re), 1):
                raise Undefined("not real")
            return mpmath.mpf(sp.Float(re, self.dps + 5)._mpf_)
        except (TypeError, ValueError, AttributeError) as exc:
            raise Unsupported(f"cannot evaluate {expr.func.__name__}") from exc

    def exact(self, expr) -> sp.Expr:
        """expr at the point in exact SymPy arithmetic (only for a switch that floats cannot decide)."""
        subs = {}
        for s in expr.free_symbols:
            if s.name not in self.point:
                raise Undefined(f"no value for {s.name}")
            v = self.point[s.name]
            f = v if isinstance(v, Fraction) else Fraction(v)
            subs[s] = sp.Rational(f.numerator, f.denominator)
        return expr.xreplace(subs)

    def near(self, value, boundary) -> bool:
        return abs(value - boundary) <= self.switch_level * max(1, abs(value))


def _real(x):
    if isinstance(x, mpmath.mpc):
        if x.imag != 0:
            raise Undefined("not real")
        return x.real
    return x


def _m_add(w: _MpWalker, expr):
    """A sum, and whether it kept its digits.  Terms that are exact (integers from floor, ceil, sign: 1 +
    floor(1/2 - sigma(z)) is exactly 0 for z > 0) lose none: only the inexact ones can cancel."""
    terms = [w.walk(a) for a in expr.args]
    total = mpmath.fsum(terms)
    representable = mpmath.mpf(2) ** (mpmath.mp.prec - 2)
    inexact = [abs(t) for a, t in zip(expr.args, terms) if not (is_integer_valued(a) and abs(t) < representable)]
    biggest = max(inexact, default=0)
    if biggest != 0 and abs(total) <= w.cancel_level * biggest:
        if is_rational_tree(expr):
            exact = rational_value(expr, w.point)
            return mpmath.mpf(exact.numerator) / exact.denominator
        if w.strict:
            raise Cancelled("cancellation")
    return total


_INTEGER_VALUED = (sp.floor, sp.ceiling, sp.sign)


@functools.lru_cache(maxsize=4096)
def is_integer_valued(expr) -> bool:
    """Its value is an integer whenever the walker returns one (floor, ceil and sign are decided exactly or
    not returned at all), so a sum of such terms is exact: it cannot lose digits."""
    if expr.is_Integer or expr.func in _INTEGER_VALUED:
        return True
    if expr.func in (sp.Add, sp.Mul, sp.Max, sp.Min, sp.Abs):
        return all(is_integer_valued(a) for a in expr.args)
    if expr.func is sp.Pow:
        return is_integer_valued(expr.base) and expr.exp.is_Integer and expr.exp >= 0
    return False


@functools.lru_cache(maxsize=4096)
def is_rational_tree(expr) -> bool:
    """Built only from rationals, variables, + - * / integer powers, max/min/abs and floor/ceil: its value
    at a rational point is a rational, computed exactly by rational_value."""
    if expr.is_Symbol or expr.is_Rational:
        return True
    if expr.func is sp.Pow:
        return expr.args[1].is_Integer and is_rational_tree(expr.args[0])
    if expr.func in (sp.Add, sp.Mul, sp.Max, sp.Min, sp.Abs, sp.floor, sp.ceiling, sp.sign, sp.Heaviside):
        return all(is_rational_tree(a) for a in expr.args)
    if expr.func is sp.Piecewise:
        return all(is_rational_tree(v) and _rational_condition(c) for v, c in expr.args)
    return False


def _rational_condition(cond) -> bool:
    if cond is sp.true or cond is sp.false:
        return True
    if isinstance(cond, (sp.And, sp.Or, sp.Not)):
        return all(_rational_condition(c) for c in cond.args)
    if isinstance(cond, sp.core.relational.Relational):
        return is_rational_tree(cond.lhs) and is_rational_tree(cond.rhs)
    return False


def _rational_truth(cond, point: dict) -> bool:
    if cond is sp.true:
        return True
    if cond is sp.false:
        return False
    if isinstance(cond, sp.And):
        return all(_rational_truth(c, point) for c in cond.args)
    if isinstance(cond, sp.Or):
        return any(_rational_truth(c, point) for c in cond.args)
    if isinstance(cond, sp.Not):
        return not _rational_truth(cond.args[0], point)
    a, b = rational_value(cond.lhs, point), rational_value(cond.rhs, point)
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[cond.rel_op]


def rational_value(expr, point: dict) -> Fraction:
    if expr.is_Symbol:
        v = point[expr.name]
        return v if isinstance(v, Fraction) else Fraction(v)
    if expr.is_Rational:
        return Fraction(int(expr.p), int(expr.q))
    func = expr.func
    if func is sp.Piecewise:
        for value, cond in expr.args:
            if _rational_truth(cond, point):
                return rational_value(value, point)
        raise Undefined("no branch of the piecewise definition applies")
    args = [rational_value(a, point) for a in expr.args]
    if func is sp.Add:
        return sum(args, Fraction(0))
    if func is sp.Mul:
        out = Fraction(1)
        for a in args:
            out *= a
        return out
    if func is sp.Pow:
        base, k = args
        if base == 0 and k < 0:
            raise Undefined("0 to a negative power")
        if abs(k) > 10 ** 4:
            raise TooLarge("power too large for exact arithmetic")
        return base ** int(k)
    if func is sp.Max:
        return max(args)
    if func is sp.Min:
        return min(args)
    if func is sp.Abs:
        return abs(args[0])
    if func is sp.floor:
        return Fraction(math.floor(args[0]))
    if func is sp.ceiling:
        return Fraction(math.ceil(args[0]))
    if func is sp.Heaviside:
        if args[0] == 0:
            return args[1] if len(args) > 1 else Fraction(1, 2)
        return Fraction(1 if args[0] > 0 else 0)
    return Fraction((args[0] > 0) - (args[0] < 0))


def _m_mul(w: _MpWalker, expr):
    out = mpmath.mpf(1)
    for a in expr.args:
        out *= w.walk(a)
    return out


def _check_size(log_magnitude) -> None:
    if abs(log_magnitude) > MAX_MP_EXPONENT:
        raise TooLarge("value too large to compute")


def _check_power(b, e) -> None:
    """b**e must stay within e^(MAX_MP_EXPONENT): cheap bit-size test first."""
    bits = abs(int(mpmath.mag(b))) + 1 if b != 0 else 1
    if abs(e) * bits < 10 ** 9:
        return
    _check_size(e * mpmath.log(abs(b)))


def _m_pow(w: _MpWalker, expr):
    base_expr, exp_expr = expr.args
    b = w.walk(base_expr)
    if exp_expr.is_Integer:
        k = int(exp_expr)
        if b == 0:
            if k < 0:
                raise Undefined("0 to a negative power")
            return mpmath.mpf(0 if k else 1)
        _check_power(b, k)
        return b ** k
    if exp_expr.is_Rational:
        p, q = int(exp_expr.p), int(exp_expr.q)
        if b == 0:
            if p < 0:
                raise Undefined("0 to a negative power")
            return mpmath.mpf(0)
        _check_power(b, mpmath.mpf(p) / q)
        if b < 0:
            if q % 2 == 0:
                raise Undefined("even root of a negative number")
            mag = mpmath.root(abs(b), q) ** p
            return -mag if p % 2 else mag
        return mpmath.root(b, q) ** p
    e = w.walk(exp_expr)
    if b == 0:
        if e < 0:
            raise Undefined("0 to a negative power")
        return mpmath.mpf(0) if e > 0 else mpmath.mpf(1)
    _check_power(b, e)
    if b < 0:
        if e != mpmath.nint(e):
            raise Undefined("negative base, non-integer power")
        return b ** int(mpmath.nint(e))
    return mpmath.power(b, e)


def _m_exp(w: _MpWalker, expr):
    x = w.walk(expr.args[0])
    _check_size(x)
    return mpmath.exp(x)


def _m_log(w: _MpWalker, expr):
    x = w.walk(expr.args[0])
    if x <= 0:
        raise Undefined("log of a non-positive number")
    if w.strict and x != 1 and abs(x - 1) <= w.cancel_level:  # log(1 + tiny): the tiny was rounded away
        raise Cancelled("log near 1")
    if len(expr.args) == 2:
        base = w.walk(expr.args[1])
        if base <= 0 or base == 1:
            raise Undefined("log base")
        return mpmath.log(x) / mpmath.log(base)
    return mpmath.log(x)


def _m_unary(fn, test=None):
    def handler(w: _MpWalker, expr):
        x = w.walk(expr.args[0])
        if test is not None and not test(x):
            raise Undefined(f"{expr.func.__name__} outside its domain")
        return _real(fn(x))
    return handler


def _m_sigma(w: _MpWalker, expr):
    x = w.walk(expr.args[0])
    _check_size(x)
    return 1 / (1 + mpmath.exp(-x))


def _m_reciprocal(fn):
    def handler(w: _MpWalker, expr):
        x = w.walk(expr.args[0])
        if fn in (mpmath.cosh, mpmath.sinh, mpmath.tanh):
            _check_size(x)
        d = fn(x)
        if d == 0:
            raise Undefined("division by zero")
        return 1 / d
    return handler


def _m_hyperbolic(fn):
    def handler(w: _MpWalker, expr):
        x = w.walk(expr.args[0])
        _check_size(x)
        return fn(x)
    return handler


def _m_trig(fn):
    def handler(w: _MpWalker, expr):
        x = w.walk(expr.args[0])
        if abs(x) > 10 ** 15:  # sin of a 1e1000000 argument: too costly
            _check_size(mpmath.log(abs(x)) * 1e6)
        value = fn(x)
        if w.strict and x != 0 and abs(value) <= w.cancel_level * max(1, abs(x)):  # near a zero: digits lost
            raise Cancelled("trigonometric function near a zero")
        return value
    return handler


def _m_max(w: _MpWalker, expr):
    values = [w.walk(a) for a in expr.args]
    return max(values) if expr.func is sp.Max else min(values)


def _m_abs(w: _MpWalker, expr):
    return abs(w.walk(expr.args[0]))


def _exact_number(w: _MpWalker, arg) -> sp.Expr:
    value = w.exact(arg)
    if not value.is_number:
        raise Undefined("not a number")
    return value


def _m_floor(w: _MpWalker, expr):
    x = w.walk(expr.args[0])
    k = mpmath.nint(x)
    if w.near(x, k):
        if x and mpmath.log10(abs(x)) > w.dps // 2:  # its digits are spent on its integer part: more digits
            raise Cancelled("cannot decide floor", _digits_for_integer_part(w, x))
        exact = _exact_number(w, expr.args[0])
        value = sp.floor(exact) if expr.func is sp.floor else sp.ceiling(exact)
        if not value.is_Integer:  # not undefined: undecided at this precision
            raise Cancelled("cannot decide floor", _digits_for_integer_part(w, x))
        return mpmath.mpf(int(value))
    return mpmath.floor(x) if expr.func is sp.floor else mpmath.ceil(x)


def _sign_of(w: _MpWalker, arg) -> int:
    x = w.walk(arg)
    if w.near(x, 0):
        exact = _exact_number(w, arg)
        if exact.is_zero:
            return 0
        if exact.is_positive:
            return 1
        if exact.is_negative:
            return -1
        with mpmath.workdps(w.dps * 4):
            x = _MpWalker(w.point, w.dps * 4).walk(arg)
    return 1 if x > 0 else -1 if x < 0 else 0


def _m_sign(w: _MpWalker, expr):
    s = _sign_of(w, expr.args[0])
    if expr.func is sp.sign:
        return mpmath.mpf(s)
    if expr.func is sp.DiracDelta:
        if s == 0:
            raise Undefined("delta at 0")
        return mpmath.mpf(0)
    if s == 0:
        return w.walk(expr.args[1]) if len(expr.args) > 1 else mpmath.mpf(1) / 2
    return mpmath.mpf(1 if s > 0 else 0)


def _m_mod(w: _MpWalker, expr):
    a, b = w.walk(expr.args[0]), w.walk(expr.args[1])
    if b == 0:
        raise Undefined("mod 0")
    q = a / b
    if w.near(q, mpmath.nint(q)):
        exact = sp.floor(_exact_number(w, expr.args[0]) / _exact_number(w, expr.args[1]))
        if not exact.is_Integer:
            raise Cancelled("cannot decide mod", _digits_for_integer_part(w, q))
        return a - b * int(exact)
    return a - b * mpmath.floor(q)


def _m_condition(w: _MpWalker, cond) -> bool:
    if cond is sp.true or cond is True:
        return True
    if cond is sp.false or cond is False:
        return False
    if isinstance(cond, sp.And):
        return all(_m_condition(w, c) for c in cond.args)
    if isinstance(cond, sp.Or):
        return any(_m_condition(w, c) for c in cond.args)
    if isinstance(cond, sp.Not):
        return not _m_condition(w, cond.args[0])
    if isinstance(cond, sp.core.relational.Relational):
        s = _sign_of(w, sp.Add(cond.lhs, sp.Mul(-1, cond.rhs, evaluate=False), evaluate=False))
        return {"<": s < 0, "<=": s <= 0, ">": s > 0, ">=": s >= 0, "==": s == 0, "!=": s != 0}[cond.rel_op]
    raise Undefined(f"condition {type(cond).__name__}")


def _m_piecewise(w: _MpWalker, expr):
    for value, cond in expr.args:
        if _m_condition(w, cond):
            return w.walk(value)
    raise Undefined("no branch of the piecewise definition applies")


def _m_factorial(w: _MpWalker, expr):
    n = w.walk(expr.args[0])
    if n < 0 and n == mpmath.nint(n):
        raise Undefined("factorial of a negative integer")
    if abs(n) > 10 ** 6:
        raise TooLarge("factorial too large")
    return mpmath.factorial(n)


def _m_gamma(w: _MpWalker, expr):
    x = w.walk(expr.args[0])
    if x <= 0 and x == mpmath.nint(x):
        raise Undefined("gamma pole")
    if abs(x) > 10 ** 6:
        raise TooLarge("gamma too large")
    return mpmath.gamma(x)


def _m_binomial(w: _MpWalker, expr):
    n, k = w.walk(expr.args[0]), w.walk(expr.args[1])
    if abs(n) > 10 ** 6:
        raise TooLarge("binomial too large")
    if n == mpmath.nint(n) and k == mpmath.nint(k):
        n_, k_ = int(mpmath.nint(n)), int(mpmath.nint(k))
        return mpmath.mpf(math.comb(n_, k_) if 0 <= k_ <= n_ else 0)
    return mpmath.binomial(n, k)


def _m_atan2(w: _MpWalker, expr):
    y, x = w.walk(expr.args[0]), w.walk(expr.args[1])
    if x == 0 and y == 0:
        raise Undefined("atan2(0, 0)")
    return mpmath.atan2(y, x)


def _m_subs(w: _MpWalker, expr):
    inner = dict(w.point)
    for variable, value in zip(expr.variables, expr.point):
        inner[variable.name] = _mp_fraction(w.walk(value))
    return _MpWalker(inner, w.dps, w.strict).walk(expr.expr)


def _mp_fraction(x) -> Fraction:
    man, exp = mpmath.mpf(x).man_exp
    if man == 0:
        return Fraction(0)
    return Fraction(int(man) * 2 ** int(exp)) if exp >= 0 else Fraction(int(man), 2 ** int(-exp))


def _m_derivative(w: _MpWalker, expr):
    inner = expr.expr
    if not isinstance(inner, AppliedUndef) or len(inner.args) != 1 or len(expr.variable_count) != 1:
        raise Undefined("derivative")
    variable, order = expr.variable_count[0]
    if inner.args[0] != variable:
        raise Undefined("derivative")
    return smooth(inner.func.__name__)(w.walk(variable), int(order))


def _m_sum(w: _MpWalker, expr):
    return _sum_limits(w, expr.function, list(expr.limits), dict(w.point), isinstance(expr, sp.Sum))


def _sum_limits(w: _MpWalker, body, limits: list, point: dict, is_sum: bool):
    variable, low, high = limits[-1]  # SymPy stores the innermost limit first
    outer = _MpWalker(point, w.dps, w.strict)
    lo, hi = outer.walk(low), outer.walk(high)
    if lo != mpmath.nint(lo) or hi != mpmath.nint(hi):
        raise Undefined("non-integer limits")
    lo_i, hi_i = int(mpmath.nint(lo)), int(mpmath.nint(hi))
    if hi_i - lo_i > MAX_MP_TERMS:
        raise TooLarge("too many terms")
    terms = []
    inner = _MpWalker(dict(point), w.dps, w.strict)
    for j in range(lo_i, hi_i + 1):
        inner.point[variable.name] = Fraction(j)
        inner.values[variable.name] = mpmath.mpf(j)
        if len(limits) > 1:
            terms.append(_sum_limits(w, body, limits[:-1], dict(inner.point), is_sum))
        else:
            terms.append(inner.walk(body))
    if is_sum:
        return mpmath.fsum(terms)
    out = mpmath.mpf(1)
    for t in terms:
        out *= t
    return out


def _m_indexed(w: _MpWalker, expr):
    base = str(expr.base.label) if hasattr(expr.base, "label") else str(expr.base)
    indices = [w.walk(i) for i in expr.indices]
    key = f"{base}[{','.join(str(int(mpmath.nint(i))) for i in indices)}]"
    if key in w.values:
        return w.values[key]
    if any(i != mpmath.nint(i) for i in indices):
        raise Undefined("non-integer index")
    k = sum(int(mpmath.nint(i)) * 1000 ** n for n, i in enumerate(indices))
    salt = float(w.point.get("__salt__", 0.0))
    return mpmath.mpf(indexed_value(base, k, salt))


_MP_HANDLERS = {
    sp.Add: _m_add, sp.Mul: _m_mul, sp.Pow: _m_pow, sp.exp: _m_exp, sp.log: _m_log, sigma: _m_sigma,
    sp.sin: _m_trig(mpmath.sin), sp.cos: _m_trig(mpmath.cos), sp.tan: _m_trig(mpmath.tan),
    sp.sinh: _m_hyperbolic(mpmath.sinh), sp.cosh: _m_hyperbolic(mpmath.cosh), sp.tanh: mpmath.tanh and
    _m_unary(mpmath.tanh), sp.atan: _m_unary(mpmath.atan), sp.asinh: _m_unary(mpmath.asinh),
    sp.atanh: _m_unary(mpmath.atanh, lambda x: abs(x) < 1), sp.acosh: _m_unary(mpmath.acosh, lambda x: x >= 1),
    sp.asin: _m_unary(mpmath.asin, lambda x: abs(x) <= 1), sp.acos: _m_unary(mpmath.acos, lambda x: abs(x) <= 1),
    sp.erf: _m_unary(mpmath.erf), sp.erfc: _m_unary(mpmath.erfc),
    sp.sech: _m_reciprocal(mpmath.cosh), sp.csch: _m_reciprocal(mpmath.sinh), sp.coth: _m_reciprocal(mpmath.tanh),
    sp.sec: _m_reciprocal(mpmath.cos), sp.csc: _m_reciprocal(mpmath.sin), sp.cot: _m_reciprocal(mpmath.tan),
    sp.Abs: _m_abs, sp.Max: _m_max, sp.Min: _m_max, sp.floor: _m_floor, sp.ceiling: _m_floor,
    sp.sign: _m_sign, sp.Heaviside: _m_sign, sp.DiracDelta: _m_sign, sp.Mod: _m_mod,
    sp.Piecewise: _m_piecewise, sp.factorial: _m_factorial, sp.gamma: _m_gamma, sp.binomial: _m_binomial,
    sp.atan2: _m_atan2, sp.Subs: _m_subs, sp.Derivative: _m_derivative, sp.Sum: _m_sum, sp.Product: _m_sum,
    sp.Indexed: _m_indexed,
}


# ------------------------------------------------------------------------------------------------
# scalar convenience


def evaluate(expr, point: dict[str, float]) -> float | None:
    """expr at point (symbol name -> value) as a float; None where it is undefined, not real, or
    outside float range.  float64 where it can decide, mpmath where it cannot."""
    try:
        columns = {k: np.array([float(v)]) for k, v in point.items()}
        values, state = vector_eval(expr, columns, 1)
        if state[0] == OK:
            return float(values[0])
        if state[0] == UNDEFINED:
            return None
        value = float(mp_eval(expr, point, 30))
    except (Undefined, TooLarge, Unsupported, ZeroDivisionError, OverflowError, ValueError, TypeError):
        return None
    return value if math.isfinite(value) else None
