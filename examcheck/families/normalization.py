"""Normalisation and regularisation: batch norm in training and inference mode
(PyTorch and Keras conventions, parameter and buffer counts), inverted dropout,
and L1/L2 weight penalties with their gradients and one SGD step."""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from examcheck.families import Conventions, Family, FamilyError, GivenError, Result, Solution, Step, Variant, register
from examcheck.families._numbers import bounded, number_errors, tidy
from examcheck.values import exact, show

NUMBER = {"type": ["number", "string"]}
VECTOR = {"type": "array", "items": NUMBER, "minItems": 1}
MAX_ENTRIES = 5_000


def _depth(value) -> int:
    return 1 + _depth(value[0]) if isinstance(value, list) and value else 0


def _channels_of(inputs) -> tuple[list[list], int]:
    """Per-channel values of an (N, C), (N, C, L) or (N, C, H, W) nested list (channel = axis 1);
    a flat list is N values of one channel."""
    if isinstance(inputs, list) and inputs and not any(isinstance(v, list) for v in inputs):
        inputs = [[v] for v in inputs]
    depth = _depth(inputs)
    if depth not in (2, 3, 4):
        raise FamilyError("inputs must be a batch: rows (N×C), or N×C×L, or N×C×H×W")
    width = len(inputs[0])
    if any(not isinstance(row, list) or len(row) != width for row in inputs):
        raise FamilyError("every sample must have the same number of channels")

    def flat(v):
        if isinstance(v, list):
            return [x for item in v for x in flat(item)]
        return [exact(v)]

    per_channel = [bounded([x for sample in inputs for x in flat(sample[c])], "inputs") for c in range(width)]
    if sum(map(len, per_channel)) > MAX_ENTRIES:
        raise FamilyError(f"more than {MAX_ENTRIES} input values")
    if len({len(v) for v in per_channel}) != 1:
        raise FamilyError("every channel must have the same number of values")
    return per_channel, width


def _map_channels(inputs, fn):
    """Apply fn(channel, value) elementwise, keeping the nested shape."""
    def walk(v, c):
        return [walk(x, c) for x in v] if isinstance(v, list) else fn(c, exact(v))
    return [[walk(sample[c], c) for c in range(len(sample))] for sample in inputs]


@dataclass(frozen=True)
class BatchNormConventions(Conventions):
    framework: str = field(default="pytorch", metadata={
        "doc": "pytorch (eps 1e-5; momentum 0.1 weights the new batch; running variance unbiased) or keras "
               "(epsilon 1e-3; momentum 0.99 weights the old average; moving variance biased) (given key `framework`)"})


@register
class BatchNorm(Family):
    name = "batch_norm"
    summary = ("batch normalisation: training output with batch statistics, running statistics after the step, "
               "inference output, and parameter/buffer counts in PyTorch and Keras")
    results = (
        Result("batch_mean", "vector", "the mean of each channel over the batch (and spatial positions)"),
        Result("batch_mean.{c}", "number", "the batch mean of channel c (from 1)"),
        Result("batch_var", "vector", "the biased batch variance of each channel (used to normalise)"),
        Result("batch_var.{c}", "number", "the biased batch variance of channel c"),
        Result("batch_var_unbiased", "vector", "the unbiased (n − 1) batch variance of each channel"),
        Result("normalized", "vector", "(x − mean)/√(var + eps), same shape as inputs"),
        Result("output", "vector", "training-mode output γ·(normalized) + β"),
        Result("running_mean_after", "vector", "the running mean after this training step"),
        Result("running_mean_after.{c}", "number", "the running mean of channel c after the step"),
        Result("running_var_after", "vector", "the running variance after this training step"),
        Result("running_var_after.{c}", "number", "the running variance of channel c after the step"),
        Result("inference_output", "vector", "eval-mode output with the running statistics given (before the step)"),
        Result("inference_output_after", "vector", "eval-mode output with the running statistics after the step"),
        Result("trainable_parameters", "integer", "γ and β: 2C (0 without affine)"),
        Result("non_trainable_parameters", "integer", "Keras: the moving mean and variance, 2C; PyTorch: 0 "
                                                      "(they are buffers, not parameters)"),
        Result("total_parameters", "integer", "Keras model.summary total 4C; PyTorch sum of parameters() 2C"),
        Result("keras_total_parameters", "integer", "4C (2C trainable + 2C non-trainable)"),
        Result("pytorch_parameters", "integer", "2C: weight and bias"),
        Result("pytorch_buffer_elements", "integer", "running_mean, running_var (C each) and num_batches_tracked (1)"),
        Result("pytorch_state_dict_entries", "integer", "tensors in state_dict (weight, bias, running_mean, "
                                                        "running_var, num_batches_tracked)"),
        Result("pytorch_state_dict_elements", "integer", "numbers in state_dict: 4C + 1"),
    )
    conventions = BatchNormConventions
    example = {"inputs": [[1, 2], [3, 6]], "running_mean": [0, 0], "running_var": [1, 1]}
    notes = ("inputs is a batch with the channel on axis 1: N×C rows, N×C×L or N×C×H×W. Training normalises with the "
             "biased batch variance; PyTorch updates running_var with the unbiased one, Keras with the biased one.")
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "inputs": {"type": "array", "minItems": 1,
                       "description": "the batch, channel on axis 1 (N×C rows, N×C×L, N×C×H×W), or a flat list of N "
                                      "values of one channel"},
            "channels": {"type": "integer", "minimum": 1, "maximum": 100_000,
                         "description": "C, for parameter counts when no inputs are given"},
            "gamma": {**VECTOR, "description": "γ per channel (default 1)"},
            "beta": {**VECTOR, "description": "β per channel (default 0)"},
            "eps": {**NUMBER, "description": "ε (default 1e-5 PyTorch, 1e-3 Keras)"},
            "momentum": {**NUMBER, "description": "default 0.1 (PyTorch: weight of the new batch) or 0.99 "
                                                  "(Keras: weight of the old average)"},
            "running_mean": {**VECTOR, "description": "running mean before the step (default 0)"},
            "running_var": {**VECTOR, "description": "running variance before the step (default 1)"},
            "affine": {"type": "boolean", "description": "learnable γ and β (default true)"},
            "framework": {"enum": ["pytorch", "keras"]},
            "running_variance": {"enum": ["unbiased", "biased"],
                                 "description": "the batch variance used for the running update (default: the "
                                                "framework's; the other is a known mistake)"},
            "normalize_variance": {"enum": ["biased", "unbiased"],
                                   "description": "the variance used to normalise (biased; unbiased is a known mistake)"},
        },
    }

    def check_given(self, given: dict) -> list[GivenError]:
        errors = number_errors(given, self.given_schema)
        if errors:
            return errors
        try:
            self._channels(given)
        except FamilyError as exc:
            return [GivenError(("inputs",) if "inputs" in given else (), str(exc))]
        return []

    def _channels(self, given: dict) -> tuple[int, list | None]:
        """C, and the values of each channel (None without inputs); every shape problem is a FamilyError."""
        channels, per_channel = given.get("channels"), None
        if "inputs" in given:
            per_channel, width = _channels_of(given["inputs"])
            if channels is not None and channels != width:
                raise FamilyError(f"channels is {channels} but the inputs have {width}")
            if len(per_channel[0]) < 2:
                raise FamilyError("a training step needs at least 2 values per channel (the unbiased variance "
                                  "divides by n − 1)")
            channels = width
        if channels is None:
            raise FamilyError("give inputs or channels")
        for key in ("gamma", "beta", "running_mean", "running_var"):
            if key in given and len(given[key]) != channels:
                raise FamilyError(f"{key} needs one value per channel ({channels})")
        if given.get("affine", True) is False and ("gamma" in given or "beta" in given):
            raise FamilyError("affine: false has no gamma or beta")
        return channels, per_channel

    def solve(self, given: dict, conventions: BatchNormConventions) -> Solution:
        keras = conventions.framework == "keras"
        results: dict = {}
        steps: list[Step] = []
        channels, per_channel = self._channels(given)
        if per_channel is not None:
            self._forward(given, keras, per_channel, channels, results, steps)
        self._counts(channels, given.get("affine", True), keras, results, steps)
        return Solution(results, steps)

    def _vector(self, given, key, default, channels):
        values = [exact(v) for v in given.get(key, [default] * channels)]
        if len(values) != channels:
            raise FamilyError(f"{key} needs one value per channel ({channels})")
        return values

    def _forward(self, given, keras, per_channel, channels, results, steps):
        n = len(per_channel[0])
        eps = exact(given.get("eps", "0.001" if keras else "0.00001"))
        momentum = exact(given.get("momentum", "0.99" if keras else "0.1"))
        gamma = self._vector(given, "gamma", 1, channels)
        beta = self._vector(given, "beta", 0, channels)
        mean0 = self._vector(given, "running_mean", 0, channels)
        var0 = self._vector(given, "running_var", 1, channels)
        means = [sp.Add(*v) / n for v in per_channel]
        biased = [sp.Add(*((x - m) ** 2 for x in v)) / n for v, m in zip(per_channel, means)]
        unbiased = [b * n / (n - 1) for b in biased]
        norm_var = unbiased if given.get("normalize_variance") == "unbiased" else biased
        running_kind = given.get("running_variance", "biased" if keras else "unbiased")
        run_var_batch = unbiased if running_kind == "unbiased" else biased
        keep = momentum if keras else 1 - momentum  # weight of the old running value
        mean1 = [tidy(keep * m0 + (1 - keep) * m) for m0, m in zip(mean0, means)]
        var1 = [tidy(keep * v0 + (1 - keep) * v) for v0, v in zip(var0, run_var_batch)]
        inputs = given["inputs"]
        flat = not any(isinstance(v, list) for v in inputs)
        if flat:
            inputs = [[v] for v in inputs]
        normalized = _map_channels(inputs, lambda c, x: tidy((x - means[c]) / sp.sqrt(norm_var[c] + eps)))
        output = _map_channels(inputs, lambda c, x: tidy(gamma[c] * (x - means[c]) / sp.sqrt(norm_var[c] + eps) + beta[c]))
        infer = _map_channels(inputs, lambda c, x: tidy(gamma[c] * (x - mean0[c]) / sp.sqrt(var0[c] + eps) + beta[c]))
        infer1 = _map_channels(inputs, lambda c, x: tidy(gamma[c] * (x - mean1[c]) / sp.sqrt(var1[c] + eps) + beta[c]))
        if flat:  # one channel given as a flat list: outputs are flat lists too
            normalized, output, infer, infer1 = ([row[0] for row in m] for m in (normalized, output, infer, infer1))
        results.update(batch_mean=means, batch_var=biased, batch_var_unbiased=unbiased, normalized=normalized,
                       output=output, running_mean_after=mean1, running_var_after=var1, inference_output=infer,
                       inference_output_after=infer1)
        for c in range(channels):
            results[f"batch_mean.{c + 1}"] = means[c]
            results[f"batch_var.{c + 1}"] = biased[c]
            results[f"running_mean_after.{c + 1}"] = mean1[c]
            results[f"running_var_after.{c + 1}"] = var1[c]
        framework = "Keras" if keras else "PyTorch"
        steps += [
            Step("batch statistics (per channel)", f"μ = {show(means)}; σ² (biased, ÷{n}) = {show(biased)}"),
            Step("normalise", f"y = γ·(x − μ)/√(σ² + ε) + β, ε = {show(eps)}: {show(output)}"),
            Step(f"running statistics ({framework})",
                 f"r ← {show(keep)}·r + {show(1 - keep)}·batch (momentum {show(momentum)}); the variance uses the "
                 f"{running_kind} batch variance: mean {show(mean1)}, var {show(var1)}"),
            Step("inference", f"y = γ·(x − running mean)/√(running var + ε) + β = {show(infer)}"),
        ]

    def _counts(self, c, affine, keras, results, steps):
        trainable = 2 * c if affine else 0
        results.update(
            trainable_parameters=trainable,
            non_trainable_parameters=2 * c if keras else 0,
            total_parameters=trainable + 2 * c if keras else trainable,
            keras_total_parameters=trainable + 2 * c,
            pytorch_parameters=trainable,
            pytorch_buffer_elements=2 * c + 1,
            pytorch_state_dict_entries=(2 if affine else 0) + 3,
            pytorch_state_dict_elements=trainable + 2 * c + 1,
        )
        steps.append(Step("parameters", f"C = {c}: γ, β trainable ({trainable}); Keras also counts the moving mean and "
                                        f"variance as non-trainable params ({2 * c}), total {trainable + 2 * c}; "
                                        f"PyTorch: {trainable} parameters, buffers running_mean, running_var "
                                        f"({2 * c}) and num_batches_tracked (1)"))

    def variants(self, given: dict) -> list[Variant]:
        keras = given.get("framework") == "keras"
        out = []
        if "inputs" not in given:
            return out
        if given.get("normalize_variance", "biased") == "biased":
            out.append(Variant({**given, "normalize_variance": "unbiased"},
                               "normalised with the unbiased variance (÷(n − 1)); training uses the biased one (÷n)"))
        default_running = "biased" if keras else "unbiased"
        if given.get("running_variance", default_running) == default_running:
            other = "unbiased" if keras else "biased"
            out.append(Variant({**given, "running_variance": other},
                               f"the running variance is updated with the {default_running} batch variance "
                               f"in {'Keras' if keras else 'PyTorch'}; this used the {other} one"))
        momentum = exact(given.get("momentum", "0.99" if keras else "0.1"))
        out.append(Variant({**given, "momentum": str(1 - momentum)},
                           "momentum read the wrong way round: PyTorch's momentum (0.1) weights the new batch, "
                           "Keras's (0.99) weights the old average"))
        return out


@dataclass(frozen=True)
class DropoutConventions(Conventions):
    style: str = field(default="inverted", metadata={
        "doc": "inverted (PyTorch, Keras: scale kept units by 1/(1 − p) in training, identity at inference) or "
               "classic (no scaling in training, multiply by 1 − p at inference) (given key `style`)"})


@register
class Dropout(Family):
    name = "dropout"
    summary = "dropout with drop probability p: the training scale, the output for a given mask, inference output"
    results = (
        Result("scale", "number", "the factor on kept units in training: 1/(1 − p) (inverted) or 1 (classic)"),
        Result("keep_probability", "number", "1 − p"),
        Result("inference_scale", "number", "the factor at inference: 1 (inverted) or 1 − p (classic)"),
        Result("output", "vector", "training output for the given mask"),
        Result("output.{i}", "number", "entry i (from 1) of the training output"),
        Result("inference_output", "vector", "the output at inference"),
        Result("expected_output", "vector", "the training output averaged over masks"),
    )
    conventions = DropoutConventions
    example = {"p": 0.5, "inputs": [2, 4, 6], "mask": [1, 0, 1]}
    notes = ("p is the DROP probability (PyTorch p, Keras rate); give keep_prob instead for the probability of keeping. "
             "mask entries are 1 for kept units, 0 for dropped.")
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "p": {**NUMBER, "description": "the probability of dropping a unit (PyTorch p, Keras rate)"},
            "keep_prob": {**NUMBER, "description": "instead of p: the probability of keeping a unit (TF1 keep_prob)"},
            "inputs": {**VECTOR, "description": "activations entering dropout"},
            "mask": {"type": "array", "items": {"enum": [0, 1]}, "minItems": 1, "description": "1 kept, 0 dropped"},
            "style": {"enum": ["inverted", "classic"]},
        },
    }

    def check_given(self, given: dict) -> list[GivenError]:
        return number_errors(given, self.given_schema)

    def solve(self, given: dict, conventions: DropoutConventions) -> Solution:
        if ("p" in given) == ("keep_prob" in given):
            raise FamilyError("give exactly one of p (drop probability) and keep_prob")
        p = exact(given["p"]) if "p" in given else 1 - exact(given["keep_prob"])
        if not 0 <= p < 1:
            raise FamilyError("p must be in [0, 1)")
        inverted = conventions.style == "inverted"
        scale = 1 / (1 - p) if inverted else sp.Integer(1)
        at_inference = sp.Integer(1) if inverted else 1 - p
        results = {"scale": scale, "keep_probability": 1 - p, "inference_scale": at_inference}
        steps = [Step("dropout" + (" (inverted)" if inverted else " (classic)"),
                      f"keep each unit with probability 1 − p = {show(1 - p)}; training scale {show(scale)}; "
                      f"inference scale {show(at_inference)}")]
        if "inputs" in given:
            x = [exact(v) for v in given["inputs"]]
            results["inference_output"] = [at_inference * v for v in x]
            results["expected_output"] = [(1 - p) * scale * v for v in x]
            if "mask" in given:
                mask = given["mask"]
                if len(mask) != len(x):
                    raise FamilyError("mask needs one entry per input")
                results["output"] = [scale * v * m for v, m in zip(x, mask)]
                for i, v in enumerate(results["output"], start=1):
                    results[f"output.{i}"] = v
                steps.append(Step("training output", f"x·mask·{show(scale)} = {show(results['output'])}"))
            steps.append(Step("inference output", show(results["inference_output"])))
        return Solution(results, steps)

    def variants(self, given: dict) -> list[Variant]:
        if ("p" in given) == ("keep_prob" in given):
            return []
        p = exact(given["p"]) if "p" in given else 1 - exact(given["keep_prob"])
        given = {**{k: v for k, v in given.items() if k != "keep_prob"}, "p": str(p)}
        out = [Variant({**given, "style": "classic" if given.get("style", "inverted") == "inverted" else "inverted"},
                       "this is the other dropout convention (inverted dropout scales by 1/(1 − p) in training; "
                       "classic dropout scales by 1 − p at inference)")]
        if p != sp.Rational(1, 2) and 1 - p < 1:
            out.append(Variant({**given, "p": str(1 - p)}, "the drop and keep probabilities are swapped (p drops a unit, "
                                                          "1 − p keeps it)"))
        return out


@dataclass(frozen=True)
class PenaltyConventions(Conventions):
    l2_form: str = field(default="half", metadata={
        "doc": "half: (λ/2)‖w‖², gradient λw (PyTorch weight_decay λ); full: λ‖w‖², gradient 2λw (given key `l2_form`)"})


@register
class Regularization(Family):
    name = "regularization"
    summary = "L1 / L2 / elastic-net weight penalties: value, gradient, and one SGD step with the data gradient"
    results = (
        Result("penalty", "number", "the penalty value"),
        Result("gradient", "vector", "∂penalty/∂w (L1 uses sign(w), 0 at w = 0)"),
        Result("gradient.{i}", "number", "entry i (from 1) of the penalty gradient"),
        Result("total_gradient", "vector", "data gradient + penalty gradient"),
        Result("updated_weights", "vector", "w − lr·total_gradient"),
        Result("updated_weights.{i}", "number", "entry i of the updated weights"),
    )
    conventions = PenaltyConventions
    example = {"kind": "l2", "weights": [1, -2, 0], "lam": 0.1, "data_gradient": [0.5, 0.5, 0.5], "lr": 0.1}
    notes = "L2 is (λ/2)‖w‖² by default (gradient λw, PyTorch's weight_decay); say l2_form: full for λ‖w‖²."
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind", "weights", "lam"],
        "properties": {
            "kind": {"enum": ["l1", "l2", "elastic"]},
            "weights": VECTOR,
            "lam": {**NUMBER, "description": "λ"},
            "l1_ratio": {**NUMBER, "description": "elastic: penalty = λ(r‖w‖₁ + (1 − r)·L2 term) (default 0.5)"},
            "l2_form": {"enum": ["half", "full"]},
            "data_gradient": {**VECTOR, "description": "∂(data loss)/∂w, for total_gradient and updated_weights"},
            "lr": {**NUMBER, "description": "the SGD learning rate for updated_weights"},
        },
    }

    def check_given(self, given: dict) -> list[GivenError]:
        return number_errors(given, self.given_schema)

    def solve(self, given: dict, conventions: PenaltyConventions) -> Solution:
        w = [exact(v) for v in given["weights"]]
        lam = exact(given["lam"])
        half = conventions.l2_form == "half"
        l2_value = sp.Add(*(v ** 2 for v in w)) * (sp.Rational(1, 2) if half else 1)
        l2_grad = [v * (1 if half else 2) for v in w]
        l1_value = sp.Add(*(sp.Abs(v) for v in w))
        l1_grad = [sp.sign(v) for v in w]
        kind = given["kind"]
        ratio = exact(given.get("l1_ratio", "0.5")) if kind == "elastic" else (1 if kind == "l1" else 0)
        penalty = lam * (ratio * l1_value + (1 - ratio) * l2_value)
        gradient = [lam * (ratio * a + (1 - ratio) * b) for a, b in zip(l1_grad, l2_grad)]
        results = {"penalty": penalty, "gradient": gradient}
        form = "(λ/2)‖w‖²" if half else "λ‖w‖²"
        steps = [Step("penalty", {"l1": "λ‖w‖₁", "l2": form, "elastic": f"λ(r‖w‖₁ + (1 − r)·{form}/λ)"}[kind]
                      + f" = {show(penalty)}"),
                 Step("gradient", ("λ·sign(w)" if kind == "l1" else "λw" if half else "2λw") + f" = {show(gradient)}")]
        for i, g in enumerate(gradient, start=1):
            results[f"gradient.{i}"] = g
        if "data_gradient" in given:
            data = [exact(v) for v in given["data_gradient"]]
            if len(data) != len(w):
                raise FamilyError("data_gradient needs one value per weight")
            total = [a + b for a, b in zip(data, gradient)]
            results["total_gradient"] = total
            steps.append(Step("total gradient", f"{show(data)} + {show(gradient)} = {show(total)}"))
            if "lr" in given:
                lr = exact(given["lr"])
                updated = [v - lr * g for v, g in zip(w, total)]
                results["updated_weights"] = updated
                for i, v in enumerate(updated, start=1):
                    results[f"updated_weights.{i}"] = v
                steps.append(Step("SGD step", f"w − {show(lr)}·g = {show(updated)}"))
        return Solution(results, steps)

    def variants(self, given: dict) -> list[Variant]:
        kind = given["kind"]
        out = []
        if kind in ("l2", "elastic"):
            other = "full" if given.get("l2_form", "half") == "half" else "half"
            out.append(Variant({**given, "l2_form": other},
                               "factor 2: the L2 term here is " + ("(λ/2)‖w‖² (gradient λw)" if other == "full"
                                                                  else "λ‖w‖² (gradient 2λw)")))
        if kind == "l1":
            out.append(Variant({**given, "kind": "l2"}, "this is the L2 gradient (λw); L1's is λ·sign(w)"))
        if kind == "l2":
            out.append(Variant({**given, "kind": "l1"}, "this is the L1 gradient (λ·sign(w)); L2's is proportional to w"))
        return out
