"""The bundled modern midterm (problems/dl-modern.yaml), the problems on optimisers, losses,
divergences, activations, normalisation, regularisation and recurrent networks: every stated key
agrees, the perfect sheet earns full marks, and each slip on the flawed sheet is graded not correct
with the mistake named."""

from pathlib import Path

import pytest

from examcheck.answers import load_sheet, sheet_from_text
from examcheck.checking import check_sets
from examcheck.engine import grade_file
from examcheck.loader import load_sets

ROOT = Path(__file__).resolve().parent.parent
EXAM = ROOT / "problems" / "dl-modern.yaml"
SHEETS = ROOT / "examples" / "answers"
OURS = {"adam", "adamw", "momentum", "adaptive", "schedules", "softmax_ce", "bce", "robust", "kl_support",
        "activations", "batchnorm", "bn_params", "regularisation", "weight_decay", "rnn"}


@pytest.fixture(scope="module")
def exam():
    return load_sets([EXAM])


def parts(report):
    return {f"{p.id}.{q.id}": q for p in report.problems if p.id in OURS for q in p.parts}


def test_every_family_of_ours_is_asked(exam):
    families = {p.family for p in exam[0].problems if p.id in OURS}
    assert families == {"optimizer", "loss", "divergence", "activation_catalogue", "batch_norm", "dropout",
                        "regularization", "bptt"}
    assert {p.id for p in exam[0].problems} >= OURS


def test_stated_keys_agree_and_declared_mistakes_differ(exam):
    findings = [f for f in check_sets(exam) if f.where.split("/")[1].split(".")[0] in OURS]
    assert findings == []
    stated = [q for p in exam[0].problems if p.id in OURS for q in p.parts]
    assert all(q.has_key for q in stated) and sum(len(q.mistakes) for q in stated) >= 25


def test_perfect_sheet_earns_full_marks(exam):
    graded = parts(grade_file(load_sheet(SHEETS / "dl-modern-perfect.yaml"), exam))
    assert {k: v.status for k, v in graded.items()} == {k: "correct" for k in graded}
    assert sum(v.score for v in graded.values()) == sum(v.max_score for v in graded.values()) == 72


EXPECTED_RIGHT = {"adam.step1", "momentum.buffer2", "adaptive.G2", "schedules.cosine", "softmax_ce.p0", "bce.grad",
                  "kl_support.kl_reverse", "kl_support.finite", "kl_support.js", "activations.leaky_diff",
                  "batchnorm.mean", "bn_params.keras_trainable", "rnn.factor", "rnn.regime"}
NAMED = {
    "adam.m1": "0.1·g", "adam.vhat1": "1 − β₂", "adamw.theta1": "L2", "adamw.theta1_adam": "L2",
    "momentum.x2": "momentum term is missing", "momentum.x2_nesterov": "heavy-ball", "adaptive.adagrad2": "sign",
    "adaptive.rms2": "α", "schedules.warmup": "2 scheduler steps", "schedules.step": "factor",
    "softmax_ce.loss": "log base 10", "softmax_ce.grad": "p − y", "softmax_ce.smoothed": "smoothing",
    "bce.loss": "mean", "robust.huber": "SmoothL1", "robust.mse": "mean", "robust.hinge": "MultiMarginLoss",
    "kl_support.kl": "log base", "activations.gelu1": "tanh approximation", "activations.dgelu1": "product rule",
    "activations.elu_left": "α", "activations.hard_sigmoid": "Keras 2", "activations.tanh_in_f": "sigmoid",
    "batchnorm.out1": "biased", "batchnorm.running_var": "unbiased", "bn_params.keras_total": "non-trainable",
    "bn_params.torch_state": "num_batches_tracked", "regularisation.out": "1/(1 − p)",
    "regularisation.inference": "convention", "weight_decay.updated": "2λw", "weight_decay.l1_grad": "L2 gradient",
    "rnn.formula": "1 − h_t²", "rnn.dLdw": "every time step",
}


def test_flawed_sheet_names_each_mistake(exam):
    graded = parts(grade_file(load_sheet(SHEETS / "dl-modern-flawed.yaml"), exam))
    assert graded["adam.step2"].status == "missing"
    for key in EXPECTED_RIGHT:
        assert graded[key].status == "correct", key
    for key, phrase in NAMED.items():
        assert graded[key].status == "incorrect" and phrase in graded[key].feedback, (key, graded[key].feedback)
    assert set(graded) == EXPECTED_RIGHT | set(NAMED) | {"adam.step2"}
    assert sum(v.score for v in graded.values()) == 17


def test_finite_answer_to_an_infinite_divergence_names_the_skipped_term(exam):
    sheet = sheet_from_text("exam: dl-modern\nanswers:\n  kl_support: {kl_reverse: '-0.5'}\n")
    part = parts(grade_file(sheet, exam))["kl_support.kl_reverse"]
    assert part.status == "incorrect" and "+∞" in part.feedback


def test_derivative_in_f_accepts_the_variable_too(exam):
    """A problem need not declare z: the family's definition f = tanh(z) brings z into the vocabulary."""
    sheet = sheet_from_text("exam: dl-modern\nanswers:\n  activations: {tanh_in_f: 'sech(z)^2'}\n")
    assert parts(grade_file(sheet, exam))["activations.tanh_in_f"].status == "correct"
