"""Follow-through ("error carried forward") credit, declared by the problem's author.

A part may declare that earlier parts' student values replace reference-side values::

    follow_through: {from: a, replaces: given.input, strategy: original_first, cap: 0.5, when: positive integer}

``replaces`` names a path into the part's given values (``given.input``, ``given.layers.0.filters``: list
positions count from 0), a family result used by name in the part's ``reference`` (``results.total_params``),
or, in a ``cnn`` layer stack, the output of layer k (``results.output.2``): the stack restarts from it.
The later part's reference is then recomputed through the same family code (the Resolver) with the student's
value substituted, in a sandbox worker under the grading limits, and the later answer is re-marked against it:

- ``original_first`` (the default): mark normally; only below full marks, re-mark and keep the better, capped.
- ``always``: re-mark whenever the earlier answers are usable (recorded even at full marks); the better is kept.

Either way follow-through never lowers a score and never gives more than ``cap`` of the part's marks.  A missing,
unreadable, out-of-condition or trivial earlier value (0 or 1, Numbas #368), or one that makes the later answer
trivial, gives no follow-through, with the reason; a failure while re-marking is reported as an error on the part.

Three doors: `load_errors` (the loader), `apply` (the engine's grading pipeline) and `check_findings` (`check`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from examcheck.model import FollowLink, FollowThrough, FollowThroughResult, Part, Problem, Status

CARRIABLE_ANSWERS = frozenset({"number", "integer", "expression", "shape", "vector", "matrix", "tuple"})
SCALAR_RESULT_KINDS = frozenset({"integer", "number", "expression", "vector"})  # a vector by its entries name_1, ...
MAX_ENTRIES = 1000          # entries of a carried value (a matrix where a scalar was expected is still bounded)
MAX_DIGITS = 30             # digits of a carried integer, numerator or denominator
MAX_OPS = 200               # operations of a carried expression
FOLLOW_SECONDS = 20.0       # recomputing the family with the student's values
EPS = 1e-9

NOT_APPLIED, APPLIED, ERROR = "not_applied", "applied", "error"


class Unusable(ValueError):
    """The earlier value cannot be carried forward (the reason is shown to the student)."""


# ----------------------------------------------------------------------------- declarations (the loader)


def declaration(raw: dict | None, line: int | None = None) -> FollowThrough | None:
    """The declaration as the schema has validated it."""
    if not raw:
        return None
    sources = raw["from"] if isinstance(raw["from"], list) else [raw["from"]]
    targets = raw["replaces"] if isinstance(raw["replaces"], list) else [raw["replaces"]]
    links = [FollowLink(str(s), str(t)) for s, t in zip(sources, targets)]
    return FollowThrough(links, raw.get("strategy", "original_first"), float(raw.get("cap", 1.0)), raw.get("when"),
                         bool(raw.get("allow_trivial", False)), line)


def target_path(target: str) -> tuple[str, list[str]]:
    """('given', ['layers', '0', 'filters']) or ('results', ['total_params'])."""
    kind, _, rest = target.partition(".")
    if kind == "results":
        return kind, [rest]
    return kind, rest.split(".")


def given_at(given: Any, keys: list[str]):
    """The value at a dotted path inside a given mapping; KeyError naming the first key not found."""
    value = given
    for key in keys:
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            raise KeyError(key)
    return value


def _cycle(edges: dict[str, list[str]]) -> list[str] | None:
    """A cycle in part -> earlier parts, as a list of part ids, or None."""
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in edges.get(node, []):
            if state.get(nxt) == 1:
                return trail[trail.index(nxt):] + [nxt] if nxt in trail else [node, nxt]
            if nxt in edges and state.get(nxt) is None:
                found = visit(nxt, trail + [nxt])
                if found:
                    return found
        state[node] = 2
        return None

    for start in edges:
        if state.get(start) is None:
            found = visit(start, [start])
            if found:
                return found
    return None


def load_errors(doc, raw: dict, parts: list[Part], path: tuple, family) -> list:
    """Errors (file:line) in the problem's follow_through declarations: references, order, cycles, targets, conditions."""
    from examcheck.domains import DomainError, parse_domain

    errors = []
    index = {p.id: i for i, p in enumerate(parts)}
    edges = {p.id: p.follow_through.sources for p in parts if p.follow_through}
    loop = _cycle(edges)
    if loop:
        j = index[loop[0]]
        errors.append(doc.error((*path, "parts", j, "follow_through"),
                                "follow-through cycle: " + " → ".join(f"({p})" for p in loop)))
    for j, part in enumerate(parts):
        spec = part.follow_through
        if spec is None:
            continue
        where = (*path, "parts", j, "follow_through")
        raw_ft = raw["parts"][j]["follow_through"]
        n_from = len(raw_ft["from"]) if isinstance(raw_ft["from"], list) else 1
        n_to = len(raw_ft["replaces"]) if isinstance(raw_ft["replaces"], list) else 1
        if n_from != n_to:
            errors.append(doc.error(where, f"`from` names {n_from} part(s) but `replaces` {n_to} value(s): "
                                           "give one target per earlier part"))
            continue
        if part.answer == "text":
            errors.append(doc.error(where, "a part marked by hand (answer: text) has no follow-through"))
        targets = [link.target for link in spec.links]
        if part.result is not None and sum(t.startswith("results.") for t in targets) > 1:
            errors.append(doc.error((*where, "replaces"), "a layer stack restarts from one result only"))
        for target in {t for t in targets if targets.count(t) > 1}:
            errors.append(doc.error((*where, "replaces"), f"{target} is replaced twice"))
        for k, link in enumerate(spec.links):
            at = (*where, "from") if n_from == 1 else (*where, "from", k)
            if link.source not in index:
                errors.append(doc.error(at, f"no part {link.source!r} in this problem (parts are "
                                            f"{', '.join(p.id for p in parts)})"))
                continue
            if link.source == part.id:
                if not loop:
                    errors.append(doc.error(at, "a part cannot follow through from itself (a cycle)"))
                continue
            if index[link.source] > j and not loop:
                errors.append(doc.error(at, f"part {link.source!r} comes after {part.id!r}: follow-through only "
                                            "from earlier parts"))
                continue
            earlier = parts[index[link.source]]
            if earlier.answer not in CARRIABLE_ANSWERS:
                errors.append(doc.error(at, f"part {link.source!r} asks for {earlier.answer}: only "
                                            f"{', '.join(sorted(CARRIABLE_ANSWERS))} values can be carried forward"))
            message = _target_error(raw, part, link.target, family)
            if message:
                errors.append(doc.error((*where, "replaces") if n_to == 1 else (*where, "replaces", k), message))
        if spec.when is not None:
            try:
                parse_domain(spec.when)
            except DomainError as exc:
                errors.append(doc.error((*where, "when"), f"cannot read the condition: {exc}"))
    return errors


def _target_error(raw: dict, part: Part, target: str, family) -> str | None:
    kind, keys = target_path(target)
    if kind == "results":
        name = keys[0]
        if family is None:
            return "`results.` names a family result, but this problem has no family"
        if part.result is not None:
            return cut_error(family.name, {**(raw.get("given") or {}), **(part.given or {})}, name, part.result)
        if part.reference is None:
            return "`results.` replaces a family result in this part's `reference:` or its layer stack"
        message = family.unknown_result(name)
        if message:
            return message
        spec = family.result_spec(name)
        if spec.kind.value not in SCALAR_RESULT_KINDS:
            return (f"result {name!r} is {spec.kind.value}: only numbers and vectors of numbers can replace a result "
                    "in a reference")
        return None
    given = {**(raw.get("given") or {}), **(part.given or {})} if family is not None else (raw.get("given") or {})
    if family is None and len(keys) != 1:
        return "without a family, given values are numbers: replace one by name (given.<name>)"
    try:
        current = given_at(given, keys)
    except KeyError as exc:
        return f"this part's given values have nothing at {target} (no {exc.args[0]!r})"
    if isinstance(current, bool) or not isinstance(current, (int, float, str, list)):
        return f"{target} is {type(current).__name__}: only numbers, expressions and lists of them can be replaced"
    return None


# ----------------------------------------------------------------------------- restarting a layer stack

SEQUENTIAL = frozenset({"cnn"})  # families whose layers run in order from `input`: output.k feeds layer k + 1
TOTALS = {"total_params": "params", "trainable_params": "trainable_params",
          "non_trainable_params": "non_trainable_params"}
_OUTPUT = re.compile(r"output\.(\d+)")
_LAYER_RESULT = re.compile(r"(?P<name>[a-z_]+)\.(?P<layer>\d+)")


def cut_error(family: str, given: dict, name: str, result: str) -> str | None:
    """Why `results.<name>` cannot restart this part's layer stack (None: it can)."""
    if family not in SEQUENTIAL:
        return (f"family {family!r} cannot restart from one of its results: replace a `given.` value, or use the "
                "result in a `reference:`")
    found = _OUTPUT.fullmatch(name)
    layers = given.get("layers")
    if not found or not isinstance(layers, list):
        return "a part that asks for a family result can restart its layer stack from results.output.<layer> only"
    k = int(found.group(1))
    if not 1 <= k < len(layers):
        return f"output.{k} must be the output of a layer before the last (there are {len(layers)} layers)"
    if result in TOTALS or result == "output":
        return None
    layer = _LAYER_RESULT.fullmatch(result)
    if not layer or int(layer.group("layer")) <= k:
        return f"result {result!r} does not come after layer {k}, so it does not depend on output.{k}"
    return None


def _cut_result(result: str, k: int) -> str:
    if result in TOTALS or result == "output":
        return result
    layer = _LAYER_RESULT.fullmatch(result)
    return f"{layer.group('name')}.{int(layer.group('layer')) - k}"


# ----------------------------------------------------------------------------- carrying a value forward


@dataclass
class Carried:
    """What re-marking with the student's earlier values found (travels from the worker to the parent)."""

    status: str                      # "remarked", "unusable", "unchanged" or "error"
    values: dict[str, str] = field(default_factory=dict)
    score: float = 0.0               # the answer test's score against the recomputed reference (before the cap)
    reason: str = ""
    expected: str | None = None
    feedback: str = ""


def _entries(value) -> list:
    if isinstance(value, (list, tuple)):
        return [e for v in value for e in _entries(v)]
    return [value]


def shown(value) -> str:
    from examcheck.values import show

    if isinstance(value, tuple) and all(isinstance(v, int) for v in value):
        return "×".join(map(str, value))
    return show(value)


def _read(answer_type: str, written, options):
    from examcheck.answertests import read_reference
    from examcheck.parsing import ParseError

    try:
        return "ok", read_reference(answer_type, written, options)
    except (ParseError, ValueError, TypeError, ArithmeticError) as exc:
        return "error", str(exc)


def read_earlier(earlier: Part, written, options, seconds: float = 2.0):
    """The student's earlier answer as a value, read by the earlier part's own reader (the one parser), bounded."""
    from examcheck.limits import CheckFailed, LimitExceeded, Limits
    from examcheck.sandbox import run_bounded

    if isinstance(written, dict):
        raise Unusable(f"your answer to ({earlier.id}) is a mapping, not a value")
    try:
        status, value = run_bounded(_read, earlier.answer, written, options, limits=Limits(seconds=seconds))
    except (LimitExceeded, CheckFailed):
        raise Unusable(f"your answer to ({earlier.id}) is too complex to carry forward") from None
    if status == "error":
        raise Unusable(f"your answer to ({earlier.id}) cannot be read as {earlier.answer}: {value}")
    return value


def admissible(value, spec: FollowThrough, source: str) -> None:
    """Unusable unless the value is bounded, meets `when`, and (unless allowed) is not trivial."""
    import sympy as sp

    entries = _entries(value)
    if len(entries) > MAX_ENTRIES:
        raise Unusable(f"your value from ({source}) has more than {MAX_ENTRIES} entries")
    if not entries:
        raise Unusable(f"your value from ({source}) is empty")
    for entry in entries:
        if isinstance(entry, bool):
            raise Unusable(f"your value from ({source}) is true/false, not a number")
        if isinstance(entry, int):
            entry = sp.Integer(entry)
        if not isinstance(entry, sp.Basic):
            raise Unusable(f"your value from ({source}) is not a number")
        if entry.free_symbols:
            if sp.count_ops(entry) > MAX_OPS:
                raise Unusable(f"your expression from ({source}) is too large to carry forward")
            continue
        if entry.is_Rational:
            if len(str(abs(entry.p))) > MAX_DIGITS or len(str(entry.q)) > MAX_DIGITS:
                raise Unusable(f"your value from ({source}) is too large to carry forward (over {MAX_DIGITS} digits)")
        elif sp.count_ops(entry) > MAX_OPS or not entry.is_finite:
            raise Unusable(f"your value from ({source}) is not a finite number that can be carried forward")
    if spec.when is not None:
        _meets(entries, spec.when, source)
    if not spec.allow_trivial and trivial(value):
        raise Unusable(f"your value {shown(value)} from ({source}) is trivial (0 or 1): it is not carried forward")


def _meets(entries: list, when: str, source: str) -> None:
    from examcheck.domains import parse_domain

    domain = parse_domain(when)
    for entry in entries:
        try:
            number = float(entry)
        except (TypeError, ValueError, OverflowError):
            raise Unusable(f"your value from ({source}) must be {when}") from None
        ok = math.isfinite(number) and domain.contains(number)
        if ok and domain.integer:
            ok = bool(getattr(entry, "is_integer", isinstance(entry, int)))
        if not ok:
            raise Unusable(f"your value from ({source}) must be {when} to be carried forward")


def trivial(value) -> bool:
    """0 or 1, or a structure of only zeros or only ones (Numbas #368: credit for a trivial earlier answer)."""
    entries = _entries(value)
    if not entries:
        return True
    for probe in (0, 1):
        try:
            if all(not getattr(e, "free_symbols", None) and e == probe for e in entries):
                return True
        except (TypeError, ValueError):
            return False
    return False


def _as_int(value, target: str) -> int:
    import sympy as sp

    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, sp.Basic) and value.is_Integer:
        return int(value)
    raise Unusable(f"{target} takes whole numbers; your value {shown(value)} is not one")


def _as_text(value) -> str | int:
    import sympy as sp

    if isinstance(value, int) or (isinstance(value, sp.Basic) and value.is_Integer):
        return int(value)
    if isinstance(value, sp.Basic):
        return sp.sstr(value)
    raise Unusable(f"your value {shown(value)} is not a number")


def to_given(value, current, target: str):
    """The student's value in the form of the given value it replaces (same structure, same kinds of entries)."""
    if isinstance(current, list):
        if not isinstance(value, (list, tuple)):
            raise Unusable(f"{target} is a list; your value {shown(value)} is a single value")
        model = current[0] if current else 0
        if not isinstance(model, list) and any(isinstance(v, (list, tuple)) for v in value):
            raise Unusable(f"{target} is a list of numbers; your value {shown(value)} has lists inside")
        return [to_given(v, model, target) for v in value]
    if isinstance(value, (list, tuple)):
        raise Unusable(f"{target} is a single value; your value {shown(value)} is a list")
    if isinstance(current, int) and not isinstance(current, bool):
        return _as_int(value, target)
    return _as_text(value)


def _set_at(given: dict, keys: list[str], value) -> dict:
    """A copy of given with the value at a dotted path replaced."""
    out = json.loads(json.dumps(given, default=str))
    holder = out
    for key in keys[:-1]:
        holder = holder[int(key)] if isinstance(holder, list) else holder[key]
    last = keys[-1]
    if isinstance(holder, list):
        holder[int(last)] = value
    else:
        holder[last] = value
    return out


def _number(entry, value, target: str):
    """One number of a student's value, to stand for a result in a reference."""
    import sympy as sp

    if isinstance(entry, (list, tuple)):
        raise Unusable(f"{target} is a list of numbers; your value {shown(value)} has lists inside")
    return entry if isinstance(entry, sp.Basic) else sp.Integer(_as_int(entry, target))


def substituted(problem: Problem, part: Part, spec: FollowThrough, values: dict[str, Any]):
    """(problem, part, result overrides) with the students' values in place of the targets."""

    problem_given, part_given = dict(problem.given), dict(part.given)
    overrides, restart = {}, None
    for link in spec.links:
        value = values[link.source]
        kind, keys = target_path(link.target)
        if kind == "results" and part.result is not None:
            restart = (link, value)
            continue
        if kind == "results":
            name = keys[0].replace(".", "_")
            if isinstance(value, (list, tuple)):
                overrides[name] = [_number(e, value, link.target) for e in value]
            else:
                overrides[name] = _number(value, value, link.target)
            continue
        if problem.family is None:
            problem_given[keys[0]] = _as_text(value)
            continue
        merged = {**problem_given, **part_given}
        current = given_at(merged, keys)
        new = _set_at(merged, keys, to_given(value, current, link.target))
        part_given[keys[0]] = new[keys[0]]
    result, prefix = part.result, None
    if restart is not None:  # the stack restarts from the student's output of layer k
        link, value = restart
        merged = {**problem_given, **part_given}
        k = int(_OUTPUT.fullmatch(target_path(link.target)[1][0]).group(1))
        part_given["input"] = to_given(value, merged["input"], link.target)
        part_given["layers"] = merged["layers"][k:]
        result = _cut_result(part.result, k)
        if result in TOTALS:
            prefix = (merged, k)
    new_problem = dataclasses.replace(problem, given=problem_given)
    new_part = dataclasses.replace(part, given=part_given, mistakes=[], follow_through=None, result=result)
    return new_problem, new_part, overrides, prefix


def _family_errors(problem: Problem, part: Part) -> str | None:
    """The family's own schema and checks on the substituted given values (as the loader checks a problem file)."""
    from examcheck.families import get as get_family
    from examcheck.loader import FamilyGivenChecker
    from examcheck.schema import schema_errors

    if problem.family is None:
        return None
    family = get_family(problem.family)
    merged = {**problem.given, **part.given}
    found = [m for _, m in schema_errors(family.given_schema, merged)]
    found += [m for _, m in FamilyGivenChecker(None, family, (), {})._layer_errors(merged)]
    if not found:
        try:
            found = [e.message for e in family.load_errors(merged)]
        except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
            found = [str(exc)]
    return found[0] if found else None


def recompute(problem: Problem, part: Part, spec: FollowThrough, values: dict[str, Any], runner=None):
    """The later part's reference with the students' values substituted, through the same family code."""
    from examcheck.reference import ProblemError
    from examcheck.sandbox import run_bounded

    new_problem, new_part, overrides, prefix = substituted(problem, part, spec, values)
    complaint = _family_errors(new_problem, new_part)
    if complaint:
        raise Unusable(f"the problem cannot be solved with your value: {complaint}")
    resolver = _substituting(runner or run_bounded, overrides)
    try:
        ref = resolver.reference(new_problem, new_part, with_mistakes=False)
        if prefix is not None:  # a total: the layers before the restart count as they are
            merged, k = prefix
            before = resolver.solve(problem.family, merged, part.log_base).results
            value = ref.value + sum(before[f"{TOTALS[new_part.result]}.{i}"] for i in range(1, k + 1))
            ref = dataclasses.replace(ref, value=value, shown=None, expected=_expected(part, value))
        return ref
    except ProblemError as exc:
        raise Unusable(f"the problem cannot be solved with your value: {exc}") from None


def _expected(part: Part, value) -> str:
    from examcheck.grading import expected_text

    return expected_text(part, value)


def _substituting_class():
    from examcheck.reference import Resolver

    class Substituting(Resolver):
        """A resolver whose named results (in `reference:` expressions) are the student's values."""

        def __init__(self, runner, overrides: dict):
            super().__init__(runner=runner)
            self.overrides = overrides

        def options(self, problem, part, solution=None):
            options = super().options(problem, part, solution)
            if self.overrides:
                values = dict(options.vocab.values)
                for name, value in self.overrides.items():
                    values.update(_entries_for(name, value, values))
                options.vocab = dataclasses.replace(options.vocab, values=values)
            return options

    return Substituting


def _entries_for(name: str, value, known: dict) -> dict:
    """The reference names a student's value stands for: name itself, or a vector's name_1, name_2, ..."""
    if not isinstance(value, list):
        if name not in known:
            kind = "a vector" if f"{name}_1" in known else "not a number this part's reference uses"
            raise Unusable(f"results.{name} is {kind}; your value is a single number")
        return {name: value}
    length = sum(1 for k in known if k.startswith(f"{name}_") and k[len(name) + 1:].isdigit())
    if not length or name in known:
        raise Unusable(f"results.{name} is a single number; your value is a list")
    if length != len(value):
        raise Unusable(f"results.{name} has {length} entries; your value has {len(value)}")
    return {f"{name}_{i}": entry for i, entry in enumerate(value, start=1)}


def _substituting(runner, overrides):
    """A Substituting resolver (its class is made on first use: the reference module loads SymPy)."""
    return _substituting_class()(runner, overrides)


def carry(problem: Problem, part: Part, earlier_written: dict[str, Any], later_written, original,
          earlier_options: dict, seconds: float, runner=None, memo: dict | None = None) -> Carried:
    """Re-mark the later answer against its reference recomputed with the student's earlier values.
    original: the later part's usual reference; earlier_options: part id -> the earlier part's answer Options."""
    from examcheck.answertests import run_test
    from examcheck.limits import CheckFailed, LimitExceeded, Limits
    from examcheck.reference import equal_values
    from examcheck.sandbox import run_bounded

    spec = part.follow_through
    values, shown_values = {}, {}
    try:
        for link in spec.links:
            earlier = problem.part(link.source)
            value = read_earlier(earlier, earlier_written[link.source], earlier_options[link.source], seconds)
            shown_values[link.source] = shown(value)
            admissible(value, spec, link.source)
            values[link.source] = value
        ref = _remembered(memo, (id(problem), part.id, repr(values)), lambda: recompute(problem, part, spec, values, runner))
        if not spec.allow_trivial and trivial(ref.value) and not trivial(original.value):
            raise Unusable(f"with your value, ({part.id})'s answer would be trivial ({shown(ref.value)}): "
                           "it is not carried forward")
    except Unusable as exc:
        return Carried("unusable", shown_values, reason=str(exc))
    except LimitExceeded as exc:
        return Carried("error", shown_values, reason=f"recomputing with your value ran past the {exc.what} limit")
    except CheckFailed as exc:
        return Carried("error", shown_values, reason=f"recomputing with your value failed ({exc})")
    if equal_values(ref.value, original.value) is True:
        return Carried("unchanged", shown_values, reason=f"your value does not change the answer to ({part.id})",
                       expected=ref.expected)
    try:
        verdict = run_bounded(run_test, part.answer, later_written, ref.value, ref.options, limits=Limits(seconds=seconds))
    except LimitExceeded as exc:
        return Carried("error", shown_values, reason=f"re-marking ran past the {seconds:g} s {exc.what} limit",
                       expected=ref.expected)
    except CheckFailed as exc:
        return Carried("error", shown_values, reason=f"re-marking failed ({exc})", expected=ref.expected)
    if verdict.status in ("invalid", "undecided"):
        return Carried("error", shown_values, reason=f"re-marking was {verdict.status}: {verdict.feedback}",
                       expected=ref.expected)
    return Carried("remarked", shown_values, float(verdict.score), expected=ref.expected, feedback=verdict.feedback)


MEMO_SIZE = 256  # recomputed references kept per worker (students who share an earlier value share them)


def _remembered(memo: dict | None, key, compute):
    """compute(), or what it gave (or raised as Unusable) for the same key before; memo is a bounded dict."""
    if memo is None:
        return compute()
    if key not in memo:
        try:
            memo[key] = (True, compute())
        except Unusable as exc:
            memo[key] = (False, exc)
        while len(memo) > MEMO_SIZE:
            memo.pop(next(iter(memo)))
    ok, found = memo[key]
    if not ok:
        raise found
    return found


# ----------------------------------------------------------------------------- marks (pure)


def credit(spec: FollowThrough, marks: float, carried: Carried) -> float:
    """The marks follow-through gives: the re-marked score, never above the cap."""
    if carried.status != "remarked":
        return 0.0
    return round(min(max(carried.score, 0.0), spec.cap) * marks, 6)


def wanted(spec: FollowThrough, result) -> bool:
    """Whether this later result is re-marked at all."""
    if result.status not in (Status.INCORRECT, Status.PARTIAL, Status.CORRECT):
        return False  # missing, unreadable, undecided, by hand: nothing to re-mark
    return spec.strategy == "always" or result.score < result.max_score - EPS


def merge(result, spec: FollowThrough, carried: Carried) -> None:
    """Fold what re-marking found into the part's result: the better mark kept, the reason always said."""
    before = result.score
    cap = round(spec.cap * result.max_score, 6)
    record = FollowThroughResult(spec.sources, NOT_APPLIED, dict(carried.values), before, before, cap,
                                 expected=carried.expected)
    where = ", ".join(f"({s})" for s in spec.sources)
    used = "; ".join(f"{v} from ({k})" for k, v in carried.values.items())
    if carried.status == "error":
        record.status, record.reason = ERROR, carried.reason
        result.status, result.note = Status.UNDECIDED, "follow_through_error"
        result.feedback = _joined(result.feedback, record.summary() + "; please review")
    elif carried.status in ("unusable", "unchanged"):
        record.reason = carried.reason
        if before < result.max_score - EPS:
            result.feedback = _joined(result.feedback, record.summary())
    else:
        given = credit(spec, result.max_score, carried)
        if carried.score <= EPS:
            record.reason = f"not correct for your value {used} either"
        elif given <= before + EPS:
            record.reason = (f"correct for your value {used}, but follow-through gives at most {cap:g} "
                             f"and the answer already has {before:g}")
        else:
            record.status, record.marks_after = APPLIED, given
            original = result.feedback
            result.score = given
            result.status = Status.CORRECT if given >= result.max_score - EPS else Status.PARTIAL
            result.note = "follow_through"
            result.feedback = f"correct for your value {used}: follow-through marks {before:g} → {given:g} " \
                              f"(at most {cap:g})"
            if original:
                result.feedback += f"; marked without it: {original}"
        if record.status != APPLIED and before < result.max_score - EPS:
            result.feedback = _joined(result.feedback, f"no follow-through from {where}: {record.reason}")
    result.follow_through = record


def _joined(first: str, second: str) -> str:
    return f"{first}; {second}" if first else second


# ----------------------------------------------------------------------------- the grading pipeline


def follow_task(context, set_index: int, problem_index: int, part_index: int, earlier: dict, later_written,
                seconds: float):
    """In a sandbox worker: carry() for one later answer (the references come from the worker's table)."""
    from examcheck.sandbox import run_bounded
    from examcheck.tasks import reference_key

    problem = context.data["sets"][set_index].problems[problem_index]
    part = problem.parts[part_index]
    _, original = context.entry(reference_key(set_index, problem_index, part_index))
    options = {}
    for source in earlier:
        qi = next(i for i, p in enumerate(problem.parts) if p.id == source)
        options[source] = context.entry(reference_key(set_index, problem_index, qi))[1].options
    memo = context.data.setdefault("follow_through_refs", {})
    return carry(problem, part, earlier, later_written, original, options, seconds, run_bounded, memo)


def _earlier_reason(source: str, result) -> str | None:
    """Why an earlier answer cannot be carried forward, judged from its own result (None: it can)."""
    if result is None or result.status in (Status.MISSING, Status.UNGRADED):
        return f"no answer to ({source})"
    if result.status is Status.INVALID:
        return f"your answer to ({source}) could not be read"
    if result.status is Status.UNDECIDED:
        return f"your answer to ({source}) could not be checked"
    return None


def _task_key(si: int, pi: int, qi: int, fingerprint: str, earlier: dict, later) -> str:
    text = json.dumps([si, pi, qi, fingerprint, earlier, later], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def apply(pipeline, scans: Iterable, reports: list) -> None:
    """Follow-through on every report of this window: each distinct (part, earlier answers, answer) re-marked once,
    in the pipeline's sandbox workers, then folded into the part results (in place)."""
    from examcheck.grading import part_seconds
    from examcheck.sandbox import Task
    from examcheck.tasks import reference_key

    jobs: dict[str, Task] = {}
    waiting: list[tuple] = []
    for scan, report in zip(scans, reports):
        si = scan.exam_index
        problem_set = pipeline.sets[si]
        includes = getattr(scan, "includes", None)  # a variant exam lists every variant: only this sheet's counts
        for pi, problem in enumerate(problem_set.problems):
            if not any(p.follow_through for p in problem.parts) or (includes is not None and not includes(problem)):
                continue
            results = next((r for r in report.problems if r.id == problem.id), None)
            if results is None:
                continue
            by_id = {r.id: r for r in results.parts}
            for qi, part in enumerate(problem.parts):
                spec, result = part.follow_through, by_id.get(part.id)
                if spec is None or result is None or result.follow_through is not None or not wanted(spec, result):
                    continue
                reasons = [r for r in (_earlier_reason(s, by_id.get(s)) for s in spec.sources) if r]
                if reasons:
                    if result.score < result.max_score - EPS:
                        merge(result, spec, Carried("unusable", reason="; ".join(reasons)))
                    continue
                if all(by_id[s].status is Status.CORRECT for s in spec.sources) and spec.strategy != "always":
                    continue  # nothing to carry: the earlier answers are right
                earlier = {s: scan.answers[(problem.id, s)].value for s in spec.sources}
                later = scan.answers[(problem.id, part.id)].value
                plan = pipeline.plans[reference_key(si, pi, qi)]
                key = _task_key(si, pi, qi, plan.fingerprint, earlier, later)
                if key not in jobs:
                    needs = (reference_key(si, pi, qi),) + tuple(
                        reference_key(si, pi, next(i for i, p in enumerate(problem.parts) if p.id == s))
                        for s in spec.sources)
                    check = part_seconds(part, pipeline.limits.seconds)
                    jobs[key] = Task(follow_task, (si, pi, qi, earlier, later, check), FOLLOW_SECONDS + 2 * check,
                                     needs=needs, tag=key)
                waiting.append((key, result, spec, problem_set.source))
    if not jobs:
        return
    found: dict[str, Carried] = {}
    for task, outcome in pipeline.session.run_many(jobs.values()):
        found[task.tag] = _carried(pipeline, task, outcome)
    for key, result, spec, _source in waiting:
        merge(result, spec, found[key])


def _carried(pipeline, task, outcome) -> Carried:
    from examcheck.limits import describe_limit

    if outcome.ok:
        return outcome.value
    if outcome.kind == "limit":
        return Carried("error", reason=f"re-marking ran past {describe_limit(outcome.what, task.seconds)}")
    bug = pipeline._bug(outcome, "follow-through", "re-marking with a student's earlier value")
    return Carried("error", reason=f"internal error in examcheck, not a fault of this answer (please report it; {bug.trace})")


# ----------------------------------------------------------------------------- `check`


def check_findings(problem_set, problem: Problem, resolver) -> list:
    """Each declared mistake of an earlier part, carried forward, must earn the capped credit on the later part;
    a warning where trivial earlier values (0, 1) make the later answer constant."""
    from examcheck.model import Finding
    from examcheck.reference import ProblemError

    findings = []
    for part in problem.parts:
        spec = part.follow_through
        if spec is None or part.answer == "text":
            continue
        where = f"{problem_set.exam}/{problem.id}.{part.id}"
        try:
            original = resolver.reference(problem, part)
            earlier_refs = {s: resolver.reference(problem, problem.part(s)) for s in spec.sources}
        except ProblemError:
            continue  # reported by the part's own check
        runner = resolver.runner
        for link in spec.links:
            earlier = problem.part(link.source)
            mismatch = _consistency(problem, part, link, earlier_refs[link.source].value, original)
            if mismatch:
                findings.append(Finding(problem_set.source, spec.line, where,
                                        f"follow-through: {link.target} is not the answer of ({link.source})",
                                        stated=mismatch[0], computed=mismatch[1],
                                        diagnosis="a student who answers it right must get the usual reference"))
            declared = earlier_refs[link.source].mistakes[:len(earlier.mistakes)]
            for mistake, raw in zip(declared, earlier.mistakes):
                written = raw.answer if raw.answer is not None else _written(mistake.value)
                values = {s: (written if s == link.source else _written(earlier_refs[s].value)) for s in spec.sources}
                options = {s: earlier_refs[s].options for s in spec.sources}
                try:
                    probe = recompute(problem, part, spec, {s: read_earlier(problem.part(s), values[s], options[s])
                                                            for s in spec.sources}, runner)
                except (Unusable, ProblemError) as exc:
                    findings.append(Finding(problem_set.source, spec.line, where,
                                            f"declared mistake of ({link.source}) cannot be carried forward",
                                            stated=str(written), diagnosis=str(exc), level="warning"))
                    continue
                later_written = _written(probe.value)
                carried = carry(problem, part, values, later_written, original, options,
                                float(part.options.get("time_limit", 2.0)), runner)
                got = credit(spec, part.marks, carried)
                if carried.status == "unchanged":
                    continue
                if carried.status == "unusable":
                    findings.append(Finding(problem_set.source, spec.line, where,
                                            f"declared mistake of ({link.source}) gets no follow-through",
                                            stated=str(written), diagnosis=carried.reason, level="warning"))
                elif abs(got - round(spec.cap * part.marks, 6)) > EPS:
                    findings.append(Finding(problem_set.source, spec.line, where,
                                            f"declared mistake of ({link.source}), carried forward, does not earn "
                                            f"the follow-through credit ({got:g} of {spec.cap * part.marks:g})",
                                            stated=str(written), computed=later_written,
                                            diagnosis=carried.reason or carried.feedback))
        findings += _trivial_warnings(problem_set, problem, part, spec, earlier_refs, where, runner)
    return findings


def _same(a, b) -> bool:
    """Two given values alike: the same structure, numbers equal exactly."""
    from examcheck.values import exact

    if isinstance(a, list) or isinstance(b, list):
        return isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and all(map(_same, a, b))
    try:
        return bool(exact(a) == exact(b))
    except (ValueError, TypeError, ArithmeticError):
        return str(a) == str(b)


def _consistency(problem: Problem, part: Part, link: FollowLink, earlier_value, original) -> tuple[str, str] | None:
    """(stated, computed) when the value a link replaces is not the earlier part's own answer."""
    from examcheck.reference import equal_values

    kind, keys = target_path(link.target)
    if kind == "results":
        if original.solution is None or keys[0] not in original.solution.results:
            return None
        stated = original.solution.results[keys[0]]
        return None if equal_values(stated, earlier_value) is True else (shown(stated), shown(earlier_value))
    given = {**problem.given, **part.given} if problem.family is not None else problem.given
    try:
        current = given_at(given, keys)
    except KeyError:
        return None  # the loader reports a target that is not there
    try:
        carried = to_given(earlier_value, current, link.target)
    except Unusable as exc:
        return json.dumps(current, default=str), str(exc)
    return None if _same(current, carried) else (json.dumps(current, default=str), json.dumps(carried, default=str))


def _written(value) -> Any:
    """A computed value written as a student would write it."""
    if isinstance(value, tuple):
        return "x".join(map(str, value))
    if isinstance(value, list):
        return [_written(v) for v in value]
    return str(value)


def _trivial_like(value, probe: int):
    if isinstance(value, tuple):
        return tuple(probe for _ in value)
    if isinstance(value, list):
        return [_trivial_like(v, probe) for v in value]
    import sympy as sp

    return sp.Integer(probe)


def _trivial_warnings(problem_set, problem, part, spec, earlier_refs, where, runner) -> list:
    from examcheck.model import Finding
    from examcheck.reference import ProblemError, equal_values

    found = []
    trusting = dataclasses.replace(spec, allow_trivial=True)
    for link in spec.links:
        answers = {}
        for probe in (0, 1):
            values = {s: (_trivial_like(earlier_refs[s].value, probe) if s == link.source else earlier_refs[s].value)
                      for s in spec.sources}
            try:
                answers[probe] = recompute(problem, part, trusting, values, runner).value
            except (Unusable, ProblemError):
                continue
        if len(answers) == 2 and equal_values(answers[0], answers[1]) is True:
            advice = ("allow_trivial lets such answers earn follow-through" if spec.allow_trivial else
                      "follow-through refuses trivial values here (allow_trivial: false)")
            found.append(Finding(problem_set.source, spec.line, where,
                                 f"trivial values 0 and 1 from ({link.source}) give the same answer for "
                                 f"({part.id}): its answer is constant there ({advice})",
                                 computed=shown(answers[0]), level="warning"))
    return found
