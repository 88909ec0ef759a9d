"""bptt against torch autograd on the same recursion, and against closed forms that
need no torch: identity RNN factors w^T, finite differences with mpmath."""

import math

import mpmath
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from examcheck.families import FamilyError, get

BPTT = get("bptt")
WEIGHTS = st.integers(-12, 12).map(lambda v: v / 8)


def num(v):
    return float(sp.N(v, 30))


def _mp_forward(w, u, b, h0, xs, act, loss, target):
    phi = {"tanh": mpmath.tanh, "identity": lambda a: a, "sigmoid": lambda a: 1 / (1 + mpmath.exp(-a)),
           "relu": lambda a: max(a, 0)}[act]
    h = h0
    for x in xs:
        h = phi(w * h + u * x + b)
    return h if loss == "h_T" else (h - target) ** 2 / 2


@settings(max_examples=60, deadline=None)
@given(w=WEIGHTS, u=WEIGHTS, b=WEIGHTS, h0=WEIGHTS, xs=st.lists(WEIGHTS, min_size=1, max_size=6),
       act=st.sampled_from(["tanh", "identity", "sigmoid"]), squared=st.booleans())
def test_gradients_by_mpmath_finite_differences(w, u, b, h0, xs, act, squared):
    mpmath.mp.dps = 40
    given_ = {"w": str(w), "u": str(u), "b": str(b), "h0": str(h0), "x": [str(x) for x in xs], "activation": act}
    if squared:
        given_.update(loss="squared", target="0.5")
    r = BPTT.compute(given_).results
    loss = "squared" if squared else "h_T"
    args = [mpmath.mpf(str(v)) for v in (w, u, b, h0)]
    xs_mp = [mpmath.mpf(str(x)) for x in xs]
    for i, name in enumerate(["dL_dw", "dL_du", "dL_db", "dL_dh0"]):
        def f(t, i=i):
            a = list(args)
            a[i] = t
            return _mp_forward(*a, xs_mp, act, loss, mpmath.mpf("0.5"))
        assert math.isclose(num(r[name]), float(mpmath.diff(f, args[i])), rel_tol=1e-9, abs_tol=1e-12), name
    if not squared:
        assert math.isclose(num(r["gradient_factor"]), num(r["dL_dh0"]), rel_tol=1e-12, abs_tol=1e-15)


@settings(max_examples=30, deadline=None)
@given(w=WEIGHTS, steps=st.integers(1, 30))
def test_identity_rnn_factor_is_w_to_the_T(w, steps):
    r = BPTT.compute({"w": str(w), "steps": steps, "activation": "identity", "h0": 1}).results
    exact = sp.Rational(str(w)) ** steps
    assert abs(r["gradient_factor"] - exact) <= abs(exact) * sp.Rational(1, 10 ** 25)
    assert r["factor_formula"] == sp.Symbol("w", real=True) ** steps
    expected = "vanishing" if abs(w) < 1 else "exploding" if abs(w) > 1 else "neither"
    assert r["regime"] == expected


def test_tanh_factor_formula_and_bound():
    r = BPTT.compute({"w": 2, "x": [1, -1], "activation": "tanh"}).results
    subs = {sp.Symbol(f"h_{t}", real=True): r[f"h.{t}"] for t in (1, 2)}
    assert math.isclose(num(r["factor_formula"].subs(subs).subs(sp.Symbol("w", real=True), 2)), num(r["gradient_factor"]))
    assert abs(num(r["gradient_factor"])) <= num(r["factor_bound"]) == 4


def test_truncation_variant_and_bad_given():
    g = {"w": "0.9", "x": [1, 2, 3]}
    (variant,) = BPTT.variants(g)
    assert variant.given["truncate"] == 1
    truncated = BPTT.compute(variant.given).results
    assert "dL_dh0" not in truncated and truncated["dL_dw"] != BPTT.compute(g).results["dL_dw"]
    for bad in ({"w": 1}, {"w": 1, "x": [1], "target": 1}, {"w": 1, "x": [1], "loss": "squared"},
                {"w": 1, "x": [1, 2], "steps": 3}):
        with pytest.raises(FamilyError):
            BPTT.compute(bad)


@settings(max_examples=40, deadline=None)
@given(w=WEIGHTS, u=WEIGHTS, b=WEIGHTS, h0=WEIGHTS, xs=st.lists(WEIGHTS, min_size=1, max_size=8),
       act=st.sampled_from(["tanh", "identity", "sigmoid", "relu"]), squared=st.booleans())
def test_against_torch_autograd(w, u, b, h0, xs, act, squared):
    torch = pytest.importorskip("torch")
    given_ = {"w": str(w), "u": str(u), "b": str(b), "h0": str(h0), "x": [str(x) for x in xs], "activation": act}
    if squared:
        given_.update(loss="squared", target="-0.25")
    r = BPTT.compute(given_).results
    params = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (w, u, b, h0)]
    tw, tu, tb, th0 = params
    phi = {"tanh": torch.tanh, "identity": lambda a: a, "sigmoid": torch.sigmoid, "relu": torch.relu}[act]
    h, states = th0, [th0]
    for x in xs:
        h = phi(tw * h + tu * x + tb)
        h.retain_grad()
        states.append(h)
    loss = (h + 0.25) ** 2 / 2 if squared else h
    loss.backward()
    for name, p in zip(["dL_dw", "dL_du", "dL_db", "dL_dh0"], params):
        assert math.isclose(num(r[name]), p.grad.item(), rel_tol=1e-9, abs_tol=1e-12), name
    for t, s in enumerate(states):
        assert math.isclose(num(r[f"h.{t}"]), s.item(), rel_tol=1e-12, abs_tol=1e-14)
        assert math.isclose(num(r[f"delta.{t}"]), (s.grad if t else th0.grad).item(), rel_tol=1e-9, abs_tol=1e-12)
