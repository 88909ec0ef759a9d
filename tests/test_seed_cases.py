"""Answer-equivalence cases from ../shared/seed-catalogue.md grade as the catalogue says
(entry numbers in the test names).  References come from the families or are written
as one-off expressions; the documents' answers are the student answers."""

import sympy as sp

from examcheck.answertests import Options, Precision, read_reference, run_test
from examcheck.domains import parse_domain
from examcheck.families import get
from examcheck.parsing import Vocabulary


def opts(precision=Precision(), **domains):
    parsed = {n: parse_domain(d) for n, d in domains.items()}
    return Options(precision=precision, domains=parsed, vocab=Vocabulary({n: d.symbol(n) for n, d in parsed.items()}))


def result(family, given, name, log_base="e"):
    return get(family).compute(given, log_base).results[name]


def test_c01_sigmoid_neuron_gradient_matches():
    ref = result("sigmoid_neuron", {}, "partial_w_i")
    assert run_test("expression", "(1 - σ(z)) σ(z) x_i", ref, opts(z="real", x_i="real")).correct


def test_c67_sign_slip_under_the_documents_own_sigma():
    ref = result("activation", {"definition": "1/(1+exp(z))"}, "derivative")
    verdict = run_test("expression", "sigma(z)(1 - sigma(z))", ref, opts(z="real"))
    assert verdict.status == "incorrect" and verdict.note == "sign_error"


def test_c69_claimed_inverse_is_the_negative():
    ref = result("activation", {"definition": "1/(1+exp(z))", "identities": True}, "inverse")
    verdict = run_test("expression", r"\ln\left(\frac{u}{1-u}\right)", ref, opts(u="0 < u < 1"))
    assert verdict.note == "sign_error"


def test_c09_c11_loss_only_matches_in_log_base_10():
    ref = -(sp.log(sp.Rational(97, 100)) + sp.log(sp.Rational(91, 100)) + sp.log(sp.Rational(49, 100))
            + sp.log(sp.Rational(4, 100))) / 4
    verdict = run_test("number", "0.44", ref, opts(Precision("decimals", 2)))
    assert verdict.note == "log_base_10"
    ref_k1 = -(sp.log(sp.Rational(99, 100)) + sp.log(sp.Rational(93, 100)) + sp.log(sp.Rational(51, 100))
               + sp.log(sp.Rational(2, 100))) / 4
    assert run_test("number", "0.51", ref_k1, opts(Precision("decimals", 2))).note == "log_base_10"
    assert run_test("number", "1.17", ref_k1, opts(Precision("decimals", 2))).correct


def test_c20_tanh_jacobian_rounded():
    h = [1 - sp.tanh(v) ** 2 for v in (-10, 1, 10, -1)]
    ref = [[h[i] if i == j else sp.Integer(0) for j in range(4)] for i in range(4)]
    good = "[[0.00,0,0,0],[0,0.42,0,0],[0,0,0.00,0],[0,0,0,0.42]]"
    assert run_test("matrix", good, ref, opts(Precision("decimals", 2))).correct


def test_c41_receptive_field():
    ref = result("receptive_field", {"layers": [{"kernel": 5, "stride": 1, "padding": 2, "repeat": 5}]},
                 "receptive_field_shape")
    assert run_test("shape", "21 x 21", ref, Options()).correct


def test_c49_c51_rounded_distances():
    given = {"f": "y^2 + (y - x)^2", "variables": ["x", "y"], "start": [1, 1]}
    for step, written in ((0.01, "1.40"), (0.1, "1.28"), (10, "19.03")):
        ref = result("gradient_descent", {**given, "step_size": step}, "distance")
        assert run_test("number", written, ref, opts(Precision("decimals", 2))).correct


def test_c77_gradient_shape_is_5x5_not_1x1():
    assert run_test("shape", "(1x1)", (5, 5), Options()).status == "incorrect"
    assert run_test("shape", "(3x3)", (3, 3), Options()).correct  # C78


def test_c79_c80_convolution_gradients():
    dx = [[3, 11, 14, 11, 3], [5, 20, 32, 27, 12], [10, 25, 39, 29, 14], [7, 14, 25, 18, 11], [5, 5, 7, 2, 2]]
    ref = [[sp.Integer(v) for v in row] for row in dx]
    assert run_test("matrix", dx, ref, Options()).correct
    dw = [[47, 43, 49], [47, 50, 54], [36, 46, 52]]
    rotated = [list(reversed(row)) for row in reversed(dw)]
    assert run_test("matrix", rotated, [[sp.Integer(v) for v in row] for row in dw], Options()).note == "rotated_180"


def test_c22_extra_sigmoid_factor_is_named():
    verdict = run_test("expression", "w a (1 - a) g", sp.Symbol("w", real=True) * sp.Symbol("g", real=True),
                       opts(w="real", g="real", a="0 < a < 1"))
    assert verdict.status == "incorrect" and verdict.note.startswith("extra_factor")


def test_c44_binary_entropy_sign():
    x = sp.Symbol("x", positive=True)
    entropy = -x * sp.log(x) - (1 - x) * sp.log(1 - x)
    assert run_test("expression", "x log x + (1-x) log(1-x)", entropy, opts(x="0 < x < 1")).note == "sign_error"


def test_c61_swapped_weight_indices():
    names = ["hp", "z", "d_1", "d_2", "d_3", "w_11", "w_21", "w_31", "w_12", "w_13"]
    o = opts(**{n: "real" for n in names})
    ref = read_reference("expression", "hp*z*(w_11*d_1 + w_21*d_2 + w_31*d_3)", o)
    assert run_test("expression", "hp z (w_11 d_1 + w_12 d_2 + w_13 d_3)", ref, o).status == "incorrect"
    assert run_test("expression", "hp z (w_11 d_1 + w_21 d_2 + w_31 d_3)", ref, o).correct


def test_c23_memory_in_bytes():
    o = opts(m="positive integer", r="positive integer", s="positive integer", n="positive integer")
    ref = read_reference("expression", "2*(m + r + s)", o)
    assert run_test("expression", "2(m+r+s)", ref, o).correct


def test_c82_max_sigmoid_slope():
    assert run_test("number", "0.25", sp.Rational(1, 4), Options()).correct
    assert not run_test("number", "1", sp.Rational(1, 4), Options()).correct
