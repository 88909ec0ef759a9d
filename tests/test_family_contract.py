"""Every family declares its contract, and its example obeys it: each result the example produces
is declared, and has the declared kind."""

import dataclasses

import pytest
import sympy as sp

from examcheck.families import AnswerKind, Conventions, Result, all_families, did_you_mean

FAMILIES = sorted(all_families())


def _kind_fits(kind: AnswerKind, value) -> bool:
    if kind is AnswerKind.BOOLEAN:
        return isinstance(value, bool)
    if kind is AnswerKind.SHAPE:
        return isinstance(value, tuple) and all(isinstance(v, int) for v in value)
    if kind is AnswerKind.VECTOR:
        return isinstance(value, (list, tuple))
    if kind is AnswerKind.MATRIX:
        return isinstance(value, list) and all(isinstance(row, (list, tuple)) for row in value)
    if kind is AnswerKind.CHOICE:
        return isinstance(value, str)
    if kind is AnswerKind.INTEGER:
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, sp.Basic) and value.is_integer)
    if kind is AnswerKind.NUMBER:
        return isinstance(value, (int, float)) and not isinstance(value, bool) or (
            isinstance(value, sp.Basic) and value.is_number)
    return isinstance(value, (int, float, sp.Basic)) and not isinstance(value, bool)


@pytest.mark.parametrize("name", FAMILIES)
def test_family_declares_a_contract(name):
    family = all_families()[name]
    assert family.summary and family.results, name
    assert family.given_schema["type"] == "object" and family.given_schema.get("additionalProperties") is False
    assert issubclass(family.conventions, Conventions) and dataclasses.is_dataclass(family.conventions)
    assert all(f.default is not dataclasses.MISSING for f in dataclasses.fields(family.conventions))
    names = [r.name for r in family.results]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("name", FAMILIES)
def test_example_results_are_declared_with_their_kind(name):
    family = all_families()[name]
    assert family.check_given(family.example) == []
    solution = family.compute(family.example)
    assert solution.results
    for result, value in solution.results.items():
        spec = family.result_spec(result)
        assert spec is not None, f"{name}: undeclared result {result!r}"
        assert _kind_fits(spec.kind, value), f"{name}.{result} = {value!r} is not {spec.kind.value}"


def test_patterns_match_one_segment():
    spec = Result("params.{layer}", "integer", "")
    assert spec.matches("params.3") and spec.matches("params.conv1")
    assert not spec.matches("params.3.1") and not spec.matches("params") and not spec.matches("xparams.3")
    assert Result("dE/d{q}", "expression", "").matches("dE/dw^(1)_12")


def test_unknown_results_name_the_allowed_ones_and_a_likely_one():
    family = all_families()["dense"]
    assert family.unknown_result("total") is None and family.unknown_result("params.2") is None
    message = family.unknown_result("totl")
    assert "did you mean 'total'" in message and "allowed:" in message
    assert "params.{layer}" in did_you_mean("parms.2", family.result_names())
