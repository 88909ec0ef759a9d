"""Hostile givens for the new families: any mix of odd numbers, shapes and lengths either solves or
is a FamilyError with a plain message (never another exception), and a problem file with a bad value
is rejected at load time with its file and line."""

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from examcheck.families import FamilyError, get
from examcheck.loader import family_given_errors, load_set
from examcheck.reference import solve_family
from examcheck.schema import ValidationFailed

PLAIN = st.sampled_from([0, 1, -1, 2, 3, "0.5", "-0.25", "1/3", "0.9", "0.1", 0.01])
STRANGE = st.sampled_from(["1e-9", "1e50", "1e400", "-1e400", "nan", "inf", "x", "", "1/0", "10^10^10", "9" * 400,
                           "sqrt(2)", "1,5", True, None, [], [1], [[1, 2]], {"a": 1}])
ODD = st.one_of(PLAIN, PLAIN, PLAIN, STRANGE)  # mostly plausible numbers, so deep code is reached too
VECTORS = st.lists(ODD, min_size=0, max_size=4)
KEYS = {
    "optimizer": {"method": st.sampled_from(["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]),
                  "gradients": st.lists(st.one_of(ODD, VECTORS), max_size=4), "start": st.one_of(ODD, VECTORS),
                  "lr": ODD, "steps": st.integers(-2, 6), "momentum": ODD, "eps": ODD, "weight_decay": ODD,
                  "f": st.sampled_from(["x**2", "exp(x)", "1/x", "log(x)", "x*y", "(", "sqrt(-x)"]),
                  "variables": st.sampled_from([["x"], ["x", "y"], [], ["x", "x"]]),
                  "schedule": st.sampled_from([{"type": "cosine", "T_max": 3}, {"type": "step"}, {"type": "linear_warmup"},
                                               {"type": "exponential", "gamma": "1e300"}])},
    "loss": {"kind": st.sampled_from(["cross_entropy", "binary_cross_entropy", "mse", "huber", "hinge",
                                      "multiclass_hinge", "smooth_l1", "mae"]),
             "logits": st.one_of(ODD, VECTORS, st.lists(VECTORS, max_size=3)), "target": st.one_of(ODD, VECTORS),
             "prediction": st.one_of(ODD, VECTORS), "label_smoothing": ODD, "delta": ODD,
             "first_class": st.sampled_from([0, 1, 2]), "reduction": st.sampled_from(["mean", "sum", "none"])},
    "divergence": {"P": VECTORS, "Q": VECTORS},
    "activation_catalogue": {"function": st.sampled_from(["gelu", "elu", "selu", "softsign", "hard_sigmoid", "mish",
                                                          "leaky_relu", "relu6", "softplus"]),
                             "at": ODD, "points": VECTORS, "alpha": ODD, "slope": ODD, "beta": ODD},
    "batch_norm": {"inputs": st.one_of(VECTORS, st.lists(VECTORS, max_size=3)), "channels": st.integers(-1, 4),
                   "gamma": VECTORS, "eps": ODD, "momentum": ODD, "running_var": VECTORS,
                   "framework": st.sampled_from(["pytorch", "keras", "jax"])},
    "dropout": {"p": ODD, "inputs": VECTORS, "mask": VECTORS, "style": st.sampled_from(["inverted", "classic", "x"])},
    "regularization": {"kind": st.sampled_from(["l1", "l2", "elastic"]), "weights": VECTORS, "lam": ODD,
                       "data_gradient": VECTORS, "lr": ODD, "l1_ratio": ODD},
    "bptt": {"w": ODD, "u": ODD, "b": ODD, "h0": ODD, "x": VECTORS, "steps": st.integers(-1, 8),
             "activation": st.sampled_from(["tanh", "identity", "relu", "sigmoid", "gelu"]),
             "loss": st.sampled_from(["h_T", "squared"]), "target": ODD, "truncate": st.integers(0, 4)},
}


REQUIRED = {"optimizer": ["lr", "start", "gradients"], "loss": ["kind", "target", "logits", "prediction"],
            "divergence": ["P", "Q"], "activation_catalogue": ["function", "at"], "batch_norm": ["inputs"],
            "dropout": ["p", "inputs", "mask"], "regularization": ["kind", "weights", "lam"], "bptt": ["w", "x"]}


@st.composite
def hostile(draw):
    family = draw(st.sampled_from(sorted(KEYS)))
    keys = draw(st.lists(st.sampled_from(sorted(KEYS[family])), unique=True, max_size=len(KEYS[family])))
    return family, {k: draw(KEYS[family][k]) for k in dict.fromkeys(REQUIRED[family] + keys)}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile())
@example(("activation_catalogue", {"function": "gelu", "at": "inf"}))  # a point the loader's schema refuses
def test_hostile_givens_solve_or_say_why(case):
    family, given_ = case
    from examcheck.schema import schema_errors

    if schema_errors(get(family).given_schema, given_) or family_given_errors(family, given_):
        return  # the loader rejects it with file:line before any solve (tested in test_loader_strictness)
    try:
        solution = solve_family(family, given_, "e")
    except FamilyError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        return
    assert solution.results and all(not isinstance(k, str) or k for k in solution.results)
    for variant in get(family).variants(given_):
        try:
            solve_family(family, variant.given, "e")
        except FamilyError:
            pass


BAD_FILES = [
    ("optimizer", "{method: adam, f: 'x**2 +', variables: [x], start: [1], lr: 0.1}", "f"),
    ("optimizer", "{method: adam, gradients: [[1, abc]], start: [1, 2], lr: 0.1}", "gradients"),
    ("optimizer", "{method: adamw, gradients: [1], start: 1, lr: 0.1, weight_decy: 0.1}", "weight_decy"),
    ("loss", "{kind: cross_entropy, logits: [[1, 2], [[3]]], target: 0}", "logits"),
    ("loss", "{kind: huber, prediction: [1], target: [0], delta: lots}", "delta"),
    ("divergence", "{P: [0.5, 0.5], Q: [1, zero]}", "Q"),
    ("activation_catalogue", "{function: swish, at: 0}", "function"),
    ("activation_catalogue", "{function: elu, alpha: two}", "alpha"),
    ("batch_norm", "{inputs: [[1, 2]]}", "inputs"),
    ("batch_norm", "{inputs: [[1, 2], [3, 4]], gamma: [1, 2, 3]}", "inputs"),
    ("dropout", "{p: half}", "p"),
    ("regularization", "{kind: l3, weights: [1], lam: 0.1}", "kind"),
    ("bptt", "{w: 0.5, x: [1, two]}", "x"),
]


@pytest.mark.parametrize("family,given_text,field", BAD_FILES)
def test_a_bad_given_is_rejected_at_load_time_with_its_line(write, family, given_text, field):
    text = (f"exam: hostile\ntitle: t\nproblems:\n  - id: p\n    title: t\n    family: {family}\n"
            f"    given: {given_text}\n    parts:\n      - {{id: a, marks: 1, result: {_a_result(family)}, "
            f"answer: {_an_answer(family)}}}\n")
    with pytest.raises(ValidationFailed) as info:
        load_set(write("bad.yaml", text))
    errors = info.value.errors
    assert errors and all(e.line == 7 for e in errors), [str(e) for e in errors]
    assert any(field in str(e) or "given" in str(e) for e in errors)


def _a_result(family):
    return {"optimizer": "point", "loss": "loss", "divergence": "kl", "activation_catalogue": "function",
            "batch_norm": "trainable_parameters", "dropout": "scale", "regularization": "penalty",
            "bptt": "dL_dw"}[family]


def _an_answer(family):
    return {"optimizer": "vector", "activation_catalogue": "expression", "batch_norm": "integer"}.get(family, "number")
