"""Layer-stack families against values computed without the family code: brute-force window
enumeration, tracing which inputs reach an output, finite differences, and explicit weight arrays."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from examcheck.families import FamilyError, get

SETTINGS = settings(max_examples=80, deadline=None)


# ----------------------------------------------------------------------------- cnn


def windows(n: int, k: int, stride: int, pad, dilation: int = 1) -> int:
    """Count the window positions that fit in the padded input (brute force)."""
    if pad == "same":
        pad_total = max((math.ceil(n / stride) - 1) * stride + dilation * (k - 1) + 1 - n, 0)
        length = n + pad_total
    else:
        length = n + 2 * (0 if pad == "valid" else pad)
    span = dilation * (k - 1) + 1
    return sum(1 for start in range(0, length, stride) if start + span <= length)


@st.composite
def conv_stack(draw):
    h, w = draw(st.integers(8, 40)), draw(st.integers(8, 40))
    channels = draw(st.integers(1, 6))
    layers, shape, rows = [], (h, w, channels), []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv", "conv", "pool", "bn"]))
        hh, ww, c = shape
        if kind == "conv":
            kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
            sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
            dil = draw(st.integers(1, 2))
            pad = draw(st.sampled_from(["valid", 0, 1, 2] + (["same"] if sh == sw else [])))
            groups = draw(st.sampled_from([g for g in (1, 2, 3) if c % g == 0]))
            filters = groups * draw(st.integers(1, 4))
            bias = draw(st.booleans())
            oh, ow = windows(hh, kh, sh, pad, dil), windows(ww, kw, sw, pad, dil)
            if min(oh, ow) < 1 or (pad != "same" and (hh + 2 * (0 if pad == "valid" else pad) < dil * (kh - 1) + 1
                                                      or ww + 2 * (0 if pad == "valid" else pad) < dil * (kw - 1) + 1)):
                break
            weight = np.zeros((filters, c // groups, kh, kw))  # PyTorch's weight layout
            params = weight.size + (filters if bias else 0)
            layers.append({"type": "conv", "kernel": [kh, kw], "filters": filters, "stride": [sh, sw],
                           "padding": pad, "dilation": dil, "groups": groups, "bias": bias})
            shape = (oh, ow, filters)
        elif kind == "pool":
            k = draw(st.integers(2, 3))
            if hh < k or ww < k:
                break
            layers.append({"type": "pool", "kernel": k})
            shape, params = (windows(hh, k, k, 0), windows(ww, k, k, 0), c), 0
        else:
            layers.append({"type": "batchnorm"})
            params = 2 * c
        rows.append((shape, params))
    assume(layers)
    units = draw(st.integers(1, 5))
    layers.append({"type": "flatten"})
    rows.append(((math.prod(shape),), 0))
    layers.append({"type": "fc", "units": units})
    rows.append(((units,), (math.prod(shape) + 1) * units))
    return {"input": [h, w, channels], "layers": layers}, rows


@SETTINGS
@given(conv_stack())
def test_cnn_shapes_and_parameters_by_brute_force(case):
    given_, rows = case
    results = get("cnn").compute(given_).results
    for i, (shape, params) in enumerate(rows, start=1):
        assert results[f"output.{i}"] == shape, (i, given_["layers"][i - 1])
        assert results[f"params.{i}"] == params, (i, given_["layers"][i - 1])
    assert results["total_params"] == sum(p for _, p in rows)


def test_cnn_against_pytorch():
    torch = pytest.importorskip("torch")
    from torch import nn

    rng = np.random.default_rng(1)
    for _ in range(40):
        c, h, w = int(rng.integers(1, 5)), int(rng.integers(10, 30)), int(rng.integers(10, 30))
        groups = int(rng.choice([g for g in (1, 2) if c % g == 0]))
        filters = groups * int(rng.integers(1, 4))
        kh, kw, sh, sw = (int(v) for v in rng.integers(1, 4, size=4))
        pad, dil, bias = int(rng.integers(0, 3)), int(rng.integers(1, 3)), bool(rng.integers(0, 2))
        conv = nn.Conv2d(c, filters, (kh, kw), stride=(sh, sw), padding=pad, dilation=dil, groups=groups, bias=bias)
        out = conv(torch.zeros(1, c, h, w))
        given_ = {"input": [h, w, c], "layers": [
            {"type": "conv", "kernel": [kh, kw], "filters": filters, "stride": [sh, sw], "padding": pad,
             "dilation": dil, "groups": groups, "bias": bias}, {"type": "batchnorm"}]}
        results = get("cnn").compute(given_).results
        assert results["output.1"] == (out.shape[2], out.shape[3], out.shape[1])
        assert results["params.1"] == sum(p.numel() for p in conv.parameters())
        bn = nn.BatchNorm2d(filters)
        assert results["params.2"] == sum(p.numel() for p in bn.parameters())


def test_keras_counts_batch_norm_statistics_as_non_trainable_parameters():
    results = get("cnn").compute({"input": [8, 8, 3], "layers": ["Conv3-4", "BN"], "framework": "keras"}).results
    assert (results["params.2"], results["trainable_params.2"], results["non_trainable_params.2"]) == (16, 8, 8)
    assert results["total_params"] == (27 + 1) * 4 + 16 and results["non_trainable_params"] == 8


def test_per_layer_bias_overrides_the_problem_convention():
    on = get("cnn").compute({"input": [5, 5, 2], "layers": [{"type": "conv", "kernel": 3, "filters": 4, "bias": False},
                                                             {"type": "fc", "units": 3}]}).results
    assert on["params.1"] == 3 * 3 * 2 * 4 and on["params.2"] == (3 * 3 * 4 + 1) * 3
    off = get("cnn").compute({"input": [5, 5, 2], "bias": False,
                              "layers": [{"type": "conv", "kernel": 3, "filters": 4, "bias": True}]}).results
    assert off["params.1"] == (3 * 3 * 2 + 1) * 4


# ----------------------------------------------------------------------------- receptive field


def traced(layers: list[dict]) -> list[tuple[int, int, float]]:
    """(rf, jump, start) after each layer, by tracing which input positions reach output 0 and 1 of the
    layer on an unbounded input (pixel i has its centre at i + 0.5)."""
    out = []
    for depth in range(1, len(layers) + 1):
        reached = []
        for unit in (0, 1):
            positions = {unit}
            for layer in reversed(layers[:depth]):
                k, s = layer["kernel"], layer.get("stride", 1)
                p, d = layer.get("padding", 0), layer.get("dilation", 1)
                positions = {j * s - p + d * m for j in positions for m in range(k)}
            reached.append((min(positions), max(positions)))
        (lo, hi), (lo1, _) = reached
        out.append((hi - lo + 1, lo1 - lo, (lo + hi) / 2 + 0.5))
    return out


@st.composite
def rf_stack(draw):
    return [{"kernel": draw(st.integers(1, 7)), "stride": draw(st.integers(1, 3)), "padding": draw(st.integers(0, 3)),
             "dilation": draw(st.integers(1, 3))} for _ in range(draw(st.integers(1, 6)))]


@SETTINGS
@given(rf_stack())
def test_receptive_field_by_tracing_inputs(layers):
    results = get("receptive_field").compute({"layers": layers}).results
    for i, (rf, jump, start) in enumerate(traced(layers), start=1):
        assert results[f"rf.{i}"] == rf and results[f"jump.{i}"] == jump
        assert results[f"start.{i}"] == pytest.approx(start)
    assert results["receptive_field"] == traced(layers)[-1][0]


def test_receptive_field_repeat_equals_writing_the_layer_out():
    layer = {"kernel": 3, "stride": 2, "padding": 1}
    repeated = get("receptive_field").compute({"layers": [{**layer, "repeat": 3}]}).results
    written = get("receptive_field").compute({"layers": [layer] * 3}).results
    assert repeated == written


# ----------------------------------------------------------------------------- conv2d


def correlate(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    windows_ = np.lib.stride_tricks.sliding_window_view(x, k.shape)
    return np.einsum("ijab,ab->ij", windows_, k)


matrices = st.integers(2, 5).flatmap(lambda h: st.integers(2, 5).flatmap(lambda w: st.lists(
    st.lists(st.integers(-4, 4), min_size=w, max_size=w), min_size=h, max_size=h)))


@SETTINGS
@given(matrices, st.integers(1, 3), st.integers(1, 3), st.data(), st.sampled_from(["cross-correlation", "convolution"]))
def test_conv2d_forward_and_gradients_by_finite_differences(x, kh, kw, data, mode):
    x = np.array(x)
    assume(kh <= x.shape[0] and kw <= x.shape[1])
    k = np.array(data.draw(st.lists(st.lists(st.integers(-3, 3), min_size=kw, max_size=kw), min_size=kh, max_size=kh)))
    applied = np.flip(k) if mode == "convolution" else k
    y = correlate(x, applied)
    g = np.array(data.draw(st.lists(st.lists(st.integers(-2, 2), min_size=y.shape[1], max_size=y.shape[1]),
                                    min_size=y.shape[0], max_size=y.shape[0])))
    results = get("conv2d").compute({"input": x.tolist(), "kernel": k.tolist(), "upstream": g.tolist(),
                                     "mode": mode}).results
    assert np.array_equal(np.array(results["output"], dtype=float), y)

    def loss(xx, kk):
        return float(np.sum(g * correlate(xx, np.flip(kk) if mode == "convolution" else kk)))

    grad_x = np.zeros_like(x, dtype=float)
    for idx in np.ndindex(x.shape):  # L is linear in X: a unit finite difference is exact
        bumped = x.astype(float).copy()
        bumped[idx] += 1
        grad_x[idx] = loss(bumped, k) - loss(x, k)
    grad_k = np.zeros_like(k, dtype=float)
    for idx in np.ndindex(k.shape):
        bumped = k.astype(float).copy()
        bumped[idx] += 1
        grad_k[idx] = loss(x, bumped) - loss(x, k)
    assert np.array_equal(np.array(results["grad_input"], dtype=float), grad_x)
    assert np.array_equal(np.array(results["grad_kernel"], dtype=float), grad_k)
    assert results["grad_input_shape"] == x.shape and results["grad_kernel_shape"] == k.shape


# ----------------------------------------------------------------------------- dense, budget, recurrent


@SETTINGS
@given(st.lists(st.integers(1, 40), min_size=2, max_size=6), st.booleans())
def test_dense_counts_by_weight_arrays(sizes, bias):
    results = get("dense").compute({"layers": sizes, "bias": bias}).results
    arrays = [(np.zeros((b, a)), np.zeros(b) if bias else np.zeros(0)) for a, b in zip(sizes, sizes[1:])]
    for i, (w, b) in enumerate(arrays, start=1):
        assert results[f"params.{i}"] == w.size + b.size and results[f"weight_shape.{i}"] == w.shape
    assert results["total"] == sum(w.size + b.size for w, b in arrays)


def _total(sizes, bias=True):
    return sum(a * b + (b if bias else 0) for a, b in zip(sizes, sizes[1:]))


@SETTINGS
@given(st.integers(1, 30), st.integers(1, 10), st.integers(1, 5000), st.booleans())
def test_dense_budget_by_brute_force(n_in, n_out, budget, bias):
    fits = [n for n in range(1, budget + 1) if _total([n_in, n, n_out], bias) <= budget]
    if not fits:
        with pytest.raises(FamilyError):
            get("dense_budget").compute({"inputs": n_in, "outputs": n_out, "budget": budget, "bias": bias})
        return
    results = get("dense_budget").compute({"inputs": n_in, "outputs": n_out, "budget": budget, "bias": bias}).results
    assert results["max_hidden"] == max(fits)
    assert results["params_at_max"] == _total([n_in, max(fits), n_out], bias)


@SETTINGS
@given(st.sampled_from(["rnn", "gru", "lstm"]), st.integers(1, 30), st.integers(1, 30), st.integers(1, 3),
       st.booleans(), st.booleans())
def test_recurrent_counts_by_gate_arrays(cell, x, h, layers, bias, double):
    gates = {"rnn": 1, "gru": 3, "lstm": 4}[cell]
    results = get("recurrent").compute({"cell": cell, "input_size": x, "hidden_size": h, "layers": layers,
                                        "bias": bias, "double_bias": double}).results
    total, size_in = 0, x
    for layer in range(1, layers + 1):
        arrays = [np.zeros((h, size_in)), np.zeros((h, h))] * gates
        if bias:
            arrays += [np.zeros(h)] * gates * (2 if double else 1)
        assert results[f"params.{layer}"] == sum(a.size for a in arrays)
        total += sum(a.size for a in arrays)
        size_in = h
    assert results["total"] == total


def test_recurrent_against_pytorch():
    torch = pytest.importorskip("torch")
    for cell, module in (("rnn", torch.nn.RNN), ("gru", torch.nn.GRU), ("lstm", torch.nn.LSTM)):
        for x, h, layers in ((3, 5, 1), (7, 4, 2), (1, 9, 3)):
            net = module(x, h, num_layers=layers)
            results = get("recurrent").compute({"cell": cell, "input_size": x, "hidden_size": h, "layers": layers,
                                                "double_bias": True}).results
            assert results["total"] == sum(p.numel() for p in net.parameters())


def test_dense_against_pytorch():
    torch = pytest.importorskip("torch")
    sizes = [19, 8, 8, 3]
    net = torch.nn.Sequential(*(torch.nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])))
    assert get("dense").compute({"layers": sizes}).results["total"] == sum(p.numel() for p in net.parameters())


