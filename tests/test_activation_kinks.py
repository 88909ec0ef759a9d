"""One-sided derivatives and limits at kinks, against high-precision one-sided difference quotients
(mpmath, 40 digits) of the same function evaluated independently of SymPy.  Hypothesis draws random
piecewise activations: max/min/abs/Heaviside/sign forms (through the activation family, as an instructor
writes them) and SymPy Piecewise forms (through the shared helper)."""

from fractions import Fraction

import mpmath
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from examcheck.families import get
from examcheck.families.helpers import one_sided

mpmath.mp.dps = 40
H = mpmath.mpf(10) ** -20
TOL = 1e-12

small = st.fractions(min_value=-3, max_value=3, max_denominator=4)
positive = st.fractions(min_value=Fraction(1, 4), max_value=3, max_denominator=4)


def mp(x: Fraction):
    return mpmath.mpf(x.numerator) / x.denominator


def txt(x: Fraction) -> str:
    return f"({x.numerator}/{x.denominator})"


@st.composite
def activation(draw):
    """(definition text in z, the same function for mpmath, the kink c)."""
    c = draw(small)
    t = f"(z - {txt(c)})"
    a1, a2, b, q = draw(small), draw(small), draw(small), draw(small)
    alpha = draw(positive)
    form = draw(st.sampled_from(["max", "min", "abs", "elu", "heaviside", "sign", "nested", "leaky"]))
    if form == "max":
        text, fn = f"max({txt(a1)}*{t} + {txt(b)}, {txt(a2)}*{t} + {txt(b)})", \
            lambda u: max(mp(a1) * u + mp(b), mp(a2) * u + mp(b))
    elif form == "min":
        text, fn = f"min({txt(a1)}*{t} + {txt(b)}, {txt(a2)}*{t} + {txt(b)})", \
            lambda u: min(mp(a1) * u + mp(b), mp(a2) * u + mp(b))
    elif form == "abs":
        text, fn = f"{txt(b)} + {txt(a1)}*abs{t} + {txt(q)}*{t}", lambda u: mp(b) + mp(a1) * abs(u) + mp(q) * u
    elif form == "elu":
        text, fn = f"max(0, {t}) + min(0, {txt(alpha)}*(exp{t} - 1))", \
            lambda u: max(0, u) + min(0, mp(alpha) * (mpmath.exp(u) - 1))
    elif form == "heaviside":
        text, fn = f"Heaviside{t}*{txt(a1)}*{t} + Heaviside(-{t})*{txt(a2)}*(exp{t} - 1)", \
            lambda u: (mp(a1) * u if u > 0 else mp(a2) * (mpmath.exp(u) - 1) if u < 0 else 0)
    elif form == "sign":
        text, fn = f"sign{t}*{txt(a1)}*{t} + {txt(q)}*tanh{t}", lambda u: mpmath.sign(u) * mp(a1) * u + mp(q) * mpmath.tanh(u)
    elif form == "nested":
        text, fn = f"max(0, min({txt(a1)}*{t}, {txt(alpha)}*{t}**2 + {txt(a2)}*{t}))", \
            lambda u: max(0, min(mp(a1) * u, mp(alpha) * u ** 2 + mp(a2) * u))
    else:
        text, fn = f"max({txt(alpha / 8)}*{t}, {t}) + {txt(b)}", lambda u: max(mp(alpha / 8) * u, u) + mp(b)
    smooth = draw(st.sampled_from(["", "sin", "square"]))
    if smooth == "sin":
        text, fn = f"{text} + {txt(q)}*sin(z)", (lambda g: lambda u: g(u) + mp(q) * mpmath.sin(u + mp(c)))(fn)
    elif smooth == "square":
        text, fn = f"{text} + {txt(b)}*z**2", (lambda g: lambda u: g(u) + mp(b) * (u + mp(c)) ** 2)(fn)
    return text, fn, c


def close(value, expected, tol=TOL) -> bool:
    return abs(float(sp.N(value, 30)) - float(expected)) <= tol * max(1.0, abs(float(expected)))


@settings(max_examples=30, deadline=None)
@given(activation())
def test_one_sided_derivatives_match_difference_quotients(case):
    text, fn, c = case
    results = get("activation").compute({"definition": text, "at": f"{c.numerator}/{c.denominator}"}).results
    at = fn(mpmath.mpf(0))
    left = (at - fn(-H)) / H
    right = (fn(H) - at) / H
    assert close(results["value_at"], at), (text, results["value_at"], at)
    assert close(results["left_derivative"], left), (text, results["left_derivative"], left)
    assert close(results["right_derivative"], right), (text, results["right_derivative"], right)
    assert close(results["left_limit"], fn(-H), 1e-9) and close(results["right_limit"], fn(H), 1e-9)
    assert results["continuous_at"] is True
    differentiable = abs(left - right) < TOL
    assert results["differentiable_at"] is differentiable, (text, left, right)
    assert ("derivative_at" in results) is differentiable
    if "second_derivative_at" in results:
        h2 = mpmath.mpf(10) ** -12
        for side in (1, -1):
            second = (fn(2 * side * h2) - 2 * fn(side * h2) + at) / h2 ** 2
            assert close(results["second_derivative_at"], second, 1e-6), (text, side, second)


z = sp.Symbol("z", real=True)


@st.composite
def piecewise(draw):
    """A SymPy Piecewise with 2-3 pieces meeting continuously, as (expression, mpmath function, kink)."""
    c = draw(small)
    slopes = [draw(small) for _ in range(3)]
    curve = draw(st.sampled_from(["linear", "exp", "cube"]))
    b = draw(small)
    t = z - sp.Rational(c.numerator, c.denominator)

    def piece(k, u):
        s = slopes[k]
        return {"linear": s * u, "exp": s * (sp.exp(u) - 1) if isinstance(u, sp.Expr) else mp(s) * (mpmath.exp(u) - 1),
                "cube": s * u ** 3 + s * u}[curve] if isinstance(u, sp.Expr) else \
            {"linear": mp(s) * u, "exp": mp(s) * (mpmath.exp(u) - 1), "cube": mp(s) * u ** 3 + mp(s) * u}[curve]

    order = draw(st.sampled_from(["lt-first", "ge-first", "three"]))
    sb = sp.Rational(b.numerator, b.denominator)
    if order == "lt-first":
        expr = sp.Piecewise((piece(0, t) + sb, t < 0), (piece(1, t) + sb, True))
    elif order == "ge-first":
        expr = sp.Piecewise((piece(1, t) + sb, t >= 0), (piece(0, t) + sb, True))
    else:  # a third piece far away, and a condition written in z
        far = sp.Rational(c.numerator, c.denominator) + 5
        expr = sp.Piecewise((piece(2, t) + sb, z > far), (piece(1, t) + sb, z >= sp.Rational(c.numerator, c.denominator)),
                            (piece(0, t) + sb, True))

    def fn(u):
        return (piece(0, u) if u < 0 else piece(1, u)) + mp(b)

    return expr, fn, c


@settings(max_examples=40, deadline=None)
@given(piecewise())
def test_piecewise_one_sided_derivatives_match_difference_quotients(case):
    expr, fn, c = case
    point = sp.Rational(c.numerator, c.denominator)
    at = fn(mpmath.mpf(0))
    for side in (-1, 1):
        limit, derivative = one_sided(expr, z, point, side)
        quotient = (at - fn(-H)) / H if side < 0 else (fn(H) - at) / H
        assert close(derivative, quotient), (expr, side, derivative, quotient)
        assert close(limit, at, 1e-9)


def test_elu_with_a_symbolic_alpha_has_left_derivative_alpha():
    results = get("activation").compute({"definition": "max(0, x) + min(0, alpha*(exp(x) - 1))", "variable": "x",
                                         "parameters": {"alpha": "positive"}, "at": 0}).results
    alpha = sp.Symbol("alpha", positive=True)
    assert results["left_derivative"] == alpha and results["right_derivative"] == 1
    assert results["differentiable_at"] is False and "derivative_at" not in results


def test_a_jump_has_infinite_one_sided_derivative_on_the_jumping_side():
    results = get("activation").compute({"definition": "max(0, sign(z)) + z", "at": 0}).results
    assert results["value_at"] == 0 and results["left_limit"] == 0 and results["right_limit"] == 1
    assert results["continuous_at"] is False and results["differentiable_at"] is False
    assert results["left_derivative"] == 1 and results["right_derivative"] == sp.oo
    # Heaviside(0) = 1/2 (SymPy's convention): a jump on both sides of the point
    results = get("activation").compute({"definition": "Heaviside(z) + z", "at": 0}).results
    assert results["left_derivative"] == sp.oo and results["right_derivative"] == sp.oo


@pytest.mark.parametrize("function, at, left, right", [("relu", 0, 0, 1), ("relu", 2, 1, 1), ("relu", -1, 0, 0)])
def test_standard_relu(function, at, left, right):
    results = get("activation").compute({"function": function, "at": at}).results
    assert (results["left_derivative"], results["right_derivative"]) == (left, right)
