import sympy as sp

from examcheck.answertests import Options, Precision, run_test
from examcheck.domains import parse_domain
from examcheck.mathfuncs import sigma
from examcheck.parsing import Vocabulary

z, x_i, y = sp.Symbol("z", real=True), sp.Symbol("x_i", real=True), sp.Symbol("y", positive=True)


def options(precision=Precision(), **symbols_and_domains):
    domains = {name: parse_domain(d) for name, d in symbols_and_domains.items()}
    return Options(precision=precision, vocab=Vocabulary({n: d.symbol(n) for n, d in domains.items()}),
                   domains=domains)


def number(student, reference, precision=Precision()):
    return run_test("number", student, reference, options(precision))


def expr(student, reference, **domains):
    return run_test("expression", student, reference, options(**domains))


# numbers ------------------------------------------------------------------


def test_decimals_rule_accepts_the_rounding_interval():
    ref = 1 - sp.tanh(1) ** 2  # 0.41997...
    assert number("0.42", ref, Precision("decimals", 2)).correct
    assert number("0.41997", ref, Precision("decimals", 2)).correct
    wrong = number("0.4", ref, Precision("decimals", 2))
    assert not wrong.correct and wrong.note == "insufficient_precision"


def test_default_rule_compares_at_the_written_precision():
    ref = sp.sqrt(sp.Rational(4901, 2500))  # 1.40007
    assert number("1.4", ref).note == "insufficient_precision"  # 2 figures: the rule asks for 3
    assert number("1.40", ref).correct
    assert number("1.4001", ref).correct
    assert not number("1.41", ref).correct
    assert not number("1.4099", ref).correct


def test_small_values_are_not_rounded_away():
    assert not number("2e-7", sp.Rational(1, 10 ** 7)).correct
    assert number("1e-7", sp.Rational(1, 10 ** 7)).correct


def test_fractions_percent_and_scientific():
    assert number("1/3", sp.Rational(1, 3)).correct
    assert number("99.9%", sp.Rational(999, 1000)).correct
    assert number("1.802e5", 180200).correct
    assert number("1.802×10^5", 180200).correct


def test_truncation_and_sign_and_log_base_are_diagnosed():
    assert number("0.41", 1 - sp.tanh(1) ** 2, Precision("decimals", 2)).note == "truncated"
    assert number("-7600", sp.Integer(7600)).note == "sign_error"
    loss_ln = sp.Float(1.0142, 30)
    assert number("0.44", loss_ln, Precision("decimals", 2)).note == "log_base_10"  # C09


def test_sigfigs_rtol_atol_exact():
    assert number("0.999", sp.Rational(999, 1000), Precision("sigfigs", 3)).correct
    assert number("1.01", 1, Precision("rtol", 0.02)).correct
    assert not number("1.05", 1, Precision("rtol", 0.02)).correct
    assert number("0.109", sp.Rational(1, 10), Precision("atol", 0.01)).correct
    assert not number("0.98", 1, Precision("exact")).correct


def test_unreadable_number_is_invalid():
    verdict = number("seven", 7)
    assert verdict.status == "invalid"


def test_integer_rule():
    assert run_test("integer", "7600", sp.Integer(7600), Options()).correct
    assert run_test("integer", "7.6e3", sp.Integer(7600), Options()).correct
    assert run_test("integer", "26.78", sp.Integer(26), Options()).note == "floor_omitted"
    assert run_test("integer", "27", sp.Integer(26), Options()).note == "off_by_one"


# expressions --------------------------------------------------------------


def test_equivalent_forms_of_the_sigmoid_derivative():
    ref = sigma(z) * (1 - sigma(z))
    for form in ["e^(-z)/(1+e^(-z))^2", "e^z/(1+e^z)^2", r"\frac{e^{-z}}{(1+e^{-z})^2}", "sigma(z) - sigma(z)^2"]:
        verdict = expr(form, ref, z="real")
        assert verdict.correct, form
        assert "agrees at" in verdict.note or "identical" in verdict.note


def test_domain_matters_for_logs():
    p = sp.Symbol("y", positive=True)
    assert expr("-log((1-y)/y)", sp.log(p / (1 - p)), y="0 < y < 1").correct


def test_expression_diagnoses():
    ref = sigma(z) * (1 - sigma(z)) * x_i
    assert expr("-sigma(z)(1-sigma(z))x_i", ref, z="real", x_i="real").note == "sign_error"
    assert expr("sigma(z)(1-sigma(z))", ref, z="real", x_i="real").note == "missing_factor:x_i"
    assert expr("2 sigma(z)(1-sigma(z))x_i", ref, z="real", x_i="real").note == "constant_factor"
    assert expr("log10(y)", sp.log(y), y="positive").note == "log_base"
    assert expr("1/y", y, y="positive").note == "reciprocal"


def test_expression_wrong_without_pattern_is_still_incorrect():
    verdict = expr("z^2", sp.sin(z), z="real")
    assert verdict.status == "incorrect"


def test_unknown_symbol_is_invalid():
    verdict = expr("w_i * z", z, z="real")
    assert verdict.status == "invalid" and "unknown symbol 'w_i'" in verdict.feedback


# structures ----------------------------------------------------------------


def test_shapes():
    assert run_test("shape", "256x1025", (256, 1025), Options()).correct
    assert run_test("shape", "[256, 1025]", (256, 1025), Options()).correct
    assert run_test("shape", "1025x256", (256, 1025), Options()).note == "transposed"
    assert run_test("shape", "1x1", (5, 5), Options()).status == "incorrect"  # C77
    assert run_test("shape", "1x1x5", (5,), Options()).note == "singleton_dims"
    assert run_test("shape", "1x1x5", (5,), Options(ignore_singleton=True)).correct
    assert run_test("shape", "256x1024", (256, 1025), Options()).note == "bias_dimension"


def test_vectors_and_matrices():
    ref = [sp.Integer(1), sp.Rational(49, 50)]
    assert run_test("vector", ["1", "0.98"], ref, Options()).correct
    assert run_test("vector", "(1, 0.98)", ref, Options()).correct
    assert run_test("vector", "[1, 0.98, 0]", ref, Options()).note == "shape"
    kernel = [[3, 8, 3], [2, 7, 9], [5, 0, 2]]
    ref_m = [[sp.Integer(v) for v in row] for row in kernel]
    rotated = [[2, 0, 5], [9, 7, 2], [3, 8, 3]]
    assert run_test("matrix", kernel, ref_m, Options()).correct
    assert run_test("matrix", rotated, ref_m, Options()).note == "rotated_180"
    assert run_test("matrix", [list(r) for r in zip(*kernel)], ref_m, Options()).note == "transposed"


def test_partial_credit_per_entry():
    ref = [sp.Integer(v) for v in (1, 2, 3, 4)]
    verdict = run_test("vector", "[1, 2, 3, 5]", ref, Options(partial_entries=True))
    assert verdict.status == "partial" and verdict.score == 0.75


def test_sets_ignore_order_and_tuples_do_not():
    ref = [sp.Integer(1), sp.Integer(3)]
    assert run_test("set", "[3, 1]", ref, Options()).correct
    assert run_test("tuple", "(3, 1)", ref, Options()).note == "swapped_order"


def test_boolean_and_choice():
    assert run_test("boolean", "yes", True, Options()).correct
    assert not run_test("boolean", "F", True, Options()).correct
    choices = ["increase", "decrease", "no change"]
    assert run_test("choice", "b", "decrease", Options(choices=choices)).correct
    assert run_test("choice", "No Change", "no change", Options(choices=choices)).correct
    assert run_test("choice", "maybe", "no change", Options(choices=choices)).status == "invalid"


def test_domain_mismatch_is_named():
    x = sp.Symbol("x", real=True)
    verdict = expr("2 log(x)", sp.log(x ** 2), x="real")
    assert verdict.status == "incorrect" and verdict.note == "domain_mismatch"
    assert expr("2 log(x)", sp.log(x ** 2), x="positive").correct


def test_never_silently_wrong_when_no_point_decides():
    x = sp.Symbol("x", real=True)
    reference = sp.sqrt(x - 5)  # undefined everywhere in the declared domain
    for answer in ("sqrt(2x - 10)/sqrt(2)", "sqrt(x - 6)"):
        verdict = expr(answer, reference, x="0 < x < 1")
        assert verdict.status in ("correct", "undecided"), answer
        assert verdict.status != "correct" or verdict.note == "proven symbolically"


def test_verdicts_say_how_they_were_reached():
    ref = sigma(z) * (1 - sigma(z))
    assert expr("sigma(z)(1 - sigma(z))", ref, z="real").note == "identical to the reference"
    assert expr("e^z/(1+e^z)^2", ref, z="real").note.startswith("agrees at ")


def test_registry_is_complete_even_after_a_direct_import():
    import subprocess
    import sys

    code = ("import sympy as sp, examcheck.answertests.expressions\n"
            "from examcheck.answertests import Options, run_test, TESTS\n"
            "assert run_test('vector', '[1, 2]', [sp.Integer(1), sp.Integer(2)], Options()).correct\n"
            "assert {'number', 'shape', 'matrix', 'set', 'boolean', 'choice'} <= set(TESTS)\n")
    subprocess.run([sys.executable, "-c", code], check=True)
