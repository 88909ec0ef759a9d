"""The loader rejects, at load time with file:line, the allowed names and a 'did you mean':
an unknown `result:`, an unknown `given` key anywhere (layer mappings too), a value of the wrong kind.
Families and their keys are enumerated from the declared contracts; misspellings are generated."""

import re
import string
import subprocess
import sys

import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from examcheck.families import ANSWER_TYPES_FOR, all_families
from examcheck.loader import load_set
from examcheck.schema import ValidationFailed

FAMILIES = all_families()
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def problem_set(family: str, given: dict, result: str | None = None, answer: str | None = None,
                part_given: dict | None = None, mistakes: list | None = None) -> str:
    spec = FAMILIES[family].results[0]
    name = result or spec.name.replace("{", "").replace("}", "")
    part = {"id": "a", "marks": 1, "answer": answer or answer_for(spec.kind), "result": name}
    if part_given:
        part["given"] = part_given
    if mistakes:
        part["mistakes"] = mistakes
    data = {"exam": "strict", "title": "Strict", "problems": [
        {"id": "q1", "title": "T", "family": family, "given": given, "parts": [part]}]}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def answer_for(kind) -> str:
    return sorted(ANSWER_TYPES_FOR[kind] - {"choice"})[0]


def errors_of(write, text: str) -> list:
    with pytest.raises(ValidationFailed) as info:
        load_set(write("strict.yaml", text))
    errors = info.value.errors
    assert all(e.line for e in errors), [str(e) for e in errors]
    return errors


def line_of(text: str, needle: str) -> int:
    """The line that starts with needle (after indentation and a list dash)."""
    quoted = f"'{needle[:-1]}':" if needle.endswith(":") else needle
    return next(i for i, line in enumerate(text.splitlines(), start=1)
                if line.strip().lstrip("- ").startswith((needle, quoted)))


def misspell(word: str):
    """A one-edit misspelling (delete, insert, substitute or swap) of word."""
    letters = string.ascii_lowercase + "_"
    return st.one_of(
        st.integers(0, len(word) - 1).map(lambda i: word[:i] + word[i + 1:]),
        st.tuples(st.integers(0, len(word)), st.sampled_from(letters)).map(lambda t: word[:t[0]] + t[1] + word[t[0]:]),
        st.tuples(st.integers(0, len(word) - 1), st.sampled_from(letters)).map(
            lambda t: word[:t[0]] + t[1] + word[t[0] + 1:]),
    )


# ----------------------------------------------------------------------------- the examples load


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_example_loads(write, family):
    assert load_set(write("ok.yaml", problem_set(family, FAMILIES[family].example)))


# ----------------------------------------------------------------------------- unknown given keys


@st.composite
def misspelt_given_key(draw):
    family = draw(st.sampled_from(sorted(f for f in FAMILIES if FAMILIES[f].given_schema.get("properties"))))
    properties = FAMILIES[family].given_schema["properties"]
    key = draw(st.sampled_from(sorted(properties)))
    wrong = draw(misspell(key) if len(key) > 2 else st.just(key + "x"))
    assume(wrong and wrong not in properties and wrong.isidentifier())
    where = draw(st.sampled_from(["problem", "part", "mistake"]))
    return family, key, wrong, where


@SETTINGS
@given(misspelt_given_key())
def test_an_unknown_given_key_is_an_error_at_its_line(write, case):
    family, key, wrong, where = case
    example = dict(FAMILIES[family].example)
    extra = {wrong: 1}
    if where == "problem":
        text = problem_set(family, {**example, **extra})
    elif where == "part":
        text = problem_set(family, example, part_given=extra)
    else:
        text = problem_set(family, example, mistakes=[{"given": extra, "feedback": "f"}])
    errors = errors_of(write, text)
    hit = [e for e in errors if f"unknown field '{wrong}'" in e.message]
    assert hit, [str(e) for e in errors]
    assert hit[0].line == line_of(text, f"{wrong}:")
    assert "allowed:" in hit[0].message and key in hit[0].message


def test_did_you_mean_names_the_close_key(write):
    errors = errors_of(write, problem_set("dense", {"layers": [3, 2], "biass": False}))
    assert "did you mean 'bias'" in errors[0].message


# ----------------------------------------------------------------------------- unknown results


@st.composite
def misspelt_result(draw):
    family = draw(st.sampled_from(sorted(FAMILIES)))
    spec = draw(st.sampled_from(FAMILIES[family].results))
    name = re.sub(r"\{[^}]+\}", "1", spec.name)
    wrong = draw(misspell(name))
    assume(wrong and FAMILIES[family].result_spec(wrong) is None)
    return family, name, wrong


@SETTINGS
@given(misspelt_result())
def test_an_unknown_result_is_an_error_with_the_allowed_names(write, case):
    family, right, wrong = case
    text = problem_set(family, FAMILIES[family].example, result=wrong)
    errors = errors_of(write, text)
    assert any(f"has no result {wrong!r}" in e.message and "allowed:" in e.message for e in errors)
    assert errors[0].line == line_of(text, "result:")


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_declared_result_is_accepted(write, family):
    for spec in FAMILIES[family].results:
        name = re.sub(r"\{[^}]*\}", "1", spec.name)  # every placeholder (point.{k}.{i} -> point.1.1)
        answer = answer_for(spec.kind)
        assert load_set(write("ok.yaml", problem_set(family, FAMILIES[family].example, result=name, answer=answer)))


def test_a_result_the_answer_type_cannot_ask_for_is_an_error(write):
    text = problem_set("cnn", FAMILIES["cnn"].example, result="output.1", answer="number")
    errors = errors_of(write, text)
    assert "is a shape" in errors[0].message and "shape" in errors[0].message.split("use one of:")[1]


def test_an_unknown_mistake_result_is_an_error(write):
    text = problem_set("dense", {"layers": [3, 2]}, result="total", answer="integer",
                       mistakes=[{"given": {"bias": False}, "result": "totl", "feedback": "f"}])
    assert "did you mean 'total'" in errors_of(write, text)[0].message


# ----------------------------------------------------------------------------- wrong kinds of values

WRONG_VALUES = [{"a": 1}, [[[]]], "not a number at all", True]


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_a_value_of_the_wrong_kind_is_an_error(write, family):
    example = FAMILIES[family].example
    for key in example:
        for wrong in WRONG_VALUES:
            mutated = {**example, key: wrong}
            text = problem_set(family, mutated)
            try:
                load_set(write("kind.yaml", text))
            except ValidationFailed as exc:
                assert all(e.line for e in exc.errors)
                continue
            # accepted: the value must then be one the family really computes with
            FAMILIES[family].compute(mutated)


# ----------------------------------------------------------------------------- layer mappings

CNN = FAMILIES["cnn"]


@st.composite
def layer_with_unknown_key(draw):
    kind = draw(st.sampled_from(sorted(CNN.layer_schemas)))
    allowed = set(CNN.layer_schemas[kind]["properties"])
    wrong = draw(st.sampled_from(["strides", "pad", "groups", "bias", "kernel_size", "filter", "unit", "activation"])
                 | st.text(string.ascii_lowercase, min_size=3, max_size=8))
    assume(wrong not in allowed)
    return kind, wrong


def _minimal(kind: str) -> dict:
    return {"conv": {"type": "conv", "kernel": 3, "filters": 2}, "pool": {"type": "pool", "kernel": 2},
            "fc": {"type": "fc", "units": 3}}.get(kind, {"type": kind})


@SETTINGS
@given(layer_with_unknown_key())
def test_an_unknown_key_in_a_layer_mapping_is_an_error_naming_the_layer_type(write, case):
    kind, wrong = case
    layer = {**_minimal(kind), wrong: 2}
    text = problem_set("cnn", {"input": [8, 8, 4], "layers": ["Conv1-4", layer]})
    errors = errors_of(write, text)
    assert any(f"unknown field '{wrong}'" in e.message and f"{kind} layer" in e.message for e in errors), errors
    assert errors[0].line == line_of(text, f"{wrong}:")


@pytest.mark.parametrize("layer, expected", [
    ({"type": "conv", "kernel": 3, "filters": 2, "strides": 2}, "did you mean 'stride'"),
    ({"type": "conv", "kernel": 3, "filters": 2, "pad": 1}, "did you mean 'padding'"),
    ({"type": "conv", "kernel": 3, "filters": 2, "padding": "full"}, "padding"),
    ({"type": "conv", "kernel": 3, "filter": 2}, "did you mean 'filters'"),
    ({"type": "convolution", "kernel": 3, "filters": 2}, "did you mean 'conv'"),
    ({"kernel": 3, "filters": 2}, "needs a `type`"),
    ({"type": "fc"}, "missing required field 'units'"),
    ({"type": "conv", "kernel": 3, "filters": 3, "groups": 2}, "groups = 2 must divide"),
    ({"type": "conv", "kernel": 9, "filters": 3}, "larger than the padded input"),
    ("Conv3-8-Pfull", "cannot read layer"),
])
def test_bad_layers_are_named(write, layer, expected):
    text = problem_set("cnn", {"input": [8, 8, 4], "layers": ["Conv1-4", layer]})
    errors = errors_of(write, text)
    assert any(expected in e.message for e in errors), [str(e) for e in errors]
    assert errors[0].line >= line_of(text, "Conv1-4")


# ----------------------------------------------------------------------------- exit 2 everywhere

BAD_KEY = problem_set("dense", {"layers": [3, 2], "biass": False}, result="total", answer="integer")
UNSOLVABLE = problem_set("gradient_descent", {"f": "x^4", "variables": ["x"], "start": [10], "step_size": 1,
                                              "steps": 40}, result="point", answer="vector")
NO_SUCH_RESULT_HERE = problem_set("activation", {"function": "relu", "at": 0}, result="derivative_at",
                                  answer="number")
ANSWERS = "student: s\nexam: strict\nanswers:\n  q1: 5\n"


def run(*args):
    return subprocess.run([sys.executable, "-m", "examcheck", *map(str, args)], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("problem, reason", [(BAD_KEY, "did you mean 'bias'"),
                                             (UNSOLVABLE, "blow up"),
                                             (NO_SUCH_RESULT_HERE, "no result 'derivative_at' here")])
def test_grade_solve_and_check_exit_2_with_file_and_line(write, problem, reason):
    problems = write("strict.yaml", problem)
    answers = write("answers.yaml", ANSWERS)
    for args in (["grade", answers, "--problems", problems], ["solve", "q1", "--problems", problems],
                 ["check", problems]):
        out = run(*args)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert f"{problems}:" in out.stderr and reason in out.stderr
        assert "at fault" not in out.stdout + out.stderr


# ----------------------------------------------------------------------------- hostile given values

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)


@st.composite
def hostile_given(draw):
    family = draw(st.sampled_from(sorted(FAMILIES)))
    given_ = dict(FAMILIES[family].example)
    keys = sorted(FAMILIES[family].given_schema.get("properties", {})) or ["x"]
    for _ in range(draw(st.integers(1, 3))):
        given_[draw(st.sampled_from(keys))] = draw(json_values)
    return family, given_


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hostile_given())
@example(("activation_layer", {"function": "\\A", "inputs": [-10, 1, 10, -1]}))  # a value read as a regex template
def test_hostile_given_values_load_or_fail_with_lines_never_crash(write, case):
    family, given_ = case
    try:
        load_set(write("hostile.yaml", problem_set(family, given_)))
    except ValidationFailed as exc:
        assert exc.errors and all(e.line for e in exc.errors), [str(e) for e in exc.errors]


@given(st.text(max_size=12))
def test_did_you_mean_reads_any_value_as_text_never_as_a_pattern(value):
    """A problem file's value with backslashes (\\A, \\1, \\g<0>) was read as a regex replacement template."""
    from examcheck.suggest import did_you_mean

    hint = did_you_mean(value, ["params.{layer}", "relu", "sigmoid"])
    assert hint == "" or hint.startswith(" (did you mean ")
    assert did_you_mean("w.\\A", ["w.{layer}"]) == " (did you mean 'w.{layer}'?)"  # through the placeholder
