"""The activation catalogue against torch autograd at many points, and against
mpmath one-sided difference quotients of formulas written here independently
(so the kink results are checked without torch too)."""

import math

import mpmath
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from examcheck.families import FamilyError, get

FAMILY = get("activation_catalogue")
mpmath.mp.dps = 40

L, A = mpmath.mpf("1.0507009873554804934193349852946"), mpmath.mpf("1.6732632423543772848170429916717")


def _soft(x, b=1):
    return mpmath.log(1 + mpmath.exp(b * x)) / b


# Independent definitions, one per activation (mpmath, high precision).
MP = {
    "relu": lambda x, p: max(x, 0),
    "leaky_relu": lambda x, p: x if x >= 0 else p.get("negative_slope", mpmath.mpf("0.01")) * x,
    "relu6": lambda x, p: min(max(x, 0), 6),
    "elu": lambda x, p: x if x > 0 else p.get("alpha", 1) * (mpmath.exp(x) - 1),
    "selu": lambda x, p: L * (x if x > 0 else A * (mpmath.exp(x) - 1)),
    "gelu": lambda x, p: x * (1 + mpmath.erf(x / mpmath.sqrt(2))) / 2,
    "gelu_tanh": lambda x, p: x / 2 * (1 + mpmath.tanh(mpmath.sqrt(2 / mpmath.pi) * (x + mpmath.mpf("0.044715") * x ** 3))),
    "softsign": lambda x, p: x / (1 + abs(x)),
    "hard_sigmoid": lambda x, p: min(max(p.get("slope", mpmath.mpf(1) / 6) * x + mpmath.mpf(1) / 2, 0), 1),
    "hard_tanh": lambda x, p: min(max(x, -1), 1),
    "hardswish": lambda x, p: x * min(max(x / 6 + mpmath.mpf(1) / 2, 0), 1),
    "mish": lambda x, p: x * mpmath.tanh(_soft(x)),
    "silu": lambda x, p: x / (1 + mpmath.exp(-x)),
    "softplus": lambda x, p: _soft(x, p.get("beta", 1)),
    "sigmoid": lambda x, p: 1 / (1 + mpmath.exp(-x)),
    "tanh": lambda x, p: mpmath.tanh(x),
}
KINKS = {"relu": [0], "leaky_relu": [0], "relu6": [0, 6], "elu": [0], "selu": [0], "softsign": [0],
         "hard_sigmoid": [-2.5, 2.5],  # slope 0.2 (PARAMS)
         "hard_tanh": [-1, 1], "hardswish": [-3, 3]}
PARAMS = {"leaky_relu": {"negative_slope": "0.2"}, "elu": {"alpha": "1.5"}, "hard_sigmoid": {"slope": "0.2"},
          "softplus": {"beta": 2}}


def num(value) -> float:
    return float(sp.N(value, 30))


def one_sided(name, x, direction, params):
    f = MP[name]
    h = mpmath.mpf(10) ** -15
    return float((f(x + h, params) - f(x, params)) / h if direction > 0 else (f(x, params) - f(x - h, params)) / h)


def mp_params(name):
    return {k: mpmath.mpf(sp.Rational(str(v)).p) / sp.Rational(str(v)).q for k, v in PARAMS.get(name, {}).items()}


def test_catalogue_is_covered_here():
    assert set(MP) == set(FAMILY.given_schema["properties"]["function"]["enum"])


@pytest.mark.parametrize("name", sorted(MP))
def test_kinks_and_smooth_points_against_mpmath(name):
    params = mp_params(name)
    points = KINKS.get(name, []) + [-2.5, -0.75, 0, 0.4, 1.25, 4, 7]
    for a in points:
        r = FAMILY.compute({"function": name, "at": str(a), **PARAMS.get(name, {})}).results
        x = mpmath.mpf(str(a))
        assert math.isclose(num(r["value_at"]), float(MP[name](x, params)), rel_tol=1e-12, abs_tol=1e-14)
        left, right = one_sided(name, x, -1, params), one_sided(name, x, 1, params)
        assert math.isclose(num(r["left_derivative"]), left, rel_tol=1e-9, abs_tol=1e-12), (name, a, "left")
        assert math.isclose(num(r["right_derivative"]), right, rel_tol=1e-9, abs_tol=1e-12), (name, a, "right")
        assert r["differentiable_at"] is math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-12)


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(sorted(MP)), x=st.integers(-80, 80).map(lambda v: v / 10))
def test_derivative_expression_matches_difference_quotients(name, x):
    if x in KINKS.get(name, []):
        return
    r = FAMILY.compute({"function": name, **PARAMS.get(name, {})}).results
    z = sp.Symbol("z", real=True)
    value = num(r["derivative"].subs(z, sp.Rational(str(x))))
    expected = float(mpmath.diff(lambda t: MP[name](t, mp_params(name)), mpmath.mpf(str(x))))
    assert math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "softplus"])
def test_derivative_in_f(name):
    solution = FAMILY.compute({"function": name, **PARAMS.get(name, {})})
    r = solution.results
    z, f = sp.Symbol("z", real=True), sp.Symbol("f", real=True)
    for x in (-2, -0.5, 0.3, 1.7):
        through_f = r["derivative_in_f"].subs(f, solution.definitions["f"]).subs(z, sp.Rational(str(x)))
        assert math.isclose(num(through_f), num(r["derivative"].subs(z, sp.Rational(str(x)))), rel_tol=1e-12)
    assert r["derivative_in_f"].free_symbols == {f}


def test_elu_left_derivative_at_zero_is_alpha():
    r = FAMILY.compute({"function": "elu", "alpha": 2, "at": 0}).results
    assert r["left_derivative"] == 2 and r["right_derivative"] == 1 and r["differentiable_at"] is False
    relu = [v for v in FAMILY.variants({"function": "elu", "alpha": 2, "at": 0}) if v.given["function"] == "relu"]
    assert FAMILY.compute(relu[0].given).results["left_derivative"] == 0


def test_points_list_omits_derivatives_at_a_kink():
    r = FAMILY.compute({"function": "relu6", "points": [1, 6]}).results
    assert r["values"] == [1, 6] and "derivatives" not in r
    r = FAMILY.compute({"function": "relu6", "points": [1, 7]}).results
    assert r["derivatives"] == [1, 0]


def test_bad_parameters():
    with pytest.raises(FamilyError):
        FAMILY.compute({"function": "relu", "alpha": 2})
    with pytest.raises(FamilyError):
        FAMILY.compute({"function": "softplus", "beta": 0})


TORCH = {
    "relu": lambda F, t: F.relu(t), "leaky_relu": lambda F, t: F.leaky_relu(t, 0.2), "relu6": lambda F, t: F.relu6(t),
    "elu": lambda F, t: F.elu(t, 1.5), "selu": lambda F, t: F.selu(t), "gelu": lambda F, t: F.gelu(t),
    "gelu_tanh": lambda F, t: F.gelu(t, approximate="tanh"), "softsign": lambda F, t: F.softsign(t),
    "hard_sigmoid": lambda F, t: (0.2 * t + 0.5).clamp(0, 1), "hard_tanh": lambda F, t: F.hardtanh(t),
    "hardswish": lambda F, t: F.hardswish(t), "mish": lambda F, t: F.mish(t), "silu": lambda F, t: F.silu(t),
    "softplus": lambda F, t: F.softplus(t, beta=2), "sigmoid": lambda F, t: F.sigmoid(t),
    "tanh": lambda F, t: F.tanh(t),
}


@pytest.mark.parametrize("name", sorted(TORCH))
def test_against_torch_autograd(name):
    torch = pytest.importorskip("torch")
    xs = [k / 8 for k in range(-64, 65) if k / 8 not in KINKS.get(name, [])]
    r = FAMILY.compute({"function": name, "points": [str(x) for x in xs], **PARAMS.get(name, {})}).results
    t = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    y = TORCH[name](torch.nn.functional, t)
    y.sum().backward()
    for ours, theirs in zip(r["values"], y.tolist()):
        assert math.isclose(num(ours), theirs, rel_tol=1e-10, abs_tol=1e-12)
    for ours, theirs in zip(r["derivatives"], t.grad.tolist()):
        assert math.isclose(num(ours), theirs, rel_tol=1e-9, abs_tol=1e-12)
    if name == "hard_sigmoid":  # PyTorch's own hardsigmoid is slope 1/6
        r = FAMILY.compute({"function": name, "points": ["-2", "0.5"]}).results
        assert [num(v) for v in r["values"]] == pytest.approx(torch.nn.functional.hardsigmoid(
            torch.tensor([-2.0, 0.5], dtype=torch.float64)).tolist())


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "mish", "silu", "softplus", "sigmoid", "tanh", "elu", "selu",
                                  "softsign"])
def test_second_derivative_against_torch_double_backward(name):
    torch = pytest.importorskip("torch")
    xs = [k / 4 for k in range(-12, 13) if k / 4 not in KINKS.get(name, [])]
    r = FAMILY.compute({"function": name, **PARAMS.get(name, {})}).results
    z = sp.Symbol("z", real=True)
    t = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    (first,) = torch.autograd.grad(TORCH[name](torch.nn.functional, t).sum(), t, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), t)
    for x, theirs in zip(xs, second.tolist()):
        assert math.isclose(num(r["second_derivative"].subs(z, sp.Rational(str(x)))), theirs, rel_tol=1e-8, abs_tol=1e-10)
