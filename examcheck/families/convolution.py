"""2-D convolution as deep learning computes it (valid cross-correlation):
the forward output and the gradients with respect to the input and the kernel."""

from __future__ import annotations

from examcheck.families import Family, FamilyError, Solution, Step, Variant, register
from examcheck.values import show

MATRIX = {"type": "array", "items": {"type": "array", "items": {"type": "number"}}, "minItems": 1}


def _shape(m) -> tuple[int, int]:
    rows = len(m)
    cols = {len(r) for r in m}
    if len(cols) != 1:
        raise FamilyError("rows have different lengths")
    return rows, cols.pop()


def cross_correlate(x, k):
    (h, w), (kh, kw) = _shape(x), _shape(k)
    if kh > h or kw > w:
        raise FamilyError("the kernel is larger than the input")
    return [[sum(x[i + a][j + b] * k[a][b] for a in range(kh) for b in range(kw))
             for j in range(w - kw + 1)] for i in range(h - kh + 1)]


def rotate180(m):
    return [list(reversed(row)) for row in reversed(m)]


def full_convolution(g, k):
    """Σ of g[i][j]·k placed at (i, j): the gradient of a valid cross-correlation with respect to its input."""
    (gh, gw), (kh, kw) = _shape(g), _shape(k)
    out = [[0] * (gw + kw - 1) for _ in range(gh + kh - 1)]
    for i in range(gh):
        for j in range(gw):
            for a in range(kh):
                for b in range(kw):
                    out[i + a][j + b] += g[i][j] * k[a][b]
    return out


def _exact(m):
    return [[int(v) if float(v).is_integer() else v for v in row] for row in m]


@register
class Conv2D(Family):
    name = "conv2d"
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

    def solve(self, given: dict, conventions: dict) -> Solution:
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
