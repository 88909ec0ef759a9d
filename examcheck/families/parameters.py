"""Parameter counts and shapes: dense networks, the largest hidden layer that
fits a budget, and CNN stacks of conv / pool / flatten / FC layers."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from examcheck.families import BiasConventions, Conventions, Family, FamilyError, Result, Solution, Step, Variant, register
from examcheck.families.helpers import conv_output


@register
class Dense(Family):
    name = "dense"
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


@dataclass
class Layer:
    kind: str  # conv, pool, fc, flatten
    size: tuple[int, int] = (1, 1)
    filters: int = 0
    stride: int = 1
    padding: str | int = 0
    dilation: int = 1
    mode: str = "max"
    label: str = ""


_CONV = re.compile(r"^conv(\d+)(?:x(\d+))?-(\d+)(?:-p(valid|same|\d+))?(?:-s(\d+))?(?:-d(\d+))?$")
_POOL = re.compile(r"^(max|avg)?pool(\d+)(?:x(\d+))?(?:-s(\d+))?$")
_FC = re.compile(r"^(?:fc|dense)(\d+)$")
_NO_PARAMS = {"relu", "sigmoid", "tanh", "softmax", "dropout", "activation"}


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
        return Layer("conv", (kh, kw), int(m.group(3)), int(m.group(5) or 1),
                     pad if pad in ("valid", "same") else int(pad), int(m.group(6) or 1), label=text)
    if m := _POOL.match(low):
        kh = int(m.group(2))
        kw = int(m.group(3) or kh)
        stride = int(m.group(4)) if m.group(4) else (kh if pool_stride == "size" else int(pool_stride))
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
    raise FamilyError(f"cannot read layer {text!r} (expected e.g. Conv4-5-Pvalid-S2, Pool3, FC5, flatten, BN, "
                      "Dropout, ReLU, GAP)")


def _layer_from_mapping(spec: dict, pool_stride: str) -> Layer:
    kind = spec.get("type")
    kernel = spec.get("kernel", spec.get("size", 1))
    size = tuple(kernel) if isinstance(kernel, list) else (kernel, kernel)
    if kind == "conv":
        return Layer("conv", size, spec["filters"], spec.get("stride", 1), spec.get("padding", "valid"),
                     spec.get("dilation", 1), label=spec.get("name", "conv"))
    if kind == "pool":
        default = size[0] if pool_stride == "size" else int(pool_stride)
        return Layer("pool", size, stride=spec.get("stride", default), mode=spec.get("mode", "max"),
                     padding=spec.get("padding", 0), label=spec.get("name", "pool"))
    if kind == "fc":
        return Layer("fc", filters=spec["units"], label=spec.get("name", "fc"))
    if kind in ("flatten", "batchnorm", "gap"):
        return Layer(kind, label=spec.get("name", kind))
    if kind in _NO_PARAMS:
        return Layer("elementwise", label=spec.get("name", kind))
    raise FamilyError(f"unknown layer type {kind!r}")


LAYER_SCHEMA = {
    "oneOf": [
        {"type": "string"},
        {"type": "object", "required": ["type"],
         "properties": {"type": {"enum": ["conv", "pool", "fc", "flatten", "batchnorm", "gap", "dropout", "relu",
                                          "sigmoid", "tanh", "softmax", "activation"]}}},
    ]
}


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
            "pool_stride": {"type": ["string", "integer"],
                            "description": "'size' (the default: stride = pool size) or a number"},
            "bias": {"type": "boolean"},
        },
    }

    results = (
        Result("output.{layer}", "shape", "output volume of layer {layer} (height, width, channels), or (units,)"),
        Result("params.{layer}", "integer", "parameters of layer {layer}"),
        Result("height.{layer}", "integer", "output height of layer {layer}"),
        Result("width.{layer}", "integer", "output width of layer {layer}"),
        Result("depth.{layer}", "integer", "output channels of layer {layer}"),
        Result("total_params", "integer", "parameters of the whole stack"),
        Result("output", "shape", "output shape of the last layer"),
    )
    conventions = BiasConventions
    example = {"input": [64, 64, 1], "layers": ["Conv4-5-Pvalid-S2", "Pool3", {"type": "fc", "units": 5}]}

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        bias = conventions.bias
        pool_stride = str(given.get("pool_stride", "size"))
        shape: tuple[int, ...] = tuple(given["input"])
        results: dict = {}
        steps = [Step("input", "×".join(map(str, shape)))]
        total = 0
        for i, spec in enumerate(given["layers"], start=1):
            layer = parse_layer(spec, pool_stride)
            shape, params, how = self._apply(layer, shape, bias)
            total += params
            results[f"output.{i}"] = shape
            results[f"params.{i}"] = params
            if len(shape) == 3:
                results[f"height.{i}"], results[f"width.{i}"], results[f"depth.{i}"] = shape
            steps.append(Step(f"layer {i} ({layer.label or layer.kind})",
                              f"{how} → {'×'.join(map(str, shape))}, {params} parameters"))
        results["total_params"] = total
        results["output"] = shape
        steps.append(Step("total parameters", str(total)))
        return Solution(results, steps)

    def variants(self, given: dict) -> list[Variant]:
        out = []
        if given.get("bias", True):
            out.append(Variant({**given, "bias": False}, "you left out the biases (one per filter or unit)"))
        if str(given.get("pool_stride", "size")) == "size":
            out.append(Variant({**given, "pool_stride": 1}, "you pooled with stride 1; pooling here uses stride = pool size"))
        return out

    def _apply(self, layer: Layer, shape, bias: bool):
        if layer.kind == "conv":
            h, w, c = shape
            (kh, kw), s = layer.size, layer.stride
            oh, fh = conv_output(h, kh, s, layer.padding, layer.dilation)
            ow, _ = conv_output(w, kw, s, layer.padding, layer.dilation)
            params = (kh * kw * c + (1 if bias else 0)) * layer.filters
            how = f"{fh}; params ({kh}·{kw}·{c}{' + 1' if bias else ''})·{layer.filters}"
            return (oh, ow, layer.filters), params, how
        if layer.kind == "pool":
            h, w, c = shape
            (kh, kw), s = layer.size, layer.stride
            oh, fh = conv_output(h, kh, s, layer.padding)
            ow, _ = conv_output(w, kw, s, layer.padding)
            return (oh, ow, c), 0, f"{layer.mode}-pool {kh}×{kw} stride {s}: {fh}"
        if layer.kind == "flatten":
            return (math.prod(shape),), 0, "flatten"
        if layer.kind == "batchnorm":
            channels = shape[-1]
            return shape, 2 * channels, f"batch norm: a scale and a shift per channel, 2·{channels}"
        if layer.kind == "gap":
            return (shape[-1],), 0, "global average pooling: one value per channel"
        if layer.kind == "elementwise":
            return shape, 0, f"{layer.label}: elementwise, no parameters"
        n_in = math.prod(shape)
        params = (n_in + (1 if bias else 0)) * layer.filters
        return (layer.filters,), params, f"fully connected: ({n_in}{' + 1' if bias else ''})·{layer.filters}"


GATES = {"rnn": 1, "gru": 3, "lstm": 4}


@dataclass(frozen=True)
class RecurrentConventions(BiasConventions):
    double_bias: bool = field(default=False, metadata={"doc": "two bias vectors per gate, as PyTorch stores them "
                                                              "(given key `double_bias`)"})


@register
class Recurrent(Family):
    name = "recurrent"
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
