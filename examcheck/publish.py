"""The published JSON Schema of problem sets: the generic schema, plus, for each family, its `given` fields
(with each layer type's mapping) and its result names, so that an editor completes and checks them."""

from __future__ import annotations

import copy

from examcheck.families import Family, all_families
from examcheck.schema import PROBLEM_SET_SCHEMA


def _layers(family: Family, items: dict) -> dict:
    """A layer: a string, or a mapping whose fields depend on its `type`."""
    types = sorted(family.layer_schemas)
    mapping = {
        "type": "object", "required": ["type"],
        "properties": {"type": {"enum": types, "description": "the layer type"}},
        "allOf": [{"if": {"properties": {"type": {"const": kind}}, "required": ["type"]},
                   "then": {"$ref": f"#/$defs/{family.name}.layer.{kind}"}} for kind in types],
    }
    return {"description": items.get("description", ""), "anyOf": [{"type": "string"}, mapping]}


def _given(family: Family, partial: bool) -> dict:
    """The family's given schema; partial (a part's or a mistake's given) drops `required`: the problem's
    given supplies the rest.  The problem's given drops it too, since parts may supply required keys."""
    schema = copy.deepcopy(family.given_schema)
    schema.pop("required", None)
    layers = schema.get("properties", {}).get("layers")
    if family.layer_schemas and layers and "items" in layers:
        layers["items"] = _layers(family, layers["items"])
    schema["description"] = f"given values of family {family.name}" + (" (overrides)" if partial else "")
    return schema


def _result(family: Family) -> dict:
    exact = [r.name for r in family.results if not r.is_pattern]
    patterns = [r for r in family.results if r.is_pattern]
    choices: list[dict] = [{"enum": exact}] if exact else []
    choices += [{"type": "string", "pattern": "^" + r.regex().pattern.removesuffix(r"\Z") + "$",
                 "description": f"{r.name}: {r.description}"} for r in patterns]
    return {"description": f"a result of family {family.name}: " + ", ".join(r.name for r in family.results),
            "anyOf": choices}


def problem_set_schema() -> dict:
    schema = copy.deepcopy(PROBLEM_SET_SCHEMA)
    families = all_families()
    defs: dict = {}
    problem = schema["properties"]["problems"]["items"]
    problem["properties"]["family"] = {"enum": sorted(families), "description": "the problem family; see "
                                       "`examcheck families`"}
    rules = []
    for name, family in families.items():
        for kind, layer in family.layer_schemas.items():
            defs[f"{name}.layer.{kind}"] = layer
        defs[f"{name}.given"] = _given(family, partial=False)
        defs[f"{name}.given.override"] = _given(family, partial=True)
        defs[f"{name}.result"] = _result(family)
        override = {"$ref": f"#/$defs/{name}.given.override"}
        result = {"$ref": f"#/$defs/{name}.result"}
        rules.append({
            # a problem with params writes "{name}" for given values: each drawn variant is checked on loading
            "if": {"properties": {"family": {"const": name}}, "required": ["family"], "not": {"required": ["params"]}},
            "then": {"properties": {
                "given": {"$ref": f"#/$defs/{name}.given"},
                "parts": {"items": {"properties": {
                    "given": override, "result": result,
                    "mistakes": {"items": {"properties": {"given": override, "result": result}}},
                }}},
            }},
        })
    problem["allOf"] = rules
    schema["$defs"] = defs
    return schema
