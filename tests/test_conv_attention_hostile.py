"""Hostile givens for attention, transformer, conv_layers and conv2d_strided: any mix of odd sizes,
shapes and values either solves or is a FamilyError with a plain message (never another exception),
and so are their computed mistakes; a bad value in a problem file is rejected at load with its line."""

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from examcheck.families import FamilyError, get
from examcheck.loader import family_given_errors, load_set
from examcheck.reference import solve_family
from examcheck.schema import ValidationFailed

SIZE = st.one_of(st.integers(-1, 6), st.sampled_from([0, 10**6, "3", None, 2.5, True]))
NUMBER = st.one_of(st.integers(-3, 3), st.sampled_from(["1/3", "0.5", "nan", "inf", "1/0", "x", "", None, [1]]))
MATRIX = st.lists(st.lists(NUMBER, min_size=0, max_size=4), min_size=0, max_size=4)
PER_AXIS = st.one_of(SIZE, st.lists(SIZE, max_size=4))
PADDING = st.one_of(PER_AXIS, st.sampled_from(["same", "valid", "full"]))
LAYER = st.fixed_dictionaries(
    {"type": st.sampled_from(["conv", "depthwise", "separable", "transposed", "pool", "dense", 3])},
    optional={"kernel": PER_AXIS, "stride": PER_AXIS, "padding": PADDING, "dilation": PER_AXIS, "filters": SIZE,
              "groups": SIZE, "multiplier": SIZE, "output_padding": PER_AXIS, "bias": st.sampled_from([True, False, 1]),
              "mode": st.sampled_from(["max", "avg", "min"]), "ceil_mode": st.booleans(), "repeat": SIZE,
              "strides": SIZE})
KEYS = {
    "attention": {"embed_dim": SIZE, "num_heads": SIZE, "kdim": SIZE, "vdim": SIZE, "bias": st.booleans(),
                  "add_bias_kv": st.booleans(), "batch": SIZE, "seq_len": SIZE, "source_len": SIZE,
                  "batch_first": st.booleans(), "causal": st.booleans(), "flops_per_mac": st.sampled_from([1, 2, 3]),
                  "query": MATRIX, "key": MATRIX, "value": MATRIX, "scale": NUMBER},
    "transformer": {"d_model": SIZE, "nhead": SIZE, "dim_feedforward": SIZE,
                    "block": st.sampled_from(["encoder", "decoder", "both"]), "layers": SIZE, "bias": st.booleans(),
                    "final_norm": st.booleans(), "vocab_size": SIZE, "max_len": SIZE,
                    "positional": st.sampled_from(["sinusoidal", "learned", "none", "rotary"]), "batch": SIZE,
                    "seq_len": SIZE, "memory_len": SIZE, "positions": st.lists(SIZE, max_size=3), "pe_base": SIZE},
    "conv_layers": {"in_channels": SIZE, "input_size": PER_AXIS, "layers": st.lists(LAYER, max_size=3),
                    "batch": SIZE, "layout": st.sampled_from(["channels_first", "channels_last", "nchw"]),
                    "framework": st.sampled_from(["pytorch", "keras", "jax"]), "bias": st.booleans()},
    "conv2d_strided": {"input": st.one_of(MATRIX, st.lists(MATRIX, max_size=3)),
                       "kernel": st.one_of(MATRIX, st.lists(MATRIX, max_size=2), st.lists(st.lists(MATRIX, max_size=2),
                                                                                          max_size=2)),
                       "bias": st.one_of(NUMBER, st.lists(NUMBER, max_size=3)), "stride": PER_AXIS,
                       "padding": PER_AXIS, "dilation": PER_AXIS, "upstream": st.one_of(MATRIX, st.lists(MATRIX)),
                       "mode": st.sampled_from(["cross-correlation", "convolution", "other"])},
}
REQUIRED = {"attention": ["embed_dim", "num_heads"], "transformer": ["d_model"],
            "conv_layers": ["in_channels", "input_size", "layers"], "conv2d_strided": ["input", "kernel"]}


@st.composite
def hostile(draw):
    family = draw(st.sampled_from(sorted(KEYS)))
    keys = draw(st.lists(st.sampled_from(sorted(KEYS[family])), unique=True, max_size=len(KEYS[family])))
    return family, {k: draw(KEYS[family][k]) for k in dict.fromkeys(REQUIRED[family] + keys)}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile())
@example(("attention", {"embed_dim": 1000000, "num_heads": 1, "seq_len": "3"}))  # a string the schema refuses
def test_hostile_givens_solve_or_say_why(case):
    family, given_ = case
    from examcheck.schema import schema_errors

    if schema_errors(get(family).given_schema, given_) or family_given_errors(family, given_):
        return  # the loader rejects it with file:line before any solve (tested in test_loader_strictness)
    try:
        solve_family(family, given_, "e")
    except FamilyError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        return
    for variant in get(family).variants(given_):
        try:
            solve_family(family, variant.given, "e")
        except FamilyError as exc:
            assert str(exc)


BAD_FILES = [
    ("attention", "{embed_dim: 10, num_heads: 3}", "num_heads"),
    ("attention", "{embed_dim: 8, num_heads: 2, source_len: 4}", "source_len"),
    ("transformer", "{d_model: 8, nhead: 2, block: encoder-decoder}", "block"),
    ("conv_layers", "{in_channels: 3, input_size: [8, 8], layers: [{type: conv, filters: 4, kernel: 9}]}", "kernel"),
    ("conv_layers", "{in_channels: 3, input_size: [8, 8], layers: [{type: conv, filters: 4, kernel: 3, groups: 2}]}",
     "groups"),
    ("conv_layers", "{in_channels: 3, input_size: [8, 8], layers: [{type: conv, filters: 4, kernel: [3, 3, 3]}]}",
     "kernel"),
    ("conv2d_strided", "{input: [[1, 2], [3, 4]], kernel: [[1, 2, 3]]}", "kernel"),
    ("conv2d_strided", "{input: [[1, 2], [3, 4]], kernel: [[1]], upstream: [[1]]}", "upstream"),
    ("conv2d_strided", "{input: [[1, two], [3, 4]], kernel: [[1]]}", "input"),
]


@pytest.mark.parametrize("family,given_text,field", BAD_FILES)
def test_a_bad_given_is_rejected_at_load_time_with_its_line(tmp_path, family, given_text, field):
    result = {"attention": "total_params", "transformer": "total_params", "conv_layers": "total_params",
              "conv2d_strided": "grad_bias"}[family]
    text = (f"exam: hostile\ntitle: t\nproblems:\n  - id: p\n    title: t\n    family: {family}\n"
            f"    given: {given_text}\n    parts:\n      - {{id: a, marks: 1, result: {result}, answer: number}}\n")
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(ValidationFailed) as info:
        load_set(tmp_path / "bad.yaml")
    errors = info.value.errors
    assert errors and all(e.line == 7 for e in errors), [str(e) for e in errors]
    assert any(field in str(e) for e in errors), [str(e) for e in errors]
