"""Evaluate a SymPy expression at a point with plain floats, by walking the
tree.  No code is generated: this replaces lambdify for untrusted answers.
Returns None where the expression is undefined (log of a negative, 1/0, ...)."""

from __future__ import annotations

import math
import random
import zlib

import sympy as sp
from sympy.core.function import AppliedUndef

from examcheck.mathfuncs import sigma


def _sigma(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _log(x: float, base: float | None = None) -> float | None:
    if x <= 0 or (base is not None and (base <= 0 or base == 1)):
        return None
    return math.log(x) if base is None else math.log(x) / math.log(base)


def _sech(x: float) -> float:
    return 1.0 / math.cosh(x) if abs(x) < 700 else 0.0


def _heaviside(x: float, h0: float = 0.5) -> float:
    return 1.0 if x > 0 else 0.0 if x < 0 else h0


UNARY = {
    sp.exp: math.exp, sp.tanh: math.tanh, sp.sinh: math.sinh, sp.cosh: math.cosh,
    sp.sin: math.sin, sp.cos: math.cos, sp.tan: math.tan, sp.sech: _sech, sigma: _sigma,
    sp.Abs: abs, sp.floor: math.floor, sp.ceiling: math.ceil,
    sp.sign: lambda x: float((x > 0) - (x < 0)), sp.atanh: lambda x: math.atanh(x) if abs(x) < 1 else None,
    sp.asinh: math.asinh, sp.atan: math.atan, sp.DiracDelta: lambda x: 0.0 if x != 0 else None,
}


class Undefined(Exception):
    pass


class SmoothFunction:
    """A fixed, smooth stand-in for a function the problem leaves unknown (an activation h):
    a short random sum of sines seeded by its name, with exact derivatives.  Two answers that
    agree for it at random points agree for every reasonable h."""

    def __init__(self, name: str):
        rng = random.Random(zlib.crc32(name.encode()))
        self.terms = [(rng.uniform(0.5, 1.5), rng.uniform(0.3, 1.7), rng.uniform(0, math.tau)) for _ in range(3)]
        self.slope = rng.uniform(0.2, 1.0)

    def __call__(self, x: float, order: int = 0) -> float:
        value = sum(a * b ** order * math.sin(b * x + c + order * math.pi / 2) for a, b, c in self.terms)
        return value + (self.slope * x if order == 0 else self.slope if order == 1 else 0.0)


_SMOOTH: dict[str, SmoothFunction] = {}


def smooth(name: str) -> SmoothFunction:
    if name not in _SMOOTH:
        _SMOOTH[name] = SmoothFunction(name)
    return _SMOOTH[name]


def evaluate(expr, point: dict[str, float]) -> float | None:
    """expr at point (symbol name -> value); None where it is undefined or not real."""
    try:
        value = _eval(expr, point)
    except (Undefined, ZeroDivisionError, OverflowError, ValueError, TypeError):
        return None
    if value is None or isinstance(value, complex) or math.isnan(value) or math.isinf(value):
        return None
    return float(value)


def _eval(expr, point):
    if expr.is_Symbol:
        if expr.name not in point:
            raise Undefined(expr.name)
        return point[expr.name]
    if expr.is_Number or expr.is_NumberSymbol:
        return float(expr)
    func = expr.func
    if func is sp.Add:
        return math.fsum(_eval(a, point) for a in expr.args)
    if func is sp.Mul:
        out = 1.0
        for a in expr.args:
            out *= _eval(a, point)
        return out
    if func is sp.Pow:
        return _pow(_eval(expr.args[0], point), expr.args[1], point)
    if func is sp.log:
        args = [_eval(a, point) for a in expr.args]
        value = _log(*args)
        if value is None:
            raise Undefined("log")
        return value
    if isinstance(expr, AppliedUndef):
        if len(expr.args) != 1:
            raise Undefined("functions of several variables")
        return smooth(func.__name__)(_eval(expr.args[0], point))
    if func in UNARY:
        value = UNARY[func](_eval(expr.args[0], point))
        if value is None:
            raise Undefined(str(func))
        return value
    if func is sp.Max:
        return max(_eval(a, point) for a in expr.args)
    if func is sp.Min:
        return min(_eval(a, point) for a in expr.args)
    if func is sp.Heaviside:
        return _heaviside(*(_eval(a, point) for a in expr.args))
    if func is sp.Derivative:
        return _derivative(expr, point)
    if func is sp.Subs:
        inner = dict(point)
        for variable, value in zip(expr.variables, expr.point):
            inner[variable.name] = _eval(value, point)
        return _eval(expr.expr, inner)
    if func is sp.Piecewise:
        for value, condition in expr.args:
            if _truth(condition, point):
                return _eval(value, point)
        raise Undefined("piecewise")
    return _fallback(expr, point)


def _derivative(expr, point) -> float:
    inner = expr.expr
    if not isinstance(inner, AppliedUndef) or len(inner.args) != 1 or len(expr.variable_count) != 1:
        raise Undefined("derivative")
    variable, order = expr.variable_count[0]
    if inner.args[0] != variable:
        raise Undefined("derivative")
    return smooth(inner.func.__name__)(_eval(variable, point), int(order))


def _pow(base: float, exponent_expr, point) -> float:
    exponent = _eval(exponent_expr, point)
    if base == 0 and exponent < 0:
        raise Undefined("0^negative")
    if base < 0 and not float(exponent).is_integer():
        raise Undefined("negative base")
    if base < 0:
        return base ** int(exponent)
    return base ** exponent


def _truth(condition, point) -> bool:
    if condition is sp.true or condition == True:  # noqa: E712 - SymPy's true
        return True
    if condition is sp.false:
        return False
    if isinstance(condition, sp.And):
        return all(_truth(c, point) for c in condition.args)
    if isinstance(condition, sp.Or):
        return any(_truth(c, point) for c in condition.args)
    if isinstance(condition, sp.core.relational.Relational):
        lhs, rhs = _eval(condition.lhs, point), _eval(condition.rhs, point)
        ops = {"<": lhs < rhs, "<=": lhs <= rhs, ">": lhs > rhs, ">=": lhs >= rhs,
               "==": lhs == rhs, "!=": lhs != rhs}
        return ops[condition.rel_op]
    raise Undefined("condition")


def _fallback(expr, point):
    """Nodes the walker does not know (only from trusted references)."""
    subs = {s: point[s.name] for s in expr.free_symbols if s.name in point}
    value = expr.evalf(30, subs=subs)
    if not value.is_number:
        raise Undefined("not numeric")
    real, imag = value.as_real_imag()
    if abs(float(imag)) > 1e-12 * max(1.0, abs(float(real))):
        raise Undefined("complex")
    return float(real)
