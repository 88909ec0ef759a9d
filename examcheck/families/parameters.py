"""Parameter counts and shapes: dense networks, the largest hidden layer that
fits a budget, and CNN stacks of conv / pool / flatten / FC layers."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from examcheck.families import (
    BiasConventions,
    Conventions,
    Family,
    FamilyError,
    GivenError,
    Result,
    Solution,
    Step,
    Variant,
    register,
)
from examcheck.families.helpers import conv_output


@register
class Dense(Family):
    name = "dense"
    solve_at_load = True
    summary = "an MLP: weights, biases, weight-matrix shapes (with and without the bias trick), totals"
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["layers"],
        "properties": {
            "layers": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 2,
                       "description": "units per layer, input first: [19, 8, 8, 3]"},
            "bias": {"type": "boolean"},
        },
    }

    results = (
        Result("params.{layer}", "integer", "weights + biases of layer {layer} (1 = first after the input)"),
        Result("weight_shape.{layer}", "shape", "W of layer {layer}: (units out, units in)"),
        Result("weight_shape_bias_trick.{layer}", "shape", "W of layer {layer} with the bias column: (out, in + 1)"),
        Result("weights", "integer", "all weights"),
        Result("biases", "integer", "all biases"),
        Result("total", "integer", "all parameters"),
        Result("input_bias_trick", "shape", "the input with a 1 appended: (n_in + 1,)"),
        Result("preactivation.{layer}", "shape", "z of layer {layer}"),
        Result("activation.{layer}", "shape", "a of layer {layer}"),
        Result("activation_bias_trick.{layer}", "shape", "a of hidden layer {layer} with a 1 appended"),
        Result("loss", "shape", "the loss: a scalar, shape ()"),
        Result("last_class_index", "integer", "index of the last class, counting from 0"),
    )
    conventions = BiasConventions
    example = {"layers": [19, 8, 8, 3]}

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        sizes, bias = given["layers"], conventions.bias
        results: dict = {}
        steps = []
        weights = biases = 0
        for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]), start=1):
            w, b = n_in * n_out, n_out if bias else 0
            weights, biases = weights + w, biases + b
            results[f"params.{i}"] = w + b
            results[f"weight_shape.{i}"] = (n_out, n_in)
            results[f"weight_shape_bias_trick.{i}"] = (n_out, n_in + 1)
            steps.append(Step(f"layer {i}: {n_in} → {n_out}",
                              f"{n_out}×({n_in}{' + 1' if bias else ''}) = {w + b}"))
        results.update(weights=weights, biases=biases, total=weights + biases)
        self._forward_shapes(sizes, results)
        steps.append(Step("total", f"{weights} weights + {biases} biases = {weights + biases}"))
        return Solution(results, steps)

    def variants(self, given: dict) -> list[Variant]:
        if given.get("bias", True):
            return [Variant({**given, "bias": False}, "you left out the biases (one per unit)")]
        return []

    def _forward_shapes(self, sizes, results) -> None:
        """Shapes of the forward pass with the bias trick: x_B = [x; 1], z = W x_B, a = f(z), a_B = [a; 1]."""
        results["input_bias_trick"] = (sizes[0] + 1,)
        for i, n in enumerate(sizes[1:], start=1):
            results[f"preactivation.{i}"] = (n,)
            results[f"activation.{i}"] = (n,)
            if i < len(sizes) - 1:
                results[f"activation_bias_trick.{i}"] = (n + 1,)
        results["loss"] = ()
        results["last_class_index"] = sizes[-1] - 1


@register
class DenseBudget(Family):
    name = "dense_budget"
    solve_at_load = True
    summary = "the largest single hidden layer whose MLP fits a parameter budget"
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["inputs", "outputs"],
        "properties": {
            "inputs": {"type": "integer", "minimum": 1},
            "outputs": {"type": "integer", "minimum": 1},
            "budget": {"type": "integer", "minimum": 1},
            "budget_from": {"type": "array", "items": {"type": "integer", "minimum": 1},
                            "description": "layer sizes of a network whose total is the budget"},
            "bias": {"type": "boolean"},
        },
    }

    results = (
        Result("max_hidden", "integer", "the most hidden units that fit the budget"),
        Result("params_at_max", "integer", "parameters of the network with max_hidden units"),
        Result("budget", "integer", "the budget (given, or the total of budget_from)"),
        Result("bound", "number", "the real-valued bound on the hidden units before rounding down"),
    )
    conventions = BiasConventions
    example = {"inputs": 19, "outputs": 3, "budget_from": [19, 8, 8, 8, 3]}

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        n_in, n_out, bias = given["inputs"], given["outputs"], conventions.bias
        steps = []
        if "budget" in given:
            budget = given["budget"]
        elif "budget_from" in given:
            budget = Dense().compute({"layers": given["budget_from"], "bias": bias}).results["total"]
            steps.append(Step("budget", f"the network {given['budget_from']} has {budget} parameters"))
        else:
            raise FamilyError("give budget or budget_from")
        per_unit = n_in + n_out + (1 if bias else 0)
        fixed = n_out if bias else 0
        if budget < per_unit + fixed:
            raise FamilyError("the budget does not fit even one hidden unit")
        best = (budget - fixed) // per_unit
        steps += [
            Step("parameters with n hidden units", f"({n_in}{' + 1' if bias else ''})·n + {n_out}·(n{' + 1' if bias else ''})"
                                                   f" = {per_unit}n{f' + {fixed}' if fixed else ''}"),
            Step("fit the budget", f"{per_unit}n + {fixed} ≤ {budget} ⇒ n ≤ {(budget - fixed) / per_unit:.4g}"
                                   f" ⇒ n = {best} ({per_unit * best + fixed} parameters;"
                                   f" {best + 1} would need {per_unit * (best + 1) + fixed})"),
        ]
        return Solution({"max_hidden": best, "params_at_max": per_unit * best + fixed, "budget": budget,
                         "bound": (budget - fixed) / per_unit}, steps)

    def variants(self, given: dict) -> list[Variant]:
        if given.get("bias", True):
            return [Variant({**given, "bias": False}, "you left out the biases")]
        return []


# ----------------------------------------------------------------------------- CNN stacks

Pair = tuple  # (height, width) values of a per-axis setting


@dataclass
class Layer:
    kind: str  # conv, pool, fc, flatten, batchnorm, gap, elementwise
    size: Pair = (1, 1)
    filters: int = 0
    stride: Pair = (1, 1)
    padding: Pair = (0, 0)  # per axis: 'valid', 'same' or zeros on each side
    dilation: Pair = (1, 1)
    groups: int = 1
    bias: bool | None = None  # None: the problem's `bias` convention
    mode: str = "max"
    label: str = ""


_CONV = re.compile(r"^conv(\d+)(?:x(\d+))?-(\d+)(?:-p(valid|same|\d+))?(?:-s(\d+))?(?:-d(\d+))?$")
_POOL = re.compile(r"^(max|avg)?pool(\d+)(?:x(\d+))?(?:-s(\d+))?$")
_FC = re.compile(r"^(?:fc|dense)(\d+)$")
_NO_PARAMS = {"relu", "sigmoid", "tanh", "softmax", "dropout", "activation"}


def _pair(value) -> Pair:
    return tuple(value) if isinstance(value, list) else (value, value)


def _padding(value) -> Pair:
    pad = _pair(value)
    for p in pad:
        if p not in ("valid", "same") and not (isinstance(p, int) and p >= 0):
            raise FamilyError(f"padding {p!r} is not valid, same or a number of zeros")
    return pad


def parse_layer(spec, pool_stride: str) -> Layer:
    """'Conv4-5-Pvalid-S2', 'Pool3', 'FC5', 'flatten', or a mapping."""
    if isinstance(spec, dict):
        return _layer_from_mapping(spec, pool_stride)
    text = str(spec).strip().replace(" ", "")
    low = text.lower()
    if m := _CONV.match(low):
        kh = int(m.group(1))
        kw = int(m.group(2) or kh)
        pad = m.group(4) or "valid"
        return Layer("conv", (kh, kw), int(m.group(3)), _pair(int(m.group(5) or 1)),
                     _pair(pad if pad in ("valid", "same") else int(pad)), _pair(int(m.group(6) or 1)), label=text)
    if m := _POOL.match(low):
        kh = int(m.group(2))
        kw = int(m.group(3) or kh)
        default = (kh, kw) if pool_stride == "size" else _pair(int(pool_stride))
        stride = _pair(int(m.group(4))) if m.group(4) else default
        return Layer("pool", (kh, kw), stride=stride, mode=m.group(1) or "max", label=text)
    if m := _FC.match(low):
        return Layer("fc", filters=int(m.group(1)), label=text)
    if low == "flatten":
        return Layer("flatten", label=text)
    if low in ("bn", "batchnorm", "batchnorm2d"):
        return Layer("batchnorm", label=text)
    if low in ("gap", "globalavgpool", "globalaveragepooling"):
        return Layer("gap", label=text)
    if low.split("-")[0] in _NO_PARAMS:
        return Layer("elementwise", label=text)
    raise FamilyError(f"cannot read layer {text!r} (expected e.g. Conv4-5-Pvalid-S2, Conv3x1-8-P1-S1-D2, Pool3, "
                      "AvgPool2-S1, FC5, flatten, BN, Dropout, ReLU, GAP; or a mapping with a `type`)")


def _layer_from_mapping(spec: dict, pool_stride: str) -> Layer:
    kind = spec.get("type")
    if kind == "conv":
        return Layer("conv", _pair(spec["kernel"]), spec["filters"], _pair(spec.get("stride", 1)),
                     _padding(spec.get("padding", "valid")), _pair(spec.get("dilation", 1)), spec.get("groups", 1),
                     spec.get("bias"), label=spec.get("name", "conv"))
    if kind == "pool":
        size = _pair(spec["kernel"])
        default = size if pool_stride == "size" else _pair(int(pool_stride))
        return Layer("pool", size, stride=_pair(spec["stride"]) if "stride" in spec else default,
                     mode=spec.get("mode", "max"), padding=_padding(spec.get("padding", 0)),
                     label=spec.get("name", "pool"))
    if kind == "fc":
        return Layer("fc", filters=spec["units"], bias=spec.get("bias"), label=spec.get("name", "fc"))
    if kind in ("flatten", "batchnorm", "gap"):
        return Layer(kind, label=spec.get("name", kind))
    if kind in _NO_PARAMS:
        return Layer("elementwise", label=spec.get("name", kind))
    raise FamilyError(f"unknown layer type {kind!r}")


_POSITIVE = {"type": "integer", "minimum": 1}
_PER_AXIS = {"oneOf": [_POSITIVE, {"type": "array", "items": _POSITIVE, "minItems": 2, "maxItems": 2}],
             "description": "one number, or [height, width]"}
_PAD_ONE = {"oneOf": [{"enum": ["valid", "same"]}, {"type": "integer", "minimum": 0}]}
_PADDING = {"oneOf": [_PAD_ONE, {"type": "array", "items": _PAD_ONE, "minItems": 2, "maxItems": 2}],
            "description": "valid, same, or zeros on each side: one number or [height, width]"}
_NAME = {"type": "string", "description": "a label for the solution"}


def _layer_schema(required: list[str], **properties) -> dict:
    return {"type": "object", "additionalProperties": False, "required": ["type", *required],
            "properties": {"type": {"type": "string"}, "name": _NAME, **properties}}


CNN_LAYER_SCHEMAS = {
    "conv": _layer_schema(
        ["kernel", "filters"], kernel=_PER_AXIS, filters=_POSITIVE, stride=_PER_AXIS, padding=_PADDING,
        dilation=_PER_AXIS, groups={**_POSITIVE, "description": "grouped convolution: channels in and out split "
                                                                 "into this many groups (depthwise: groups = channels)"},
        bias={"type": "boolean", "description": "this layer has biases (default: the problem's `bias`)"}),
    "pool": _layer_schema(["kernel"], kernel=_PER_AXIS, stride=_PER_AXIS, padding=_PADDING,
                          mode={"enum": ["max", "avg"]}),
    "fc": _layer_schema(["units"], units=_POSITIVE,
                        bias={"type": "boolean", "description": "this layer has biases (default: the problem's `bias`)"}),
    "flatten": _layer_schema([]),
    "batchnorm": _layer_schema([]),
    "gap": _layer_schema([]),
    "dropout": _layer_schema([], rate={"type": "number", "minimum": 0, "exclusiveMaximum": 1,
                                       "description": "drop probability (no effect on shapes or parameters)"}),
    **{kind: _layer_schema([]) for kind in ("relu", "sigmoid", "tanh", "softmax")},
    "activation": _layer_schema([], function={"type": "string"}),
}

LAYER_SCHEMA = {
    "type": ["string", "object"],
    "description": "a layer string (Conv4-5-Pvalid-S2, Conv3x1-8-P1-S1-D2, Pool3, AvgPool2-S1, FC5, flatten, BN, "
                   "Dropout, ReLU, GAP) or a mapping with a `type` (see the layer types)",
}


@dataclass(frozen=True)
class CNNConventions(BiasConventions):
    framework: str = field(default="pytorch", metadata={
        "doc": "pytorch or keras (given key `framework`): batch norm has 2C parameters in PyTorch (running "
               "statistics are buffers) and 4C in Keras (2C of them non-trainable)"})


@register
class CNN(Family):
    name = "cnn"
    summary = "a CNN stack: output volume and parameters per layer, and the total"
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["input", "layers"],
        "properties": {
            "input": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 3, "maxItems": 3,
                      "description": "[height, width, channels]"},
            "layers": {"type": "array", "items": LAYER_SCHEMA, "minItems": 1},
            "pool_stride": {"oneOf": [{"enum": ["size"]}, {"type": "integer", "minimum": 1}],
                            "description": "'size' (the default: stride = pool size) or a number"},
            "bias": {"type": "boolean", "description": "layers have biases unless a layer says otherwise"},
            "framework": {"enum": ["pytorch", "keras"]},
        },
    }
    layer_schemas = CNN_LAYER_SCHEMAS
    results = (
        Result("output.{layer}", "shape", "output volume of layer {layer} (height, width, channels), or (units,)"),
        Result("params.{layer}", "integer", "parameters of layer {layer} (as the framework counts them)"),
        Result("trainable_params.{layer}", "integer", "trainable parameters of layer {layer}"),
        Result("non_trainable_params.{layer}", "integer", "non-trainable parameters of layer {layer} (Keras BN)"),
        Result("height.{layer}", "integer", "output height of layer {layer}"),
        Result("width.{layer}", "integer", "output width of layer {layer}"),
        Result("depth.{layer}", "integer", "output channels of layer {layer}"),
        Result("total_params", "integer", "parameters of the whole stack"),
        Result("trainable_params", "integer", "trainable parameters of the whole stack"),
        Result("non_trainable_params", "integer", "non-trainable parameters of the whole stack"),
        Result("output", "shape", "output shape of the last layer"),
    )
    conventions = CNNConventions
    example = {"input": [64, 64, 1], "layers": ["Conv4-5-Pvalid-S2", "Pool3", {"type": "fc", "units": 5}]}
    notes = ("Layers count from 1 after the input. Output sizes use ⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1; "
             "padding `same` gives ⌈n/s⌉. Pooling strides default to the pool size (pool_stride: size).")

    def check_given(self, given: dict) -> list[GivenError]:
        """Every layer parses, and the stack can be computed: found at load time with the layer's position."""
        errors = []
        pool_stride = str(given.get("pool_stride", "size"))
        for i, spec in enumerate(given.get("layers", [])):
            try:
                parse_layer(spec, pool_stride)
            except (FamilyError, KeyError, ValueError) as exc:
                errors.append(GivenError(("layers", i), str(exc)))
        if not errors and "input" in given:
            try:
                self.solve(given, CNNConventions.read(given))
            except FamilyError as exc:
                errors.append(GivenError(("layers", getattr(exc, "layer", 0)), str(exc)))
        return errors

    def solve(self, given: dict, conventions: CNNConventions) -> Solution:
        pool_stride = str(given.get("pool_stride", "size"))
        shape: tuple[int, ...] = tuple(given["input"])
        results: dict = {}
        steps = [Step("input", "×".join(map(str, shape)))]
        totals = {"total_params": 0, "trainable_params": 0, "non_trainable_params": 0}
        for i, spec in enumerate(given["layers"], start=1):
            layer = parse_layer(spec, pool_stride)
            try:
                shape, params, frozen, how = self._apply(layer, shape, conventions)
            except FamilyError as exc:
                exc.layer = i - 1
                raise FamilyError(f"layer {i} ({layer.label or layer.kind}): {exc}") from None
            for key, value in (("total_params", params), ("trainable_params", params - frozen),
                               ("non_trainable_params", frozen)):
                totals[key] += value
            results[f"output.{i}"] = shape
            results[f"params.{i}"] = params
            results[f"trainable_params.{i}"] = params - frozen
            results[f"non_trainable_params.{i}"] = frozen
            if len(shape) == 3:
                results[f"height.{i}"], results[f"width.{i}"], results[f"depth.{i}"] = shape
            steps.append(Step(f"layer {i} ({layer.label or layer.kind})",
                              f"{how} → {'×'.join(map(str, shape))}, {params} parameters"))
        results.update(totals)
        results["output"] = shape
        steps.append(Step("total parameters", str(totals["total_params"])
                          + (f" ({totals['trainable_params']} trainable)" if totals["non_trainable_params"] else "")))
        return Solution(results, steps)

    def variants(self, given: dict) -> list[Variant]:
        out = []
        if given.get("bias", True):
            out.append(Variant({**given, "bias": False}, "you left out the biases (one per filter or unit)"))
        if str(given.get("pool_stride", "size")) == "size":
            out.append(Variant({**given, "pool_stride": 1}, "you pooled with stride 1; pooling here uses stride = pool size"))
        return out

    def _apply(self, layer: Layer, shape, conventions: CNNConventions):
        """(output shape, parameters, non-trainable parameters, how) of one layer."""
        bias = conventions.bias if layer.bias is None else layer.bias
        if layer.kind in ("conv", "pool", "batchnorm", "gap") and len(shape) != 3:
            raise FamilyError(f"a {layer.kind} layer needs a height×width×channels input, not {shape}")
        if layer.kind == "conv":
            h, w, c = shape
            (kh, kw), (sh, sw) = layer.size, layer.stride
            if c % layer.groups or layer.filters % layer.groups:
                raise FamilyError(f"groups = {layer.groups} must divide the {c} input channels and the "
                                  f"{layer.filters} filters")
            oh, fh = conv_output(h, kh, sh, layer.padding[0], layer.dilation[0])
            ow, fw = conv_output(w, kw, sw, layer.padding[1], layer.dilation[1])
            per_filter = kh * kw * (c // layer.groups)
            params = (per_filter + (1 if bias else 0)) * layer.filters
            grouped = f"({c}/{layer.groups})" if layer.groups > 1 else f"{c}"
            how = (f"height {fh}, width {fw}; params ({kh}·{kw}·{grouped}{' + 1' if bias else ''})·{layer.filters}")
            return (oh, ow, layer.filters), params, 0, how
        if layer.kind == "pool":
            h, w, c = shape
            (kh, kw), (sh, sw) = layer.size, layer.stride
            oh, fh = conv_output(h, kh, sh, layer.padding[0])
            ow, fw = conv_output(w, kw, sw, layer.padding[1])
            return (oh, ow, c), 0, 0, f"{layer.mode}-pool {kh}×{kw} stride {sh}×{sw}: height {fh}, width {fw}"
        if layer.kind == "flatten":
            return (math.prod(shape),), 0, 0, "flatten"
        if layer.kind == "batchnorm":
            channels = shape[-1]
            if conventions.framework == "keras":
                return shape, 4 * channels, 2 * channels, (f"batch norm (Keras): γ, β trainable and the moving mean "
                                                           f"and variance non-trainable, 4·{channels}")
            return shape, 2 * channels, 0, (f"batch norm (PyTorch): a scale and a shift per channel, 2·{channels} "
                                            "(running statistics are buffers, not parameters)")
        if layer.kind == "gap":
            return (shape[-1],), 0, 0, "global average pooling: one value per channel"
        if layer.kind == "elementwise":
            return shape, 0, 0, f"{layer.label}: elementwise, no parameters"
        n_in = math.prod(shape)
        params = (n_in + (1 if bias else 0)) * layer.filters
        return (layer.filters,), params, 0, f"fully connected: ({n_in}{' + 1' if bias else ''})·{layer.filters}"


GATES = {"rnn": 1, "gru": 3, "lstm": 4}


@dataclass(frozen=True)
class RecurrentConventions(BiasConventions):
    double_bias: bool = field(default=False, metadata={"doc": "two bias vectors per gate, as PyTorch stores them "
                                                              "(given key `double_bias`)"})


@register
class Recurrent(Family):
    name = "recurrent"
    solve_at_load = True
    summary = "parameters of a recurrent layer (vanilla RNN, GRU, LSTM)"
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["cell", "input_size", "hidden_size"],
        "properties": {
            "cell": {"enum": sorted(GATES)},
            "input_size": {"type": "integer", "minimum": 1},
            "hidden_size": {"type": "integer", "minimum": 1},
            "bias": {"type": "boolean"},
            "double_bias": {"type": "boolean", "description": "two bias vectors per gate, as PyTorch stores them"},
            "layers": {"type": "integer", "minimum": 1, "description": "stacked layers (input of the next = hidden)"},
        },
    }

    results = (
        Result("weights.{layer}", "integer", "input and recurrent weights of stacked layer {layer}"),
        Result("biases.{layer}", "integer", "biases of stacked layer {layer}"),
        Result("params.{layer}", "integer", "parameters of stacked layer {layer}"),
        Result("total", "integer", "parameters of all layers"),
    )
    conventions = RecurrentConventions
    example = {"cell": "lstm", "input_size": 10, "hidden_size": 20}

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        gates, h = GATES[given["cell"]], given["hidden_size"]
        bias_vectors = 0 if not conventions.bias else (2 if conventions.double_bias else 1)
        results: dict = {}
        steps = []
        total = 0
        x = given["input_size"]
        for layer in range(1, given.get("layers", 1) + 1):
            weights, biases = gates * h * (x + h), gates * bias_vectors * h
            results[f"weights.{layer}"], results[f"biases.{layer}"] = weights, biases
            results[f"params.{layer}"] = weights + biases
            steps.append(Step(f"layer {layer} ({given['cell'].upper()}, {gates} gate(s))",
                              f"{gates}·{h}·({x} + {h}) weights + {gates}·{bias_vectors}·{h} biases = {weights + biases}"))
            total += weights + biases
            x = h
        results["total"] = total
        return Solution(results, steps)

    def variants(self, given: dict) -> list[Variant]:
        out = [Variant({**given, "bias": False}, "you left out the biases")]
        if given.get("double_bias"):
            out.append(Variant({**given, "double_bias": False}, "this convention keeps two bias vectors per gate"))
        else:
            out.append(Variant({**given, "double_bias": True}, "one bias vector per gate here (not PyTorch's two)"))
        return out
