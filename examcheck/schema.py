"""JSON Schemas for problem sets and answer files, and validation that names
the file, the line and the field."""

from __future__ import annotations

from examcheck.suggest import did_you_mean
from examcheck.yamlio import InputError, YamlDoc

ANSWER_TYPES = ["number", "integer", "expression", "shape", "vector", "matrix", "boolean",
                "choice", "text", "set", "tuple"]

ID = {"type": ["string", "integer"], "pattern": r"^[A-Za-z0-9_.\-]+$",
      "description": "an id such as q3 or 2a"}
NUMBER = {"type": "number"}

PRECISION = {
    "description": "how numbers are compared: exact, or one of decimals, sigfigs, rtol, atol",
    "oneOf": [
        {"type": "string", "enum": ["exact"]},
        {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {
                "decimals": {"type": "integer", "minimum": 0, "maximum": 15},
                "sigfigs": {"type": "integer", "minimum": 1, "maximum": 15},
                "rtol": {"type": "number", "exclusiveMinimum": 0},
                "atol": {"type": "number", "exclusiveMinimum": 0},
                "min_sigfigs": {"type": "integer", "minimum": 1, "maximum": 15},
            },
        },
    ],
}

LOG_BASE = {"description": "the base of log: e, 2 or 10", "enum": ["e", 2, 10]}

MISTAKE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["feedback"],
    "description": "a known wrong answer: a literal answer, or the family recomputed with other given values",
    "properties": {
        "answer": {"description": "the wrong answer, written as a student would"},
        "given": {"type": "object", "description": "given values that produce the wrong answer"},
        "result": {"type": "string"},
        "log_base": LOG_BASE,
        "feedback": {"type": "string", "minLength": 1},
        "marks": {"type": "number", "minimum": 0},
    },
}

FOLLOW_TARGET = {"type": "string", "pattern": r"^(given|results)\.[^\s]+$",
                 "description": "given.<key>[.<key or index>...] or results.<name>"}

FOLLOW_THROUGH = {
    "type": "object",
    "additionalProperties": False,
    "required": ["from", "replaces"],
    "description": "follow-through credit: earlier parts whose student values replace given values or results",
    "properties": {
        "from": {"description": "an earlier part id of this problem, or a list of them",
                 "oneOf": [ID, {"type": "array", "items": ID, "minItems": 1}]},
        "replaces": {"description": "given.<key>[.<key or index>...] or results.<name>, or a list (one per `from`)",
                     "oneOf": [FOLLOW_TARGET, {"type": "array", "items": FOLLOW_TARGET, "minItems": 1}]},
        "strategy": {"enum": ["original_first", "always"]},
        "cap": {"type": "number", "exclusiveMinimum": 0, "maximum": 1,
                "description": "the most follow-through can give, as a fraction of the part's marks"},
        "when": {"type": "string", "minLength": 1,
                 "description": "a condition every entry of the earlier value must meet: positive, integer, '0 < x < 1', ..."},
        "allow_trivial": {"type": "boolean"},
    },
}

PART = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "marks", "answer"],
    "properties": {
        "id": ID,
        "marks": {"type": "number", "minimum": 0},
        "prompt": {"type": "string"},
        "answer": {"enum": ANSWER_TYPES},
        "result": {"type": "string", "description": "the family result this part asks for"},
        "reference": {"description": "a SymPy-syntax expression (or literal) for a one-off part"},
        "given": {"type": "object", "description": "given values for this part only"},
        "precision": PRECISION,
        "variables": {
            "type": "object",
            "description": "symbol domains such as real, positive, '0 < p < 1', positive integer",
            "additionalProperties": {"type": "string"},
        },
        "functions": {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9]*$"},
                      "description": "names of functions the problem leaves unknown, e.g. an activation h"},
        "log_base": LOG_BASE,
        "key": {"description": "the instructor's stated answer; `check` verifies it"},
        "mistakes": {"type": "array", "items": MISTAKE},
        "choices": {"type": "array", "items": {"type": ["string", "number", "boolean"]}, "minItems": 2},
        "options": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "ignore_singleton": {"type": "boolean"},
                "partial_entries": {"type": "boolean"},
                "points": {"type": "integer", "minimum": 3, "maximum": 50},
                "time_limit": {"type": "number", "exclusiveMinimum": 0, "maximum": 60},
            },
        },
        "rubric": {"type": "array", "items": {"type": "string"}},
        "note": {"type": "string"},
        "follow_through": FOLLOW_THROUGH,
    },
}

SCALAR = {"type": ["string", "number", "boolean"]}

PARAM = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type"],
    "description": ("a param drawn per variant: integer or real (min, max, step) or choice (values); "
                    "exclude lists values never drawn"),
    "properties": {
        "type": {"enum": ["integer", "real", "choice"]},
        "min": {"type": "number", "minimum": -1e12, "maximum": 1e12},
        "max": {"type": "number", "minimum": -1e12, "maximum": 1e12},
        "step": {"type": "number", "exclusiveMinimum": 0, "maximum": 1e12},
        "values": {"type": "array", "items": SCALAR, "minItems": 1, "maxItems": 1000},
        "exclude": {"type": "array", "items": SCALAR, "maxItems": 1000},
    },
}

PARAMS = {
    "type": "object",
    "description": "params drawn per student: name -> {type: integer|real|choice, ...}; used as {name}",
    "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]{0,31}$"},
    "minProperties": 1,
    "maxProperties": 32,
    "additionalProperties": PARAM,
}

WHERE = {
    "description": "a condition (or a list of conditions, all of which must hold) over the params, e.g. 'a < b'",
    "oneOf": [{"type": "string", "minLength": 1, "maxLength": 500},
              {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 500}, "minItems": 1,
               "maxItems": 50}],
}

PROBLEM = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "title", "parts"],
    "properties": {
        "id": ID,
        "title": {"type": "string"},
        "statement": {"type": "string"},
        "marks": {"type": "number", "minimum": 0},
        "family": {"type": "string"},
        "given": {"type": "object"},
        "log_base": LOG_BASE,
        "parts": {"type": "array", "items": PART, "minItems": 1},
        "source": {"type": "string"},
        "params": PARAMS,
        "where": WHERE,
        "tries": {"type": "integer", "minimum": 1, "maximum": 100_000,
                  "description": "draws allowed when deploying variants of this problem (default 1000)"},
    },
}

PROBLEM_SET_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://examcheck.invalid/problem-set.schema.json",
    "title": "examcheck problem set",
    "type": "object",
    "additionalProperties": False,
    "required": ["exam", "title", "problems"],
    "properties": {
        "exam": ID,
        "title": {"type": "string"},
        "source": {"type": "string"},
        "log_base": LOG_BASE,
        "problems": {"type": "array", "items": PROBLEM, "minItems": 1},
    },
}

ANSWER_FILE_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "examcheck answer file",
    "type": "object",
    "additionalProperties": False,
    "required": ["answers"],
    "properties": {
        "student": {"type": ["string", "integer"]},
        "exam": ID,
        "variant": {"type": "object", "description": "problem id -> the variant number this file answers",
                    "additionalProperties": {"type": "integer", "minimum": 1}},
        "attempt": {"type": "integer", "minimum": 1, "maximum": 1000, "description": "the attempt (default 1)"},
        "answers": {
            "type": ["object", "null"],
            "description": "problem id -> part id -> answer (or the answer itself for one-part problems)",
        },
    },
}

_TYPE_NAMES = {
    "number": "a number", "integer": "a whole number", "string": "text", "object": "a mapping",
    "array": "a list", "boolean": "true or false", "null": "nothing",
}


def describe_types(types) -> str:
    if isinstance(types, str):
        types = [types]
    return " or ".join(_TYPE_NAMES.get(t, t) for t in types)


def _message(error) -> tuple[tuple, str]:
    """(path, message) in plain words for one jsonschema error."""
    path = tuple(error.absolute_path)
    kind = error.validator
    if kind == "type":
        return path, f"expected {describe_types(error.validator_value)}"
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return path, f"missing required field '{missing}'"
    if kind == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        extras = [k for k in error.instance if k not in allowed]
        known = ", ".join(sorted(allowed))
        extra = extras[0] if extras else "?"
        return (*path, extra) if extras else path, f"unknown field '{extra}'{did_you_mean(extra, allowed)} (allowed: {known})"
    if kind == "enum":
        hint = did_you_mean(error.instance, error.validator_value) if isinstance(error.instance, str) else ""
        return path, "expected one of: " + ", ".join(map(str, error.validator_value)) + hint
    if kind in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        sign = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}[kind]
        return path, f"expected a number {sign} {error.validator_value}"
    if kind == "minItems":
        return path, f"expected at least {error.validator_value} item(s)"
    if kind == "minLength":
        return path, "must not be empty"
    if kind == "pattern":
        return path, f"expected {error.schema.get('description', 'a value matching ' + error.validator_value)}"
    if kind == "format":
        return path, f"expected {error.schema.get('description', error.validator_value)}, found {error.instance!r}"
    if kind in ("oneOf", "anyOf"):
        return path, f"expected {error.schema.get('description', 'one of the allowed forms')}"
    return path, error.message


class ValidationFailed(Exception):
    def __init__(self, errors: list[InputError]):
        super().__init__("\n".join(map(str, errors)))
        self.errors = errors


_VALIDATORS: dict[int, object] = {}


def validator_for(schema: dict):
    """One compiled validator per schema (schemas are module-level constants)."""
    if id(schema) not in _VALIDATORS:
        from jsonschema import Draft202012Validator

        _VALIDATORS[id(schema)] = (schema, Draft202012Validator(schema))
    return _VALIDATORS[id(schema)][1]


def validate(doc: YamlDoc, schema: dict, base: tuple = (), value=None) -> None:
    """Raise ValidationFailed listing every error in doc.data, or in value (which sits at base in doc)."""
    if value is None:
        value = doc.data
        for key in base:
            value = value[key]
    validator = validator_for(schema)
    errors = sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        return
    found = []
    for error in errors:
        path, message = _message(error)
        full = (*base, *path)
        found.append(doc.error(full, message) if full else InputError(doc.source, doc.line(()), message))
    raise ValidationFailed(found)


def _exact_number(value) -> bool:
    """The `exact-number` format of family given values: a number, or text that reads as one (1/3, 1 - 0.09)."""
    if not isinstance(value, str):
        return True
    from examcheck.values import exact

    try:
        result = exact(value)
    except (ValueError, TypeError, ArithmeticError):
        return False
    return bool(getattr(result, "is_number", False)) and result.is_finite is not False


_FAMILY_VALIDATORS: dict[int, tuple] = {}


def schema_errors(schema: dict, value) -> list[tuple[tuple, str]]:
    """(path inside value, plain message) for every way value breaks schema (formats checked)."""
    if id(schema) not in _FAMILY_VALIDATORS:
        from jsonschema import Draft202012Validator, FormatChecker

        checker = FormatChecker(formats=())
        checker.checks("exact-number")(_exact_number)
        _FAMILY_VALIDATORS[id(schema)] = (schema, Draft202012Validator(schema, format_checker=checker))
    validator = _FAMILY_VALIDATORS[id(schema)][1]
    errors = sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
    return [_message(error) for error in errors]
