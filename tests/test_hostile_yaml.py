"""Hostile YAML in answer and problem files: every class is a clear error naming file:line for
that file (or a value read as the text written), never a crash, a hang or a whole-batch failure.
Includes a hypothesis fuzz of YAML structure: nesting, block and flow styles, tags, anchors,
aliases and scalars in every YAML 1.1 form."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examcheck.answers import sheet_from_text
from examcheck.loader import load_set
from examcheck.schema import ValidationFailed
from examcheck.yamlio import MAX_DEPTH, InputError, core_value, load_file, load_text

# ----------------------------------------------------------------------------- each class, one by one

ERRORS = [
    # (text, words the message must contain, line)
    ("answers:\n  q1: !!int \"\"\n", "!!int", 2),
    ("answers:\n  q1: !!python/object/apply:os.system ['true']\n", "unsupported YAML tag", 2),
    ("answers:\n  q1: !!python/name:os.system\n", "unsupported YAML tag", 2),
    ("answers:\n  q1: !!binary aGVsbG8=\n", "unsupported YAML tag", 2),
    ("answers:\n  q1: !!timestamp 2024-02-30\n", "unsupported YAML tag", 2),
    ("answers:\n  q1: !!set {a, b}\n", "unsupported YAML tag", 2),
    ("answers:\n  q1: !!float abc\n", "!!float", 2),
    ("answers:\n  q1: !custom 1\n", "unsupported YAML tag", 2),
    ("answers:\n  q1: {<<: {a: 1}}\n", "merge keys", 2),
    ("x: &a [1]\nanswers:\n  q1: *a\n", "anchors", 1),
    ("answers:\n  q1: *nothing\n", "", 2),
    ("answers:\n  q1: 1\n  q1: 2\n", "duplicate key", 3),
    ("answers:\n  ? [a, b]\n  : 1\n", "plain names", 2),
    ("answers: {q1: 1}\n---\nanswers: {q1: 2}\n", "one YAML document", 2),
    ("answers:\n  q1: [1, 2\n", "not valid YAML", None),
    ("answers:\n  q1: \"a\x00\"\n", "NUL", 2),
    ("answers:\n  q1: a\n  q2: \x1b[2J\n", "U+001B", 3),
    ("answers:\n  q1: \x07\n", "U+0007", 2),
]


@pytest.mark.parametrize("text, words, line", ERRORS)
def test_each_hostile_form_is_an_error_with_file_and_line(text, words, line):
    with pytest.raises(InputError) as info:
        sheet_from_text(text, "student.yaml")
    message = str(info.value)
    assert message.startswith("student.yaml"), message
    assert words in message
    if line is not None:
        assert info.value.line == line, message


def test_billion_laughs_is_refused_at_the_first_anchor():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    with pytest.raises(InputError) as info:
        load_text("\n".join(lines), "bomb.yaml")
    assert info.value.line == 1 and "anchors" in info.value.message


@pytest.mark.parametrize("make", [
    lambda n: "answers:\n  q1:\n    " + "- " * n + "x\n",                   # block sequences on one line
    lambda n: "answers:\n" + "".join(" " * (i + 1) + "k:\n" for i in range(min(n, 2000))) + " " * 2001 + "x\n",
    lambda n: "answers:\n  q1: " + "[" * n + "]" * n + "\n",                # flow sequences
    lambda n: "answers:\n  q1: " + "{a: " * n + "1" + "}" * n + "\n",       # flow mappings
    lambda n: "answers:\n  q1:\n" + "".join("    " + " " * i + "-\n" for i in range(min(n, 2000))),
])
@pytest.mark.parametrize("depth", [MAX_DEPTH + 5, 30_000])
def test_deep_nesting_in_every_style_is_an_error_not_a_crash(make, depth):
    with pytest.raises(InputError) as info:
        load_text(make(depth), "deep.yaml")
    assert "nested too deeply" in info.value.message and info.value.line


def test_nesting_up_to_the_limit_loads():
    depth = MAX_DEPTH - 2
    doc = load_text("a: " + "[" * depth + "1" + "]" * depth)
    value = doc.data["a"]
    for _ in range(depth - 1):
        value = value[0]
    assert value == [1]


@pytest.mark.parametrize("written", [
    "1:59:59", "1:" + ":".join(["59"] * 50_000), "0123", "0o17", "0x1F", "0b101", "1_000", "yes", "no", "on", "off",
    "y", "n", "2024-02-30", "2024-01-01 10:00:00", "2001-12-14t21:59:43.10-05:00", "9" * 5001, "-" + "9" * 5001,
    ".5", "1e3", "1.40", "+12", "=", "~", ".NaN", "-.inf", "1e309",
])
def test_yaml11_forms_reach_the_answer_test_as_the_text_written(written):
    sheet = sheet_from_text(f"answers:\n  q1: {written}\n", "s.yaml")
    value = sheet.problem_values["q1"].value
    assert value == (None if written == "~" else written)


def test_core_schema_resolution():
    assert core_value("0123") == 123 and core_value("0o17") == 15 and core_value("0x1F") == 31
    assert core_value("1e3") == 1000.0 and core_value("+1.5") == 1.5 and core_value(".5") == 0.5
    assert core_value("true") is True and core_value("FALSE") is False and core_value("yes") == "yes"
    assert core_value("null") is None and core_value("") is None and core_value("~") is None
    assert core_value("1:30") == "1:30" and core_value("1_000") == "1_000" and core_value("2024-01-01") == "2024-01-01"
    assert math.isnan(core_value(".nan")) and core_value("-.Inf") == -math.inf
    assert core_value("9" * 5001) == "9" * 5001  # too long to be a number: stays text


def test_huge_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("answers:\n  q1: " + "1:" * 3_000_000 + "1\n")
    with pytest.raises(InputError) as info:
        load_file(path, max_bytes=5_000_000)
    assert "larger than" in info.value.message


def test_non_utf8_and_surrogates(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"answers:\n  q1: caf\xe9\n")
    with pytest.raises(InputError, match="not UTF-8"):
        load_file(path)
    with pytest.raises(InputError, match="Unicode"):
        load_text("answers:\n  q1: \ud800\n")


def test_problem_file_numbers_are_typed_by_yaml12(tmp_path):
    """In a problem file, 1.1-only forms are no longer numbers or booleans: the schema says so at file:line."""
    path = tmp_path / "p.yaml"
    path.write_text("exam: e\ntitle: t\nproblems:\n  - id: q1\n    title: t\n    parts:\n"
                    "      - id: a\n        marks: 1_0\n        answer: number\n        reference: '1'\n"
                    "        options: {ignore_singleton: yes}\n")
    with pytest.raises(ValidationFailed) as info:
        load_set(path)
    text = "\n".join(map(str, info.value.errors))
    assert f"{path}:8: problems[0].parts[0].marks: expected a number" in text
    assert f"{path}:11: problems[0].parts[0].options.ignore_singleton: expected true or false" in text


# ----------------------------------------------------------------------------- structure fuzz

YAML11_SCALARS = [
    "1", "-1", "+1", "0", "0123", "0o17", "0x1F", "0b1010", "1_000", "1:30", "190:20:30", "1.5", "1.40", ".5",
    "1e3", "1.0e+3", "6.8523015e+5", "685.230_15e+03", "-.inf", ".Inf", ".NaN", "true", "True", "yes", "No",
    "on", "OFF", "y", "n", "null", "Null", "~", "2001-12-14", "2001-12-14t21:59:43.10-05:00",
    "2002-12-14 21:59:43.10 -5", "2024-02-30", "=", "x^2", "sigma(z)", "σ'(z)", "1/2", "9" * 60,
]
TAGS = ["", "", "", "!!str ", "!!int ", "!!float ", "!!bool ", "!!null ", "!!binary ", "!!timestamp ",
        "!!python/object:os.system ", "!local ", "!!set ", "!!omap "]
ALLOWED_TAGS = {"", "!!str "}
TYPED_TAGS = {"!!int ": (int,), "!!float ": (int, float), "!!bool ": (bool,), "!!null ": (type(None),)}


def tag_accepted(text: str, tag: str) -> bool:
    """Core tags are accepted on text of their type (!!int 12), refused elsewhere (!!int "")."""
    if tag in ALLOWED_TAGS:
        return True
    if tag not in TYPED_TAGS:
        return False
    value = core_value(text)
    return isinstance(value, TYPED_TAGS[tag]) and not (tag != "!!bool " and isinstance(value, bool))


@st.composite
def trees(draw, depth=0):
    kind = draw(st.sampled_from(["scalar", "scalar", "list", "map"] if depth < 70 else ["scalar"]))
    if kind == "scalar":
        tag = draw(st.sampled_from(TAGS)) if draw(st.integers(0, 15)) == 0 else ""
        return ("scalar", draw(st.sampled_from(YAML11_SCALARS)), tag,
                draw(st.sampled_from(["plain", "plain", "single", "double"])))
    size = draw(st.integers(0 if depth else 1, 3))
    children = [draw(trees(depth=depth + draw(st.integers(1, 25)))) for _ in range(size)]
    flow = draw(st.booleans())
    if kind == "list":
        return ("list", children, flow)
    return ("map", [(f"k{i}", child) for i, child in enumerate(children)], flow)


def _scalar_text(text: str, tag: str, style: str) -> str:
    if style == "single":
        return tag + "'" + text.replace("'", "''") + "'"
    if style == "double":
        return tag + json.dumps(text, ensure_ascii=False)
    return tag + text


def emit(node, indent: int = 0, flow: bool = False) -> str:
    """YAML text for a tree, in block or flow style."""
    kind = node[0]
    if kind == "scalar":
        return _scalar_text(*node[1:])
    children, own_flow = node[1], node[2]
    if flow or own_flow or not children:
        if kind == "list":
            return "[" + ", ".join(emit(c, flow=True) for c in children) + "]"
        return "{" + ", ".join(f"{k}: {emit(c, flow=True)}" for k, c in children) + "}"
    pad = "  " * indent
    lines = []
    for key, child in (children if kind == "map" else [("-", c) for c in children]):
        head = f"{pad}{key}:" if kind == "map" else f"{pad}-"
        if child[0] == "scalar" or child[2] or not child[1]:
            lines.append(f"{head} {emit(child, flow=True)}")
        else:
            lines.append(head)
            lines.append(emit(child, indent + 1))
    return "\n".join(lines)


def depth_of(node) -> int:
    if node[0] == "scalar":
        return 0
    children = node[1] if node[0] == "list" else [c for _, c in node[1]]
    return 1 + max((depth_of(c) for c in children), default=0)


def hostile_tags(node) -> bool:
    if node[0] == "scalar":
        return not tag_accepted(node[1], node[2])
    children = node[1] if node[0] == "list" else [c for _, c in node[1]]
    return any(hostile_tags(c) for c in children)


def expected(node):
    """The data the YAML 1.2 core schema gives (None where a typed tag is applied: checked separately)."""
    if node[0] == "scalar":
        text, tag, style = node[1:]
        return text if style != "plain" or tag == "!!str " else core_value(text)
    if node[0] == "list":
        return [expected(c) for c in node[1]]
    return {k: expected(c) for k, c in node[1]}


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@given(trees(), st.integers(0, 4).map(lambda n: n == 0), st.integers(0, 80), st.integers(0, 3), st.booleans())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_yaml_structure_fuzz(tree, add_anchor, wrappers, pattern, flow_wrappers):
    for i in range(wrappers):  # extra nesting, in block or flow style, around the random tree
        flow = flow_wrappers and i % 2 == 0
        tree = ("list", [tree], flow) if (i + pattern) % 3 else ("map", [("k", tree)], flow)
    root = ("map", [("answers", tree)], False) if tree[0] != "map" else tree
    text = emit(root) + "\n"
    if add_anchor:
        text = "first: &anchor 1\nsecond: *anchor\n" + text
    try:
        doc = load_text(text, "fuzz.yaml")
    except InputError as exc:  # the only exception allowed, and it names the file, and only for a reason
        assert str(exc).startswith("fuzz.yaml") and exc.line
        assert add_anchor or hostile_tags(root) or depth_of(root) > MAX_DEPTH, str(exc)
        return
    assert not add_anchor, "anchors and aliases must be refused"
    assert depth_of(root) <= MAX_DEPTH + 1
    assert not hostile_tags(root), "a non-core tag was accepted"
    assert same(doc.data, expected(root)) or "!!" in text  # typed tags (!!int 1) resolve by their tag


@given(st.text(alphabet=st.sampled_from(list("-[]{}:,?&*!|>'\"#%@` \n\t") + ["a", "1", "\\", "\u2028", "\x85"]),
               max_size=80))
@settings(max_examples=300, deadline=None)
def test_any_text_loads_or_is_an_input_error(text):
    try:
        load_text(text, "any.yaml")
    except InputError:
        pass
