"""Problem-set validation and YAML safety: errors name the file, line and field."""

import pytest

from examcheck.loader import load_set
from examcheck.schema import ValidationFailed
from examcheck.yamlio import InputError, load_text

GOOD = """\
exam: quiz
title: Quiz
problems:
  - id: q1
    title: One-off parts
    given: {n: 3}
    parts:
      - id: a
        marks: 1
        answer: expression
        reference: "sigma(z)*(1 - sigma(z))"
        variables: {z: real}
      - id: b
        marks: 1
        answer: number
        reference: "1 - tanh(1)**2"
        precision: {decimals: 2}
        key: 0.42
      - id: c
        marks: 1
        answer: integer
        reference: "n**2"
"""


def test_good_problem_set_loads(write):
    problem_set = load_set(write("quiz.yaml", GOOD))
    assert problem_set.exam == "quiz" and problem_set.marks == 3
    assert problem_set.problems[0].parts[1].key == "0.42"


def _errors(write, text):
    with pytest.raises(ValidationFailed) as info:
        load_set(write("quiz.yaml", text))
    return [str(e) for e in info.value.errors]


def test_wrong_type_names_file_line_and_field(write):
    errors = _errors(write, GOOD.replace("      - id: c\n        marks: 1", "      - id: c\n        marks: lots"))
    assert any(e.endswith("quiz.yaml:20: problems[0].parts[2].marks: expected a number") for e in errors), errors


def test_unknown_and_missing_fields(write):
    errors = _errors(write, GOOD.replace("title: Quiz", "titel: Quiz"))
    assert any("missing required field 'title'" in e for e in errors)
    assert any(":2: titel: unknown field 'titel'" in e for e in errors)


def test_family_given_is_validated(write):
    text = """\
exam: x
title: X
problems:
  - id: q1
    title: t
    family: cnn
    given: {input: [64, 64, 1], layers: "Conv3-5"}
    parts:
      - {id: a, marks: 1, answer: integer, result: total_params}
"""
    errors = _errors(write, text)
    assert any(":7: problems[0].given.layers: expected a list" in e for e in errors), errors


def test_unknown_family_and_missing_result(write):
    text = """\
exam: x
title: X
problems:
  - id: q1
    title: t
    family: nosuch
    parts:
      - {id: a, marks: 1, answer: integer}
"""
    errors = _errors(write, text)
    assert any("unknown family 'nosuch'" in e for e in errors)
    assert any("(`result:`)" in e for e in errors)


def test_marks_must_add_up(write):
    errors = _errors(write, GOOD.replace("    title: One-off parts", "    title: One-off parts\n    marks: 5"))
    assert any("marks is 5 but the parts add up to 3" in e for e in errors)


def test_bad_domain_is_reported(write):
    errors = _errors(write, GOOD.replace("{z: real}", "{z: sometimes}"))
    assert any("cannot read domain 'sometimes'" in e for e in errors)


@pytest.mark.parametrize("text, message", [
    ("a: !!python/object/apply:os.system ['true']", "unsupported YAML tag"),
    ("a: 1\na: 2\n", "duplicate key 'a'"),
    ("a: [1, 2", "not valid YAML"),
    ("a: {b: 1}\nc: {<<: {d: 2}}\n", "merge keys"),
    ("a: &x [1]\nb: *x\n", "anchors"),
])
def test_yaml_safety(text, message):
    with pytest.raises(InputError) as info:
        load_text(text, "f.yaml")
    assert message in str(info.value)


def test_billion_laughs_is_bounded():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    with pytest.raises(InputError) as info:
        load_text("\n".join(lines), "bomb.yaml")
    assert "anchors" in str(info.value) and ":1:" in str(info.value)


def test_raw_text_is_kept():
    doc = load_text("a: 1.40\nb: '2'\nc: [0.50, x]\n")
    assert doc.raw[("a",)] == "1.40" and doc.data["a"] == 1.4
    assert ("b",) not in doc.raw
    assert doc.raw[("c", 0)] == "0.50"


@pytest.mark.parametrize("depth", [100, 100_000])
def test_absurd_nesting_is_an_input_error_not_a_crash(depth):
    with pytest.raises(InputError) as info:
        load_text("a: " + "[" * depth + "]" * depth, "deep.yaml")
    assert "nested too deeply" in str(info.value)
