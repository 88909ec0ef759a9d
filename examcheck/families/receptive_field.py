"""Receptive field, jump and start of each layer in a conv/pool stack."""

from __future__ import annotations

from fractions import Fraction

from examcheck.families import Conventions, Family, Result, Solution, Step, Variant, register
from examcheck.families.helpers import expand_repeats

LAYER = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kernel"],
    "properties": {
        "kernel": {"type": "integer", "minimum": 1},
        "stride": {"type": "integer", "minimum": 1},
        "padding": {"type": "integer", "minimum": 0},
        "dilation": {"type": "integer", "minimum": 1},
        "repeat": {"type": "integer", "minimum": 1, "maximum": 1000},
        "name": {"type": "string"},
    },
}


@register
class ReceptiveField(Family):
    name = "receptive_field"
    solve_at_load = True
    summary = "receptive field, jump and start of every layer of a conv/pool stack"
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["layers"],
        "properties": {"layers": {"type": "array", "items": LAYER, "minItems": 1}},
    }

    results = (
        Result("rf.{layer}", "integer", "receptive field (in input pixels) after layer {layer}, repeats expanded"),
        Result("jump.{layer}", "integer", "distance in input pixels between adjacent outputs of layer {layer}"),
        Result("start.{layer}", "number", "input coordinate of the centre of the first output of layer {layer}"),
        Result("receptive_field", "integer", "receptive field of the last layer"),
        Result("receptive_field_shape", "shape", "(rf, rf)"),
        Result("jump", "integer", "jump of the last layer"),
    )
    example = {"layers": [{"kernel": 3, "stride": 1, "repeat": 2}, {"kernel": 2, "stride": 2}]}

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        rf, jump, start = 1, 1, Fraction(1, 2)
        results: dict = {}
        steps = [Step("input", "r₀ = 1, j₀ = 1, start₀ = 0.5 (centre of the first pixel)")]
        for i, layer in enumerate(expand_repeats(given["layers"]), start=1):
            k, s = layer["kernel"], layer.get("stride", 1)
            p, d = layer.get("padding", 0), layer.get("dilation", 1)
            k_eff = d * (k - 1) + 1
            new_rf = rf + (k_eff - 1) * jump
            start = start + (Fraction(k_eff - 1, 2) - p) * jump
            steps.append(Step(f"layer {i} (k={k}, s={s}, p={p}, d={d})",
                              f"r = {rf} + ({k_eff} − 1)·{jump} = {new_rf}; j = {jump}·{s} = {jump * s}; "
                              f"start = {float(start):g}"))
            rf, jump = new_rf, jump * s
            results[f"rf.{i}"], results[f"jump.{i}"], results[f"start.{i}"] = rf, jump, float(start)
        results["receptive_field"] = rf
        results["receptive_field_shape"] = (rf, rf)
        results["jump"] = jump
        return Solution(results, steps)

    def variants(self, given: dict) -> list[Variant]:
        summed = [{"kernel": layer["kernel"] + 1, "repeat": layer.get("repeat", 1)} for layer in given["layers"]]
        return [Variant({"layers": [{"kernel": 1}] + summed},
                        "you added the kernel sizes; each layer adds (k − 1)·jump, not k")]
