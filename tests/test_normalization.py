"""batch_norm, dropout and regularization against torch (BatchNorm1d/2d in train and
eval mode, state_dict counts, F.dropout masks, autograd of the penalties) and against
brute-force NumPy formulas written here (Keras's conventions included)."""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from examcheck.families import FamilyError, get

BN, DROPOUT, PENALTY = get("batch_norm"), get("dropout"), get("regularization")


def arr(value):
    if isinstance(value, list):
        return np.array([arr(v) for v in value], dtype=float)
    return float(sp.N(value, 30))


def close(a, b, rel=1e-9, abs_=1e-10):
    return np.allclose(arr(a) if not isinstance(a, np.ndarray) else a, np.asarray(b, dtype=float), rtol=rel, atol=abs_)


VALUES = st.integers(-8, 8).map(lambda v: v / 2)
BATCH = st.tuples(st.integers(2, 5), st.integers(1, 3)).flatmap(
    lambda nc: st.lists(st.lists(VALUES, min_size=nc[1], max_size=nc[1]), min_size=nc[0], max_size=nc[0]))


def _numpy_bn(x, gamma, beta, mean0, var0, eps, keep, unbiased_running):
    mu, var = x.mean(axis=0), x.var(axis=0)
    out = gamma * (x - mu) / np.sqrt(var + eps) + beta
    n = x.shape[0]
    run_var = var * n / (n - 1) if unbiased_running else var
    mean1, var1 = keep * mean0 + (1 - keep) * mu, keep * var0 + (1 - keep) * run_var
    infer = gamma * (x - mean0) / np.sqrt(var0 + eps) + beta
    return out, mean1, var1, infer


@settings(max_examples=50, deadline=None)
@given(x=BATCH, framework=st.sampled_from(["pytorch", "keras"]), data=st.data())
def test_batch_norm_brute_force(x, framework, data):
    c = len(x[0])
    gamma = data.draw(st.lists(st.sampled_from([1, 2, 0.5]), min_size=c, max_size=c))
    beta = data.draw(st.lists(st.sampled_from([0, 1, -0.5]), min_size=c, max_size=c))
    r = BN.compute({"inputs": x, "gamma": gamma, "beta": beta, "running_mean": [0.5] * c, "running_var": [2] * c,
                    "framework": framework}).results
    keras = framework == "keras"
    out, mean1, var1, infer = _numpy_bn(np.array(x, dtype=float), np.array(gamma, dtype=float), np.array(beta, dtype=float),
                                        np.full(c, 0.5), np.full(c, 2.0), 1e-3 if keras else 1e-5,
                                        0.99 if keras else 0.9, not keras)
    assert close(r["output"], out) and close(r["running_mean_after"], mean1) and close(r["running_var_after"], var1)
    assert close(r["inference_output"], infer)
    assert r["trainable_parameters"] == 2 * c
    assert r["total_parameters"] == (4 * c if keras else 2 * c) and r["keras_total_parameters"] == 4 * c


def test_batch_norm_counts_without_inputs_and_bad_given():
    r = BN.compute({"channels": 64}).results
    assert (r["pytorch_parameters"], r["pytorch_buffer_elements"], r["pytorch_state_dict_elements"]) == (128, 129, 257)
    assert BN.compute({"channels": 64, "framework": "keras"}).results["non_trainable_parameters"] == 128
    for bad in ({}, {"inputs": [[1, 2]]}, {"inputs": [[1, 2], [3]]}, {"inputs": [[1], [2]], "channels": 3},
                {"inputs": [[1], [2]], "gamma": [1, 2]}):
        with pytest.raises(FamilyError):
            BN.compute(bad)


def test_batch_norm_variants_are_the_named_mistakes():
    g = {"inputs": [[1, 0], [3, 4], [8, 2]]}
    right = BN.compute(g).results
    for variant in BN.variants(g):
        wrong = BN.compute(variant.given).results
        assert any(not close(wrong[k], arr(right[k])) for k in ("output", "running_var_after", "running_mean_after"))


@settings(max_examples=30, deadline=None)
@given(x=BATCH, momentum=st.sampled_from([0.1, 0.5]), affine=st.booleans())
def test_batch_norm_1d_against_torch(x, momentum, affine):
    torch = pytest.importorskip("torch")
    c = len(x[0])
    given_ = {"inputs": x, "momentum": str(momentum), "running_mean": [1] * c, "running_var": [3] * c, "affine": affine}
    if affine:
        given_.update(gamma=[2] * c, beta=[1] * c)
    r = BN.compute(given_).results
    bn = torch.nn.BatchNorm1d(c, momentum=momentum, affine=affine).double()
    with torch.no_grad():
        bn.running_mean.fill_(1.0)
        bn.running_var.fill_(3.0)
        if affine:
            bn.weight.fill_(2.0)
            bn.bias.fill_(1.0)
    t = torch.tensor(x, dtype=torch.float64)
    bn.eval()
    assert close(r["inference_output"], bn(t).detach().numpy())
    bn.train()
    assert close(r["output"], bn(t).detach().numpy())
    assert close(r["running_mean_after"], bn.running_mean.numpy()) and close(r["running_var_after"], bn.running_var.numpy())
    bn.eval()
    assert close(r["inference_output_after"], bn(t).detach().numpy())
    assert r["pytorch_parameters"] == sum(p.numel() for p in bn.parameters())
    assert r["pytorch_buffer_elements"] == sum(b.numel() for b in bn.buffers())
    assert r["pytorch_state_dict_entries"] == len(bn.state_dict())
    assert r["pytorch_state_dict_elements"] == sum(v.numel() for v in bn.state_dict().values())


def test_batch_norm_2d_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.integers(-4, 5, size=(2, 3, 2, 2)).tolist()
    r = BN.compute({"inputs": x}).results
    bn = torch.nn.BatchNorm2d(3).double()
    out = bn(torch.tensor(x, dtype=torch.float64))
    assert close(r["output"], out.detach().numpy())
    assert close(r["running_var_after"], bn.running_var.numpy())


@settings(max_examples=30, deadline=None)
@given(p=st.sampled_from(["0.2", "0.5", "0.75"]), seed=st.integers(0, 1000))
def test_dropout_against_torch(p, seed):
    torch = pytest.importorskip("torch")
    x = [1.0, 2.0, -3.0, 4.0, 0.5, -1.5]
    torch.manual_seed(seed)
    y = torch.nn.functional.dropout(torch.tensor(x, dtype=torch.float64), p=float(p), training=True)
    mask = [int(v != 0) for v in y.tolist()]
    r = DROPOUT.compute({"p": p, "inputs": x, "mask": mask}).results
    assert close(r["output"], y.numpy())
    assert close(r["inference_output"], torch.nn.functional.dropout(torch.tensor(x), p=float(p), training=False).numpy())


def test_dropout_brute_force_and_mistakes():
    r = DROPOUT.compute({"p": "0.2", "inputs": [5, 10], "mask": [1, 0]}).results
    assert r["scale"] == sp.Rational(5, 4) and r["output"] == [sp.Rational(25, 4), 0] and r["inference_output"] == [5, 10]
    classic = DROPOUT.compute({"p": "0.2", "inputs": [5, 10], "mask": [1, 0], "style": "classic"}).results
    assert classic["output"] == [5, 0] and classic["inference_output"] == [4, 8]
    feedback = [v.feedback for v in DROPOUT.variants({"p": "0.2"})]
    assert any("swapped" in f for f in feedback) and any("convention" in f for f in feedback)
    with pytest.raises(FamilyError):
        DROPOUT.compute({"p": 1})


@settings(max_examples=50, deadline=None)
@given(w=st.lists(st.integers(-4, 4), min_size=1, max_size=5), kind=st.sampled_from(["l1", "l2", "elastic"]),
       form=st.sampled_from(["half", "full"]), lam=st.sampled_from(["0.1", "0.5", "2"]))
def test_penalties_brute_force(w, kind, form, lam):
    r = PENALTY.compute({"kind": kind, "weights": w, "lam": lam, "l2_form": form,
                         "data_gradient": [1] * len(w), "lr": "0.1"}).results
    la = float(lam)
    wa = np.array(w, dtype=float)
    l2 = (0.5 if form == "half" else 1.0) * (wa ** 2).sum()
    l2g = (1.0 if form == "half" else 2.0) * wa
    ratio = {"l1": 1.0, "l2": 0.0, "elastic": 0.5}[kind]
    assert math.isclose(float(r["penalty"]), la * (ratio * np.abs(wa).sum() + (1 - ratio) * l2), abs_tol=1e-12)
    grad = la * (ratio * np.sign(wa) + (1 - ratio) * l2g)
    assert close(r["gradient"], grad) and close(r["updated_weights"], wa - 0.1 * (1 + grad))


def test_l2_half_form_is_torch_weight_decay():
    torch = pytest.importorskip("torch")
    w0 = [1.0, -2.0, 0.5]
    r = PENALTY.compute({"kind": "l2", "weights": w0, "lam": "0.3", "data_gradient": [0.5, 0.5, 0.5], "lr": "0.1"}).results
    w = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1, weight_decay=0.3)
    w.grad = torch.full((3,), 0.5, dtype=torch.float64)
    opt.step()
    assert close(r["updated_weights"], w.detach().numpy())
    w = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    (0.3 * w.abs().sum()).backward()
    assert close(PENALTY.compute({"kind": "l1", "weights": w0, "lam": "0.3"}).results["gradient"], w.grad.numpy())


def test_keep_prob_and_flat_batch_norm_inputs():
    assert DROPOUT.compute({"keep_prob": "0.8", "inputs": [5], "mask": [1]}).results["output"] == [sp.Rational(25, 4)]
    for bad in ({"p": "0.2", "keep_prob": "0.8"}, {"inputs": [1]}):
        with pytest.raises(FamilyError):
            DROPOUT.compute(bad)
    flat = BN.compute({"inputs": [1, 2, 3, 6]}).results
    column = BN.compute({"inputs": [[1], [2], [3], [6]]}).results
    assert flat["output"] == [row[0] for row in column["output"]] and flat["batch_mean"] == [3]
    x = np.array([1, 2, 3, 6], dtype=float)
    assert close(flat["output"], (x - x.mean()) / np.sqrt(x.var() + 1e-5))


def test_cross_entropy_in_bits():
    from examcheck.families import get as family

    loss = family("loss")
    bits = loss.compute({"kind": "cross_entropy", "logits": [0, 0, 0, 0], "target": 1}, log_base=2).results
    assert sp.simplify(bits["loss"] - 2) == 0
    nats = loss.compute({"kind": "binary_cross_entropy", "logits": [0], "target": [1]}).results
    in_bits = loss.compute({"kind": "binary_cross_entropy", "logits": [0], "target": [1]}, log_base=2).results
    assert sp.simplify(in_bits["loss"] - 1) == 0 and sp.simplify(in_bits["gradient"][0] * sp.log(2) - nats["gradient"][0]) == 0
