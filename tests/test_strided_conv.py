"""`conv2d_strided` against independent oracles: torch autograd on conv2d, and without torch a
brute-force scatter of the loss and central finite differences of a direct NumPy forward pass."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from examcheck.families import FamilyError, get


def solve(g):
    return get("conv2d_strided").compute(g).results


def as_array(m):
    return np.array([[float(v) for v in row] for row in m])


def numpy_forward(x, w, b, s, p, d):
    """Direct sliding-window definition, written independently of the family."""
    xp = np.pad(x, ((p[0], p[0]), (p[1], p[1])))
    kh, kw = w.shape
    out_h = (xp.shape[0] - d[0] * (kh - 1) - 1) // s[0] + 1
    out_w = (xp.shape[1] - d[1] * (kw - 1) - 1) // s[1] + 1
    y = np.full((out_h, out_w), float(b))
    for i in range(out_h):
        for j in range(out_w):
            window = xp[i * s[0]: i * s[0] + d[0] * (kh - 1) + 1: d[0], j * s[1]: j * s[1] + d[1] * (kw - 1) + 1: d[1]]
            y[i, j] += float((window * w).sum())
    return y


small = st.integers(-4, 4)


@st.composite
def problems(draw):
    h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    mat = lambda r, c: draw(st.lists(st.lists(small, min_size=c, max_size=c), min_size=r, max_size=r))  # noqa: E731
    pair = lambda lo, hi: draw(st.integers(lo, hi) | st.lists(st.integers(lo, hi), min_size=2, max_size=2))  # noqa: E731
    g = {"input": mat(h, w), "kernel": mat(kh, kw), "stride": pair(1, 3), "padding": pair(0, 2),
         "dilation": pair(1, 2), "bias": draw(small)}
    try:
        shape = solve(g)["output_shape"]
    except FamilyError:
        assume(False)
    if draw(st.booleans()):
        g["upstream"] = mat(*shape)
    return g


def _pairs(g):
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
    return pair(g.get("stride", 1)), pair(g.get("padding", 0)), pair(g.get("dilation", 1))


def _upstream(g, shape):
    return np.array(g["upstream"], dtype=float) if "upstream" in g else np.ones(shape)


@settings(max_examples=80, deadline=None)
@given(problems())
def test_forward_and_gradients_by_finite_differences(g):
    r = solve(g)
    s, p, d = _pairs(g)
    x, w = np.array(g["input"], dtype=float), np.array(g["kernel"], dtype=float)
    y = numpy_forward(x, w, g["bias"], s, p, d)
    assert np.array_equal(as_array(r["output"]), y)
    up = _upstream(g, y.shape)

    def loss(xx, ww, bb):
        return float((numpy_forward(xx, ww, bb, s, p, d) * up).sum())

    # the loss is linear in each of X, W, b, so a central difference with step 1 is exact
    grad_x = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        e = np.zeros_like(x)
        e[idx] = 1
        grad_x[idx] = (loss(x + e, w, g["bias"]) - loss(x - e, w, g["bias"])) / 2
    grad_w = np.zeros_like(w)
    for idx in np.ndindex(*w.shape):
        e = np.zeros_like(w)
        e[idx] = 1
        grad_w[idx] = (loss(x, w + e, g["bias"]) - loss(x, w - e, g["bias"])) / 2
    assert np.array_equal(as_array(r["grad_input"]), grad_x)
    assert np.array_equal(as_array(r["grad_kernel"]), grad_w)
    assert float(r["grad_bias"]) == (loss(x, w, g["bias"] + 1) - loss(x, w, g["bias"] - 1)) / 2


@settings(max_examples=60, deadline=None)
@given(problems())
def test_matches_torch_autograd(g):
    torch = pytest.importorskip("torch")
    r = solve(g)
    s, p, d = _pairs(g)
    x = torch.tensor(g["input"], dtype=torch.float64, requires_grad=True)
    w = torch.tensor(g["kernel"], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([float(g["bias"])], dtype=torch.float64, requires_grad=True)
    y = torch.nn.functional.conv2d(x[None, None], w[None, None], b, stride=s, padding=p, dilation=d)[0, 0]
    assert np.array_equal(as_array(r["output"]), y.detach().numpy())
    (y * torch.tensor(_upstream(g, tuple(y.shape)))).sum().backward()
    assert np.array_equal(as_array(r["grad_input"]), x.grad.numpy())
    assert np.array_equal(as_array(r["grad_kernel"]), w.grad.numpy())
    assert float(r["grad_bias"]) == float(b.grad[0])


def test_convolution_mode_flips_the_kernel():
    g = {"input": [[1, 2, 0], [3, 1, 1], [0, 2, 4]], "kernel": [[1, 0], [2, -1]], "stride": 1}
    flipped = solve({**g, "mode": "convolution"})
    as_corr = solve({**g, "kernel": [[-1, 2], [0, 1]]})
    assert flipped["output"] == as_corr["output"]
    assert flipped["grad_kernel"] == [list(reversed(row)) for row in reversed(as_corr["grad_kernel"])]


def test_by_hand_stride_two_padding_one():
    # X 3×3 padded to 5×5, 2×2 kernel of ones, stride 2: windows at rows/cols 0 and 2
    r = solve({"input": [[1, 2, 3], [4, 5, 6], [7, 8, 9]], "kernel": [[1, 1], [1, 1]], "stride": 2, "padding": 1})
    assert r["output"] == [[1, 5], [11, 28]]
    # every input pixel lies in exactly one window: the gradient is all ones
    assert r["grad_input"] == [[1, 1, 1], [1, 1, 1], [1, 1, 1]]
    # ∂L/∂W[a][b] sums Xp[2i + a][2j + b] over the four windows: W[0][0] sees only X[1][1] = 5
    assert r["grad_kernel"] == [[5, 10], [10, 20]] and r["grad_bias"] == 4


def test_exact_rationals():
    r = solve({"input": [["1/2", 1], [2, "1/3"]], "kernel": [["1/4"]], "bias": "1/6"})
    assert r["output"][0][0] == sp.Rational(1, 8) + sp.Rational(1, 6)


def test_bad_upstream_shape_is_a_clear_error():
    with pytest.raises(FamilyError, match="output's shape"):
        solve({"input": [[1, 2, 3]], "kernel": [[1]], "stride": 2, "upstream": [[1, 1, 1]]})


def test_mistakes_are_computed():
    fam = get("conv2d_strided")
    g = {"input": [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]], "kernel": [[1, 0], [0, -1]],
         "stride": 2, "padding": 1, "bias": 1}
    feedback = {v.feedback.split(":")[0]: fam.compute(v.given).results for v in fam.variants(g)}
    assert set(feedback) >= {"the stride was ignored", "the padding was ignored", "the bias was left out",
                             "the kernel was flipped by 180°"}
    assert feedback["the stride was ignored"]["output_shape"] == (5, 5)


# ----------------------------------------------------------------------------- several channels and filters


@st.composite
def multichannel_problems(draw):
    channels, filters = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(2, 5)), draw(st.integers(2, 5))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    mat = lambda r, c: draw(st.lists(st.lists(small, min_size=c, max_size=c), min_size=r, max_size=r))  # noqa: E731
    x = [mat(h, w) for _ in range(channels)]
    k = [[mat(kh, kw) for _ in range(channels)] for _ in range(filters)]
    g = {"input": x, "kernel": k, "stride": draw(st.integers(1, 2)), "padding": draw(st.integers(0, 1)),
         "bias": [draw(small) for _ in range(filters)]}
    try:
        shape = solve(g)["output_shape"]
    except FamilyError:
        assume(False)
    if draw(st.booleans()):
        g["upstream"] = [mat(*shape[1:]) for _ in range(filters)]
    return g


@settings(max_examples=40, deadline=None)
@given(multichannel_problems())
def test_several_channels_and_filters_match_torch(g):
    torch = pytest.importorskip("torch")
    r = solve(g)
    x = torch.tensor(g["input"], dtype=torch.float64, requires_grad=True)
    w = torch.tensor(g["kernel"], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([float(v) for v in g["bias"]], dtype=torch.float64, requires_grad=True)
    y = torch.nn.functional.conv2d(x[None], w, b, stride=g["stride"], padding=g["padding"])[0]
    assert r["output_shape"] == tuple(y.shape)
    assert np.array_equal(np.array(r["output"], dtype=float), y.detach().numpy())
    up = torch.tensor(g["upstream"], dtype=torch.float64) if "upstream" in g else torch.ones_like(y)
    (y * up).sum().backward()
    assert np.array_equal(np.array(r["grad_input"], dtype=float), x.grad.numpy())
    assert np.array_equal(np.array(r["grad_kernel"], dtype=float), w.grad.numpy())
    assert [float(v) for v in r["grad_biases"]] == b.grad.tolist()


def test_one_filter_over_channels_by_finite_differences():
    # two channels, one 2×2 filter per channel (written C×kh×kw): Y is one map, ∂L/∂W is C×kh×kw
    g = {"input": [[[1, 2, 0], [0, 1, 1], [2, 0, 1]], [[0, 1, 1], [1, 0, 2], [1, 1, 0]]],
         "kernel": [[[1, 0], [0, -1]], [[2, 1], [0, 1]]], "bias": 1, "upstream": [[1, 2], [0, -1]]}
    r = solve(g)
    x, k = np.array(g["input"], dtype=float), np.array(g["kernel"], dtype=float)
    up = np.array(g["upstream"], dtype=float)

    def forward(xx, kk):
        return sum(numpy_forward(xx[c], kk[c], 0, (1, 1), (0, 0), (1, 1)) for c in range(2)) + 1

    assert np.array_equal(as_array(r["output"]), forward(x, k))
    for array, result in ((x, "grad_input"), (k, "grad_kernel")):
        grad = np.zeros_like(array)
        for idx in np.ndindex(*array.shape):
            e = np.zeros_like(array)
            e[idx] = 1
            plus = forward(x + e, k) if array is x else forward(x, k + e)
            minus = forward(x - e, k) if array is x else forward(x, k - e)
            grad[idx] = ((plus - minus) * up).sum() / 2
        assert np.array_equal(np.array(r[result], dtype=float), grad), result
    assert r["grad_bias"] == 2 and r["grad_kernel_shape"] == (2, 2, 2)


def test_mismatched_channels_are_a_clear_error():
    with pytest.raises(FamilyError, match="channel"):
        solve({"input": [[[1, 2], [3, 4]], [[1, 2], [3, 4]]], "kernel": [[[[1]]]]})
    with pytest.raises(FamilyError, match="one value per filter"):
        solve({"input": [[1, 2], [3, 4]], "kernel": [[[[1]]], [[[2]]]], "bias": [1, 2, 3]})
