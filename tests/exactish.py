"""An independent oracle for parser tests: evaluate a SymPy expression at a rational point,
exactly (fractions.Fraction) while only rationals are involved and with mpmath at high precision
once a transcendental function appears.  Written for the tests, not shared with examcheck's
evaluator (examcheck/numeval.py), so the two cannot share a blind spot.

``value(expr, point)`` returns a Fraction, an mpf, or raises Undefined."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef

from examcheck.mathfuncs import sigma

DPS = 100


class Undefined(Exception):
    pass


def _mp(v):
    return mpmath.mpf(v.numerator) / v.denominator if isinstance(v, Fraction) else v


def _real(v):
    if isinstance(v, mpmath.mpc):
        if abs(v.imag) > mpmath.mpf(10) ** (-DPS // 2) * (1 + abs(v.real)):
            raise Undefined("complex")
        return v.real
    if not isinstance(v, Fraction) and not mpmath.isfinite(v):
        raise Undefined("not finite")
    return v


def _cmp_value(v):
    return _mp(v)


def add(a, b):
    return a + b if isinstance(a, Fraction) and isinstance(b, Fraction) else _mp(a) + _mp(b)


def mul(a, b):
    return a * b if isinstance(a, Fraction) and isinstance(b, Fraction) else _mp(a) * _mp(b)


def power(a, b):
    if isinstance(b, Fraction) and b.denominator == 1:
        n = b.numerator
        if a == 0 and n < 0:
            raise Undefined("0^negative")
        if isinstance(a, Fraction) and abs(n) <= 64:
            return a ** n
        return _mp(a) ** n
    if a < 0:
        raise Undefined("negative base")
    if a == 0:
        if b > 0:
            return Fraction(0)
        raise Undefined("0^non-positive")
    return mpmath.power(_mp(a), _mp(b))


def _floor(v):
    if isinstance(v, Fraction):
        return Fraction(v.numerator // v.denominator)
    return Fraction(int(mpmath.floor(v)))


def _ceil(v):
    return -_floor(-v)


def _sign(v):
    return Fraction((v > 0) - (v < 0))


def _log(v):
    if v <= 0:
        raise Undefined("log")
    return mpmath.log(_mp(v))


def _sqrt(v):
    if v < 0:
        raise Undefined("sqrt")
    if isinstance(v, Fraction):
        from math import isqrt

        p, q = v.numerator, v.denominator
        if isqrt(p) ** 2 == p and isqrt(q) ** 2 == q:
            return Fraction(isqrt(p), isqrt(q))
    return mpmath.sqrt(_mp(v))


def _atanh(v):
    if not -1 < v < 1:
        raise Undefined("atanh")
    return mpmath.atanh(_mp(v))


def _heaviside(v):
    return Fraction(1) if v > 0 else Fraction(0) if v < 0 else Fraction(1, 2)


UNARY = {
    sp.exp: lambda v: mpmath.exp(_mp(v)) if v != 0 else Fraction(1),
    sp.log: _log, sp.sin: lambda v: mpmath.sin(_mp(v)) if v != 0 else Fraction(0),
    sp.cos: lambda v: mpmath.cos(_mp(v)) if v != 0 else Fraction(1), sp.tan: lambda v: mpmath.tan(_mp(v)),
    sp.tanh: lambda v: mpmath.tanh(_mp(v)) if v != 0 else Fraction(0), sp.sinh: lambda v: mpmath.sinh(_mp(v)),
    sp.cosh: lambda v: mpmath.cosh(_mp(v)), sp.asinh: lambda v: mpmath.asinh(_mp(v)), sp.atanh: _atanh,
    sp.atan: lambda v: mpmath.atan(_mp(v)), sp.erf: lambda v: mpmath.erf(_mp(v)) if v != 0 else Fraction(0),
    sp.erfc: lambda v: mpmath.erfc(_mp(v)), sp.Abs: abs, sp.floor: _floor, sp.ceiling: _ceil, sp.sign: _sign,
    sp.Heaviside: _heaviside, sp.sech: lambda v: mpmath.sech(_mp(v)),
    sigma: lambda v: 1 / (1 + mpmath.exp(-_mp(v))) if v != 0 else Fraction(1, 2),
}


def value(expr, point: dict):
    with mpmath.workdps(DPS):
        return _real(_value(expr, point))


def _value(expr, point):
    if isinstance(expr, sp.Symbol):
        if expr.name not in point:
            raise Undefined(f"no value for {expr.name}")
        return point[expr.name]
    if expr.is_Rational:
        return Fraction(int(expr.p), int(expr.q))
    if expr is sp.pi:
        return +mpmath.pi
    if expr is sp.E:
        return mpmath.e + 0
    if expr.is_Float:
        return mpmath.mpf(str(expr))
    func = expr.func
    if func is sp.Add:
        total = Fraction(0)
        for a in expr.args:
            total = add(total, _real(_value(a, point)))
        return total
    if func is sp.Mul:
        total = Fraction(1)
        for a in expr.args:
            total = mul(total, _real(_value(a, point)))
        return total
    if func is sp.Pow:
        base = _real(_value(expr.args[0], point))
        return _real(power(base, _real(_value(expr.args[1], point))))
    if func is sp.log and len(expr.args) == 2:
        return mpmath.log(_mp(_value(expr.args[0], point))) / mpmath.log(_mp(_value(expr.args[1], point)))
    if func in UNARY:
        return _real(UNARY[func](_real(_value(expr.args[0], point))))
    if func is sp.Max:
        return max((_real(_value(a, point)) for a in expr.args), key=_cmp_value)
    if func is sp.Min:
        return min((_real(_value(a, point)) for a in expr.args), key=_cmp_value)
    if func is sp.Piecewise:
        for piece, condition in expr.args:
            if truth(condition, point):
                return _value(piece, point)
        raise Undefined("no piece")
    if isinstance(expr, AppliedUndef):
        raise Undefined("unknown function")
    raise Undefined(f"no oracle for {func}")


def truth(condition, point) -> bool:
    if condition is sp.true:
        return True
    if condition is sp.false:
        return False
    if isinstance(condition, sp.And):
        return all(truth(c, point) for c in condition.args)
    if isinstance(condition, sp.Or):
        return any(truth(c, point) for c in condition.args)
    if isinstance(condition, sp.Not):
        return not truth(condition.args[0], point)
    lhs, rhs = _value(condition.lhs, point), _value(condition.rhs, point)
    if not (isinstance(lhs, Fraction) and isinstance(rhs, Fraction)):
        lhs, rhs = _mp(lhs), _mp(rhs)
    return {"<": lhs < rhs, "<=": lhs <= rhs, ">": lhs > rhs, ">=": lhs >= rhs, "==": lhs == rhs,
            "!=": lhs != rhs}[condition.rel_op]


def outcome(expr, point):
    """The value, or the string 'undefined'."""
    try:
        return value(expr, point)
    except (Undefined, ZeroDivisionError, OverflowError, ValueError):
        return "undefined"


def same(a, b, rel: float = 1e-40) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return a == b
    with mpmath.workdps(DPS):
        a, b = _mp(a), _mp(b)
        return abs(a - b) <= rel * max(abs(a), abs(b), mpmath.mpf(1))
