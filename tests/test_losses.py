"""The loss and divergence families against torch.nn.functional (values and autograd
gradients), and against brute-force float/mpmath formulas written here from the
definitions, so the tests still assert something without torch."""

import math

import mpmath
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from examcheck.families import FamilyError, get

LOSS, DIVERGENCE = get("loss"), get("divergence")


def solve(**given):
    return LOSS.compute(given).results


def flat(value):
    if isinstance(value, list):
        return [x for v in value for x in flat(v)]
    return [float(sp.N(value, 30))]


def close(a, b, rel=1e-9, abs_=1e-12):
    a, b = flat(a), [float(x) for x in (b if isinstance(b, list) else [b])]
    return len(a) == len(b) and all(math.isclose(x, y, rel_tol=rel, abs_tol=abs_) for x, y in zip(a, b))


def nested(value):
    return [nested(v) for v in value] if isinstance(value, list) else float(value)


SMALL = st.integers(-6, 6).map(lambda v: v / 2)
LOGITS = st.integers(2, 5).flatmap(lambda k: st.lists(st.lists(SMALL, min_size=k, max_size=k), min_size=1, max_size=4))


# ----------------------------------------------------------------------------- brute force (no torch)


def _softmax(z):
    m = max(z)
    e = [math.exp(v - m) for v in z]
    return [v / sum(e) for v in e]


@settings(max_examples=60, deadline=None)
@given(logits=LOGITS, data=st.data(), eps=st.sampled_from([0, 0.1, 0.25]), reduction=st.sampled_from(["mean", "sum"]))
def test_cross_entropy_brute_force(logits, data, eps, reduction):
    k = len(logits[0])
    targets = data.draw(st.lists(st.integers(0, k - 1), min_size=len(logits), max_size=len(logits)))
    r = solve(kind="cross_entropy", logits=logits, target=targets, label_smoothing=str(eps), reduction=reduction)
    losses, grads = [], []
    for z, t in zip(logits, targets):
        p = _softmax(z)
        y = [(1 - eps) * (j == t) + eps / k for j in range(k)]
        losses.append(-sum(yj * math.log(pj) for yj, pj in zip(y, p)))
        grads.append([(pj - yj) / (len(logits) if reduction == "mean" else 1) for pj, yj in zip(p, y)])
        assert math.isclose(sum(p), 1)
    total = sum(losses) / (len(logits) if reduction == "mean" else 1)
    assert close(r["loss"], total) and close(r["gradient"], sum(grads, []))
    assert close(r["softmax"], sum((_softmax(z) for z in logits), []))


def test_single_sample_shapes_and_one_based_classes():
    r = solve(kind="cross_entropy", logits=[2, 1, 0], target=1, first_class=1)
    assert isinstance(r["softmax"], list) and not isinstance(r["softmax"][0], list)
    assert close(r["loss"], -math.log(_softmax([2, 1, 0])[0]))
    assert r["predicted_class"] == 1
    assert close(r["gradient"], [p - (j == 0) for j, p in enumerate(_softmax([2, 1, 0]))])
    with pytest.raises(FamilyError):
        solve(kind="cross_entropy", logits=[2, 1, 0], target=0, first_class=1)


def test_smoothing_over_other_classes():
    r = solve(kind="cross_entropy", logits=[0, 0, 0, 0], target=0, label_smoothing="0.3", smoothing_over="other_classes")
    assert r["target_distribution"] == [sp.Rational(7, 10), sp.Rational(1, 10), sp.Rational(1, 10), sp.Rational(1, 10)]
    assert close(r["loss"], math.log(4))


@settings(max_examples=50, deadline=None)
@given(z=st.lists(SMALL, min_size=1, max_size=5), data=st.data())
def test_binary_cross_entropy_brute_force(z, data):
    y = data.draw(st.lists(st.sampled_from([0, 1, 0.25]), min_size=len(z), max_size=len(z)))
    r = solve(kind="binary_cross_entropy", logits=z, target=y)
    s = [1 / (1 + math.exp(-v)) for v in z]
    losses = [-(t * math.log(p) + (1 - t) * math.log(1 - p)) for p, t in zip(s, y)]
    assert close(r["loss"], sum(losses) / len(z))
    assert close(r["gradient"], [(p - t) / len(z) for p, t in zip(s, y)])


@settings(max_examples=60, deadline=None)
@given(pairs=st.lists(st.tuples(SMALL, SMALL), min_size=1, max_size=6), delta=st.sampled_from([0.5, 1, 2]))
def test_regression_losses_brute_force(pairs, delta):
    pred, target = [p for p, _ in pairs], [t for _, t in pairs]
    n = len(pairs)
    d = [p - t for p, t in pairs]
    mse = solve(kind="mse", prediction=pred, target=target)
    assert close(mse["loss"], sum(x * x for x in d) / n) and close(mse["gradient"], [2 * x / n for x in d])
    mae = solve(kind="mae", prediction=pred, target=target, reduction="sum")
    assert close(mae["loss"], sum(abs(x) for x in d))
    huber = solve(kind="huber", prediction=pred, target=target, delta=str(delta))
    h = [x * x / 2 if abs(x) <= delta else delta * (abs(x) - delta / 2) for x in d]
    assert close(huber["loss"], sum(h) / n)
    smooth = solve(kind="smooth_l1", prediction=pred, target=target, beta=str(delta))
    assert close(smooth["loss"], sum(h) / n / delta)


def test_hinge_losses_brute_force():
    r = solve(kind="hinge", logits=[2, "0.5", -1, "-0.25"], target=[1, 1, 1, -1])
    assert close(r["losses"], [0, 0.5, 2, 0.75]) and close(r["gradient"], [0, -0.25, -0.25, 0.25])
    m = solve(kind="multiclass_hinge", logits=["3.2", "5.1", "-1.7"], target=0)   # cs231n's cat example
    assert close(m["loss"], 2.9)
    assert close(m["gradient"], [-1, 1, 0])
    with pytest.raises(FamilyError):
        solve(kind="hinge", logits=[1], target=[0])


def test_loss_variants_are_the_named_mistakes():
    g = dict(kind="cross_entropy", logits=[[1, 2, 3], [1, 0, 0]], target=[2, 1], label_smoothing="0.1")
    right = solve(**g)["loss"]
    feedback = {v.feedback: LOSS.compute(v.given).results["loss"] for v in LOSS.variants(g) if "first" not in str(v.given)}
    assert any("summed" in f for f in feedback) and any("smoothing is missing" in f for f in feedback)
    for value in feedback.values():
        assert not close(value, float(sp.N(right)))
    huber = dict(kind="huber", prediction=[3], target=[0], delta=2)
    (smooth,) = [v for v in LOSS.variants(huber) if "SmoothL1" in v.feedback]
    assert close(LOSS.compute(smooth.given).results["loss"], 2.0)


# ----------------------------------------------------------------------------- divergence


P_OR_Q = st.lists(st.integers(0, 4), min_size=2, max_size=5).filter(lambda v: sum(v) > 0)


@settings(max_examples=80, deadline=None)
@given(a=P_OR_Q, b=P_OR_Q)
def test_divergence_brute_force_with_mpmath(a, b):
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    if not sum(a) or not sum(b):
        return
    P = [f"{x}/{sum(a)}" for x in a]
    Q = [f"{x}/{sum(b)}" for x in b]
    r = DIVERGENCE.compute({"P": P, "Q": Q}).results
    p = [mpmath.mpf(x) / sum(a) for x in a]
    q = [mpmath.mpf(x) / sum(b) for x in b]
    mismatch = any(pi > 0 and qi == 0 for pi, qi in zip(p, q))
    assert r["support_mismatch"] is mismatch and r["kl_finite"] is (not mismatch)
    if mismatch:
        assert r["kl"] == sp.oo and r["cross_entropy"] == sp.oo
    else:
        kl = sum(pi * mpmath.log(pi / qi) for pi, qi in zip(p, q) if pi > 0)
        assert close(r["kl"], float(kl), abs_=1e-12)
        h = -sum(pi * mpmath.log(pi) for pi in p if pi > 0)
        assert close(sp.N(r["cross_entropy"] - r["entropy_P"]), float(kl), abs_=1e-12)
        assert close(r["entropy_P"], float(h))
    m = [(pi + qi) / 2 for pi, qi in zip(p, q)]
    js = sum(pi * mpmath.log(pi / mi) for pi, mi in zip(p, m) if pi > 0) / 2 + \
        sum(qi * mpmath.log(qi / mi) for qi, mi in zip(q, m) if qi > 0) / 2
    assert close(r["js"], float(js), abs_=1e-12) and float(js) <= math.log(2) + 1e-12


def test_divergence_log_base_and_skipped_mistake():
    given_ = {"P": ["1/2", "1/2"], "Q": [1, 0]}
    r = DIVERGENCE.compute(given_, log_base=2).results
    assert r["kl"] == sp.oo and r["kl_reverse"] == 1 and r["entropy_P"] == 1
    (variant,) = DIVERGENCE.variants(given_)
    assert DIVERGENCE.compute(variant.given).results["kl"] != sp.oo
    with pytest.raises(FamilyError):
        DIVERGENCE.compute({"P": ["1/2", "1/3"], "Q": [1, 0]})


# ----------------------------------------------------------------------------- torch.nn.functional oracle


@settings(max_examples=40, deadline=None)
@given(logits=LOGITS, data=st.data(), eps=st.sampled_from([0, 0.1, 0.3]), reduction=st.sampled_from(["mean", "sum"]))
def test_cross_entropy_against_torch(logits, data, eps, reduction):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    k = len(logits[0])
    targets = data.draw(st.lists(st.integers(0, k - 1), min_size=len(logits), max_size=len(logits)))
    r = solve(kind="cross_entropy", logits=logits, target=targets, label_smoothing=str(eps), reduction=reduction)
    z = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    loss = F.cross_entropy(z, torch.tensor(targets), label_smoothing=eps, reduction=reduction)
    loss.backward()
    assert close(r["loss"], loss.item())
    assert close(r["gradient"], z.grad.flatten().tolist())
    assert close(r["softmax"], F.softmax(z, dim=1).flatten().tolist())
    assert close(r["log_softmax"], F.log_softmax(z, dim=1).flatten().tolist())
    soft = [[1 / k] * k for _ in logits]
    r2 = solve(kind="cross_entropy", logits=logits, target=[[f"1/{k}"] * k for _ in logits], reduction=reduction)
    assert close(r2["loss"], F.cross_entropy(z, torch.tensor(soft, dtype=torch.float64), reduction=reduction).item())


@settings(max_examples=40, deadline=None)
@given(z=st.lists(SMALL, min_size=1, max_size=5), data=st.data(), reduction=st.sampled_from(["mean", "sum"]))
def test_binary_and_hinge_against_torch(z, data, reduction):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    y = data.draw(st.lists(st.sampled_from([0.0, 1.0, 0.5]), min_size=len(z), max_size=len(z)))
    r = solve(kind="binary_cross_entropy", logits=z, target=y, reduction=reduction)
    t = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(t, torch.tensor(y, dtype=torch.float64), reduction=reduction)
    loss.backward()
    assert close(r["loss"], loss.item()) and close(r["gradient"], t.grad.tolist())
    signs = [1 if v >= 0.5 else -1 for v in y]
    r = solve(kind="hinge", logits=z, target=signs, reduction=reduction)
    t = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    per = torch.relu(1 - torch.tensor(signs, dtype=torch.float64) * t)
    loss = per.mean() if reduction == "mean" else per.sum()
    loss.backward()
    assert close(r["loss"], loss.item()) and close(r["gradient"], t.grad.tolist())


@settings(max_examples=40, deadline=None)
@given(logits=LOGITS, data=st.data(), margin=st.sampled_from([1, 0.5, 2]))
def test_multiclass_hinge_against_torch(logits, data, margin):
    torch = pytest.importorskip("torch")
    k = len(logits[0])
    targets = data.draw(st.lists(st.integers(0, k - 1), min_size=len(logits), max_size=len(logits)))
    r = solve(kind="multiclass_hinge", logits=logits, target=targets, margin=str(margin), divide_by_classes=True)
    z = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    loss = torch.nn.functional.multi_margin_loss(z, torch.tensor(targets), margin=margin)
    loss.backward()
    assert close(r["loss"], loss.item())
    assert close(r["gradient"], z.grad.flatten().tolist())


@settings(max_examples=40, deadline=None)
@given(pairs=st.lists(st.tuples(SMALL, SMALL), min_size=1, max_size=6), delta=st.sampled_from([0.5, 1.0, 2.0]),
       kind=st.sampled_from(["mse", "mae", "huber", "smooth_l1"]), reduction=st.sampled_from(["mean", "sum"]))
def test_regression_against_torch(pairs, delta, kind, reduction):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    pred, target = [p for p, _ in pairs], [t for _, t in pairs]
    extra = {"huber": {"delta": str(delta)}, "smooth_l1": {"beta": str(delta)}}.get(kind, {})
    r = solve(kind=kind, prediction=pred, target=target, reduction=reduction, **extra)
    x = torch.tensor(pred, dtype=torch.float64, requires_grad=True)
    y = torch.tensor(target, dtype=torch.float64)
    fn = {"mse": lambda: F.mse_loss(x, y, reduction=reduction), "mae": lambda: F.l1_loss(x, y, reduction=reduction),
          "huber": lambda: F.huber_loss(x, y, reduction=reduction, delta=delta),
          "smooth_l1": lambda: F.smooth_l1_loss(x, y, reduction=reduction, beta=delta)}[kind]
    loss = fn()
    loss.backward()
    assert close(r["loss"], loss.item())
    assert close(r["gradient"], x.grad.tolist())


def test_divergence_against_torch():
    torch = pytest.importorskip("torch")
    P, Q = ["1/2", "1/4", "1/4", 0], ["1/8", "1/8", "1/4", "1/2"]
    r = DIVERGENCE.compute({"P": P, "Q": Q}).results
    p = torch.tensor([0.5, 0.25, 0.25, 0.0], dtype=torch.float64)
    q = torch.tensor([0.125, 0.125, 0.25, 0.5], dtype=torch.float64)
    assert close(r["kl"], torch.nn.functional.kl_div(q.log(), p, reduction="sum").item())
    assert close(r["entropy_P"], -torch.special.xlogy(p, p).sum().item())
    assert r["kl_reverse"] == sp.oo  # Q puts mass 1/2 where P has none
    assert torch.isinf(torch.nn.functional.kl_div(p.log(), q, reduction="sum"))


def test_label_smoothing_on_probability_targets_against_torch():
    torch = pytest.importorskip("torch")
    logits = [[1, -2, "0.5"], [0, 3, 1]]
    targets = [["0.5", "0.5", 0], [0, "0.25", "0.75"]]
    r = solve(kind="cross_entropy", logits=logits, target=targets, label_smoothing="0.2")
    z = torch.tensor([[1, -2, 0.5], [0, 3, 1]], dtype=torch.float64, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(z, torch.tensor([[0.5, 0.5, 0], [0, 0.25, 0.75]], dtype=torch.float64),
                                             label_smoothing=0.2)
    loss.backward()
    assert close(r["loss"], loss.item()) and close(r["gradient"], z.grad.flatten().tolist())
    one_based = solve(kind="cross_entropy", logits=logits, target=[1, 3], first_class=1)
    zero_based = solve(kind="cross_entropy", logits=logits, target=[0, 2])
    assert one_based["loss"] == zero_based["loss"] and one_based["predicted_classes"] == [1, 2]
