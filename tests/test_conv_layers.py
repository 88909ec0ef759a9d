"""`conv_layers` against independent oracles: random layer stacks are built in PyTorch (parameters,
forward shapes on zeros, FLOPs by torch's FlopCounterMode, receptive fields by autograd), and without
torch by brute force (sliding-window counts, index tracing for receptive fields) and by hand."""

import math

import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from examcheck.families import FamilyError, get

FAST = settings(max_examples=60, deadline=None)


def solve(g):
    return get("conv_layers").compute(g).results


# ----------------------------------------------------------------------------- hand-worked values


def test_grouped_depthwise_separable_by_hand():
    r = solve({"in_channels": 32, "input_size": [56, 56], "layers": [
        {"type": "conv", "filters": 64, "kernel": 3, "padding": 1, "groups": 4},       # 64·8·9 + 64
        {"type": "depthwise", "kernel": 3, "padding": 1, "stride": 2},                 # 64·9 + 64
        {"type": "separable", "filters": 128, "kernel": 3, "padding": 1}]})           # 64·9 + 64 + 64·128 + 128
    assert [r[f"params.{i}"] for i in (1, 2, 3)] == [4672, 640, 8960]
    assert r["output.2"] == (64, 28, 28) and r["weight_shape.1"] == (64, 8, 3, 3)
    assert r["macs.1"] == 56 * 56 * 64 * 8 * 9
    keras = solve({"in_channels": 32, "input_size": [56, 56], "framework": "keras",
                   "layers": [{"type": "separable", "filters": 128, "kernel": 3, "padding": "same"}]})
    assert keras["params.1"] == 32 * 9 + 32 * 128 + 128  # Keras SeparableConv2D: no depthwise bias
    # MobileNet's cost ratio of a separable to a standard convolution: 1/N + 1/D_K²
    assert keras["macs_ratio.1"] == sp.Rational(1, 128) + sp.Rational(1, 9)
    assert keras["standard_macs.1"] == 56 * 56 * 128 * 32 * 9


def test_transposed_by_hand():
    # (4 − 1)·2 − 2·1 + (3 − 1) + 1 + 1 = 8; weights 16·8·3·3
    r = solve({"in_channels": 16, "input_size": [4, 4], "layers": [
        {"type": "transposed", "filters": 8, "kernel": 3, "stride": 2, "padding": 1, "output_padding": 1}]})
    assert r["output.1"] == (8, 8, 8) and r["params.1"] == 16 * 8 * 9 + 8
    assert "receptive_field" not in r


def test_same_padding_as_pytorch_defines_it():
    r = solve({"in_channels": 1, "input_size": [10, 7], "layers": [{"type": "conv", "filters": 1, "kernel": [4, 3],
                                                                      "padding": "same", "dilation": [1, 2]}]})
    assert r["output.1"] == (1, 10, 7)
    with pytest.raises(FamilyError, match="stride"):
        solve({"in_channels": 1, "input_size": [10], "layers": [{"type": "conv", "filters": 1, "kernel": 3,
                                                                 "padding": "same", "stride": 2}]})
    keras = solve({"in_channels": 1, "input_size": [10], "framework": "keras",
                   "layers": [{"type": "conv", "filters": 1, "kernel": 3, "padding": "same", "stride": 3}]})
    assert keras["output.1"] == (1, 4)


def test_non_square_receptive_field_by_hand():
    r = solve({"in_channels": 1, "input_size": [64, 64], "layers": [
        {"type": "conv", "filters": 1, "kernel": [3, 5], "stride": [1, 2]},
        {"type": "conv", "filters": 1, "kernel": [3, 3], "dilation": [2, 1]}]})
    # height: 3, then + 2·2·1 = 7; width: 5, then + 2·1·2 = 9
    assert r["receptive_field"] == (7, 9) and r["receptive_field.width"] == 9 and r["jump"] == (1, 2)


def test_unknown_and_misspelt_keys_are_rejected():
    for bad in ({"type": "conv", "filters": 1, "kernel": 3, "strides": 2},
                {"type": "pool", "kernel": 2, "groups": 2},
                {"type": "depthwise", "kernel": 3, "filters": 4},
                {"type": "convolution", "kernel": 3}):
        with pytest.raises(FamilyError, match="unknown"):
            solve({"in_channels": 4, "input_size": [8, 8], "layers": [bad]})


def test_layer_schemas_reject_keys_per_layer_type():
    from jsonschema import Draft202012Validator
    schemas = get("conv_layers").layer_schemas

    def errors(layer):
        return list(Draft202012Validator(schemas[layer["type"]]).iter_errors(layer))

    assert not errors({"type": "transposed", "filters": 2, "kernel": 3, "output_padding": 0})
    assert errors({"type": "conv", "filters": 2, "kernel": 3, "output_padding": 1})
    assert errors({"type": "pool", "kernel": 2, "padding": "same"})
    assert errors({"type": "separable", "kernel": 2})  # filters missing


def test_mistakes_are_computed():
    fam = get("conv_layers")
    g = {"in_channels": 8, "input_size": [9, 9], "layers": [
        {"type": "conv", "filters": 8, "kernel": 3, "stride": 2, "padding": 1, "groups": 2},
        {"type": "transposed", "filters": 4, "kernel": 3, "stride": 2, "output_padding": 1}]}
    right = fam.compute(g).results
    wrong = {v.feedback.split(":")[0]: fam.compute(v.given).results for v in fam.variants(g)
             if _solvable(fam, v.given)}
    assert wrong["you left out the biases (one per output channel)"]["total_params"] == right["total_params"] - 12
    assert wrong["the groups were ignored"]["params.1"] == 8 * 8 * 9 + 8
    assert wrong["the padding was ignored"]["output.1"] == (8, 4, 4)
    # (5 − 1)·2 + (3 − 1) + 1 + 1 = 12 with output_padding 1, 11 without
    assert right["output.2"] == (4, 12, 12) and wrong["output_padding was ignored"]["output.2"] == (4, 11, 11)


def _solvable(fam, g):
    try:
        fam.compute(g)
        return True
    except FamilyError:
        return False


# ----------------------------------------------------------------------------- random stacks


@st.composite
def stacks(draw, allow_transposed=True):
    dims = draw(st.integers(1, 3))
    size = [draw(st.integers(4, 12 if dims == 3 else 24)) for _ in range(dims)]
    channels = draw(st.sampled_from([1, 2, 3, 4, 6]))
    per_axis = lambda lo, hi: draw(st.integers(lo, hi) | st.lists(st.integers(lo, hi), min_size=dims,  # noqa: E731
                                                                  max_size=dims))
    kinds = ["conv", "depthwise", "separable", "pool"] + (["transposed"] if allow_transposed else [])
    layers = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(kinds))
        layer = {"type": kind, "kernel": per_axis(1, 4)}
        if draw(st.booleans()):
            layer["stride"] = per_axis(1, 3)
        if draw(st.booleans()):
            layer["dilation"] = per_axis(1, 2)
        if kind in ("conv", "depthwise", "separable") and draw(st.booleans()):
            layer["padding"] = draw(st.sampled_from(["same", "valid"])) if draw(st.booleans()) else per_axis(0, 2)
        elif kind in ("pool", "transposed") and draw(st.booleans()):
            layer["padding"] = per_axis(0, 2)
        if kind in ("conv", "separable", "transposed"):
            layer["filters"] = draw(st.sampled_from([1, 2, 4, 6]))
        if kind in ("conv", "transposed") and draw(st.booleans()):
            layer["groups"] = draw(st.sampled_from([1, 2, 3]))
        if kind in ("depthwise", "separable") and draw(st.booleans()):
            layer["multiplier"] = draw(st.integers(1, 2))
        if kind == "transposed" and draw(st.booleans()):
            layer["output_padding"] = per_axis(0, 1)
        if kind == "pool":
            layer["mode"] = "max" if "dilation" in layer else draw(st.sampled_from(["max", "avg"]))
            if draw(st.booleans()):
                layer["ceil_mode"] = draw(st.booleans())
        if kind != "pool" and draw(st.booleans()):
            layer["bias"] = draw(st.booleans())
        layers.append(layer)
    return {"in_channels": channels, "input_size": size, "layers": layers}


def _axis(value, dims):
    return tuple(value) if isinstance(value, list) else (value,) * dims


def _brute_force_length(n, k, s, d, p, ceil_mode=False):
    """Count the windows that fit, sliding over the padded input; with ceil_mode a window may run past the
    end as long as it starts inside the input or the left padding."""
    span = d * (k - 1) + 1
    if ceil_mode:
        return sum(1 for start in range(0, n + p) if start % s == 0 and (start + span <= n + 2 * p or start < n + p)
                   and start <= n + 2 * p - span + s - 1)
    return sum(1 for start in range(0, n + 2 * p) if start % s == 0 and start + span <= n + 2 * p)


@FAST
@given(stacks(allow_transposed=False))
def test_sizes_and_receptive_fields_by_brute_force(g):
    try:
        r = solve(g)
    except FamilyError:
        assume(False)
    dims = len(g["input_size"])
    size = list(g["input_size"])
    maps = []
    for i, layer in enumerate(g["layers"], start=1):
        k, d = _axis(layer["kernel"], dims), _axis(layer.get("dilation", 1), dims)
        s = _axis(layer.get("stride", layer["kernel"] if layer["type"] == "pool" else 1), dims)
        pad = layer.get("padding", 0)
        if pad == "same":
            p = [(di * (ki - 1)) // 2 for ki, di in zip(k, d)]
            pass  # stride 1 (PyTorch): the size stays
        else:
            p = _axis(0 if pad == "valid" else pad, dims)
            size = [_brute_force_length(n, ki, si, di, pi, layer.get("ceil_mode", False))
                    for n, ki, si, di, pi in zip(size, k, s, d, p)]
        assert r[f"spatial.{i}"] == tuple(size)
        maps.append((k, s, d))
    for axis in range(dims):
        reached = {0}
        for k, s, d in reversed(maps):
            reached = {o * s[axis] + a * d[axis] for o in reached for a in range(k[axis])}
        assert r["receptive_field"][axis] == max(reached) - min(reached) + 1


def _torch():
    return pytest.importorskip("torch")


def _build(torch, g, pool_as_sum=False):
    """The stack as PyTorch modules; pool_as_sum replaces pooling by a sum over the same window
    (a conv of ones), whose gradient reaches every input of the window."""
    nn = torch.nn
    dims = len(g["input_size"])
    conv = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[dims]
    tconv = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}[dims]
    pools = {"max": {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d},
             "avg": {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d}}
    modules, c = [], g["in_channels"]
    for layer in g["layers"]:
        kind, ax = layer["type"], (lambda key, default, layer=layer: _axis(layer.get(key, default), dims))
        k, s, d = ax("kernel", 1), ax("stride", 1), ax("dilation", 1)
        pad = layer.get("padding", 0)
        pad = pad if isinstance(pad, str) else _axis(pad, dims)
        bias = layer.get("bias", True)
        if kind == "conv":
            m = conv(c, layer["filters"], k, s, pad, d, groups=layer.get("groups", 1), bias=bias)
            c = layer["filters"]
        elif kind == "depthwise":
            m = conv(c, c * layer.get("multiplier", 1), k, s, pad, d, groups=c, bias=bias)
            c = c * layer.get("multiplier", 1)
        elif kind == "separable":
            mid = c * layer.get("multiplier", 1)
            m = nn.Sequential(conv(c, mid, k, s, pad, d, groups=c, bias=bias), conv(mid, layer["filters"], 1, bias=bias))
            c = layer["filters"]
        elif kind == "transposed":
            m = tconv(c, layer["filters"], k, s, pad, ax("output_padding", 0), groups=layer.get("groups", 1),
                      bias=bias, dilation=d)
            c = layer["filters"]
        else:
            s = ax("stride", layer["kernel"])
            if pool_as_sum and layer.get("ceil_mode"):
                raise ValueError("a partial last window has no sum-pool equivalent here")
            if pool_as_sum:
                m = conv(c, c, k, s, pad, d, groups=c, bias=False)
            elif layer.get("mode", "max") == "max":
                m = pools["max"][dims](k, s, pad, dilation=d, ceil_mode=layer.get("ceil_mode", False))
            else:
                m = pools["avg"][dims](k, s, pad, ceil_mode=layer.get("ceil_mode", False))
        modules.append(m)
    return modules


@settings(max_examples=100, deadline=None)
@given(stacks())
def test_random_stacks_match_torch(g):
    torch = _torch()
    from torch.utils.flop_counter import FlopCounterMode
    try:
        r = solve(g)
    except FamilyError:
        r = None
    try:
        modules = _build(torch, g)
        x = torch.zeros(1, g["in_channels"], *g["input_size"])
        shapes, flops, inputs = [], [], []
        with torch.no_grad():
            for m in modules:
                inputs.append(tuple(x.shape[2:]))
                with FlopCounterMode(display=False) as counter:
                    x = m(x)
                shapes.append(tuple(x.shape[1:]))
                flops.append(counter.get_total_flops())
                if 0 in x.shape:
                    raise ValueError("PyTorch returns an empty tensor: the family calls that an error")
    except (RuntimeError, ValueError):
        assert r is None, f"torch rejects this stack but the family answered {r and r['output']}"
        return
    assert r is not None, "the family rejects a stack that PyTorch runs"
    for i, (m, shape, f) in enumerate(zip(modules, shapes, flops), start=1):
        assert r[f"output.{i}"] == shape
        assert r[f"params.{i}"] == sum(p.numel() for p in m.parameters())
        assert r[f"flops.{i}"] == f
        if hasattr(m, "weight"):
            assert r[f"weight_shape.{i}"] == tuple(m.weight.shape)
        if f"standard_macs.{i}" in r:  # the standard convolution a separable layer replaces, run in PyTorch
            depthwise = m[0]
            standard = type(depthwise)(depthwise.in_channels, r[f"channels.{i}"], depthwise.kernel_size,
                                       depthwise.stride, depthwise.padding, depthwise.dilation)
            with torch.no_grad(), FlopCounterMode(display=False) as counter:
                standard(torch.zeros(1, depthwise.in_channels, *inputs[i - 1]))
            assert 2 * r[f"standard_macs.{i}"] == counter.get_total_flops()
    assert r["total_params"] == sum(p.numel() for m in modules for p in m.parameters())


@settings(max_examples=30, deadline=None)
@given(stacks(allow_transposed=False))
def test_receptive_field_matches_autograd(g):
    torch = _torch()
    try:
        r = solve(g)
    except FamilyError:
        assume(False)
    dims = len(g["input_size"])
    # an input big enough that the centre output's field is never clipped by the border
    big = [n + 2 * rf for n, rf in zip(g["input_size"], r["receptive_field"])]
    assume(math.prod(big) * g["in_channels"] < 200_000)
    try:
        modules = _build(torch, {**g, "input_size": big}, pool_as_sum=True)
    except (RuntimeError, ValueError):
        assume(False)
    for m in modules:
        for p in m.parameters():
            torch.nn.init.constant_(p, 1.0)
    x = torch.ones(1, g["in_channels"], *big, requires_grad=True)
    y = x
    for m in modules:
        y = m(y)
    centre = tuple(n // 2 for n in y.shape[2:])
    y[(0, 0, *centre)].backward()
    nonzero = x.grad[0].abs().sum(0).nonzero()
    extent = tuple(int(nonzero[:, a].max() - nonzero[:, a].min()) + 1 for a in range(dims))
    # zero padding inside the field can only shrink what autograd sees, never grow it
    assert all(e <= rf for e, rf in zip(extent, r["receptive_field"]))
    if all(layer.get("padding", 0) in (0, "valid") for layer in g["layers"]):
        assert extent == r["receptive_field"]


@FAST
@given(stacks())
def test_every_computed_mistake_solves_or_says_why(g):
    fam = get("conv_layers")
    for variant in fam.variants(g):
        try:
            fam.compute(variant.given)
        except FamilyError as exc:
            assert str(exc)


def test_loader_rejects_a_misspelt_layer_key_with_file_and_line(tmp_path):
    from click.testing import CliRunner

    from examcheck.cli import main
    (tmp_path / "bad.yaml").write_text(
        "exam: bad\ntitle: bad\nproblems:\n  - id: q1\n    title: t\n    family: conv_layers\n    given:\n"
        "      in_channels: 3\n      input_size: [8, 8]\n      layers:\n        - {type: conv, filters: 4, kernel: 3}\n"
        "        - {type: transposed, filters: 4, kernel: 3, strides: 2}\n"
        "    parts:\n      - {id: a, marks: 1, result: params.1, answer: integer}\n")
    result = CliRunner().invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 2
    assert "bad.yaml:12" in result.output and "strides" in result.output and "output_padding" in result.output


def test_an_unusable_layer_is_reported_at_its_line(tmp_path):
    from click.testing import CliRunner

    from examcheck.cli import main
    (tmp_path / "bad.yaml").write_text(
        "exam: bad\ntitle: bad\nproblems:\n  - id: q1\n    title: t\n    family: conv_layers\n    given:\n"
        "      in_channels: 3\n      input_size: [8, 8]\n      layers:\n        - {type: conv, filters: 4, kernel: 3}\n"
        "        - {type: conv, filters: 4, kernel: 3, padding: same, stride: 2}\n"
        "    parts:\n      - {id: a, marks: 1, result: params.1, answer: integer}\n")
    for command in (["check", str(tmp_path)], ["solve", "bad/q1", "--problems", str(tmp_path)]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2, command
        assert "bad.yaml:12" in result.output and "padding='same'" in result.output
