"""Shapes, vectors, matrices, tuples and sets: the structure is checked first,
then each entry under the number (or expression) rule."""

from __future__ import annotations

import sympy as sp

from examcheck.answertests import (
    PARTIAL,
    Options,
    Read,
    Verdict,
    answer_test,
    correct,
    incorrect,
    invalid,
    read_or_verdict,
)
from examcheck.answertests.expressions import compare_expressions, read_expression
from examcheck.answertests.numbers import is_written_number, judge_number, number_test, reference_number, shown_number
from examcheck.answertests.tolerance import NotANumber, as_exact
from examcheck.parsing import MAX_MATRIX_ENTRIES, ParseError, WrittenNumber, parse, parse_list, parse_shape
from examcheck.values import show


def _shape_text(shape: tuple) -> str:
    return "×".join(map(str, shape)) if shape else "scalar"


def reference_shape(written, options: Options):
    return parse_shape(written if not isinstance(written, int) else str(written))


def read_shape(student, options: Options) -> Read | Verdict:
    """shape_test's reading: a tuple of dimensions (() for a scalar)."""
    shape = read_or_verdict(lambda: parse_shape(student if not isinstance(student, int) else str(student)),
                            "a shape (write it like 4x8 or [4, 8])")
    if isinstance(shape, Verdict):
        return shape
    return Read(shape, _shape_text(shape))


@answer_test("shape", reader=reference_shape, student_reader=read_shape)
def shape_test(student, reference, options: Options) -> Verdict:
    answer = read_shape(student, options)
    if isinstance(answer, Verdict):
        return answer
    shape, shown = answer.value, answer.shown
    reference = tuple(reference)
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


def _leaf_value(value):
    """A leaf as a SymPy value: a WrittenNumber (any version) gives its value."""
    if is_written_number(value):
        return value.value
    return value


def _entry_verdict(entry, reference, options: Options) -> Verdict:
    reference = _leaf_value(reference)
    if isinstance(reference, (list, tuple)):
        return incorrect("nested entry", "shape")
    if isinstance(entry, (list, tuple)):
        return incorrect("nested entry", "shape")
    is_symbolic = isinstance(reference, sp.Basic) and bool(reference.free_symbols)
    if not isinstance(reference, sp.Basic):
        reference = sp.Integer(reference) if isinstance(reference, int) else reference
    if is_written_number(entry):
        if is_symbolic:
            return compare_expressions(entry.value, reference, options)
        return judge_number(entry, shown_number(entry, entry), reference, options)
    if isinstance(entry, sp.Basic):
        if is_symbolic or entry.free_symbols:
            return compare_expressions(entry, reference if isinstance(reference, sp.Basic) else sp.Integer(reference),
                                       options)
        # read from brackets by a parser that does not keep written precision: an exact value
        return judge_number(WrittenNumber(entry), show(entry), reference, options)
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


def read_array(student, options: Options) -> Read | Verdict:
    """array_test's reading: nested lists of entries (written numbers, SymPy values or texts), rectangular
    and at most MAX_MATRIX_ENTRIES entries."""
    entries = _read_entries(student, options)
    if isinstance(entries, Verdict):
        return entries
    try:
        _shape_of(entries)
    except ParseError as exc:
        return invalid(str(exc), "unreadable")
    if len(_flatten(entries)) > MAX_MATRIX_ENTRIES:
        return invalid("too complex to check: too many entries", "too_complex")
    return Read(entries, show(entries))


def leaf_value(entry):
    """An entry of a read list or set as a value: a written number gives its value, the rest is as read."""
    return _leaf_value(entry)


@answer_test("vector", "matrix", "tuple", reader=_reference_list, student_reader=read_array)
def array_test(student, reference, options: Options) -> Verdict:
    answer = read_array(student, options)
    if isinstance(answer, Verdict):
        return answer
    entries, shown = answer.value, answer.shown
    reference = _map_nested(reference, lambda e: e)
    try:
        shape, ref_shape = _shape_of(entries), _shape_of(reference)
    except ParseError as exc:
        return invalid(str(exc), "unreadable")
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
    negated = _map_nested(reference, lambda r: -_leaf_value(r))
    if _all_match(entries, negated, options):
        return "sign error: every entry has the wrong sign", "sign_error"
    return "", ""


# ----------------------------------------------------------------------------- sets
#
# A set answer is compared as a set: {3, 5, 3} is the set {3, 5} (a repeated element is counted once
# and the note says so), order never matters, and a one-element set may be written {4} or 4.
# Elements match under the part's own rule (numbers) or by equivalence (expressions); the check
# needs a one-to-one matching between the distinct elements written and the distinct elements of
# the reference, so two answers close to one reference element never stand in for two elements.


def _is_set_literal(value) -> bool:
    return type(value).__name__ == "WrittenSet" or isinstance(value, (set, frozenset, sp.FiniteSet))


def _set_elements(value) -> list:
    if isinstance(value, sp.FiniteSet):
        return list(value.args)
    if isinstance(value, (set, frozenset)):
        return list(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _read_set(student, options: Options):
    """The elements written: a YAML list, a set literal {3, 5}, a bracketed list, or one element."""
    if isinstance(student, (list, tuple)):
        return read_or_verdict(lambda: parse_list(student, options.vocab), "a set")
    if is_written_number(student) or _is_set_literal(student):
        return _set_elements(student)
    text = "true" if student is True else "false" if student is False else str(student)
    if text.strip() in ("{}", "\\{\\}", "∅", "\\emptyset", "\\varnothing"):
        return []
    listed = read_or_verdict(lambda: parse_list(text, options.vocab), "a set")
    if not isinstance(listed, Verdict) or listed.note == "too_complex":
        return listed if isinstance(listed, Verdict) else _set_elements(listed)
    single = read_or_verdict(lambda: parse(text, options.vocab), "a set")  # {4} or 4: a one-element set
    return listed if isinstance(single, Verdict) else _set_elements(single)


def _reference_set(written, options: Options):
    elements = _read_set(written, options)
    if isinstance(elements, Verdict):
        raise ValueError(elements.feedback)
    return [e if isinstance(e, sp.Basic) else _entry_reference(e, options) for e in elements]


def _same_element(a, b) -> bool:
    """Written twice: the same value (3 and 3.0), or the same expression."""
    a, b = _leaf_value(a), _leaf_value(b)
    if isinstance(a, str) or isinstance(b, str):
        return str(a).strip() == str(b).strip()
    if isinstance(a, sp.Basic) and isinstance(b, sp.Basic) and (a.free_symbols or b.free_symbols):
        return a == b
    try:
        x, y = as_exact(a), as_exact(b)
    except (NotANumber, TypeError, ValueError):
        return a == b
    return x.exact and y.exact and x.value == y.value


def _distinct(elements: list) -> tuple[list, list]:
    """(the distinct elements in order, the repeated ones)."""
    kept, repeated = [], []
    for e in elements:
        if any(_same_element(e, k) for k in kept):
            repeated.append(e)
        else:
            kept.append(e)
    return kept, repeated


def _matching(edges: list[list[int]], right: int) -> int:
    """The size of a maximum matching of a small bipartite graph (Kuhn's augmenting paths)."""
    owner = [-1] * right

    def augment(i: int, seen: set) -> bool:
        for j in edges[i]:
            if j in seen:
                continue
            seen.add(j)
            if owner[j] < 0 or augment(owner[j], seen):
                owner[j] = i
                return True
        return False

    return sum(augment(i, set()) for i in range(len(edges)))


def _element_text(value) -> str:
    if is_written_number(value):
        return getattr(value, "shown", "") or show(value.value)
    return show(value)


def read_set(student, options: Options) -> Read | Verdict:
    """set_test's reading: the elements as written (repeats kept; the test counts them once)."""
    elements = _read_set(student, options)
    if isinstance(elements, Verdict):
        return elements
    if len(elements) > MAX_MATRIX_ENTRIES:
        return invalid("too complex to check: too many elements", "too_complex")
    return Read(elements, "{" + ", ".join(_element_text(e) for e in elements) + "}")


@answer_test("set", reader=_reference_set, student_reader=read_set)
def set_test(student, reference, options: Options) -> Verdict:
    answer = read_set(student, options)
    if isinstance(answer, Verdict):
        return answer
    elements, shown = answer.value, answer.shown
    reference = list(reference) if isinstance(reference, (list, tuple, set, frozenset)) else [reference]
    mine, repeated = _distinct(elements)
    theirs, _ = _distinct(reference)
    verdicts = [[_entry_verdict(e, r, options) for r in theirs] for e in mine]
    invalid_entries = [v for row in verdicts for v in row if v.status == "invalid"]
    if invalid_entries and not any(v.correct for row in verdicts for v in row):
        return invalid(invalid_entries[0].feedback, invalid_entries[0].note)
    edges = [[j for j, v in enumerate(row) if v.correct] for row in verdicts]
    matched = _matching(edges, len(theirs))
    note_repeat = ""
    if repeated:
        note_repeat = (f"; {', '.join(sorted({_element_text(e) for e in repeated}))} is written more than once "
                       "and counted once, as in any set")
    if matched == len(mine) == len(theirs):
        return correct(feedback=note_repeat.lstrip("; "), note="same set (order and repetition ignored)",
                       interpreted=shown)
    extra = sum(1 for row in edges if not row)
    missing = len(theirs) - matched
    parts = []
    if extra:
        parts.append(f"{extra} element(s) not in the answer")
    if missing:
        parts.append(f"{missing} element(s) missing")
    if not parts:
        parts.append("the elements do not match one to one")
    return incorrect("; ".join(parts) + note_repeat, "set_differs", shown)
