"""Family results against the independently computed values in
../shared/seed-catalogue.md (entry numbers in comments)."""

import math

import sympy as sp

from examcheck.families import all_families, get
from examcheck.mathfuncs import expand_sigma, sigma


def solve(name, given, log_base="e"):
    return get(name).compute(given, log_base)


def zero(expr):
    return sp.simplify(expand_sigma(expr)) == 0


def test_every_family_is_registered_with_a_schema():
    families = all_families()
    assert {"activation", "sigmoid_neuron", "entropy", "dense", "dense_budget", "cnn", "receptive_field",
            "gradient_descent"} <= set(families)
    for family in families.values():
        assert family.given_schema["type"] == "object"
        assert family.summary


def test_sigmoid_neuron_gradient():  # C01, C02
    results = solve("sigmoid_neuron", {"inputs": 3}).results
    z, x_i = sp.Symbol("z", real=True), sp.Symbol("x_i", real=True)
    assert zero(results["partial_w_i"] - sigma(z) * (1 - sigma(z)) * x_i)
    assert len(results["gradient"]) == 4
    assert zero(results["gradient"][0] - sigma(z) * (1 - sigma(z)))


def test_sigmoid_derivative_in_terms_of_itself():
    results = solve("activation", {"function": "sigmoid"}).results
    z = sp.Symbol("z", real=True)
    assert zero(results["derivative_in_f"] - sigma(z) * (1 - sigma(z)))


def test_misdefined_sigmoid_has_the_opposite_sign():  # C67, C69
    results = solve("activation", {"definition": "1/(1+exp(z))", "identities": True}).results
    z = sp.Symbol("z", real=True)
    f = 1 / (1 + sp.exp(z))
    assert zero(results["derivative"] + f * (1 - f))
    assert results["reflection_identity"] is True  # C68
    assert results["logit_is_inverse"] is False
    assert zero(results["f_of_claimed_inverse"] + z)


def test_standard_sigmoid_identities():
    results = solve("activation", {"function": "sigmoid", "identities": True}).results
    assert results["reflection_identity"] and results["logit_is_inverse"]
    u = sp.Symbol("u", positive=True)
    assert sp.simplify(results["inverse"] - sp.log(u / (1 - u))) == 0


def test_relu_one_sided_derivatives():  # C24
    results = solve("activation", {"function": "relu", "at": 0}).results
    assert results["left_derivative"] == 0 and results["right_derivative"] == 1
    assert results["differentiable_at"] is False


def test_tanh_local_gradient():  # C20
    results = solve("activation", {"function": "tanh", "at": 1}).results
    assert math.isclose(float(results["derivative_at"]), 0.419974342, rel_tol=1e-8)


def test_swish_limits():  # C26, C27
    results = solve("activation", {"function": "swish", "variable": "x"}).results
    x = sp.Symbol("x", real=True)
    assert sp.simplify(results["limit_beta_0"] - x / 2) == 0
    assert results["limit_beta_inf"] == sp.Max(0, x)


def test_entropy_values_and_log_base():
    results = solve("entropy", {"P": ["1/2", "1/2"], "Q": ["1/4", "3/4"]}).results
    assert math.isclose(float(results["entropy"]), math.log(2))
    assert math.isclose(float(results["cross_entropy"]), -0.5 * math.log(0.25) - 0.5 * math.log(0.75))
    assert math.isclose(float(results["entropy_plus_kl"]), float(results["cross_entropy"]))
    base10 = solve("entropy", {"P": ["1/2", "1/2"]}, log_base=10).results
    assert math.isclose(float(base10["entropy"]), math.log10(2))


def test_kl_identity_proven_for_standard_definitions():  # C08, C44
    solution = solve("entropy", {"outcomes": 10})
    assert solution.results["identity_holds"] is True
    assert not solution.findings


def test_kl_with_a_leading_minus_breaks_the_identity():  # C08 as printed
    solution = solve("entropy", {"outcomes": 10, "definitions": {"kl": "-p*log(p/q)"}})
    assert solution.results["identity_holds"] is False
    assert "counterexample" in solution.findings[0]


def test_dense_totals():  # C17
    results = solve("dense", {"layers": [19] + [8] * 7 + [3]}).results
    assert results["total"] == 619
    assert results["weight_shape_bias_trick.1"] == (8, 20)
    assert solve("dense", {"layers": [19] + [8] * 7 + [3], "bias": False}).results["total"] == 560


def test_dense_budget():  # C18
    results = solve("dense_budget", {"inputs": 19, "outputs": 3, "budget_from": [19] + [8] * 7 + [3]}).results
    assert results["max_hidden"] == 26 and results["params_at_max"] == 601


def test_conv_params_do_not_depend_on_stride():  # C04-C07
    def layer1(stride):
        given = {"input": [512, 512, 3], "layers": [{"type": "conv", "kernel": 5, "filters": 100, "stride": stride},
                                                    {"type": "conv", "kernel": 3, "filters": 200, "stride": 4}]}
        return solve("cnn", given).results

    assert [layer1(s)["params.1"] for s in (1, 2, 3)] == [7600] * 3
    assert layer1(2)["params.2"] == 180200
    assert [layer1(s)["output.1"][0] for s in (1, 2, 3)] == [508, 254, 170]
    assert layer1(2)["output.2"] == (63, 63, 200)


def test_cnn_table():  # C36-C40
    given = {"input": [64, 64, 1], "layers": ["Conv4-5-Pvalid-S2", "Pool3", "Conv3-5-Pvalid-S1", "Pool2", "FC5"]}
    results = solve("cnn", given).results
    assert [results[f"output.{i}"] for i in range(1, 6)] == [(31, 31, 5), (10, 10, 5), (8, 8, 5), (4, 4, 5), (5,)]
    assert [results[f"params.{i}"] for i in range(1, 6)] == [85, 0, 230, 0, 405]
    assert results["total_params"] == 720
    stride2 = solve("cnn", {**given, "pool_stride": 2}).results
    assert stride2["output.2"] == (15, 15, 5) and stride2["total_params"] == 1220


def test_same_padding():
    results = solve("cnn", {"input": [512, 512, 3], "layers": [{"type": "conv", "kernel": 5, "filters": 100,
                                                                  "stride": 2, "padding": "same"}]}).results
    assert results["output.1"] == (256, 256, 100)


def test_receptive_field():  # C41
    results = solve("receptive_field", {"layers": [{"kernel": 5, "stride": 1, "padding": 2, "repeat": 5}]}).results
    assert [results[f"rf.{i}"] for i in range(1, 6)] == [5, 9, 13, 17, 21]
    assert results["receptive_field_shape"] == (21, 21)


def test_receptive_field_with_stride_and_dilation():
    layers = [{"kernel": 3, "stride": 2}, {"kernel": 3, "stride": 1, "dilation": 2}]
    results = solve("receptive_field", {"layers": layers}).results
    assert results["rf.1"] == 3 and results["jump.1"] == 2
    assert results["rf.2"] == 3 + (5 - 1) * 2


def test_gradient_descent_seed_case():  # C45-C52
    given = {"f": "y^2 + (y - x)^2", "variables": ["x", "y"], "start": [1, 1]}
    expected = {0.01: ([1, sp.Rational(49, 50)], 1.4001), 0.1: ([1, sp.Rational(4, 5)], 1.2806),
                10: ([1, -19], 19.0263)}
    for step, (point, distance) in expected.items():
        results = solve("gradient_descent", {**given, "step_size": step}).results
        assert results["point"] == point
        assert round(float(results["distance"]), 4) == distance
        assert results["minimiser"] == [0, 0] and results["critical_point_type"] == "minimum"
        assert results["diverges"] is (step == 10)
    assert math.isclose(float(results["max_stable_step"]), 0.381966, rel_tol=1e-5)


def test_gradient_descent_many_steps_converges():
    given = {"f": "y^2 + (y - x)^2", "variables": ["x", "y"], "start": [1, 1], "step_size": 0.1, "steps": 50}
    results = solve("gradient_descent", given).results
    assert math.isclose(float(results["distance"]), 0.02588779, rel_tol=1e-6)


def test_gradient_descent_momentum():
    given = {"f": "x^2", "variables": ["x"], "start": [1], "step_size": 0.1, "steps": 2, "momentum": 0.5}
    results = solve("gradient_descent", given).results
    # v1 = -0.2, x1 = 0.8; v2 = 0.5(-0.2) - 0.1(1.6) = -0.26, x2 = 0.54
    assert results["iterates"][2] == [sp.Rational(54, 100)]


def test_backprop_display_forms_equal_the_true_gradients():
    from examcheck.answertests import Options
    from examcheck.answertests.expressions import compare_expressions
    from examcheck.parsing import Vocabulary

    cases = [("mlp_backprop", {"sizes": [2, 3, 3, 1], "activation": "h", "target": "t_n"}),
             ("mlp_backprop", {"sizes": [2, 2, 2], "activation": "sigmoid", "output_activation": "sigmoid",
                               "bias": True, "target": "y", "convention": "standard"}),
             ("unit_chain", {"depth": 6, "layer": 2})]
    for family, given in cases:
        solution = get(family).compute(given)
        options = Options(vocab=Vocabulary(), definitions=solution.definitions)
        assert solution.display
        for name, readable in solution.display.items():
            verdict = compare_expressions(readable, solution.results[name], options)
            assert verdict.correct, (family, name, verdict)


def test_cnn_batchnorm_dropout_and_global_pooling():
    given = {"input": [32, 32, 3], "layers": [
        {"type": "conv", "kernel": 3, "filters": 16, "padding": "same"}, "BN", "ReLU", "Pool2", "Dropout", "GAP", "FC10"]}
    results = solve("cnn", given).results
    assert results["params.1"] == (3 * 3 * 3 + 1) * 16 == 448
    assert results["params.2"] == 32 and results["output.2"] == (32, 32, 16)
    assert results["params.3"] == 0 and results["output.4"] == (16, 16, 16)
    assert results["output.6"] == (16,) and results["params.7"] == (16 + 1) * 10
    assert results["total_params"] == 448 + 32 + 170


def test_recurrent_parameter_counts():
    # independently: LSTM 4·h·(x + h) + 4·h; PyTorch adds a second bias vector per gate
    assert solve("recurrent", {"cell": "lstm", "input_size": 10, "hidden_size": 20}).results["total"] == 4 * 20 * 30 + 80
    assert solve("recurrent", {"cell": "gru", "input_size": 10, "hidden_size": 20,
                               "double_bias": True}).results["total"] == 3 * 20 * 30 + 120
    stacked = solve("recurrent", {"cell": "rnn", "input_size": 5, "hidden_size": 8, "layers": 2}).results
    assert stacked["params.1"] == 8 * 13 + 8 and stacked["params.2"] == 8 * 16 + 8


def test_swish_with_a_given_beta():
    results = solve("activation", {"function": "swish", "variable": "x", "at": 1, "beta": 1}).results
    s = 1 / (1 + math.exp(-1))
    assert math.isclose(float(results["derivative_at"]), s + s * (1 - s))
    assert "limit_beta_0" not in results  # β is fixed, so there is no limit in β to take
