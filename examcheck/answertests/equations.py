"""An answer written as an equation chain is read by its last side (``p0 = 0.659``, ``f'(0) = 1/4 = 0.25``);
when two or more sides are plain numbers (or closed numeric values, or lists of them) that DISAGREE under the
part's own rule (``0.5 = 0.659``, or working with a slip: ``8*20 + 8*9 + 3*9 = 619``), the last side is still
the answer graded, as a human marker would read it, and the feedback says which sides disagree, so that a
false equation never passes unremarked (a hedge gains nothing: only the last side counts).  Sides that agree (``ln(2)/4 ≈ 0.173``,
``1/2 = 0.5``, ``0.1733 = 0.173``) are fine, a precision shortfall on one side included (``0.2 ≈ 0.173``), and
a side with a name in it (``a = σ(z)(1 − σ(z))``, ``p0 = 0.659``) is a label, never compared.
"""

from __future__ import annotations

import sympy as sp

from examcheck.answertests import Options
from examcheck.answertests.tolerance import Exact, NotANumber, as_exact, within_rule
from examcheck.parsing import ParseError, TooComplex, Vocabulary, WrittenSet, parse_list, sides_of

CHECKED_KINDS = frozenset({"number", "integer", "vector", "matrix", "tuple", "set", "expression"})
TWO_READINGS = "two_readings"


def conflicting_sides(student, options: Options) -> str | None:
    """A sentence naming the numeric sides of an equation in the answer that disagree; None if none do."""
    if isinstance(student, (list, tuple)):  # a YAML list: each entry on its own
        for entry in student:
            verdict = conflicting_sides(entry, options)
            if verdict is not None:
                return verdict
        return None
    if not isinstance(student, str) or "=" not in student and "≈" not in student and "approx" not in student:
        return None
    try:
        sides = sides_of(student, options.vocab)
    except (ParseError, TooComplex):
        return None  # the answer test reports what is wrong with the text
    if len(sides) < 2:
        return None
    numeric = [(side, reading) for side in sides if (reading := numeric_reading(side, options)) is not None]
    for (side, reading), (other, other_reading) in zip(numeric, numeric[1:]):
        if not agree(reading, other_reading, options):
            return (f"note: the equation's sides {side} and {other} are different values (a false equation); "
                    "only the last side was graded")
    return None


def numeric_reading(side: str, options: Options):
    """(is_set, nested leaves) when the side is numbers only (no names but e, π and functions), else None."""
    if not side:
        return None
    bare = Vocabulary(log_base=options.vocab.log_base)
    try:
        parsed = parse_list(side, bare)
        in_part = parse_list(side, options.vocab)  # a name the part declares (e as a variable) makes it a label
    except (ParseError, TooComplex, ValueError, TypeError, ArithmeticError, RecursionError):
        return None
    if not _numbers_only(parsed) or not _numbers_only(in_part):
        return None
    return isinstance(parsed, WrittenSet), _unwrap(parsed)


def _unwrap(value):
    if isinstance(value, list) and len(value) == 1 and not isinstance(value[0], list):
        return value[0]  # 0.5 is read as the one-entry list [0.5]
    return value


def _numbers_only(value) -> bool:
    if isinstance(value, list):
        return all(_numbers_only(v) for v in value)
    number = getattr(value, "value", value)
    return isinstance(number, sp.Expr) and number.is_number and not number.free_symbols


def _flat(value) -> list:
    return [x for v in value for x in _flat(v)] if isinstance(value, list) else [value]


def _shape(value):
    return tuple(_shape(v) for v in value) if isinstance(value, list) else ()


def agree(a, b, options: Options) -> bool:
    """Two numeric sides state the same value(s) under the part's rule (precision shortfalls forgiven)."""
    (a_set, a_value), (b_set, b_value) = a, b
    if _shape(a_value) != _shape(b_value) and not (a_set or b_set):
        return False
    left, right = _flat(a_value), _flat(b_value)
    if len(left) != len(right):
        return False
    if a_set or b_set:
        left, right = sorted(left, key=_size), sorted(right, key=_size)
    return all(_same(x, y, options) for x, y in zip(left, right))


def _size(leaf) -> float:
    try:
        return float(getattr(leaf, "value", leaf))
    except (TypeError, ValueError, OverflowError):
        return 0.0


def _same(x, y, options: Options) -> bool:
    try:
        sx, sy = as_exact(getattr(x, "value", x)), as_exact(getattr(y, "value", y))
    except NotANumber:
        return getattr(x, "value", x) == getattr(y, "value", y)  # ∞ = ∞ agrees; ∞ = 3 does not
    rule = options.precision
    return _within(sx, sy, x, rule) or _within(sy, sx, y, rule)


def _within(s: Exact, other: Exact, written, rule) -> bool:
    return within_rule(s, other, rule.kind, rule.value, getattr(written, "decimals", None),
                       getattr(written, "sigfigs", None), rule.min_sigfigs)
