"""The seeds' own answers grade as ../shared/seed-catalogue.md says: every part the catalogue
finds right is graded correct, every part it finds wrong is graded not correct with the matching
diagnosis, and `check --key` reports exactly the instructor keys' known errors."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from examcheck.answers import load_sheet
from examcheck.cli import main
from examcheck.engine import grade_file
from examcheck.reference import Resolver

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "examples" / "seeds"
RESOLVER = Resolver()

# catalogue entry -> (example file, problem.part, expected note prefix or "correct")
DOCUMENT_WRONG = {
    "C19 a2": ("seed001-key", "q4.a2", "sizes"),
    "C19 L": ("seed001-key", "q4.L", "rank"),
    "C22": ("seed002-answers", "q1.1.dL_da", "extra_factor"),
    "C29": ("seed002-answers", "q2.1.a", "wrong_truth_value"),
    "C44 entropy": ("seed002-answers", "q4.entropy", "sign_error"),
    "C44 decomposition": ("seed002-answers", "q4.decomposition", "wrong_choice"),
    "C61": ("seed003-answers", "backprop.6", "differs"),
    "C62": ("seed003-answers", "vanishing.1", "differs"),
    "C65": ("seed003-answers", "finetune.increasing", "wrong_truth_value"),
    "C67": ("seed004-answers", "q1.i", "sign_error"),
    "C69": ("seed004-answers", "q1.iii", "sign_error"),
    "C77": ("seed004-answers", "q4.dx_shape", "sizes"),
    "C82": ("seed004-answers", "q5iii.steep", "wrong_truth_value"),
}
AMBIGUOUS = {"C60": ("seed003-answers", "backprop.5")}  # the weight's second index is missing: unreadable
MATCHES = {
    "seed000-key": ["q1.i", "q1.ii", "q2.i", "q2.ii", "q3.a", "q3.b", "q3.c", "q3.d", "q4.a"],
    "seed001-key": ["q1.loss_k", "q1.acc_k", "q1.loss_k1", "q1.acc_k1", "q1.trend", "q2.a", "q2.b_col2", "q2.b_row4",
                    "q2.b_18_input", "q2.b_18_class", "q2.b_25_input", "q2.b_25_class", "q2c.increase",
                    "q2c.decrease", "q3a.a", "q3b.b", "q4.x_B", "q4.z1", "q4.W1", "q4.a1", "q4.a1_B", "q4.z2",
                    "q4.W2", "q4.k_max", "q5.b"],
    "seed002-answers": ["q1.2.bytes", "q1.3.left", "q1.3.right", "q1.4.away", "q1.5.zero", "q1.5.infinity",
                        "q1.6.monotonic", "q2.1.b", "q2.1.d", "q2.2.a", "q2.2.b", "q2.2.c", "q2.2d.d",
                        "q2.3.conv1_shape", "q2.3.conv1_params", "q2.3.pool1_shape", "q2.3.pool1_params",
                        "q2.3.conv2_shape", "q2.3.conv2_params", "q2.3.pool2_shape", "q2.3.pool2_params",
                        "q2.3.fc_shape", "q2.3.fc_params", "q2.4.a", "q3.marginal", "q4.nll", "q4.kl", "q5.1",
                        "q5.2a_i", "q5.2a_ii", "q5.2a_iii", "q5.2b_i", "q5.2b_ii", "q5.2b_iii", "q5.3"],
    "seed003-answers": ["softmax.triple", "softmax.boundary_equal", "softmax.boundary_p3", "softmax.deep",
                        "backprop.1", "backprop.2", "backprop.3", "backprop.4", "relu.positive", "relu.negative",
                        *[f"scores.p{i}" for i in range(1, 9)]],
    "seed004-answers": ["q1.ii", "q2.dw", "q2.db", "q2.delta_out", "q2.delta_hidden", "q4.y", "q4.y_shape",
                        "q4.dw_shape", "q4.dx", "q4.dw", "q5i.same", "q5i.zero_grad"],
}
_REPORTS: dict = {}


def part(sets, name: str, key: str):
    if name not in _REPORTS:
        report = grade_file(load_sheet(SEEDS / f"{name}.yaml"), sets, RESOLVER)
        _REPORTS[name] = {f"{p.id}.{q.id}": q for p in report.problems for q in p.parts}
    return _REPORTS[name][key]


@pytest.mark.parametrize("name, key", [(n, k) for n, keys in MATCHES.items() for k in keys])
def test_parts_the_catalogue_finds_right_are_correct(sets, name, key):
    result = part(sets, name, key)
    assert result.status == "correct", (result.status, result.feedback)


@pytest.mark.parametrize("entry", sorted(DOCUMENT_WRONG))
def test_parts_the_catalogue_finds_wrong_are_not_correct_with_the_diagnosis(sets, entry):
    name, key, note = DOCUMENT_WRONG[entry]
    result = part(sets, name, key)
    assert result.status == "incorrect" and result.note.startswith(note), (result.status, result.note)
    assert result.feedback


def test_ambiguous_index_is_reported_not_guessed(sets):
    name, key = AMBIGUOUS["C60"]
    result = part(sets, name, key)
    assert result.status == "invalid" and "unknown symbol" in result.feedback


def test_log_base_mistake_is_named_for_seed_001(sets):
    from examcheck.answers import sheet_from_text

    sheet = sheet_from_text("exam: seed001-sessional\nanswers:\n  q1: {loss_k: 1.01}\n")
    report = grade_file(sheet, sets, RESOLVER)
    loss = next(q for p in report.problems for q in p.parts if q.id == "loss_k")
    assert loss.status == "incorrect" and "natural log" in loss.feedback


def test_check_key_reports_exactly_the_known_errors():
    runner = CliRunner()
    result = runner.invoke(main, ["check", str(ROOT / "problems"), "--key", str(SEEDS / "seed001-key.yaml")])
    assert result.exit_code == 1
    located = [line for line in result.output.splitlines() if "seed001-key.yaml:" in line]
    assert len(located) == 2
    assert "seed001-key.yaml:31: seed001-sessional/q4.a2" in located[0]
    assert "seed001-key.yaml:32: seed001-sessional/q4.L" in located[1]
    clean = runner.invoke(main, ["check", str(ROOT / "problems"), "--key", str(SEEDS / "seed000-key.yaml")])
    assert clean.exit_code == 0


def test_every_catalogued_part_is_encoded():
    from examcheck.loader import load_sets

    text = "".join(p.read_text() for p in (ROOT / "problems").glob("*.yaml"))
    left_out = {"C70", "C71", "C73", "C74", "C75", "C83"}
    for number in range(1, 84):
        entry = f"C{number:02d}"
        if entry not in left_out:
            assert entry in text, f"{entry} is not encoded in problems/"
    assert sum(len(p.parts) for s in load_sets([ROOT / "problems"]) for p in s.problems) >= 77
