"""2-D convolution with stride, zero padding and dilation (deep learning's
cross-correlation, as torch.nn.functional.conv2d computes it) on one channel:
the forward output and the gradients ∂L/∂X, ∂L/∂W and ∂L/∂b for a given
upstream gradient ∂L/∂Y.

The worked solution follows the textbook route:

* forward: Y[i][j] = b + Σ_ab Xp[s·i + d·a][s·j + d·b]·W[a][b], Xp the padded input;
* the upstream gradient is dilated by the stride (s − 1 zeros between entries), G̃;
* ∂L/∂W[a][b] is the valid cross-correlation of Xp with G̃, read at (d·a, d·b);
* ∂L/∂Xp is the full convolution of G̃ with the (dilated) kernel, extended with
  zeros to the padded size; ∂L/∂X drops the p padded rows/columns on each side;
* ∂L/∂b = Σ ∂L/∂Y.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from examcheck.families import NUMBER_VALUE, Conventions, Family, FamilyError, Result, Solution, Step, Variant, register
from examcheck.values import exact, show

ENTRY = NUMBER_VALUE


def matrix_schema(largest: int) -> dict:
    return {"type": "array", "minItems": 1, "maxItems": largest,
            "items": {"type": "array", "minItems": 1, "maxItems": largest, "items": ENTRY}}


MATRIX = matrix_schema(16)
PAIR = {"oneOf": [{"type": "integer", "minimum": 0, "maximum": 8},
                  {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 8},
                   "minItems": 2, "maxItems": 2}],
        "description": "one number, or [rows, columns]"}

Matrix = list[list[sp.Expr]]


def read_matrix(rows, what: str) -> Matrix:
    if len({len(r) for r in rows}) != 1:
        raise FamilyError(f"{what}: rows have different lengths")
    return [[exact(v) for v in row] for row in rows]


def size(m: Matrix) -> tuple[int, int]:
    return len(m), len(m[0])


def zeros(rows: int, cols: int) -> Matrix:
    return [[sp.Integer(0)] * cols for _ in range(rows)]


def pad(m: Matrix, pr: int, pc: int) -> Matrix:
    rows, cols = size(m)
    out = zeros(rows + 2 * pr, cols + 2 * pc)
    for i in range(rows):
        for j in range(cols):
            out[i + pr][j + pc] = m[i][j]
    return out


def dilate(m: Matrix, sr: int, sc: int) -> Matrix:
    """s − 1 zeros between neighbouring entries."""
    rows, cols = size(m)
    out = zeros((rows - 1) * sr + 1, (cols - 1) * sc + 1)
    for i in range(rows):
        for j in range(cols):
            out[i * sr][j * sc] = m[i][j]
    return out


def rotate180(m: Matrix) -> Matrix:
    return [list(reversed(row)) for row in reversed(m)]


def valid_correlation(x: Matrix, k: Matrix) -> Matrix:
    (h, w), (kh, kw) = size(x), size(k)
    return [[sum((x[i + a][j + b] * k[a][b] for a in range(kh) for b in range(kw)), sp.Integer(0))
             for j in range(w - kw + 1)] for i in range(h - kh + 1)]


def full_convolution(g: Matrix, k: Matrix) -> Matrix:
    """The valid cross-correlation of g, zero-padded by k − 1, with k rotated by 180°."""
    kh, kw = size(k)
    return valid_correlation(pad(g, kh - 1, kw - 1), rotate180(k))


def _term(factor: int, name: str) -> str:
    return name if factor == 1 else f"{factor}{name}"


def _pair(value, what: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2:
        raise FamilyError(f"{what} must be one number or [rows, columns]")
    return pair


def conv2d(x: Matrix, w: Matrix, bias, stride, padding, dilation):
    """Forward pass; returns (output, padded input)."""
    (sr, sc), (pr, pc), (dr, dc) = stride, padding, dilation
    xp = pad(x, pr, pc)
    (h, wd), (kh, kw) = size(xp), size(w)
    span = (dr * (kh - 1) + 1, dc * (kw - 1) + 1)
    if span[0] > h or span[1] > wd:
        raise FamilyError(f"the kernel spans {span[0]}×{span[1]} but the padded input is only {h}×{wd}")
    out_h, out_w = (h - span[0]) // sr + 1, (wd - span[1]) // sc + 1
    y = [[bias + sum((xp[sr * i + dr * a][sc * j + dc * b] * w[a][b] for a in range(kh) for b in range(kw)),
                     sp.Integer(0)) for j in range(out_w)] for i in range(out_h)]
    return y, xp


@dataclass(frozen=True)
class ConvModeConventions(Conventions):
    mode: str = field(default="cross-correlation", metadata={
        "doc": "cross-correlation (deep learning's 'convolution', the default) or convolution (kernel flipped by "
               "180° first) (given `mode`)"})


@register
class StridedConv2D(Family):
    name = "conv2d_strided"
    summary = ("2-D convolution with stride, padding and dilation (PyTorch's conv2d, one channel): output, "
               "∂L/∂X, ∂L/∂W and ∂L/∂b for an upstream gradient")
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["input", "kernel"],
        "properties": {
            "input": {**MATRIX, "description": "X, one channel (up to 16×16)"},
            "kernel": {**matrix_schema(8), "description": "W"},
            "bias": {**ENTRY, "description": "b (default 0)"},
            "stride": {**PAIR, "description": "stride: one number, or [rows, columns] (default 1)"},
            "padding": {**PAIR, "description": "zeros on each side: one number, or [rows, columns] (default 0)"},
            "dilation": {**PAIR, "description": "kernel dilation (default 1)"},
            "upstream": {**MATRIX, "description": "∂L/∂Y (default: all ones, i.e. L = sum of Y)"},
            "mode": {"enum": ["cross-correlation", "convolution"],
                     "description": "convolution flips the kernel by 180° first (default cross-correlation)"},
        },
    }
    results = (
        Result("output", "matrix", "Y = b + X ⋆ W with stride, padding and dilation"),
        Result("output_shape", "shape", "shape of Y"),
        Result("padded_input", "matrix", "X with the zero padding"),
        Result("dilated_upstream", "matrix", "∂L/∂Y with stride − 1 zeros between entries"),
        Result("grad_input", "matrix", "∂L/∂X (the shape of X)"),
        Result("grad_input_shape", "shape", "shape of ∂L/∂X"),
        Result("grad_padded_input", "matrix", "∂L/∂Xp, before the padding is dropped (a common wrong answer for "
                                              "∂L/∂X)"),
        Result("grad_kernel", "matrix", "∂L/∂W"),
        Result("grad_kernel_shape", "shape", "shape of ∂L/∂W"),
        Result("grad_bias", "number", "∂L/∂b = Σ ∂L/∂Y"),
        Result("flipped_kernel", "matrix", "W rotated by 180°"),
    )
    conventions = ConvModeConventions
    example = {"input": [[1, 2, 0], [0, 1, 3], [2, 1, 1]], "kernel": [[1, -1], [0, 2]], "stride": 2, "padding": 1,
               "bias": 1, "upstream": [[1, 0], [2, -1]]}
    notes = ("Deep learning's convolution is a cross-correlation (no flip), as torch.nn.functional.conv2d. "
             "Without `upstream`, L is the sum of Y (∂L/∂Y all ones).")

    def solve(self, given: dict, conventions: ConvModeConventions) -> Solution:
        x, kernel = read_matrix(given["input"], "input"), read_matrix(given["kernel"], "kernel")
        bias = exact(given.get("bias", 0))
        stride, padding = _pair(given.get("stride", 1), "stride"), _pair(given.get("padding", 0), "padding")
        dilation = _pair(given.get("dilation", 1), "dilation")
        if min(stride) < 1 or min(dilation) < 1:
            raise FamilyError("stride and dilation must be at least 1")
        if max(*size(x), *size(kernel)) > 16 or max(*stride, *padding, *dilation) > 8:
            raise FamilyError("this family works on inputs up to 16×16, kernels up to 8×8, and stride, padding "
                              "and dilation up to 8")
        convolution = conventions.mode == "convolution"
        applied = rotate180(kernel) if convolution else kernel
        y, xp = conv2d(x, applied, bias, stride, padding, dilation)
        upstream = read_matrix(given["upstream"], "upstream") if "upstream" in given else \
            [[sp.Integer(1)] * len(y[0]) for _ in y]
        if size(upstream) != size(y):
            raise FamilyError(f"the upstream gradient ∂L/∂Y must have the output's shape {size(y)}, "
                              f"not {size(upstream)}")
        g = dilate(upstream, *stride)
        w_dilated = dilate(applied, *dilation)
        # ∂L/∂W: correlate the padded input with the dilated upstream gradient, read every d-th entry
        corr = valid_correlation(xp, g)
        kh, kw = size(applied)
        grad_applied = [[corr[dilation[0] * a][dilation[1] * b] for b in range(kw)] for a in range(kh)]
        grad_w = rotate180(grad_applied) if convolution else grad_applied
        # ∂L/∂Xp: full convolution, then zeros for the rows/columns the windows never reached
        spread = full_convolution(g, w_dilated)
        hp, wp = size(xp)
        grad_xp = zeros(hp, wp)
        for i, row in enumerate(spread):
            for j, value in enumerate(row):
                grad_xp[i][j] = value
        pr, pc = padding
        grad_x = [row[pc:wp - pc] for row in grad_xp[pr:hp - pr]]
        grad_b = sum((v for row in upstream for v in row), sp.Integer(0))
        results = {
            "output": y, "output_shape": size(y), "padded_input": xp, "dilated_upstream": g,
            "grad_input": grad_x, "grad_input_shape": size(grad_x), "grad_padded_input": grad_xp,
            "grad_kernel": grad_w, "grad_kernel_shape": size(grad_w), "grad_bias": grad_b,
            "flipped_kernel": rotate180(kernel),
        }
        (sr, sc), (dr, dc) = stride, dilation
        steps = [
            Step("pad", f"{pr} zero row(s) and {pc} zero column(s) on each side: Xp = {show(xp)}"),
            Step("output size", f"⌊({size(x)[0]} + 2·{pr} − {dr * (kh - 1) + 1})/{sr}⌋ + 1 = {size(y)[0]} rows, "
                                f"⌊({size(x)[1]} + 2·{pc} − {dc * (kw - 1) + 1})/{sc}⌋ + 1 = {size(y)[1]} columns"),
            Step("forward", ("kernel flipped by 180° (convolution); " if convolution else "")
                 + f"Y[i][j] = b + Σ_ab Xp[{_term(sr, 'i')} + {_term(dr, 'a')}][{_term(sc, 'j')} + {_term(dc, 'b')}]·W[a][b]"
                 f" = {show(y)}"),
            Step("dilate ∂L/∂Y by the stride", f"{sr - 1} zero row(s) and {sc - 1} zero column(s) between entries: "
                                               f"G̃ = {show(g)}"),
            Step("∂L/∂W", "valid cross-correlation of Xp with G̃" + (f", every ({dr}, {dc})-th entry" if
                                                                        dilation != (1, 1) else "")
                 + (", rotated by 180° (convolution)" if convolution else "") + f": {show(grad_w)}"),
            Step("∂L/∂Xp", "full convolution of G̃ with W" + (" (dilated)" if dilation != (1, 1) else "")
                 + f", zeros where no window reached: {show(grad_xp)}"),
            Step("∂L/∂X", f"drop the padding ({pr} row(s), {pc} column(s) each side): {show(grad_x)}"),
            Step("∂L/∂b", f"Σ ∂L/∂Y = {show(grad_b)}"),
        ]
        return Solution(results, steps)

    def variants(self, given: dict) -> list[Variant]:
        out = []
        flipped = "convolution" if given.get("mode", "cross-correlation") == "cross-correlation" else "cross-correlation"
        out.append(Variant({**given, "mode": flipped}, "the kernel was flipped by 180°: this layer is a "
                                                       f"{given.get('mode', 'cross-correlation')}, not a {flipped}"))
        if _pair(given.get("stride", 1), "stride") != (1, 1):
            out.append(Variant({**given, "stride": 1}, "the stride was ignored"))
        if _pair(given.get("padding", 0), "padding") != (0, 0):
            out.append(Variant({**given, "padding": 0}, "the padding was ignored"))
        if _pair(given.get("dilation", 1), "dilation") != (1, 1):
            out.append(Variant({**given, "dilation": 1}, "the dilation was ignored"))
        if exact(given.get("bias", 0)) != 0:
            out.append(Variant({**given, "bias": 0}, "the bias was left out"))
        return out
