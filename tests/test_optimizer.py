"""The optimizer family against torch.optim (step by step, iterates and state), and
against closed forms that need no torch: SGD on a quadratic, every adaptive method
on a constant gradient, and the lookahead/PyTorch Nesterov equivalence."""

import math

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from examcheck.families import FamilyError, get

FAMILY = get("optimizer")


def solve(**given):
    return FAMILY.compute(given).results


def floats(vector):
    return [float(v) for v in vector] if isinstance(vector, list) else float(vector)


def close(a, b, rel=1e-9, abs_=1e-12):
    a = a if isinstance(a, list) else [a]
    b = b if isinstance(b, list) else [b]
    return len(a) == len(b) and all(math.isclose(float(x), float(y), rel_tol=rel, abs_tol=abs_) for x, y in zip(a, b))


# ----------------------------------------------------------------------------- closed forms (no torch)


@settings(max_examples=60, deadline=None)
@given(a=st.integers(1, 5), x0=st.integers(-5, 5), lr=st.sampled_from(["0.01", "0.05", "0.1", "1/8"]),
       steps=st.integers(0, 8))
def test_sgd_on_a_quadratic_is_geometric(a, x0, lr, steps):
    r = solve(method="sgd", f=f"{a}*x**2", variables=["x"], start=x0, lr=lr, steps=steps)
    factor = 1 - 2 * sp.Rational(lr) * a
    for k in range(steps + 1):
        assert r[f"point.{k}.1"] == factor ** k * x0 or close(r[f"point.{k}.1"], float(factor ** k * x0))
        assert r[f"point.{k}"] == [r[f"point.{k}.1"]]
    assert len(r["iterates"]) == steps + 1 and len(r["gradients"]) == steps


@settings(max_examples=60, deadline=None)
@given(g=st.floats(-5, 5).filter(lambda v: abs(v) > 1e-3), steps=st.integers(1, 6),
       beta1=st.sampled_from(["0.9", "0.8", "0.5"]), beta2=st.sampled_from(["0.999", "0.99", "0.9"]))
def test_adam_on_a_constant_gradient_moves_lr_each_step(g, steps, beta1, beta2):
    """With bias correction, m̂ = g and v̂ = g² at every step: each step moves η·g/(|g| + ε)."""
    g = round(g, 3)
    r = solve(method="adam", gradients=[g] * steps, start=0, lr="0.1", beta1=beta1, beta2=beta2, eps=0)
    for k in range(1, steps + 1):
        assert close(r[f"m_hat.{k}.1"], g) and close(r[f"v_hat.{k}.1"], g * g)
        assert close(r[f"update.{k}.1"], -0.1 * math.copysign(1, g))
    raw = solve(method="adam", gradients=[g] * steps, start=0, lr="0.1", beta1=beta1, beta2=beta2, eps=0,
                bias_correction=False)
    b1, b2 = float(sp.Rational(beta1)), float(sp.Rational(beta2))
    m, v = g * (1 - b1 ** steps), g * g * (1 - b2 ** steps)
    assert close(raw[f"m.{steps}.1"], m) and close(raw[f"v.{steps}.1"], v, rel=1e-8)


@settings(max_examples=40, deadline=None)
@given(g=st.integers(-4, 4).filter(bool), steps=st.integers(1, 6), mu=st.sampled_from(["0.9", "0.5", "1/4"]))
def test_adaptive_state_on_a_constant_gradient(g, steps, mu):
    adagrad = solve(method="adagrad", gradients=[g] * steps, start=1, lr=1, eps=0)
    rms = solve(method="rmsprop", gradients=[g] * steps, start=1, lr=1, eps=0, alpha="0.9")
    momentum = solve(method="momentum", gradients=[g] * steps, start=1, lr=1, momentum=mu)
    m = sp.Rational(mu)
    for k in range(1, steps + 1):
        assert adagrad[f"sum_squares.{k}.1"] == k * g * g
        assert close(adagrad[f"update.{k}.1"], -g / (math.sqrt(k) * abs(g)))
        assert close(rms[f"square_avg.{k}.1"], (1 - 0.9 ** k) * g * g)
        assert momentum[f"buffer.{k}"] == [g * (1 - m ** k) / (1 - m)]


def test_adamw_decay_is_decoupled_and_adam_decay_is_l2():
    # f = 0: only the decay acts.  AdamW shrinks θ by (1 − ηλ); Adam sees g = λθ and moves by ≈ η.
    w = solve(method="adamw", gradients=[0], start=2, lr="0.1", weight_decay="0.5")
    assert w["point"] == [sp.Rational(2) * (1 - sp.Rational(1, 20))]
    a = solve(method="adam", gradients=[0], start=2, lr="0.1", weight_decay="0.5", eps=0)
    assert close(a["point"], 1.9)
    assert solve(method="adamw", gradients=[0], start=2, lr="0.1")["point.1.1"] == 2 * (1 - sp.Rational(1, 1000))


def test_lookahead_nesterov_equals_pytorch_nesterov_shifted():
    """Sutskever's form θ' ← θ + v, v ← μv − η∇f(θ + μv) satisfies θ'_k + μv_k = PyTorch's θ_k."""
    common = dict(method="nesterov", f="x**2 + 3*y**2 + x*y", variables=["x", "y"], start=[1, -2], lr="0.05",
                  momentum="0.9", steps=6)
    torch_form, lookahead = solve(**common), solve(**common, nesterov_form="lookahead")
    for k in range(1, 7):
        shifted = [t + sp.Rational(9, 10) * v for t, v in zip(lookahead[f"point.{k}"], lookahead[f"velocity.{k}"])]
        assert close(shifted, torch_form[f"point.{k}"])


def test_schedules_closed_forms():
    base = dict(method="sgd", gradients=[0] * 6, start=0, lr=1)
    assert solve(**base, schedule={"type": "step", "step_size": 2, "gamma": "0.5"})["learning_rates"] == \
        [1, 1, sp.Rational(1, 2), sp.Rational(1, 2), sp.Rational(1, 4), sp.Rational(1, 4)]
    assert solve(**base, schedule={"type": "exponential", "gamma": "0.5"})["learning_rate.3"] == sp.Rational(1, 4)
    cosine = solve(**base, schedule={"type": "cosine", "T_max": 4})["learning_rates"]
    assert close(cosine[:5], [1, (1 + math.cos(math.pi / 4)) / 2, 0.5, (1 + math.cos(3 * math.pi / 4)) / 2, 0])
    warm = solve(**base, schedule={"type": "linear_warmup", "start_factor": "0.25", "total_iters": 3})
    assert warm["learning_rates"] == [sp.Rational(1, 4), sp.Rational(1, 2), sp.Rational(3, 4), 1, 1, 1]


def test_variants_name_the_mistakes():
    g = dict(method="adamw", f="x**2", variables=["x"], start=1, lr="0.1", steps=2, weight_decay="0.1")
    variants = FAMILY.variants(g)
    texts = " ".join(v.feedback for v in variants)
    assert "bias correction" in texts and "L2" in texts and "one step too few" in texts
    right = solve(**g)["point"]
    for v in variants:
        assert not close(FAMILY.compute(v.given).results["point"], right)
    l2 = next(v for v in variants if "L2" in v.feedback)
    assert close(FAMILY.compute(l2.given).results["point"], solve(**{**g, "method": "adam"})["point"])


@pytest.mark.parametrize("bad", [
    dict(method="sgd", start=1, lr="0.1"),                                            # no f, no gradients
    dict(method="sgd", gradients=[1, 2], start=[1, 2], lr="0.1"),                     # wrong length
    dict(method="sgd", gradients=[1], start=1, lr="0.1", steps=3),                    # too few gradients
    dict(method="sgd", f="x**2", start=1, lr="0.1"),                                  # no variables
    dict(method="sgd", f="exp(x)", variables=["x"], start=1, lr="-100", steps=400),   # blows up
    dict(method="momentum", gradients=[1], start=1, lr="0.1", nesterov_form="lookahead"),
    dict(method="sgd", gradients=[1], start=1, lr="0.1", schedule={"type": "cosine"}),
])
def test_bad_given_is_a_family_error(bad):
    with pytest.raises(FamilyError):
        FAMILY.compute(bad)


# ----------------------------------------------------------------------------- torch.optim oracle

TORCH_STATE = {"buffer": "momentum_buffer", "sum_squares": "sum", "square_avg": "square_avg",
               "m": "exp_avg", "v": "exp_avg_sq"}


def _torch_run(torch, method, objective, start, lr, steps, options, schedule=None, gradients=None):
    x = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    kinds = {"sgd": torch.optim.SGD, "momentum": torch.optim.SGD, "nesterov": torch.optim.SGD,
             "adagrad": torch.optim.Adagrad, "rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam,
             "adamw": torch.optim.AdamW}
    opt = kinds[method]([x], lr=lr, **options)
    sched = schedule(opt) if schedule else None
    points, states, rates = [], [], []
    for k in range(steps):
        opt.zero_grad()
        if gradients is None:
            objective(x).backward()
        else:
            x.grad = torch.tensor(gradients[k], dtype=torch.float64)
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        if sched:
            sched.step()
        points.append(x.detach().clone().tolist())
        states.append({k2: v.clone().tolist() for k2, v in opt.state[x].items() if k2 != "step"})
    return points, states, rates


METHOD_OPTIONS = st.sampled_from([
    ("sgd", {}, {}),
    ("sgd", {"weight_decay": "0.1"}, {"weight_decay": 0.1}),
    ("momentum", {"momentum": "0.9"}, {"momentum": 0.9}),
    ("momentum", {"momentum": "0.5", "dampening": "0.5"}, {"momentum": 0.5, "dampening": 0.5}),
    ("nesterov", {"momentum": "0.9"}, {"momentum": 0.9, "nesterov": True}),
    ("adagrad", {}, {}),
    ("adagrad", {"initial_accumulator": "0.5", "weight_decay": "0.01"},
     {"initial_accumulator_value": 0.5, "weight_decay": 0.01}),
    ("rmsprop", {}, {}),
    ("rmsprop", {"alpha": "0.9", "eps": "0.001"}, {"alpha": 0.9, "eps": 0.001}),
    ("adam", {}, {}),
    ("adam", {"beta1": "0.8", "beta2": "0.99", "weight_decay": "0.05"}, {"betas": (0.8, 0.99), "weight_decay": 0.05}),
    ("adamw", {}, {}),
    ("adamw", {"weight_decay": "0.3"}, {"weight_decay": 0.3}),
])


@settings(max_examples=50, deadline=None)
@given(case=METHOD_OPTIONS, a=st.integers(1, 4), b=st.integers(-3, 3), c=st.integers(1, 5),
       x0=st.lists(st.integers(-3, 3), min_size=2, max_size=2), lr=st.sampled_from(["0.01", "0.1", "0.05"]),
       steps=st.integers(1, 5))
def test_against_torch_optim_on_a_function(case, a, b, c, x0, lr, steps):
    torch = pytest.importorskip("torch")
    method, ours, theirs = case
    f = f"{a}*x**2 + {b}*x*y + {c}*y**2 + sin(x)"
    r = solve(method=method, f=f, variables=["x", "y"], start=x0, lr=lr, steps=steps, **ours)
    points, states, _ = _torch_run(torch, method, lambda t: a * t[0] ** 2 + b * t[0] * t[1] + c * t[1] ** 2
                                   + torch.sin(t[0]), [float(v) for v in x0], float(lr), steps, theirs)
    for k in range(1, steps + 1):
        assert close(r[f"point.{k}"], points[k - 1], rel=1e-9, abs_=1e-11), (k, r[f"point.{k}"], points[k - 1])
        for name, key in TORCH_STATE.items():
            if f"{name}.{k}" in r:
                assert close(r[f"{name}.{k}"], states[k - 1][key], rel=1e-9, abs_=1e-11)


SCHEDULES = [
    ({"type": "step", "step_size": 2, "gamma": "0.5"}, lambda t, o: t.optim.lr_scheduler.StepLR(o, 2, 0.5)),
    ({"type": "exponential", "gamma": "0.8"}, lambda t, o: t.optim.lr_scheduler.ExponentialLR(o, 0.8)),
    ({"type": "cosine", "T_max": 5, "eta_min": "0.01"},
     lambda t, o: t.optim.lr_scheduler.CosineAnnealingLR(o, 5, eta_min=0.01)),
    ({"type": "linear_warmup", "start_factor": "0.2", "total_iters": 4},
     lambda t, o: t.optim.lr_scheduler.LinearLR(o, start_factor=0.2, total_iters=4)),
]


@pytest.mark.parametrize("schedule,make", SCHEDULES)
@pytest.mark.parametrize("method", ["sgd", "momentum", "adam"])
def test_schedules_against_torch(schedule, make, method):
    torch = pytest.importorskip("torch")
    grads = [[1.0, -2.0], [0.5, 3.0], [-1.0, 1.0], [2.0, 2.0], [0.25, -0.5], [1.5, 0.0], [-2.0, 1.0]]
    r = solve(method=method, gradients=grads, start=[1, 1], lr="0.1", schedule=schedule)
    options = {"momentum": 0.9} if method == "momentum" else {}
    points, _, rates = _torch_run(torch, method, None, [1.0, 1.0], 0.1, len(grads), options,
                                  schedule=lambda o: make(torch, o), gradients=grads)
    assert close(r["learning_rates"], rates, rel=1e-12)
    for k in range(1, len(grads) + 1):
        assert close(r[f"point.{k}"], points[k - 1], rel=1e-9, abs_=1e-11)


def test_ema_momentum_is_the_weighted_average():
    """v ← βv + (1 − β)g from v₀ = 0; θ ← θ − ηv (Ng's form), by hand on f = x²."""
    r = solve(method="momentum", momentum_form="ema", f="x**2", variables=["x"], start=1, lr="0.1", momentum="0.9",
              steps=2)
    v1 = sp.Rational(1, 10) * 2
    x1 = 1 - sp.Rational(1, 10) * v1
    v2 = sp.Rational(9, 10) * v1 + sp.Rational(1, 10) * 2 * x1
    assert r["buffer.1"] == [v1] and r["point.1"] == [x1] and r["buffer.2"] == [v2]
    assert r["point.2"] == [x1 - sp.Rational(1, 10) * v2]
    with pytest.raises(FamilyError):
        solve(method="adam", momentum_form="ema", gradients=[1], start=0, lr=1)


def test_ema_momentum_is_torch_dampening_after_the_first_step():
    torch = pytest.importorskip("torch")
    # PyTorch with dampening μ differs only in its first buffer (b₁ = g); start both from the same b₁.
    ema = solve(method="momentum", momentum_form="ema", gradients=[[2.0], [1.0], [-3.0]], start=[0], lr="0.1",
                momentum="0.5")
    x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([x], lr=0.1, momentum=0.5, dampening=0.5)
    x.grad = torch.tensor([1.0], dtype=torch.float64)  # b₁ = 1 = (1 − μ)·2, the EMA's first buffer
    opt.step()
    for g in ([1.0], [-3.0]):
        x.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
    assert close(ema["point.3"], x.detach().tolist())


def test_heavy_ball_velocity_is_the_textbook_v():
    """v ← μv − ηg, θ ← θ + v, by hand on given gradients 1, 2, 3."""
    r = solve(method="momentum", gradients=[1, 2, 3], start=0, lr="0.1", momentum="0.5")
    v, theta = sp.Integer(0), sp.Integer(0)
    for k, g in enumerate([1, 2, 3], start=1):
        v = sp.Rational(1, 2) * v - sp.Rational(1, 10) * g
        theta += v
        assert r[f"velocity.{k}"] == [v] and r[f"point.{k}"] == [theta]


@given(st.sampled_from(["0.5", "0.9", "0.25"]), st.integers(2, 4))  # one step: the buffer is g either way
@settings(max_examples=20, deadline=None)
def test_sgd_with_momentum_is_heavy_ball_as_in_pytorch(mu, steps):
    """A blind instructor wrote method: sgd with momentum: 0.9 (PyTorch's SGD(momentum=0.9)): never plain SGD."""
    base = {"f": "x**2 + 3*x", "variables": ["x"], "start": [1], "lr": "0.1", "steps": steps, "momentum": mu}
    as_sgd, as_momentum = solve(**base, method="sgd"), solve(**base, method="momentum")
    assert as_sgd[f"point.{steps}"] == as_momentum[f"point.{steps}"]
    assert solve(**{**base, "momentum": 0}, method="sgd")[f"point.{steps}"] != as_sgd[f"point.{steps}"]
