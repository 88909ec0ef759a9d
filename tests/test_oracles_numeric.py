"""Numeric families against values computed without the family code: exact Fraction iterations,
NumPy sums, counting over explicit label arrays, and finite differences of independent forward passes."""

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from examcheck.families import get
from examcheck.mathfuncs import expand_sigma

SETTINGS = settings(max_examples=60, deadline=None)
small = st.fractions(min_value=-3, max_value=3, max_denominator=4)


def num(value) -> float:
    return float(sp.N(expand_sigma(sp.sympify(value)) if isinstance(value, sp.Basic) else value, 30))


# ----------------------------------------------------------------------------- gradient descent


@st.composite
def quadratic(draw):
    """f = ½ xᵀAx + bᵀx with A symmetric positive definite (diagonally dominant), as text and arrays."""
    n = draw(st.integers(1, 3))
    a = [[Fraction(0)] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            a[i][j] = a[j][i] = draw(st.fractions(-1, 1, max_denominator=2))
    for i in range(n):
        a[i][i] = sum(abs(v) for v in a[i]) + draw(st.fractions(Fraction(1, 2), 4, max_denominator=2))
    b = [draw(small) for _ in range(n)]
    names = ["x", "y", "w"][:n]
    terms = [f"({a[i][j] / 2})*{names[i]}*{names[j]}" for i in range(n) for j in range(n)]
    terms += [f"({b[i]})*{names[i]}" for i in range(n)]
    return " + ".join(terms), names, a, b


@settings(max_examples=40, deadline=None)
@given(quadratic(), st.fractions(Fraction(1, 20), Fraction(1, 2), max_denominator=20), st.integers(0, 4),
       st.sampled_from([Fraction(0), Fraction(1, 2), Fraction(9, 10)]), st.data())
def test_gradient_descent_iterates_in_exact_arithmetic(q, step, steps, beta, data):
    text, names, a, b = q
    start = [data.draw(small) for _ in names]

    def grad(x):
        return [sum(a[i][j] * x[j] for j in range(len(x))) + b[i] for i in range(len(x))]

    x, v, iterates, gradients = list(start), [Fraction(0)] * len(start), [list(start)], [grad(start)]
    for _ in range(steps):  # heavy ball: v <- beta v - s grad f(x); x <- x + v
        v = [beta * vi - step * gi for vi, gi in zip(v, grad(x))]
        x = [xi + vi for xi, vi in zip(x, v)]
        iterates.append(list(x))
        gradients.append(grad(x))
    results = get("gradient_descent").compute({"f": text, "variables": names, "start": [str(s) for s in start],
                                               "step_size": str(step), "steps": steps,
                                               "momentum": str(beta)}).results
    to_fractions = [[Fraction(int(sp.Rational(c).p), int(sp.Rational(c).q)) for c in row] for row in results["iterates"]]
    assert to_fractions == iterates
    assert len(results["iterates"]) == steps + 1  # the start point is included
    assert [[Fraction(int(sp.Rational(c).p), int(sp.Rational(c).q)) for c in row] for row in results["gradients"]] == gradients
    minimiser = np.linalg.solve(np.array(a, dtype=float), -np.array(b, dtype=float))
    assert np.allclose([num(c) for c in results["minimiser"]], minimiser)
    assert results["critical_point_type"] == "minimum"
    if beta == 0:
        largest = max(np.linalg.eigvalsh(np.array(a, dtype=float)))
        assert num(results["max_stable_step"]) == pytest.approx(2 / largest)
        assert results["diverges"] == (float(step) >= 2 / largest - 1e-12)
    distance = float(np.linalg.norm(np.array(iterates[-1], dtype=float) - minimiser))
    assert num(results["distance"]) == pytest.approx(distance, abs=1e-9)


# ----------------------------------------------------------------------------- entropy and losses

distribution = st.integers(2, 6).flatmap(lambda n: st.lists(st.integers(0, 6), min_size=n, max_size=n)).filter(
    lambda c: sum(c) > 0).map(lambda c: [Fraction(v, sum(c)) for v in c])


@SETTINGS
@given(distribution, st.data(), st.sampled_from(["e", 2, 10]))
def test_entropy_cross_entropy_and_kl_by_numpy(p, data, base):
    q = data.draw(st.lists(st.integers(1, 6), min_size=len(p), max_size=len(p)).map(
        lambda c: [Fraction(v, sum(c)) for v in c]))
    results = get("entropy").compute({"P": [str(v) for v in p], "Q": [str(v) for v in q]}, base).results
    pa, qa = np.array(p, dtype=float), np.array(q, dtype=float)
    log = {"e": np.log, 2: np.log2, 10: np.log10}[base]
    keep = pa > 0
    assert num(results["entropy"]) == pytest.approx(-np.sum(pa[keep] * log(pa[keep])), abs=1e-12)
    assert num(results["cross_entropy"]) == pytest.approx(-np.sum(pa[keep] * log(qa[keep])), abs=1e-12)
    assert num(results["kl"]) == pytest.approx(np.sum(pa[keep] * log(pa[keep] / qa[keep])), abs=1e-12)


@SETTINGS
@given(st.lists(st.integers(0, 1), min_size=1, max_size=6), st.data(), st.sampled_from(["e", 2, 10]))
def test_logistic_loss_by_numpy(labels, data, base):
    epochs = data.draw(st.integers(1, 3))
    probs = [data.draw(st.lists(st.fractions(Fraction(1, 100), Fraction(99, 100), max_denominator=100),
                                min_size=len(labels), max_size=len(labels))) for _ in range(epochs)]
    results = get("logistic_loss").compute({"labels": labels, "probabilities": [[str(v) for v in row] for row in probs]},
                                           base).results
    y = np.array(labels)
    log = {"e": np.log, 2: np.log2, 10: np.log10}[base]
    for e, row in enumerate(probs, start=1):
        p = np.array(row, dtype=float)
        losses = -(y * log(p) + (1 - y) * log(1 - p))
        assert num(results[f"mean_loss.{e}"]) == pytest.approx(losses.mean(), abs=1e-12)
        assert np.allclose([num(v) for v in results[f"losses.{e}"]], losses)
        assert num(results[f"accuracy.{e}"]) == pytest.approx(np.mean((p >= 0.5) == (y == 1)))


@SETTINGS
@given(st.integers(0, 30), st.integers(0, 30), st.integers(0, 30), st.integers(0, 30))
def test_classification_metrics_by_counting_label_arrays(tp, fp, tn, fn):
    assume(tp + fp + tn + fn > 0)
    truth = np.array([1] * tp + [0] * fp + [0] * tn + [1] * fn)
    pred = np.array([1] * tp + [1] * fp + [0] * tn + [0] * fn)
    results = get("classification_metrics").compute({"tp": tp, "fp": fp, "tn": tn, "fn": fn}).results

    def ratio(a, b):
        return a / b if b else 0.0

    hits = int(np.sum((truth == 1) & (pred == 1)))
    precision, recall = ratio(hits, int(np.sum(pred == 1))), ratio(hits, int(np.sum(truth == 1)))
    assert num(results["accuracy"]) == pytest.approx(np.mean(truth == pred))
    assert num(results["precision"]) == pytest.approx(precision)
    assert num(results["recall"]) == pytest.approx(recall)
    assert num(results["f1"]) == pytest.approx(ratio(2 * precision * recall, precision + recall))
    assert num(results["specificity"]) == pytest.approx(ratio(int(np.sum((truth == 0) & (pred == 0))),
                                                              int(np.sum(truth == 0))))


def softmax(v):
    e = np.exp(np.array(v, dtype=float) - np.max(v))
    return e / e.sum()


@SETTINGS
@given(st.integers(2, 4), st.integers(1, 3), st.data())
def test_softmax_and_class_scores_by_numpy(classes, features, data):
    weights = [[data.draw(small) for _ in range(features)] for _ in range(classes)]
    biases = [data.draw(small) for _ in range(classes)]
    point = [data.draw(small) for _ in range(features)]
    results = get("softmax").compute({"weights": [[str(v) for v in r] for r in weights],
                                      "biases": [str(v) for v in biases], "points": [[str(v) for v in point]]}).results
    logits = np.array(weights, dtype=float) @ np.array(point, dtype=float) + np.array(biases, dtype=float)
    assert np.allclose([num(p) for p in results["probabilities.1"]], softmax(logits))
    assume(np.sort(logits)[-1] - np.sort(logits)[-2] > 1e-9)
    assert results["argmax.1"] == int(np.argmax(logits)) + 1
    names = [f"c{i}" for i in range(classes)]
    scores = get("class_scores").compute({"classes": names, "scores": [[str(v) for v in logits.tolist()]],
                                          "labels": [names[0]]}).results
    assert scores["prediction.1"] == names[int(np.argmax(logits))]
    assert scores["any_negative_score"] == bool(np.any(logits < 0))


@SETTINGS
@given(st.lists(st.one_of(st.text("abc", min_size=1, max_size=3),
                          st.tuples(st.text("xyz", min_size=1, max_size=2), st.integers(2, 4))), min_size=1, max_size=4),
       st.integers(2, 5), st.sampled_from(["last", "first", "none"]))
def test_softmax_classifier_shape_by_one_hot_encoding(features, classes, bias):
    spec = [f if isinstance(f, str) else {"name": f[0], "levels": [f"l{i}" for i in range(f[1])]} for f in features]
    columns = sum(1 if isinstance(f, str) else f[1] for f in features)
    results = get("softmax_classifier").compute({"features": spec, "classes": [f"k{i}" for i in range(classes)],
                                                 "bias": bias}).results
    assert results["n_features"] == columns
    assert results["weight_shape"] == (classes, columns + (0 if bias == "none" else 1))


@SETTINGS
@given(st.lists(small, min_size=2, max_size=8))
def test_series_by_numpy(values):
    results = get("series").compute({"values": [str(v) for v in values]}).results
    diffs = np.diff(np.array(values, dtype=float))
    assert np.allclose([num(d) for d in results["differences"]], diffs)
    assert results["increasing"] == bool(np.all(diffs > 0)) and results["decreasing"] == bool(np.all(diffs < 0))


@SETTINGS
@given(small, small)
def test_first_order_change_against_a_quadratic_loss(gradient, step):
    # L(w) = gradient·w + w²: the first-order change is the exact change minus step².
    results = get("first_order_change").compute({"gradient": str(gradient), "step": str(step)}).results
    exact_change = (gradient * step + step ** 2)
    assert Fraction(str(results["change"])) == exact_change - step ** 2
    sign = np.sign(float(gradient * step))
    assert results["direction"] == {1: "increases", -1: "decreases", 0: "stays the same"}[int(sign)]


# ----------------------------------------------------------------------------- gradients of networks


def sig(v):
    return 1 / (1 + np.exp(-v))


@settings(max_examples=12, deadline=None)
@given(st.lists(st.integers(1, 2), min_size=2, max_size=3), st.sampled_from(["bishop", "standard"]), st.booleans(),
       st.integers(0, 10_000))
def test_mlp_backprop_gradients_by_finite_differences(sizes, convention, bias, seed):
    solution = get("mlp_backprop").compute({"sizes": sizes, "activation": "sigmoid", "convention": convention,
                                            "bias": bias})
    rng = np.random.default_rng(seed)
    first = 1 if convention == "bishop" else 0
    act, tag = ("z", lambda l: l - 1) if convention == "bishop" else ("a", lambda l: l)
    layers = len(sizes) - 1
    weights = [rng.normal(size=(sizes[i + 1], sizes[i])) for i in range(layers)]
    biases = [rng.normal(size=sizes[i + 1]) if bias else np.zeros(sizes[i + 1]) for i in range(layers)]
    x, t = rng.normal(size=sizes[0]), rng.normal(size=sizes[-1])

    def loss(ws, bs):
        a = x
        for i, (w, b) in enumerate(zip(ws, bs)):
            pre = w @ a + b
            a = pre if i == layers - 1 else sig(pre)  # identity output, sigmoid hidden
        return 0.5 * np.sum((a - t) ** 2)

    values = {f"{act}^({first})_{k + 1}": x[k] for k in range(sizes[0])}
    for i in range(layers):
        layer = first + i + 1
        for j in range(sizes[i + 1]):
            for k in range(sizes[i]):
                values[f"w^({tag(layer)})_{j + 1}{k + 1}"] = weights[i][j, k]
            if bias:
                values[f"b^({tag(layer)})_{j + 1}"] = biases[i][j]
    values["t" if sizes[-1] == 1 else None] = t[0]
    values.update({f"t_{j + 1}": t[j] for j in range(sizes[-1])})

    def at(expr):
        return float(expand_sigma(expr).subs({s: values[s.name] for s in expr.free_symbols}).evalf())

    assert at(solution.results["loss"]) == pytest.approx(loss(weights, biases), rel=1e-9)
    eps = 1e-6
    for i in range(layers):
        layer = first + i + 1
        for j in range(sizes[i + 1]):
            for k in range(sizes[i]):
                up = [w.copy() for w in weights]
                down = [w.copy() for w in weights]
                up[i][j, k] += eps
                down[i][j, k] -= eps
                numeric = (loss(up, biases) - loss(down, biases)) / (2 * eps)
                name = f"dE/dw^({tag(layer)})_{j + 1}{k + 1}"
                assert at(solution.results[name]) == pytest.approx(numeric, rel=1e-5, abs=1e-8), name


@SETTINGS
@given(st.integers(2, 5), st.data(), st.integers(0, 10_000))
def test_unit_chain_gradient_by_finite_differences(depth, data, seed):
    layer = data.draw(st.integers(1, depth - 1))
    results = get("unit_chain").compute({"depth": depth, "layer": layer, "activation": "tanh"}).results
    rng = np.random.default_rng(seed)
    w = rng.normal(size=depth)  # w[k] for k = 1 .. depth-1
    a1, t = rng.normal(), rng.normal()

    def loss(ws):
        a = a1
        for k in range(1, depth):
            a = ws[k] * np.tanh(a)
        return 0.5 * (np.tanh(a) - t) ** 2

    values = {f"w^({k})": w[k] for k in range(1, depth)} | {"a^(1)": a1, "t": t}
    grad = float(results["gradient"].subs({s: values[s.name] for s in results["gradient"].free_symbols}))
    up, down = w.copy(), w.copy()
    up[layer] += 1e-6
    down[layer] -= 1e-6
    assert grad == pytest.approx((loss(up) - loss(down)) / 2e-6, rel=1e-5, abs=1e-9)


def test_sigmoid_neuron_gradient_by_finite_differences():
    rng = np.random.default_rng(0)
    results = get("sigmoid_neuron").compute({"inputs": 3}).results
    w, x = rng.normal(size=4), np.concatenate([[1.0], rng.normal(size=3)])
    z_value = float(w @ x)
    for i in range(4):
        up, down = w.copy(), w.copy()
        up[i] += 1e-6
        down[i] -= 1e-6
        numeric = (sig(up @ x) - sig(down @ x)) / 2e-6
        symbols = {s: (z_value if s.name == "z" else x[int(s.name[2:])]) for s in results["gradient"][i].free_symbols}
        assert float(expand_sigma(results["gradient"][i]).subs(symbols)) == pytest.approx(numeric, rel=1e-6)


@SETTINGS
@given(st.sampled_from(["sigmoid", "tanh", "softplus", "relu"]),
       st.lists(st.fractions(-6, 6, max_denominator=4).filter(lambda v: v != 0), min_size=1, max_size=5))
def test_activation_layer_jacobian_by_finite_differences(function, inputs):
    f = {"sigmoid": sig, "tanh": np.tanh, "softplus": lambda v: np.log1p(np.exp(v)),
         "relu": lambda v: np.maximum(v, 0)}[function]
    results = get("activation_layer").compute({"function": function, "inputs": [str(v) for v in inputs]}).results
    z = np.array(inputs, dtype=float)
    numeric = np.zeros((len(z), len(z)))
    for j in range(len(z)):
        up, down = z.copy(), z.copy()
        up[j] += 1e-6
        down[j] -= 1e-6
        numeric[:, j] = (f(up) - f(down)) / 2e-6
    assert np.allclose([[num(v) for v in row] for row in results["jacobian"]], numeric, atol=1e-6)


@SETTINGS
@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 6), st.integers(0, 1000))
def test_zero_init_by_a_numpy_training_step(n_in, hidden, n_out, seed):
    results = get("zero_init").compute({"sizes": [n_in, hidden, n_out]}).results
    rng = np.random.default_rng(seed + 1)
    x, y = rng.normal(size=n_in), rng.normal(size=n_out)
    w1, w2 = np.zeros((hidden, n_in)), np.zeros((n_out, hidden))
    a1 = sig(w1 @ x)
    a2 = sig(w2 @ a1)
    d2 = (a2 - y) * a2 * (1 - a2)
    d1 = (w2.T @ d2) * a1 * (1 - a1)
    assert results["hidden_identical"] == bool(np.allclose(a1, a1[0]))
    assert results["first_layer_gradient_zero"] == bool(np.allclose(np.outer(d1, x), 0))
    assert results["output_columns_identical"] == bool(np.allclose(np.outer(d2, a1), np.outer(d2, a1)[:, :1]))


def test_backprop_memory_by_hand():
    results = get("backprop_memory").compute({"vectors": {"x": "n", "h": "m", "a": "r", "o": "s"},
                                              "bytes_per_float": 4}).results
    m, r, s = (sp.Symbol(n, positive=True, integer=True) for n in "mrs")
    assert sp.simplify(results["bytes"] - 4 * (m + r + s)) == 0 and results["stored"] == ["h", "a", "o"]


def test_logistic_mixture_by_marginalising_numerically():
    results = get("logistic_mixture").compute({"components": 3}).results
    rng = np.random.default_rng(3)
    pis, zs = rng.dirichlet([1, 1, 1]), rng.normal(size=3)
    values = {f"pi_{k + 1}": pis[k] for k in range(3)} | {f"z_{k + 1}": zs[k] for k in range(3)}
    expr = expand_sigma(results["probability"])
    joint = sum(pis[k] * sig(zs[k]) for k in range(3))  # Σ_k p(z=k) p(y=1 | z=k)
    assert float(expr.subs({s: values[s.name] for s in expr.free_symbols})) == pytest.approx(joint)


@SETTINGS
@given(st.fractions(Fraction(1, 50), Fraction(49, 50), max_denominator=50),
       st.fractions(Fraction(1, 50), Fraction(49, 50), max_denominator=50), st.sampled_from(["e", 2]))
def test_binary_cross_entropy_by_numpy(x, p, base):
    results = get("binary_cross_entropy").compute({}, base).results
    log = np.log if base == "e" else np.log2
    values = {"x": float(x), "p": float(p)}

    def at(expr):
        return float(expr.subs({s: values[s.name] for s in expr.free_symbols}))

    xf, pf = float(x), float(p)
    assert at(results["ce"]) == pytest.approx(-xf * log(pf) - (1 - xf) * log(1 - pf))
    assert at(results["entropy"]) + at(results["kl"]) == pytest.approx(at(results["ce"]))
    assert results["decomposition"] == "H(P) + D_KL(P||Q)"


