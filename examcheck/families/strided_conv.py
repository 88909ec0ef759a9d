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


def given_error(key: str, message: str) -> FamilyError:
    """A FamilyError that points at one given key (the loader reports that key's line)."""
    error = FamilyError(message)
    error.path = (key,)
    return error


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


def conv2d(x: Matrix, w: Matrix, bias, stride, padding, dilation):  # one channel, one filter
    """Forward pass; returns (output, padded input)."""
    (sr, sc), (pr, pc), (dr, dc) = stride, padding, dilation
    xp = pad(x, pr, pc)
    (h, wd), (kh, kw) = size(xp), size(w)
    span = (dr * (kh - 1) + 1, dc * (kw - 1) + 1)
    if span[0] > h or span[1] > wd:
        raise given_error("kernel", f"the kernel spans {span[0]}×{span[1]} but the padded input is only {h}×{wd}")
    out_h, out_w = (h - span[0]) // sr + 1, (wd - span[1]) // sc + 1
    y = [[bias + sum((xp[sr * i + dr * a][sc * j + dc * b] * w[a][b] for a in range(kh) for b in range(kw)),
                     sp.Integer(0)) for j in range(out_w)] for i in range(out_h)]
    return y, xp


@dataclass(frozen=True)
class ConvModeConventions(Conventions):
    mode: str = field(default="cross-correlation", metadata={
        "doc": "cross-correlation (deep learning's 'convolution', the default) or convolution (kernel flipped by "
               "180° first) (given `mode`)"})


def _depth(value) -> int:
    return 1 + _depth(value[0]) if isinstance(value, list) and value else 0


def _nested(value, depth: int, what: str):
    """Read a nested list of numbers of the given depth exactly."""
    if depth == 2:
        return read_matrix(value, what)
    return [_nested(v, depth - 1, f"{what}[{i}]") for i, v in enumerate(value)]


def _same_shapes(matrices: list, what: str) -> list:
    shapes = {size(m) for m in matrices}
    if len(shapes) != 1:
        raise FamilyError(f"{what}: the matrices have different shapes {sorted(shapes)}")
    return matrices


def _add(a: Matrix, b: Matrix) -> Matrix:
    return [[x + y for x, y in zip(ra, rb)] for ra, rb in zip(a, b)]


def _total(m: Matrix):
    return sum((v for row in m for v in row), sp.Integer(0))


@dataclass
class Layout:
    """How the given nesting maps to (filters, channels): X is C×H×W, W is F×C×kh×kw, Y is F×Ho×Wo.
    Results keep the nesting the problem used (a 2-D input and kernel give 2-D results)."""

    channels_given: bool  # input written as C matrices
    kernel_depth: int  # 2: one filter, one channel; 3: one filter over C channels; 4: F filters

    def output(self, maps: list):
        return maps if self.kernel_depth == 4 else maps[0]

    def per_channel(self, maps: list):
        return maps if self.channels_given else maps[0]

    def kernel(self, filters: list):
        if self.kernel_depth == 4:
            return filters
        return filters[0] if self.kernel_depth == 3 else filters[0][0]


def read_problem(given: dict):
    """(layout, X as C matrices, W as F×C matrices, biases per filter, ∂L/∂Y per filter or None)."""
    x_depth, k_depth = _depth(given["input"]), _depth(given["kernel"])
    if x_depth not in (2, 3):
        raise given_error("input", "input must be a matrix (one channel) or a list of matrices (one per channel)")
    if k_depth not in (2, 3, 4):
        raise given_error("kernel", "kernel must be a matrix, a list of matrices (one per input channel), or a list of "
                          "filters, each a list of matrices")
    x = _same_shapes(_nested(given["input"], 3, "input"), "input") if x_depth == 3 else \
        [read_matrix(given["input"], "input")]
    raw = _nested(given["kernel"], k_depth, "kernel")
    w = raw if k_depth == 4 else [raw] if k_depth == 3 else [[raw]]
    _same_shapes([m for f in w for m in f], "kernel")
    if any(len(f) != len(x) for f in w):
        raise given_error("kernel", f"the input has {len(x)} channel(s) but a filter has {len(w[0])}: one kernel matrix "
                          "per input channel")
    if len(x) > 4 or len(w) > 4:
        raise FamilyError("this family works on up to 4 channels and 4 filters")
    bias = given.get("bias", 0)
    biases = [exact(b) for b in bias] if isinstance(bias, list) else [exact(bias)] * len(w)
    if len(biases) != len(w):
        raise given_error("bias", f"bias: one value per filter ({len(w)}), not {len(biases)}")
    upstream = None
    if "upstream" in given:
        u_depth = _depth(given["upstream"])
        if u_depth != (3 if k_depth == 4 else 2):
            raise given_error("upstream", "upstream: one matrix per filter" if k_depth == 4 else "upstream: one matrix")
        read = _nested(given["upstream"], u_depth, "upstream")
        upstream = _same_shapes(read, "upstream") if k_depth == 4 else [read]
    return Layout(x_depth == 3, k_depth), x, w, biases, upstream


@register
class StridedConv2D(Family):
    name = "conv2d_strided"
    solve_at_load = True  # cheap: given values it cannot use are reported at load, with the line
    summary = ("2-D convolution with stride, padding and dilation (PyTorch's conv2d; several channels and "
               "filters): output, ∂L/∂X, ∂L/∂W and ∂L/∂b for an upstream gradient")
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["input", "kernel"],
        "properties": {
            "input": {"anyOf": [MATRIX, {"type": "array", "items": MATRIX, "minItems": 1, "maxItems": 4}],
                      "description": "X: a matrix (one channel, up to 16×16) or a list of matrices (one per channel)"},
            "kernel": {"anyOf": [matrix_schema(8), {"type": "array", "items": matrix_schema(8), "minItems": 1,
                                                    "maxItems": 4},
                                 {"type": "array", "minItems": 1, "maxItems": 4,
                                  "items": {"type": "array", "items": matrix_schema(8), "minItems": 1, "maxItems": 4}}],
                       "description": "W: a matrix; a list of matrices (one filter, one matrix per input channel); "
                                      "or a list of such filters"},
            "bias": {"anyOf": [ENTRY, {"type": "array", "items": ENTRY, "minItems": 1, "maxItems": 4}],
                     "description": "b (default 0), or one per filter"},
            "stride": {**PAIR, "description": "stride: one number, or [rows, columns] (default 1)"},
            "padding": {**PAIR, "description": "zeros on each side: one number, or [rows, columns] (default 0)"},
            "dilation": {**PAIR, "description": "kernel dilation (default 1)"},
            "upstream": {"anyOf": [MATRIX, {"type": "array", "items": MATRIX, "minItems": 1, "maxItems": 4}],
                         "description": "∂L/∂Y, shaped like Y (default: all ones, i.e. L = sum of Y)"},
            "mode": {"enum": ["cross-correlation", "convolution"],
                     "description": "convolution flips the kernel by 180° first (default cross-correlation)"},
        },
    }
    results = (
        Result("output", "matrix", "Y = b + Σ_c X_c ⋆ W_c with stride, padding and dilation (one matrix per "
                                   "filter when several filters are given)"),
        Result("output_shape", "shape", "shape of Y"),
        Result("padded_input", "matrix", "X with the zero padding"),
        Result("dilated_upstream", "matrix", "∂L/∂Y with stride − 1 zeros between entries"),
        Result("grad_input", "matrix", "∂L/∂X (the shape of X)"),
        Result("grad_input_shape", "shape", "shape of ∂L/∂X"),
        Result("grad_padded_input", "matrix", "∂L/∂Xp, before the padding is dropped (a common wrong answer for "
                                              "∂L/∂X)"),
        Result("grad_kernel", "matrix", "∂L/∂W (the shape of W)"),
        Result("grad_kernel_shape", "shape", "shape of ∂L/∂W"),
        Result("grad_bias", "number", "∂L/∂b = Σ ∂L/∂Y (one filter)"),
        Result("grad_biases", "vector", "∂L/∂b per filter"),
        Result("flipped_kernel", "matrix", "W rotated by 180° (each matrix)"),
    )
    conventions = ConvModeConventions
    example = {"input": [[1, 2, 0], [0, 1, 3], [2, 1, 1]], "kernel": [[1, -1], [0, 2]], "stride": 2, "padding": 1,
               "bias": 1, "upstream": [[1, 0], [2, -1]]}
    notes = ("Deep learning's convolution is a cross-correlation (no flip), as torch.nn.functional.conv2d. "
             "Without `upstream`, L is the sum of Y (∂L/∂Y all ones). Several channels: input is a list of "
             "matrices (C×H×W) and kernel one matrix per channel (C×kh×kw) or a list of filters (F×C×kh×kw); "
             "results keep the nesting the problem used.")

    def solve(self, given: dict, conventions: ConvModeConventions) -> Solution:
        layout, x, w, biases, upstream = read_problem(given)
        stride, padding = _pair(given.get("stride", 1), "stride"), _pair(given.get("padding", 0), "padding")
        dilation = _pair(given.get("dilation", 1), "dilation")
        if min(stride) < 1 or min(dilation) < 1:
            raise FamilyError("stride and dilation must be at least 1")
        if max(*size(x[0]), *size(w[0][0])) > 16 or max(*stride, *padding, *dilation) > 8:
            raise FamilyError("this family works on inputs up to 16×16, kernels up to 8×8, and stride, padding "
                              "and dilation up to 8")
        convolution = conventions.mode == "convolution"
        applied = [[rotate180(m) if convolution else m for m in f] for f in w]
        xp = [pad(c, *padding) for c in x]
        y = []
        for f, b in zip(applied, biases):
            maps = [conv2d(xc, wc, sp.Integer(0), stride, padding, dilation)[0] for xc, wc in zip(x, f)]
            total = maps[0]
            for m in maps[1:]:
                total = _add(total, m)
            y.append([[b + v for v in row] for row in total])
        if upstream is None:
            upstream = [[[sp.Integer(1)] * len(y[0][0]) for _ in y[0]] for _ in y]
        if len(upstream) != len(y) or any(size(u) != size(y[0]) for u in upstream):
            raise given_error("upstream", f"the upstream gradient ∂L/∂Y must have the output's shape "
                              f"{_shape_text(layout.output(y))}")
        g = [dilate(u, *stride) for u in upstream]
        kh, kw = size(w[0][0])
        grad_applied = []
        for gf in g:  # ∂L/∂W: correlate each padded channel with the dilated upstream, every d-th entry
            row = []
            for xc in xp:
                corr = valid_correlation(xc, gf)
                row.append([[corr[dilation[0] * a][dilation[1] * b] for b in range(kw)] for a in range(kh)])
            grad_applied.append(row)
        grad_w = [[rotate180(m) if convolution else m for m in f] for f in grad_applied]
        hp, wp = size(xp[0])
        grad_xp = []
        for c in range(len(x)):  # ∂L/∂Xp: Σ over filters of the full convolution of G̃ with the dilated kernel
            acc = zeros(hp, wp)
            for gf, f in zip(g, applied):
                for i, row in enumerate(full_convolution(gf, dilate(f[c], *dilation))):
                    for j, value in enumerate(row):
                        acc[i][j] += value
            grad_xp.append(acc)
        pr, pc = padding
        grad_x = [[row[pc:wp - pc] for row in m[pr:hp - pr]] for m in grad_xp]
        grad_b = [_total(u) for u in upstream]
        out = layout.output(y)
        results = {
            "output": out, "output_shape": _shape_of_value(out), "padded_input": layout.per_channel(xp),
            "dilated_upstream": layout.output(g), "grad_input": layout.per_channel(grad_x),
            "grad_input_shape": _shape_of_value(layout.per_channel(grad_x)),
            "grad_padded_input": layout.per_channel(grad_xp), "grad_kernel": layout.kernel(grad_w),
            "grad_kernel_shape": _shape_of_value(layout.kernel(grad_w)), "grad_biases": grad_b,
            "flipped_kernel": layout.kernel([[rotate180(m) for m in f] for f in w]),
        }
        if len(grad_b) == 1:
            results["grad_bias"] = grad_b[0]
        steps = self._steps(given, layout, (x, xp, y, g, grad_w, grad_xp, grad_x, grad_b),
                            (stride, padding, dilation, (kh, kw)), convolution)
        return Solution(results, steps)

    @staticmethod
    def _steps(given, layout: Layout, values, sizes, convolution: bool) -> list[Step]:
        x, xp, y, g, grad_w, grad_xp, grad_x, grad_b = values
        (sr, sc), (pr, pc), (dr, dc), (kh, kw) = sizes
        many = len(x) > 1 or len(y) > 1
        sum_c = "Σ_c " if len(x) > 1 else ""
        return [
            Step("pad", f"{pr} zero row(s) and {pc} zero column(s) on each side: Xp = {show(layout.per_channel(xp))}"),
            Step("output size", f"⌊({size(x[0])[0]} + 2·{pr} − {dr * (kh - 1) + 1})/{sr}⌋ + 1 = {size(y[0])[0]} rows, "
                                f"⌊({size(x[0])[1]} + 2·{pc} − {dc * (kw - 1) + 1})/{sc}⌋ + 1 = {size(y[0])[1]} "
                                "columns" + (f", {len(y)} filter(s) over {len(x)} channel(s)" if many else "")),
            Step("forward", ("kernel flipped by 180° (convolution); " if convolution else "")
                 + f"Y[i][j] = b + {sum_c}Σ_ab Xp[{_term(sr, 'i')} + {_term(dr, 'a')}][{_term(sc, 'j')} + "
                   f"{_term(dc, 'b')}]·W[a][b] = {show(layout.output(y))}"),
            Step("dilate ∂L/∂Y by the stride", f"{sr - 1} zero row(s) and {sc - 1} zero column(s) between entries: "
                                               f"G̃ = {show(layout.output(g))}"),
            Step("∂L/∂W", "valid cross-correlation of Xp with G̃" + (" (each channel with each filter's G̃)" if many
                                                                        else "")
                 + (f", every ({dr}, {dc})-th entry" if (dr, dc) != (1, 1) else "")
                 + (", rotated by 180° (convolution)" if convolution else "") + f": {show(layout.kernel(grad_w))}"),
            Step("∂L/∂Xp", "full convolution of G̃ with W" + (" (dilated)" if (dr, dc) != (1, 1) else "")
                 + (", summed over filters" if len(y) > 1 else "")
                 + f", zeros where no window reached: {show(layout.per_channel(grad_xp))}"),
            Step("∂L/∂X", f"drop the padding ({pr} row(s), {pc} column(s) each side): "
                          f"{show(layout.per_channel(grad_x))}"),
            Step("∂L/∂b", f"Σ ∂L/∂Y = {show(grad_b if len(grad_b) > 1 else grad_b[0])}"),
        ]

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
        bias = given.get("bias", 0)
        if any(exact(b) != 0 for b in (bias if isinstance(bias, list) else [bias])):
            out.append(Variant({**given, "bias": [0] * len(bias) if isinstance(bias, list) else 0},
                               "the bias was left out"))
        return out


def _shape_of_value(value) -> tuple:
    return (len(value), *_shape_of_value(value[0])) if isinstance(value, list) else ()


def _shape_text(value) -> str:
    return "×".join(map(str, _shape_of_value(value)))
