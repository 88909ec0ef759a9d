"""True/false and multiple-choice answers."""

from __future__ import annotations

import re

import sympy as sp

from examcheck.answertests import Options, Read, Verdict, answer_test, correct, incorrect, invalid
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
    import examcheck.parsing as parsing

    plain = getattr(parsing, "plain_words", None)  # the parser's own unwrapping, where it has one
    text = plain(written) if plain is not None else written
    for _ in range(4):
        m = _WRAPPER.match(text)
        if not m:
            break
        text = m.group(1)
    return text.strip().strip("$").strip()


def read_boolean(student, options: Options) -> Read | Verdict:
    """boolean_test's reading: true or false (also yes/no, \\text{true}, …)."""
    try:
        value = parse_boolean(unwrap(student))
    except ParseError as exc:
        return invalid(str(exc), "unreadable")
    return Read(value, "true" if value else "false")


@answer_test("boolean", reader=_reference_boolean, student_reader=read_boolean)
def boolean_test(student, reference, options: Options) -> Verdict:
    answer = read_boolean(student, options)
    if isinstance(answer, Verdict):
        return answer
    value, shown = answer.value, answer.shown
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


def read_choice(student, options: Options) -> Read | Verdict:
    """choice_test's reading: the choice named by its text, letter or number."""
    try:
        picked = resolve_choice(student, options.choices)
    except ParseError as exc:
        return invalid(str(exc), "unreadable")
    return Read(picked, picked)


@answer_test("choice", reader=_reference_choice, student_reader=read_choice)
def choice_test(student, reference, options: Options) -> Verdict:
    answer = read_choice(student, options)
    if isinstance(answer, Verdict):
        return answer
    picked = answer.value
    if picked == _normal(reference):
        return correct(note="same choice", interpreted=picked)
    return incorrect("another choice is right", "wrong_choice", picked)
