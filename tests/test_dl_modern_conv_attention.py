"""The attention/transformer/convolution problems of problems/dl-modern.yaml: every stated key agrees,
the perfect sheet earns every mark of these problems, and the flawed sheet's mistakes get the
declared or computed feedback (not a generic "incorrect")."""

from pathlib import Path

import pytest

from examcheck.answers import load_sheet
from examcheck.checking import check_sets
from examcheck.engine import grade_file
from examcheck.loader import load_sets

ROOT = Path(__file__).parent.parent
PROBLEMS = ROOT / "problems" / "dl-modern.yaml"
ANSWERS = ROOT / "examples" / "answers"
OURS = {"mha", "cross_attention", "sdpa", "transformer_block", "positional", "grouped_conv", "separable",
        "transposed", "conv_1d_3d", "receptive_field_2d", "conv_backprop", "conv_channels"}


@pytest.fixture(scope="module")
def sets():
    return load_sets([PROBLEMS])


def _parts(report):
    return {f"{p.id}.{part.id}": part for p in report.problems if p.id in OURS for part in p.parts}


def test_the_problems_are_there_and_every_key_agrees(sets):
    ids = {p.id for p in sets[0].problems}
    assert OURS <= ids
    findings = [f for f in check_sets(sets) if f.where.split("/")[1].split(".")[0] in OURS]
    assert findings == []


def test_perfect_sheet_earns_every_mark(sets):
    parts = _parts(grade_file(load_sheet(ANSWERS / "dl-modern-perfect.yaml"), sets))
    assert len(parts) == 37
    assert {name: p.status for name, p in parts.items() if p.status != "correct"} == {}


def test_flawed_sheet_names_each_mistake(sets):
    parts = _parts(grade_file(load_sheet(ANSWERS / "dl-modern-flawed.yaml"), sets))
    expected = {
        "mha.params": "biases",
        "mha.unmasked": "diagonal",
        "cross_attention.params": "128 and 64",
        "sdpa.scaled": "√d_k",
        "sdpa.weights": "√d_k",
        "transformer_block.decoder": "cross-attention",
        "transformer_block.flops": "2 FLOPs",
        "grouped_conv.params": "groups",
        "separable.params": "standard 3×3",
        "separable.flops": "MAC",
        "transposed.output": "convolution formula",
        "conv_1d_3d.params3d": "biases",
        "conv_1d_3d.out1d": "dilated",
        "receptive_field_2d.rf_width": "dilated",
        "conv_backprop.grad_x": "drop the padded border",
        "conv_channels.output": "bias",
    }
    for name, words in expected.items():
        assert parts[name].status == "incorrect", name
        assert words in parts[name].feedback, (name, parts[name].feedback)
    assert parts["sdpa.causal_output"].status == "missing"
    assert parts["transposed.params"].status == "correct"
