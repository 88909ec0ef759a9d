"""2-D convolution as deep learning computes it (valid cross-correlation):
the forward output and the gradients with respect to the input and the kernel."""

from __future__ import annotations

from examcheck.families import Conventions, Family, FamilyError, Result, Solution, Step, Variant, register
from examcheck.families.helpers import cross_correlate, full_convolution, rotate180
from examcheck.families.helpers import shape_of as _shape
from examcheck.values import show

MATRIX = {"type": "array", "items": {"type": "array", "items": {"type": "number"}}, "minItems": 1}


def _exact(m):
    return [[int(v) if float(v).is_integer() else v for v in row] for row in m]


@register
class Conv2D(Family):
    name = "conv2d"
    solve_at_load = True
    summary = "2-D convolution (valid cross-correlation): output, ∂L/∂X and ∂L/∂W for an upstream gradient"
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["input", "kernel"],
        "properties": {
            "input": MATRIX,
            "kernel": MATRIX,
            "upstream": {**MATRIX, "description": "∂L/∂Y (default: all ones, i.e. L = sum of Y)"},
            "mode": {"enum": ["cross-correlation", "convolution"],
                     "description": "convolution flips the kernel by 180° first"},
        },
    }

    results = (
        Result("output", "matrix", "Y, the forward output"),
        Result("output_shape", "shape", "shape of Y"),
        Result("grad_input", "matrix", "∂L/∂X for the upstream gradient ∂L/∂Y"),
        Result("grad_input_shape", "shape", "shape of ∂L/∂X (= the shape of X)"),
        Result("grad_kernel", "matrix", "∂L/∂W"),
        Result("grad_kernel_shape", "shape", "shape of ∂L/∂W (= the shape of W)"),
        Result("flipped_kernel", "matrix", "W rotated by 180°"),
    )
    example = {"input": [[1, 2, 0], [0, 1, 3], [2, 1, 1]], "kernel": [[1, 0], [0, -1]]}

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        x, kernel = _exact(given["input"]), _exact(given["kernel"])
        applied = rotate180(kernel) if given.get("mode") == "convolution" else kernel
        y = cross_correlate(x, applied)
        upstream = _exact(given.get("upstream") or [[1] * len(y[0]) for _ in y])
        if _shape(upstream) != _shape(y):
            raise FamilyError(f"upstream gradient must be {_shape(y)}")
        grad_x = full_convolution(upstream, applied)
        grad_applied = cross_correlate(x, upstream)
        grad_w = rotate180(grad_applied) if given.get("mode") == "convolution" else grad_applied
        results = {"output": y, "output_shape": _shape(y), "grad_input": grad_x, "grad_input_shape": _shape(grad_x),
                   "grad_kernel": grad_w, "grad_kernel_shape": _shape(grad_w), "flipped_kernel": rotate180(kernel)}
        steps = [
            Step("forward (valid cross-correlation)", f"Y[i][j] = Σ_ab X[i+a][j+b]·W[a][b] = {show(y)}"),
            Step("∂L/∂X", f"full convolution of ∂L/∂Y with W (each ∂L/∂Y[i][j] spreads W over X): {show(grad_x)}"
                          f", shape {_shape(grad_x)} = the shape of X"),
            Step("∂L/∂W", f"X ⋆ ∂L/∂Y (valid cross-correlation): {show(grad_w)}, shape {_shape(grad_w)}"),
        ]
        return Solution(results, steps)

    def variants(self, given: dict) -> list[Variant]:
        flipped = "convolution" if given.get("mode", "cross-correlation") == "cross-correlation" else "cross-correlation"
        return [Variant({**given, "mode": flipped}, "the kernel was flipped by 180°: this layer is a "
                        f"{given.get('mode', 'cross-correlation')}, not a {flipped}")]
