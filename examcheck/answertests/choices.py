"""True/false and multiple-choice answers."""

from __future__ import annotations

import re

import sympy as sp

from examcheck.answertests import Options, Verdict, answer_test, correct, incorrect, invalid
from examcheck.parsing import ParseError, parse, parse_boolean


def _reference_boolean(written, options: Options) -> bool:
    """true/false, or a relation such as "floor((64-4)/2) + 1 < 64" that is decided here."""
    try:
        return parse_boolean(written)
    except ParseError:
        pass
    relation = parse(str(written), options.vocab)
    if isinstance(relation, (bool, sp.logic.boolalg.BooleanAtom)):
        return bool(relation)
    if isinstance(relation, sp.Eq):
        return sp.simplify(relation.lhs - relation.rhs) == 0
    if isinstance(relation, sp.Ne):
        return sp.simplify(relation.lhs - relation.rhs) != 0
    raise ParseError(f"cannot decide {written!r} as true or false")


_WRAPPER = re.compile(r"^\s*\$*\s*\\(?:text|textbf|textit|textrm|mathrm|mathbf|mathit|emph|boxed|operatorname)\s*"
                      r"\{([^{}]*)\}\s*\$*\s*$")


def unwrap(written):
    """\\text{true}, \\textbf{B}, $\\mathrm{B}$, \\boxed{yes} -> the word inside (repeatedly)."""
    if not isinstance(written, str):
        return written
    text = written
    for _ in range(4):
        m = _WRAPPER.match(text)
        if not m:
            break
        text = m.group(1)
    return text.strip().strip("$").strip()


@answer_test("boolean", reader=_reference_boolean)
def boolean_test(student, reference, options: Options) -> Verdict:
    try:
        value = parse_boolean(unwrap(student))
    except ParseError as exc:
        return invalid(str(exc), "unreadable")
    shown = "true" if value else "false"
    if value == bool(reference):
        return correct(note="same truth value", interpreted=shown)
    return incorrect(f"the statement is {'false' if value else 'true'}", "wrong_truth_value", shown)


def _normal(text) -> str:
    return " ".join(str(text).strip().lower().split())


def resolve_choice(written, choices: list | None) -> str:
    """The choice a written answer names: its text, its letter (a, b, …) or its number (1, 2, …)."""
    text = _normal(unwrap(written))
    if not choices:
        return text
    normal = [_normal(c) for c in choices]
    if text in normal:
        return normal[normal.index(text)]
    stripped = text.strip("().")
    if len(stripped) == 1 and stripped.isalpha() and ord(stripped) - ord("a") < len(choices):
        return normal[ord(stripped) - ord("a")]
    if stripped.isascii() and stripped.isdigit() and len(stripped) <= 6 and 1 <= int(stripped) <= len(choices):
        return normal[int(stripped) - 1]
    raise ParseError(f"{str(written)!r} is not one of the choices: " + ", ".join(map(str, choices)))


def _reference_choice(written, options: Options) -> str:
    return resolve_choice(written, options.choices)


@answer_test("choice", reader=_reference_choice)
def choice_test(student, reference, options: Options) -> Verdict:
    try:
        picked = resolve_choice(student, options.choices)
    except ParseError as exc:
        return invalid(str(exc), "unreadable")
    if picked == _normal(reference):
        return correct(note="same choice", interpreted=picked)
    return incorrect("another choice is right", "wrong_choice", picked)
