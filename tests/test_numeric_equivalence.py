"""The numeric layer tells close from equal, by category, on generated expressions.

Oracles are independent of examcheck.numeval: SymPy's own evalf at 40 digits decides whether a perturbed
tree really differs somewhere (and SymPy's rewrites make the equivalent forms)."""

import math

import mpmath
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from examcheck.answertests import Options
from examcheck.answertests.expressions import compare_expressions
from examcheck.domains import parse_domain
from examcheck.mathfuncs import sigma
from examcheck.numeval import UNDEFINED, UNSURE, evaluate, mp_eval, vector_eval
from examcheck.parsing import Vocabulary

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

x = sp.Symbol("x", real=True)
y = sp.Symbol("y", positive=True)
n = sp.Symbol("n", integer=True, positive=True)


def options(**domains) -> Options:
    parsed = {k: parse_domain(v) for k, v in domains.items()}
    return Options(vocab=Vocabulary({k: d.symbol(k) for k, d in parsed.items()}), domains=parsed)


XY = options(x="real", y="positive")


def judge(s, r, opts=XY):
    return compare_expressions(s, r, opts)


# ----------------------------------------------------------------------------------------- generators

leaves = st.sampled_from([x, y, sp.Integer(2), sp.Integer(3), sp.Rational(1, 2), sp.Integer(-1), x, y])


def _unary(e):
    return st.sampled_from([
        sp.exp(e / 4), sp.log(1 + e ** 2), sp.sin(e), sp.cos(e), sp.tanh(e), sigma(e), sp.atan(e), sp.Abs(e),
        sp.erf(e), sp.sqrt(1 + e ** 2), sp.asinh(e),
    ])


def _binary(pair):
    a, b = pair
    return st.sampled_from([a + b, a * b, a - b, a / (1 + b ** 2), sp.Max(a, b), sp.Min(a, b)])


trees = st.recursive(leaves, lambda inner: st.one_of(inner.flatmap(_unary), st.tuples(inner, inner).flatmap(_binary)),
                     max_leaves=6)


def exp_depth(expr) -> int:
    """How deeply exp is nested: SymPy's evalf (the oracle) needs ~e^(e^x) digits for exp(exp(exp(x)))."""
    if not expr.args:
        return 0
    inner = max(exp_depth(a) for a in expr.args)
    return inner + (expr.func in (sp.exp, sp.sinh, sp.cosh, sigma, sp.tanh))


def oracle_values(expr, points):
    out = []
    for px, py in points:
        try:
            v = expr.evalf(40, subs={x: sp.Rational(px), y: sp.Rational(py)})
            out.append(complex(v) if v.is_number and v.is_finite else None)
        except (ValueError, TypeError):  # SymPy cannot compare an argument of Max/Min here
            out.append(None)
    return out


ORACLE_POINTS = [(a, b) for a in ("-37.5", "-3.2", "-0.7", "0.3", "1.9", "6.1", "45.3", "610.2")
                 for b in ("0.25", "1.7", "23.4")]


def really_differs(s, r) -> bool:
    """SymPy at 40 digits sees a relative difference above 1e-12 at two or more grid points."""
    seen = 0
    for a, b in zip(oracle_values(s, ORACLE_POINTS), oracle_values(r, ORACLE_POINTS)):
        if a is None or b is None or a.imag or b.imag:
            continue
        if abs(a - b) > 1e-12 * max(abs(a), abs(b)):
            seen += 1
    return seen >= 2


def perturbations(r):
    """Small but real changes: an added 1e-9, a changed constant, a dropped or sign-swapped term, a cap
    beyond the unit window."""
    out = [r + sp.Rational(1, 10 ** 9), r * (1 + sp.Rational(1, 10 ** 6)), sp.Min(r, 20), sp.Max(r, -15)]
    numbers = [a for a in sp.preorder_traversal(r) if a.is_Rational and a not in (0, 1, -1)]
    if numbers:
        out.append(r.xreplace({numbers[0]: numbers[0] + 1}))
    if isinstance(r, sp.Add):
        out.append(sp.Add(*r.args[1:]))
        out.append(sp.Add(-r.args[0], *r.args[1:]))
    return out


# ----------------------------------------------------------------------------------------- properties


@SETTINGS
@given(trees, st.data())
def test_perturbed_trees_are_judged_different(r, data):
    assume(exp_depth(r) <= 2)
    s = data.draw(st.sampled_from(perturbations(r)))
    assume(s != r and really_differs(s, r))
    verdict = judge(s, r)
    assert verdict.status == "incorrect", (r, s, verdict)


@SETTINGS
@given(trees)
def test_equivalent_rewrites_are_judged_equal(r):
    try:  # SymPy itself cannot rewrite some trees (Max of a complex-looking exp form is "not comparable")
        in_exp = sp.expand(r.rewrite(sp.exp))
    except (ValueError, TypeError):
        in_exp = r
    forms = [sp.expand(r), in_exp, r.replace(sigma, lambda a: 1 / (1 + sp.exp(-a)))]
    for s in forms:
        if s == r:
            continue
        assume(not s.has(sp.I, sp.zoo, sp.nan))
        verdict = judge(s, r)
        assert verdict.status in ("correct", "undecided"), (r, s, verdict)
        assert verdict.status == "correct" or "too few" in verdict.feedback


@SETTINGS
@given(trees, trees)
def test_never_crashes(a, b):
    verdict = judge(a, b)
    assert verdict.status in ("correct", "incorrect", "undecided")


# ----------------------------------------------------------------------------------------- categories


@settings(max_examples=25, deadline=None)
@given(st.integers(100, 3000))
def test_overflow_is_recomputed_not_undefined(k):
    a, b = sp.Symbol("a", real=True), sp.Symbol("b", real=True)
    opts = options(a="real", b="real")
    softmax = sp.exp(k * a) / (sp.exp(k * a) + sp.exp(k * b))
    assert judge(sigma(k * (a - b)), softmax, opts).correct
    assert not judge(sigma(k * (a + b)), softmax, opts).correct


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 9))
def test_floor_and_ceiling_at_integer_boundaries(d):
    m = sp.Symbol("m", integer=True, positive=True)
    opts = options(m="positive integer")
    assert judge(sp.floor((m + d - 1) / sp.Integer(d)), sp.ceiling(m / sp.Integer(d)), opts).correct
    assert not judge(sp.floor(m / sp.Integer(d)), sp.ceiling(m / sp.Integer(d)), opts).correct
    # a float64 rounding of 0.1*30 must not move a floor: exact rational points decide it
    assert judge(sp.floor(sp.Rational(1, 10) * m * d), sp.floor(m * d / sp.Integer(10)), opts).correct


@settings(max_examples=25, deadline=None)
@given(st.floats(1e-15, 1e-6), st.sampled_from(["add", "mul"]))
def test_tiny_real_differences_are_differences(eps, how):
    eps = sp.Rational(eps)
    r = x ** 2 * sp.exp(-x ** 2) + sigma(x)
    s = r + eps if how == "add" else r * (1 + eps)
    verdict = judge(s, r, options(x="real"))
    assert verdict.status == "incorrect" and "at x =" in verdict.feedback, verdict


def test_no_zero_level_for_saturated_slopes():
    slope = sigma(x) * (1 - sigma(x))
    for tiny in (sp.Integer(0), sp.exp(-x ** 2 - 40), slope * (1 + sp.Rational(1, 10 ** 8))):
        assert not judge(tiny, slope, options(x="real")).correct, tiny


@settings(max_examples=20, deadline=None)
@given(st.integers(5, 5000))
def test_caps_beyond_the_unit_window(cap):
    opts = options(x="real")
    relu = sp.Max(0, x)
    assert not judge(sp.Min(relu, cap), relu, opts).correct
    assert judge(sp.Min(sp.Max(x, 0), cap), sp.Max(0, sp.Min(x, cap)), opts).correct
    t = sp.Symbol("t", integer=True, positive=True)
    warm = options(t="positive integer")
    assert not judge(t / sp.Integer(cap), sp.Min(1, t / sp.Integer(cap)), warm).correct


def test_domain_differences_both_ways():
    opts = options(x="real")
    exp_log = sp.exp(sp.log(x, evaluate=False), evaluate=False)
    verdict = judge(exp_log, x, opts)
    assert verdict.note == "domain_mismatch" and "undefined" in verdict.feedback
    assert judge(exp_log, x, options(x="positive")).correct
    assert judge(x, exp_log, opts).note == "domain_mismatch"


def test_conventions_at_a_jump_but_not_where_the_reference_is_continuous():
    opts = options(x="real")
    step = sp.Piecewise((1, x > 0), (0, True))
    assert judge(step, sp.Heaviside(x), opts).correct
    assert judge(sp.Piecewise((1, x >= 0), (0, True)), sp.Heaviside(x), opts).correct
    relu_wrong_at_0 = sp.Piecewise((x, x > 0), (1, sp.Eq(x, 0)), (0, True))
    assert not judge(relu_wrong_at_0, sp.Max(0, x), opts).correct
    assert judge(sp.Piecewise((x, x > 0), (0, True)), sp.Max(0, x), opts).correct


def test_the_note_says_how_equality_was_reached():
    verdict = judge(sp.Abs(x) + x, 2 * sp.Max(0, x), options(x="real"))
    assert verdict.correct and "agrees at" in verdict.note and "breakpoints" in verdict.note


# ----------------------------------------------------------------------------------------- evaluator heads

HEADS = [sp.exp, sp.log, sp.sin, sp.cos, sp.tan, sp.sinh, sp.cosh, sp.tanh, sp.asinh, sp.acosh, sp.atanh, sp.atan,
         sp.asin, sp.acos, sp.erf, sp.erfc, sp.Abs, sp.sign, sp.floor, sp.ceiling, sp.Heaviside, sp.sech, sigma,
         sp.sqrt, sp.factorial, sp.gamma]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(HEADS), st.floats(-40, 40, allow_nan=False).filter(lambda v: abs(v) > 1e-12))
def test_every_head_matches_sympy(head, value):
    expr = head(x)
    exact = expr.subs(x, sp.Rational(value)).evalf(40)
    truth = complex(exact) if exact.is_number and exact.is_finite else None
    if truth is not None and (truth.imag != 0 or exact.has(sp.zoo)):
        truth = None
    got = evaluate(expr, {"x": value})
    if truth is None:
        assert got is None, (head, value, got)
    elif math.isfinite(truth.real) and abs(truth.real) < 1e300:
        assert got is not None and abs(got - truth.real) <= 1e-12 * max(1.0, abs(truth.real)), (head, value, got, truth)
    with mpmath.workdps(40):
        try:
            high = mp_eval(expr, {"x": value}, 40)
        except Exception:  # noqa: BLE001 - Undefined, TooLarge: compared below
            high = None
    if truth is not None:
        assert high is not None and abs(complex(high) - truth) <= 1e-30 * max(1.0, abs(truth)), (head, value, high)


def test_vector_states():
    import numpy as np

    cols = {"x": np.array([-2.0, 0.0, 800.0, 1e-320, 3.0])}
    _, state = vector_eval(sp.log(x), cols)
    assert state[0] == UNDEFINED and state[1] in (UNDEFINED, UNSURE)
    _, state = vector_eval(sp.exp(x) / (1 + sp.exp(x)), cols)
    assert state[2] == UNSURE  # overflow is recomputed, never "undefined"
    _, state = vector_eval(sp.floor(x / 3), cols)
    assert state[4] == UNSURE  # exactly at an integer: decided exactly


@pytest.mark.parametrize("expr", [sp.Sum(sp.Indexed(sp.IndexedBase("w"), sp.Symbol("j", integer=True) + 1),
                                         (sp.Symbol("j", integer=True), 1, n))])
def test_sums_with_a_symbolic_limit(expr):
    j = sp.Symbol("j", integer=True)
    shifted = sp.Sum(sp.Indexed(sp.IndexedBase("w"), j), (j, 2, n + 1))
    opts = options(n="positive integer")
    assert judge(shifted, expr, opts).correct
    assert not judge(sp.Sum(sp.Indexed(sp.IndexedBase("w"), j), (j, 1, n)), expr, opts).correct


def test_infinite_branches_are_undefined_not_a_crash():
    indicator = sp.Piecewise((1, y < 4), (0, True))
    reciprocal = sp.Piecewise((1, y < 4), (sp.zoo, True))  # what SymPy makes of 1/indicator
    for s, r in ((-reciprocal, reciprocal), (reciprocal, indicator), (sp.zoo * x, x), (sp.nan + x, x)):
        verdict = judge(s, r)
        assert verdict.status in ("correct", "incorrect", "undecided")
    assert not judge(-reciprocal, reciprocal).correct
