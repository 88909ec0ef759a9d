"""Shapes, vectors, matrices, tuples and sets: the structure is checked first,
then each entry under the number (or expression) rule."""

from __future__ import annotations

import sympy as sp

from examcheck.answertests import (
    PARTIAL,
    Options,
    Verdict,
    answer_test,
    correct,
    incorrect,
    invalid,
    read_or_verdict,
)
from examcheck.answertests.expressions import compare_expressions, read_expression
from examcheck.answertests.numbers import number_test, reference_number
from examcheck.parsing import MAX_MATRIX_ENTRIES, ParseError, parse_list, parse_shape
from examcheck.values import show


def _shape_text(shape: tuple) -> str:
    return "×".join(map(str, shape)) if shape else "scalar"


def reference_shape(written, options: Options):
    return parse_shape(written if not isinstance(written, int) else str(written))


@answer_test("shape", reader=reference_shape)
def shape_test(student, reference, options: Options) -> Verdict:
    shape = read_or_verdict(lambda: parse_shape(student if not isinstance(student, int) else str(student)),
                            "a shape (write it like 4x8 or [4, 8])")
    if isinstance(shape, Verdict):
        return shape
    reference = tuple(reference)
    shown = _shape_text(shape)
    if shape == reference:
        return correct(note="same shape", interpreted=shown)
    squeezed = tuple(d for d in shape if d != 1), tuple(d for d in reference if d != 1)
    if squeezed[0] == squeezed[1]:
        if options.ignore_singleton:
            return correct(note="same shape up to dimensions of size 1", interpreted=shown)
        return incorrect(f"same sizes but with different dimensions of size 1: expected {_shape_text(reference)}",
                         "singleton_dims", shown)
    if shape == reference[::-1]:
        return incorrect("transposed: the dimensions are in the wrong order", "transposed", shown)
    if sorted(shape) == sorted(reference):
        return incorrect("the right sizes in the wrong order", "permuted", shown)
    if len(shape) == len(reference):
        diffs = [a - b for a, b in zip(shape, reference)]
        off = [d for d in diffs if d]
        if len(off) == 1 and abs(off[0]) == 1:
            return incorrect("one dimension is off by one: is the bias (the appended 1) counted?",
                             "bias_dimension", shown)
    if len(shape) != len(reference):
        return incorrect(f"expected {len(reference)} dimension(s), got {len(shape)}", "rank", shown)
    return incorrect("the number of dimensions is right but their sizes are not", "sizes", shown)


# ----------------------------------------------------------------------------- vectors and matrices


def _read_entries(student, options: Options):
    return read_or_verdict(lambda: parse_list(student, options.vocab), "a list")


def _shape_of(value) -> tuple:
    if isinstance(value, list):
        if not value:
            return (0,)
        inner = {_shape_of(v) for v in value}
        if len(inner) != 1:
            raise ParseError("rows have different lengths")
        return (len(value), *inner.pop())
    return ()


def _flatten(value) -> list:
    if isinstance(value, list):
        return [x for v in value for x in _flatten(v)]
    return [value]


def _entry_verdict(entry, reference, options: Options) -> Verdict:
    if isinstance(reference, (list, tuple)):
        return incorrect("nested entry", "shape")
    is_symbolic = isinstance(reference, sp.Basic) and bool(reference.free_symbols)
    if isinstance(entry, sp.Basic):
        if is_symbolic or entry.free_symbols:
            return compare_expressions(entry, reference if isinstance(reference, sp.Basic) else sp.Integer(reference),
                                       options)
        entry = show_exact(entry)
    if is_symbolic:
        parsed = read_expression(entry, options)
        return parsed if isinstance(parsed, Verdict) else compare_expressions(parsed, reference, options)
    return number_test(entry, reference, options)


def show_exact(value: sp.Expr) -> str:
    """Entries parsed from LaTeX or brackets are exact: write them as fractions."""
    return str(value) if value.is_Rational else sp.sstr(value)


def _reference_list(written, options: Options):
    entries = parse_list(written, options.vocab)
    return _map_nested(entries, lambda e: e if isinstance(e, sp.Basic) else _entry_reference(e, options))


def _entry_reference(entry, options: Options):
    try:
        return reference_number(entry, options)
    except ValueError:
        parsed = read_expression(entry, options)
        if isinstance(parsed, Verdict):
            raise ValueError(parsed.feedback) from None
        return parsed


def _map_nested(value, fn):
    if isinstance(value, (list, tuple)):
        return [_map_nested(v, fn) for v in value]
    return fn(value)


@answer_test("vector", "matrix", "tuple", reader=_reference_list)
def array_test(student, reference, options: Options) -> Verdict:
    entries = _read_entries(student, options)
    if isinstance(entries, Verdict):
        return entries
    reference = _map_nested(reference, lambda e: e)
    try:
        shape, ref_shape = _shape_of(entries), _shape_of(reference)
    except ParseError as exc:
        return invalid(str(exc), "unreadable")
    if len(_flatten(entries)) > MAX_MATRIX_ENTRIES:
        return invalid("too complex to check: too many entries", "too_complex")
    shown = show(entries)
    if shape != ref_shape:
        if len(shape) == 2 and shape == ref_shape[::-1] and _all_match(_transpose(entries), reference, options):
            return incorrect("transposed: rows and columns are swapped", "transposed", shown)
        return incorrect(f"expected shape {_shape_text(ref_shape)}, got {_shape_text(shape)}", "shape", shown)
    verdicts = [_entry_verdict(e, r, options) for e, r in zip(_flatten(entries), _flatten(reference))]
    bad = [i for i, v in enumerate(verdicts) if not v.correct]
    if not bad:
        return correct(note=f"all {len(verdicts)} entries match", interpreted=shown)
    invalid_entries = [verdicts[i] for i in bad if verdicts[i].status == "invalid"]
    if invalid_entries:
        return invalid(f"entry {bad[0] + 1}: {invalid_entries[0].feedback}", invalid_entries[0].note)
    feedback, note = _diagnose_array(entries, reference, shape, options)
    if not feedback:
        first = verdicts[bad[0]]
        feedback = f"{len(bad)} of {len(verdicts)} entries are wrong (first: entry {bad[0] + 1}" + (
            f", {first.feedback})" if first.feedback else ")")
        note = note or "entries"
    if options.partial_entries:
        score = 1 - len(bad) / len(verdicts)
        return Verdict(score, PARTIAL if score > 0 else "incorrect", feedback, note, shown)
    return incorrect(feedback, note, shown)


def _transpose(m):
    return [list(row) for row in zip(*m)]


def _rotate180(m):
    return [list(reversed(row)) for row in reversed(m)]


def _all_match(entries, reference, options) -> bool:
    try:
        if _shape_of(entries) != _shape_of(reference):
            return False
    except ParseError:
        return False
    return all(_entry_verdict(e, r, options).correct for e, r in zip(_flatten(entries), _flatten(reference)))


def _diagnose_array(entries, reference, shape, options) -> tuple[str, str]:
    if len(shape) == 2 and shape[0] == shape[1] and shape[0] > 1:
        if _all_match(_transpose(entries), reference, options):
            return "transposed: rows and columns are swapped", "transposed"
        if _all_match(_rotate180(entries), reference, options):
            return "rotated by 180°: the kernel was flipped (convolution vs cross-correlation)", "rotated_180"
    if len(shape) == 1 and shape[0] > 1 and _all_match(list(reversed(entries)), reference, options):
        return "the entries are in reverse order", "swapped_order"
    negated = _map_nested(reference, lambda r: -r)
    if _all_match(entries, negated, options):
        return "sign error: every entry has the wrong sign", "sign_error"
    return "", ""


@answer_test("set", reader=_reference_list)
def set_test(student, reference, options: Options) -> Verdict:
    entries = _read_entries(student, options)
    if isinstance(entries, Verdict):
        return entries
    shown = show(entries)
    remaining = list(reference)
    unmatched = []
    for entry in entries:
        hit = next((i for i, r in enumerate(remaining) if _entry_verdict(entry, r, options).correct), None)
        if hit is None:
            unmatched.append(entry)
        else:
            remaining.pop(hit)
    if not unmatched and not remaining:
        return correct(note="same elements (order ignored)", interpreted=shown)
    parts = []
    if unmatched:
        parts.append(f"{len(unmatched)} element(s) not in the answer")
    if remaining:
        parts.append(f"{len(remaining)} element(s) missing")
    return incorrect("; ".join(parts), "set_differs", shown)
