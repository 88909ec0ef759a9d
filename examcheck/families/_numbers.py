"""Number hygiene shared by the optimizer, normalisation and recurrent families: keep short
rationals exact, turn everything else into a 30-digit float, and refuse absurd magnitudes."""

from __future__ import annotations

import sympy as sp

from examcheck.families import FamilyError

DIGITS = 30
MAX_MAGNITUDE = sp.Integer(10) ** 100


def tidy(value, exact_bits: int = 26) -> sp.Expr:
    """A short rational stays exact (numerator and denominator under 2**exact_bits); anything else
    becomes a 30-digit float.  Never converts a huge integer to text (no digit-limit errors)."""
    value = sp.Integer(value) if isinstance(value, int) else value
    if value.is_Rational and abs(value.p).bit_length() <= exact_bits and value.q.bit_length() <= exact_bits:
        return value
    number = sp.N(value, DIGITS)
    if not number.is_real:
        raise FamilyError(f"a value is not a real number: {sp.sstr(value)[:80]}")
    return number


def bounded(values, what: str):
    """values (a number or nested lists) unchanged, or FamilyError if one exceeds 1e100 in size."""
    if isinstance(values, list):
        for v in values:
            bounded(v, what)
        return values
    if values.is_number and values.is_finite is not False and abs(values) > MAX_MAGNITUDE:
        raise FamilyError(f"{what}: values beyond 1e100 are out of range")
    if values.is_infinite:
        raise FamilyError(f"{what}: infinite values are out of range")
    return values


def _types(schema: dict) -> set:
    kind = schema.get("type", [])
    return {kind} if isinstance(kind, str) else set(kind)


def number_errors(given: dict, schema: dict) -> list:
    """GivenErrors for every text value, in a field whose schema allows numbers, that does not read as a
    number (found at load time, with its path, instead of failing later in solve)."""
    from examcheck.families import GivenError
    from examcheck.values import exact

    errors: list = []

    def walk(value, sub: dict, path: tuple) -> None:
        if isinstance(value, dict):
            props = sub.get("properties", {})
            for key, inner in value.items():
                if key in props:
                    walk(inner, props[key], (*path, key))
        elif isinstance(value, list):
            for i, inner in enumerate(value):
                walk(inner, sub.get("items", sub), (*path, i))
        elif isinstance(value, str) and "number" in _types(sub):
            try:
                exact(value)
            except (ValueError, TypeError) as exc:
                errors.append(GivenError(path, f"expected a number, found {value!r} ({exc})"))

    walk(given, schema, ())
    return errors
