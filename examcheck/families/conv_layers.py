"""Convolution layers as PyTorch defines them, in 1-D, 2-D and 3-D: standard,
grouped, depthwise, depthwise-separable and transposed convolutions, and
pooling, with kernel, stride, padding and dilation given per axis.

For each layer: the output shape, the parameters (weights and biases, and the
weight tensor's shape), multiply-accumulates and FLOPs, and the receptive
field and jump per axis.

Conventions (stated so an exam can rely on them):

* The input is ``in_channels`` channels of size ``input_size`` ([L], [H, W] or
  [D, H, W]).  Shapes are reported channels-first, (C, H, W) as PyTorch does,
  or (H, W, C) with ``layout: channels_last``; with ``batch`` they start with N.
* ``padding`` is a number of zeros on each side (per axis), ``'valid'`` (no
  padding) or ``'same'``.  PyTorch allows ``'same'`` only with stride 1 (output
  size = input size; the total padding d·(k−1) puts the extra zero at the end);
  with ``framework: keras`` a strided ``'same'`` gives ⌈n/s⌉ as TensorFlow does.
* A ``separable`` layer is a depthwise convolution (``multiplier`` filters per
  input channel) followed by a 1×1 pointwise convolution.  Under PyTorch it is
  two Conv layers and both have biases; Keras' SeparableConv has no depthwise
  bias.  ``depthwise_bias`` overrides either.
* One multiply-accumulate (MAC) is ``flops_per_mac`` FLOPs (2 by default).
  Bias additions and pooling are not counted.  A convolution costs
  N·C_out·∏(output size)·(C_in/groups)·∏k MACs; a transposed convolution
  N·C_in·∏(input size)·(C_out/groups)·∏k.
* The receptive field grows by d·(k−1)·jump per layer and the jump multiplies
  by the stride (given per axis); it is not defined past a transposed layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import sympy as sp

from examcheck.families import Conventions, Family, FamilyError, Result, Solution, Step, Variant, register
from examcheck.families.helpers import expand_repeats, walk_layers
from examcheck.values import show

AXIS_NAMES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}
SIZE = {"type": "integer", "minimum": 1, "maximum": 100000}
PER_AXIS = {"oneOf": [SIZE, {"type": "array", "items": SIZE, "minItems": 1, "maxItems": 3}],
            "description": "one number for every axis, or one per axis: [height, width]"}
PADDING = {"oneOf": [{"type": "integer", "minimum": 0, "maximum": 100000},
                     {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 100000},
                      "minItems": 1, "maxItems": 3},
                     {"enum": ["same", "valid"]}],
           "description": "zeros on each side (one number, or one per axis), 'valid' or 'same'"}
COMMON = {"name": {"type": "string"}, "kernel": PER_AXIS, "stride": PER_AXIS, "dilation": PER_AXIS,
          "repeat": {"type": "integer", "minimum": 1, "maximum": 100, "description": "this layer n times in a row"}}

# Every layer type's allowed keys: a key not listed here is an error, never ignored.
LAYER_TYPES: dict[str, dict] = {
    "conv": {"required": ["filters", "kernel"],
             "properties": {**COMMON, "filters": {**SIZE, "description": "output channels"}, "padding": PADDING,
                            "groups": {**SIZE, "description": "input and output channels split into groups"},
                            "bias": {"type": "boolean"}},
             "description": "a (grouped) convolution, nn.Conv1d/2d/3d"},
    "depthwise": {"required": ["kernel"],
                  "properties": {**COMMON, "padding": PADDING, "bias": {"type": "boolean"},
                                 "multiplier": {**SIZE, "description": "filters per input channel (default 1)"}},
                  "description": "a depthwise convolution: groups = in_channels, multiplier·in_channels outputs"},
    "separable": {"required": ["filters", "kernel"],
                  "properties": {**COMMON, "filters": {**SIZE, "description": "output channels of the pointwise conv"},
                                 "padding": PADDING, "bias": {"type": "boolean", "description": "pointwise bias"},
                                 "depthwise_bias": {"type": "boolean"},
                                 "multiplier": {**SIZE, "description": "depthwise filters per input channel"}},
                  "description": "depthwise then 1×1 pointwise convolution"},
    "transposed": {"required": ["filters", "kernel"],
                   "properties": {**COMMON, "filters": {**SIZE, "description": "output channels"},
                                  "padding": {"oneOf": [PADDING["oneOf"][0], PADDING["oneOf"][1]],
                                              "description": "zeros removed from each side (one per axis)"},
                                  "output_padding": {"oneOf": [{"type": "integer", "minimum": 0},
                                                               {"type": "array", "minItems": 1, "maxItems": 3,
                                                                "items": {"type": "integer", "minimum": 0}}],
                                                     "description": "extra size added on one side"},
                                  "groups": SIZE, "bias": {"type": "boolean"}},
                   "description": "a transposed convolution, nn.ConvTranspose1d/2d/3d"},
    "pool": {"required": ["kernel"],
             "properties": {**COMMON, "padding": {"oneOf": [PADDING["oneOf"][0], PADDING["oneOf"][1]]},
                            "mode": {"enum": ["max", "avg"]},
                            "ceil_mode": {"type": "boolean", "description": "round the output size up, as PyTorch's "
                                                                            "ceil_mode (a window must start inside "
                                                                            "the input or left padding)"}},
             "description": "max or average pooling (stride defaults to the kernel size)"},
}


def mapping_schema(kind: str) -> dict:
    """The JSON Schema of one layer type's mapping."""
    spec = LAYER_TYPES[kind]
    return {"type": "object", "additionalProperties": False, "required": ["type", *spec["required"]],
            "description": spec["description"], "properties": {"type": {"const": kind}, **spec["properties"]}}


def layer_item_schema() -> dict:
    """An entry of `layers`: a mapping with a `type`; each type's keys are in `layer_schemas`."""
    return {"type": "object", "required": ["type"], "properties": {"type": {"enum": sorted(LAYER_TYPES)}},
            "description": "a layer: {type: conv|depthwise|separable|transposed|pool, ...}; the keys allowed "
                           "depend on the type"}


@dataclass(frozen=True)
class Layer:
    kind: str
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: str | tuple[int, ...]
    filters: int = 0
    groups: int = 1
    multiplier: int = 1
    output_padding: tuple[int, ...] = ()
    ceil_mode: bool = False
    bias: bool = True
    depthwise_bias: bool = True
    label: str = ""


def _per_axis(value, dims: int, what: str, label: str) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * dims
    if isinstance(value, list) and len(value) == dims and all(isinstance(v, int) for v in value):
        return tuple(value)
    raise FamilyError(f"{label}: {what} must be one number or a list of {dims} (one per axis: "
                      f"{', '.join(AXIS_NAMES[dims])}), not {value!r}")


def read_layer(spec, dims: int, index: int, bias: bool, framework: str) -> Layer:
    if not isinstance(spec, dict) or spec.get("type") not in LAYER_TYPES:
        kind = spec.get("type") if isinstance(spec, dict) else spec
        raise FamilyError(f"layer {index}: unknown layer type {kind!r} (expected one of {', '.join(LAYER_TYPES)})")
    kind = spec["type"]
    allowed = {"type", *LAYER_TYPES[kind]["properties"]}
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise FamilyError(f"layer {index} ({kind}): unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")
    for key in LAYER_TYPES[kind]["required"]:
        if key not in spec:
            raise FamilyError(f"layer {index} ({kind}): missing {key!r}")
    label = f"layer {index} ({spec.get('name', kind)})"
    kernel = _per_axis(spec["kernel"], dims, "kernel", label)
    stride = _per_axis(spec.get("stride", spec["kernel"] if kind == "pool" else 1), dims, "stride", label)
    dilation = _per_axis(spec.get("dilation", 1), dims, "dilation", label)
    padding = spec.get("padding", 0)
    if padding in ("same", "valid") and kind in ("pool", "transposed"):
        raise FamilyError(f"{label}: padding of a {kind} layer is a number of zeros (per axis), not {padding!r}")
    if kind == "pool" and spec.get("mode") == "avg" and spec.get("dilation", 1) != 1:
        raise FamilyError(f"{label}: average pooling has no dilation")
    padding = padding if padding in ("same", "valid") else _per_axis(padding, dims, "padding", label)
    output_padding = _per_axis(spec.get("output_padding", 0), dims, "output_padding", label)
    layer_bias = spec.get("bias", bias) and kind != "pool"
    depthwise_bias = spec.get("depthwise_bias", layer_bias if framework == "pytorch" else False)
    return Layer(kind, kernel, stride, dilation, padding, spec.get("filters", 0), spec.get("groups", 1),
                 spec.get("multiplier", 1), output_padding, spec.get("ceil_mode", False), layer_bias, depthwise_bias,
                 spec.get("name", kind))


# ----------------------------------------------------------------------------- output sizes


def conv_length(n: int, k: int, s: int, d: int, padding, framework: str, where: str,
                ceil_mode: bool = False) -> tuple[int, int, str]:
    """Output length along one axis of a convolution or pooling: (length, total padding, formula)."""
    k_eff = d * (k - 1) + 1
    if padding == "same":
        if s == 1:
            return n, k_eff - 1, f"'same', stride 1: {n}"
        if framework != "keras":
            raise FamilyError(f"{where}: PyTorch rejects padding='same' with stride {s} > 1 "
                              "(say framework: keras for TensorFlow's ⌈n/s⌉)")
        out = -(-n // s)
        return out, max((out - 1) * s + k_eff - n, 0), f"'same' (TensorFlow): ⌈{n}/{s}⌉ = {out}"
    p = 0 if padding == "valid" else padding
    k_text = f"{d}·({k} − 1) + 1" if d > 1 else str(k)
    if n + 2 * p < k_eff and not ceil_mode:
        raise FamilyError(f"{where}: the kernel spans {k_eff} but the padded input is only {n + 2 * p}")
    if ceil_mode:
        out = -(-(n + 2 * p - k_eff) // s) + 1
        note = ""
        if (out - 1) * s >= n + p:  # PyTorch: the last window must start inside the input or the left padding
            out -= 1
            note = " (the last window would start in the right padding: dropped)"
        if out < 1:
            raise FamilyError(f"{where}: the output would be empty")
        return out, 2 * p, f"⌈({n} + 2·{p} − {k_text})/{s}⌉ + 1 = {out}{note}"
    out = (n + 2 * p - k_eff) // s + 1
    return out, 2 * p, f"⌊({n} + 2·{p} − {k_text})/{s}⌋ + 1 = {out}"


def transposed_length(n: int, k: int, s: int, d: int, p: int, op: int, where: str) -> tuple[int, str]:
    if op >= max(s, d):
        raise FamilyError(f"{where}: output_padding {op} must be smaller than the stride or the dilation")
    out = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
    if out < 1:
        raise FamilyError(f"{where}: the output would be empty ({out})")
    return out, f"({n} − 1)·{s} − 2·{p} + {d}·({k} − 1) + {op} + 1 = {out}"


@dataclass
class LayerResult:
    channels: int
    size: tuple[int, ...]
    weights: int
    biases: int
    macs: int
    how: list[str]
    weight_shape: dict
    standard_macs: int | None = None  # a separable layer: the MACs of the standard convolution it replaces


def apply_layer(layer: Layer, channels: int, size: tuple[int, ...], batch: int, framework: str,
                where: str) -> LayerResult:
    kp = math.prod(layer.kernel)
    if layer.kind == "transposed":
        g = layer.groups
        _check_groups(channels, layer.filters, g, where)
        lengths = [transposed_length(n, k, s, d, p, op, where) for n, k, s, d, p, op in
                   zip(size, layer.kernel, layer.stride, layer.dilation, layer.padding, layer.output_padding)]
        out = tuple(n for n, _ in lengths)
        weights = channels * (layer.filters // g) * kp
        biases = layer.filters if layer.bias else 0
        macs = batch * channels * math.prod(size) * (layer.filters // g) * kp
        how = [f"{axis}: {formula}" for axis, (_, formula) in zip(AXIS_NAMES[len(size)], lengths)]
        how.append(f"weights {channels}·({layer.filters}/{g})·{_prod_text(layer.kernel)} = {weights}"
                   + (f", biases {biases}" if biases else ""))
        return LayerResult(layer.filters, out, weights, biases, macs, how,
                           {"": (channels, layer.filters // g, *layer.kernel)})
    paddings = (layer.padding,) * len(size) if isinstance(layer.padding, str) else layer.padding
    lengths = [conv_length(n, k, s, d, p, framework, where, layer.ceil_mode)
               for n, k, s, d, p in zip(size, layer.kernel, layer.stride, layer.dilation, paddings)]
    out = tuple(n for n, _, _ in lengths)
    how = [f"{axis}: {formula}" for axis, (_, _, formula) in zip(AXIS_NAMES[len(size)], lengths)]
    positions = batch * math.prod(out)
    if layer.kind == "pool":
        for k, p in zip(layer.kernel, paddings):
            if 2 * p > k:
                raise FamilyError(f"{where}: pooling padding {p} is more than half the kernel size {k} "
                                  "(PyTorch rejects it)")
        return LayerResult(channels, out, 0, 0, 0, how + ["pooling has no parameters"], {})
    if layer.kind == "conv":
        g = layer.groups
        _check_groups(channels, layer.filters, g, where)
        weights = layer.filters * (channels // g) * kp
        biases = layer.filters if layer.bias else 0
        how.append(f"weights {layer.filters}·({channels}/{g})·{_prod_text(layer.kernel)} = {weights}"
                   + (f", biases {biases}" if biases else ""))
        return LayerResult(layer.filters, out, weights, biases, positions * layer.filters * (channels // g) * kp, how,
                           {"": (layer.filters, channels // g, *layer.kernel)})
    depth_out = channels * layer.multiplier
    if layer.kind == "depthwise":
        biases = depth_out if layer.bias else 0
        how.append(f"depthwise: {channels}·{layer.multiplier} filters of {_prod_text(layer.kernel)} = "
                   f"{depth_out * kp} weights" + (f", biases {biases}" if biases else ""))
        return LayerResult(depth_out, out, depth_out * kp, biases, positions * depth_out * kp, how,
                           {"": (depth_out, 1, *layer.kernel)})
    # separable: depthwise, then pointwise 1×1
    dw_w, dw_b = depth_out * kp, depth_out if layer.depthwise_bias else 0
    pw_w, pw_b = depth_out * layer.filters, layer.filters if layer.bias else 0
    how.append(f"depthwise {depth_out}·{_prod_text(layer.kernel)} = {dw_w}" + (f" + {dw_b} biases" if dw_b else "")
               + f"; pointwise {depth_out}·{layer.filters} = {pw_w}" + (f" + {pw_b} biases" if pw_b else ""))
    macs = positions * (depth_out * kp + depth_out * layer.filters)
    standard = positions * layer.filters * channels * kp
    how.append(f"a standard {_prod_text(layer.kernel)} convolution would need {standard} MACs: ratio "
               f"{show(sp.Rational(macs, standard))}" + (f" = 1/{layer.filters} + 1/{kp}" if layer.multiplier == 1
                                                          else ""))
    return LayerResult(layer.filters, out, dw_w + pw_w, dw_b + pw_b, macs, how,
                       {"depthwise": (depth_out, 1, *layer.kernel), "pointwise": (layer.filters, depth_out,
                                                                                   *(1,) * len(size))}, standard)


def _check_groups(channels: int, filters: int, groups: int, where: str) -> None:
    if channels % groups or filters % groups:
        raise FamilyError(f"{where}: groups {groups} must divide both the input channels {channels} "
                          f"and the output channels {filters}")


def _prod_text(kernel) -> str:
    return "·".join(map(str, kernel))


# ----------------------------------------------------------------------------- the family


@dataclass(frozen=True)
class ConvConventions(Conventions):
    bias: bool = field(default=True, metadata={"doc": "layers have biases unless a layer says bias: false "
                                                      "(given `bias`)"})
    framework: str = field(default="pytorch", metadata={"doc": "pytorch: 'same' only with stride 1, separable = two "
                                                               "convs with biases; keras: 'same' gives ⌈n/s⌉, no "
                                                               "depthwise bias (given `framework`)"})
    layout: str = field(default="channels_first", metadata={"doc": "shapes (C, H, W) or channels_last (H, W, C) "
                                                                    "(given `layout`)"})
    flops_per_mac: int = field(default=2, metadata={"doc": "FLOPs per multiply-accumulate (given `flops_per_mac`)"})


@register
class ConvLayers(Family):
    name = "conv_layers"
    solve_at_load = True  # cheap: given values it cannot use are reported at load, with the line
    summary = ("1-D/2-D/3-D convolution stacks as PyTorch defines them: grouped, depthwise, separable, transposed "
               "and pooling layers with per-axis kernel/stride/padding/dilation; shapes, parameters, MACs/FLOPs, "
               "receptive fields")
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["in_channels", "input_size", "layers"],
        "properties": {
            "in_channels": {**SIZE, "description": "channels of the input"},
            "input_size": {"oneOf": [SIZE, {"type": "array", "items": SIZE, "minItems": 1, "maxItems": 3}],
                           "description": "spatial size: [length], [height, width] or [depth, height, width]"},
            "layers": {"type": "array", "items": layer_item_schema(), "minItems": 1, "maxItems": 200},
            "batch": {**SIZE, "description": "N; when given, shapes start with it and MACs count the batch"},
            "layout": {"enum": ["channels_first", "channels_last"],
                       "description": "shapes as (C, H, W) (the default, PyTorch) or (H, W, C)"},
            "bias": {"type": "boolean", "description": "biases in every layer (default true)"},
            "framework": {"enum": ["pytorch", "keras"],
                          "description": "pytorch (default) or keras: 'same' with stride, separable biases"},
            "flops_per_mac": {"enum": [1, 2], "description": "FLOPs per multiply-accumulate (default 2)"},
        },
    }
    layer_schemas = {kind: mapping_schema(kind) for kind in LAYER_TYPES}
    results = (
        Result("output.{layer}", "shape", "output of layer {layer} (repeats expanded): (C, *size), or (*size, C) "
                                          "with layout: channels_last; with batch, N first"),
        Result("channels.{layer}", "integer", "output channels of layer {layer}"),
        Result("spatial.{layer}", "shape", "output size of layer {layer} without channels: (L), (H, W) or (D, H, W)"),
        Result("params.{layer}", "integer", "weights + biases of layer {layer}"),
        Result("weights.{layer}", "integer", "weights of layer {layer}"),
        Result("biases.{layer}", "integer", "biases of layer {layer}"),
        Result("weight_shape.{layer}", "shape", "PyTorch weight tensor of layer {layer}: conv (C_out, C_in/groups, "
                                                "*k), transposed (C_in, C_out/groups, *k)"),
        Result("weight_shape.{layer}.{part}", "shape", "of a separable layer: depthwise or pointwise"),
        Result("macs.{layer}", "integer", "multiply-accumulates of layer {layer}"),
        Result("flops.{layer}", "integer", "flops_per_mac × macs.{layer}"),
        Result("standard_macs.{layer}", "integer", "a separable layer: MACs of the standard convolution with the "
                                                   "same kernel, input and output channels"),
        Result("macs_ratio.{layer}", "number", "a separable layer: its MACs / standard_macs (1/C_out + 1/∏k "
                                               "with multiplier 1)"),
        Result("rf.{layer}", "shape", "receptive field per axis after layer {layer} (not past a transposed layer)"),
        Result("rf.{layer}.{axis}", "integer", "receptive field along length, height, width or depth"),
        Result("jump.{layer}", "shape", "distance between neighbouring outputs of layer {layer}, per axis, in inputs"),
        Result("output", "shape", "the last layer's output"),
        Result("total_params", "integer", "parameters of all layers"),
        Result("total_macs", "integer", "multiply-accumulates of all layers"),
        Result("total_flops", "integer", "flops_per_mac × total_macs"),
        Result("receptive_field", "shape", "receptive field of the last layer per axis"),
        Result("receptive_field.{axis}", "integer", "receptive field along length, height, width or depth"),
        Result("jump", "shape", "the last layer's jump per axis"),
    )
    conventions = ConvConventions
    example = {"in_channels": 3, "input_size": [32, 24], "layers": [
        {"type": "conv", "filters": 8, "kernel": [3, 5], "stride": [1, 2], "padding": [1, 2]},
        {"type": "depthwise", "kernel": 3, "padding": "same", "multiplier": 2},
        {"type": "separable", "filters": 16, "kernel": 3, "stride": 2, "padding": 1},
        {"type": "pool", "kernel": 2, "mode": "max"}]}
    notes = ("Layers follow PyTorch's nn.ConvNd / nn.ConvTransposeNd / pooling. Shapes are channels-first without "
             "the batch unless `batch` is given. One multiply-accumulate = flops_per_mac FLOPs (2); biases and "
             "pooling are not counted. Transposed output: (n − 1)·s − 2p + d·(k − 1) + output_padding + 1.")

    def solve(self, given: dict, conventions: ConvConventions) -> Solution:
        size = given["input_size"]
        size = (size,) if isinstance(size, int) else tuple(size)
        dims, channels = len(size), given["in_channels"]
        batch = given.get("batch", 1)
        framework = conventions.framework
        per_mac = conventions.flops_per_mac
        layers = expand_repeats(given["layers"])
        results: dict = {}
        steps = [Step("input", show(self._shape(given, conventions, channels, size)))]
        totals = {"params": 0, "macs": 0}
        rf, jump, rf_defined = (1,) * dims, (1,) * dims, True
        for at in walk_layers(given["layers"]):
            i, spec = at.number, at.spec
            try:
                layer = read_layer(spec, dims, i, conventions.bias, framework)
                where = f"layer {i} ({layer.label})"
                done = apply_layer(layer, channels, size, batch, framework, where)
            except FamilyError as exc:
                exc.path = ("layers", at.entry)  # the loader points at this layer's line
                raise
            channels, size = done.channels, done.size
            params = done.weights + done.biases
            totals["params"] += params
            totals["macs"] += done.macs
            results[f"output.{i}"] = self._shape(given, conventions, channels, size)
            results[f"channels.{i}"] = channels
            results[f"spatial.{i}"] = size
            results[f"params.{i}"] = params
            results[f"weights.{i}"] = done.weights
            results[f"biases.{i}"] = done.biases
            results[f"macs.{i}"] = done.macs
            results[f"flops.{i}"] = per_mac * done.macs
            if done.standard_macs:
                results[f"standard_macs.{i}"] = done.standard_macs
                results[f"macs_ratio.{i}"] = sp.Rational(done.macs, done.standard_macs)
            for part, shape in done.weight_shape.items():
                results[f"weight_shape.{i}" + (f".{part}" if part else "")] = shape
            if layer.kind == "transposed":
                rf_defined = False
            if rf_defined:
                rf = tuple(r + d * (k - 1) * j for r, k, d, j in zip(rf, layer.kernel, layer.dilation, jump))
                jump = tuple(j * s for j, s in zip(jump, layer.stride))
                results[f"rf.{i}"], results[f"jump.{i}"] = rf, jump
                self._per_axis_results(results, f"rf.{i}", rf)
            steps.append(Step(where, "; ".join(done.how) + f" → {show(results[f'output.{i}'])}, {params} parameters, "
                                                           f"{done.macs} MACs"))
        results["output"] = results[f"output.{len(layers)}"]
        results["total_params"] = totals["params"]
        results["total_macs"] = totals["macs"]
        results["total_flops"] = per_mac * totals["macs"]
        steps.append(Step("totals", f"{totals['params']} parameters; {totals['macs']} MACs = "
                                    f"{per_mac * totals['macs']} FLOPs ({per_mac} per MAC; biases and pooling "
                                    "not counted)"))
        if rf_defined:
            results["receptive_field"] = rf
            results["jump"] = jump
            self._per_axis_results(results, "receptive_field", rf)
            steps.append(Step("receptive field", "r ← r + d·(k − 1)·j, j ← j·s per axis: "
                                                 + ", ".join(f"{a} {r}" for a, r in zip(AXIS_NAMES[dims], rf))))
        return Solution(results, steps)

    @staticmethod
    def _per_axis_results(results: dict, prefix: str, values: tuple) -> None:
        for axis, value in zip(AXIS_NAMES[len(values)], values):
            results[f"{prefix}.{axis}"] = value

    @staticmethod
    def _shape(given: dict, conventions: ConvConventions, channels: int, size: tuple) -> tuple:
        shape = (*size, channels) if conventions.layout == "channels_last" else (channels, *size)
        return (given["batch"], *shape) if "batch" in given else shape

    def variants(self, given: dict) -> list[Variant]:
        layers = given["layers"]

        def with_layers(change) -> list[dict]:
            return [change(dict(layer)) if isinstance(layer, dict) else layer for layer in layers]

        out = []
        if given.get("bias", True) or any(isinstance(lay, dict) and lay.get("bias") for lay in layers):
            out.append(Variant({**given, "bias": False, "layers": with_layers(lambda d: _drop(d, "bias"))},
                               "you left out the biases (one per output channel)"))
        changes = [
            ("stride", lambda d: d if d.get("type") == "pool" else _set(d, "stride", 1),
             "the stride was ignored: divide by it (⌊(n + 2p − k)/s⌋ + 1)"),
            ("padding", lambda d: _set(d, "padding", 0),
             "the padding was ignored: add 2p to the input size"),
            ("dilation", lambda d: _set(d, "dilation", 1),
             "the dilation was ignored: the kernel spans d·(k − 1) + 1"),
            ("output_padding", lambda d: _set(d, "output_padding", 0),
             "output_padding was ignored: it adds to the transposed convolution's output size"),
            ("groups", lambda d: _set(d, "groups", 1),
             "the groups were ignored: each filter sees only in_channels/groups channels"),
        ]
        for key, change, feedback in changes:
            neutral = (None, 1) if key in ("stride", "dilation", "groups") else (None, 0, "valid")
            if any(isinstance(lay, dict) and lay.get(key) not in neutral for lay in layers):
                out.append(Variant({**given, "layers": with_layers(change)}, feedback))
        if any(isinstance(lay, dict) and lay.get("type") == "separable" for lay in layers):
            out.append(Variant({**given, "layers": with_layers(_separable_as_conv)},
                               "a depthwise-separable layer is a depthwise conv then a 1×1 conv, "
                               "not one full convolution"))
        if any(isinstance(lay, dict) and lay.get("type") == "transposed" for lay in layers):
            out.append(Variant({**given, "layers": with_layers(_transposed_as_conv)},
                               "that is the convolution formula; a transposed convolution's output is "
                               "(n − 1)·s − 2p + d·(k − 1) + output_padding + 1"))
        if any(isinstance(lay, dict) and lay.get("type") == "depthwise" for lay in layers):
            out.append(Variant({**given, "layers": self._depthwise_as_conv(given)},
                               "a depthwise convolution filters each channel separately (groups = channels)"))
        if given.get("flops_per_mac", 2) == 2:
            out.append(Variant({**given, "flops_per_mac": 1},
                               "that counts multiply-accumulates; one MAC is 2 FLOPs here"))
        return out

    def _depthwise_as_conv(self, given: dict) -> list:
        """Each depthwise layer as a full convolution with the same number of output channels."""
        layers = expand_repeats(given["layers"])
        try:
            solved = self.compute({**given, "layers": layers}).results
        except FamilyError:
            return layers
        channels = [given["in_channels"]] + [solved[f"channels.{i}"] for i in range(1, len(layers))]
        out = []
        for c, layer in zip(channels, layers):
            if isinstance(layer, dict) and layer.get("type") == "depthwise":
                layer = {**_drop(dict(layer), "multiplier", "repeat"), "type": "conv",
                         "filters": c * layer.get("multiplier", 1)}
            out.append(layer)
        return out


def _drop(layer: dict, *keys: str) -> dict:
    for key in keys:
        layer.pop(key, None)
    return layer


def _set(layer: dict, key: str, value) -> dict:
    if key in layer:
        layer[key] = value
    return layer


def _separable_as_conv(layer: dict) -> dict:
    if layer.get("type") != "separable":
        return layer
    return {k: v for k, v in {**layer, "type": "conv"}.items() if k not in ("multiplier", "depthwise_bias")}


def _transposed_as_conv(layer: dict) -> dict:
    if layer.get("type") != "transposed":
        return layer
    return {k: v for k, v in {**layer, "type": "conv"}.items() if k != "output_padding"}

