"""Find, validate and load problem sets."""

from __future__ import annotations

import math
from pathlib import Path

from examcheck import followthrough
from examcheck.answertests import Precision
from examcheck.domains import DomainError, parse_domain
from examcheck.families import ANSWER_TYPES_FOR, Family, FamilyError, GivenError
from examcheck.families import get as get_family
from examcheck.limits import CheckFailed, LimitExceeded, Limits
from examcheck.model import Mistake, Part, Problem, ProblemSet
from examcheck.sandbox import run_bounded
from examcheck.schema import PROBLEM_SET_SCHEMA, ValidationFailed, schema_errors, validate
from examcheck.suggest import did_you_mean
from examcheck.yamlio import MAX_FILE_BYTES, InputError, YamlDoc, load_bytes, read_regular_file

BUNDLED = Path(__file__).parent / "problems"
SOURCE_TREE = Path(__file__).parent.parent / "problems"


def default_paths() -> list[Path]:
    """./problems if it exists, else the library bundled with the package."""
    local = Path("problems")
    if local.is_dir():
        return [local]
    for candidate in (BUNDLED, SOURCE_TREE):
        if candidate.is_dir():
            return [candidate]
    return []


def problem_files(paths: list[Path]) -> tuple[list[Path], list[InputError]]:
    """The problem files under paths, and what could not be read (FIFOs, dangling symlinks,
    unreadable folders: reported, never read, never skipped silently)."""
    from examcheck.inputs import expand_inputs
    from examcheck.variants import LOCK_SUFFIX

    files, errors = expand_inputs([str(p) for p in paths])
    named = {str(p) for p in paths}
    locks = [f for f in files if f.name.endswith(LOCK_SUFFIX)]  # read with their exam, never as problem sets
    errors += [InputError(str(f), None, "a variants lock file, not a problem set: name its exam file (the lock "
                                        "beside it is read with it)") for f in locks if str(f) in named]
    return [f for f in files if f not in locks], errors


def load_sets(paths: list[Path] | None = None, runner=None, select=None, validated=None) -> list[ProblemSet]:
    """Load every problem set; raise ValidationFailed listing all errors found.  runner(fn, *args, limits=...)
    runs the families' own checks in a sandbox (an engine's session.bounded; default run_bounded).
    select(files) -> the files to load, of those found (default all; see preflight.load_answered_sets).
    validated: a record of problem files found valid before (examcheck.refcache.ReferenceCache: by content,
    examcheck version and rules); such a file is read without being validated again (grading only)."""
    sets: list[ProblemSet] = []
    files, errors = problem_files(paths or default_paths())
    if select is not None:
        files = select(files)
    for file in files:
        try:
            sets.append(load_set(file, runner, validated))
        except ValidationFailed as exc:
            errors += exc.errors
        except InputError as exc:
            errors.append(exc)
    seen: dict[str, str] = {}
    for s in sets:
        if s.exam in seen:
            errors.append(InputError(s.source, 1, f"exam id {s.exam!r} is also used by {seen[s.exam]}"))
        seen[s.exam] = s.source
    if errors:
        raise ValidationFailed(errors)
    return sets


def load_set(path: Path, runner=None, validated=None) -> ProblemSet:
    content = read_regular_file(path, MAX_FILE_BYTES)
    doc = load_bytes(content, path)
    if not isinstance(doc.data, dict):
        raise InputError(doc.source, 1, "expected a problem set (a mapping with exam, title, problems)")
    from examcheck import variants

    trusted = validated is not None and validated.holds(content) and not variants.has_params(doc.data)
    if not trusted:
        bad_numbers = number_errors(doc)
        if bad_numbers:
            raise ValidationFailed(bad_numbers)
        validate(doc, PROBLEM_SET_SCHEMA)
    data = doc.data
    if variants.has_params(data):  # params drawn per student: one problem per deployed variant
        return variants.load_variant_set(doc)
    errors: list[InputError] = []
    problems = []
    ids = set()
    for i, raw in enumerate(data["problems"]):
        problem = _problem(doc, raw, ("problems", i), data.get("log_base", "e"), errors, runner, trusted)
        if problem.id in ids:
            errors.append(doc.error(("problems", i, "id"), f"duplicate problem id {problem.id!r}"))
        ids.add(problem.id)
        problems.append(problem)
    if errors:
        raise ValidationFailed(errors)
    if validated is not None and not trusted:
        validated.remember(content)
    return ProblemSet(str(data["exam"]), data["title"], problems, doc.source)


def _problem(doc: YamlDoc, raw: dict, path: tuple, log_base, errors: list, runner=None, trusted=False) -> Problem:
    """trusted: the file was found valid before (same content, version and rules): the objects are built,
    and the checks that need the families (and their load-time solves) are not run again."""
    log_base = raw.get("log_base", log_base)
    family_name = raw.get("family")
    family = None
    if family_name is not None:
        try:
            family = None if trusted else get_family(family_name)
        except FamilyError as exc:
            errors.append(doc.error((*path, "family"), str(exc)))
    elif raw.get("given") and not all(_is_scalar(v) for v in raw["given"].values()):
        errors.append(doc.error((*path, "given"), "without a family, given values must be numbers"))
    if family is not None:
        errors += FamilyGivenChecker(doc, family, path, raw, runner).errors()
    parts = []
    part_ids = set()
    for j, part_raw in enumerate(raw["parts"]):
        part_path = (*path, "parts", j)
        part = _part(doc, part_raw, part_path, log_base, family_name, errors)
        if family is not None:
            errors += _result_errors(doc, family, part_raw, part_path)
        elif family_name is None:
            errors += _familyless_errors(doc, part_raw, part_path)
        if part.id in part_ids:
            errors.append(doc.error((*part_path, "id"), f"duplicate part id {part.id!r}"))
        part_ids.add(part.id)
        parts.append(part)
    if any(p.follow_through for p in parts) and not trusted:
        errors += followthrough.load_errors(doc, raw, parts, path, family)
    total = sum(p.marks for p in parts)
    marks = raw.get("marks", total)
    if abs(marks - total) > 1e-9:
        errors.append(doc.error((*path, "marks"), f"marks is {marks:g} but the parts add up to {total:g}"))
    return Problem(str(raw["id"]), raw["title"], parts, raw.get("statement", ""), marks, family_name,
                   raw.get("given", {}), doc.line(path))


load_problem = _problem  # examcheck.variants loads each variant's problem with it


MAX_MARKS = 10_000
WRITTEN_FIELDS = {"reference", "key", "answer", "choices"}  # read later from the text as written
NUMBER_RANGES = {"marks": (0, MAX_MARKS), "rtol": (0, 1), "atol": (0, 1e12), "time_limit": (0, 60)}


def number_errors(doc: YamlDoc) -> list[InputError]:
    """Every number in a problem file must be finite, and marks, tolerances and limits within range
    (NaN slips through every comparison, so it is caught here, before the schema)."""
    errors: list[InputError] = []
    pending: list[tuple[tuple, object]] = [((), doc.data)]
    while pending:
        path, value = pending.pop()
        if path and isinstance(path[-1], str) and path[-1] in WRITTEN_FIELDS:
            continue
        if isinstance(value, dict):
            pending += [((*path, k), v) for k, v in value.items()]
        elif isinstance(value, list):
            pending += [((*path, i), v) for i, v in enumerate(value)]
        elif isinstance(value, float) and not math.isfinite(value):
            errors.append(doc.error(path, f"expected a finite number, found {doc.raw.get(path, value)}"))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and path and path[-1] in NUMBER_RANGES:
            low, high = NUMBER_RANGES[path[-1]]
            if not low <= value <= high:
                errors.append(doc.error(path, f"expected a number from {low:g} to {high:g}"))
    return sorted(errors, key=lambda e: e.line or 0)


def _is_scalar(value) -> bool:
    return isinstance(value, (int, float, str)) and not isinstance(value, bool)


GIVEN_CHECK_LIMITS = Limits(seconds=20.0)


def family_given_errors(family: str, given: dict) -> list:
    """The family's own checks of a given mapping (run in the sandbox: they may solve the problem)."""
    try:
        return get_family(family).load_errors(given)
    except (FamilyError, ValueError, TypeError, KeyError, ArithmeticError) as exc:
        return [GivenError((), str(exc))]


class FamilyGivenChecker:
    """Check every `given` a family will be solved with (the problem's, merged with each part's and each
    mistake's) against the family's given schema, its layer schemas and its own checks.  Each error points
    at the mapping that supplied the offending key."""

    def __init__(self, doc: YamlDoc, family: Family, path: tuple, raw: dict, runner=None):
        self.doc, self.family, self.path, self.raw = doc, family, path, raw
        self.runner = runner or run_bounded

    def errors(self) -> list[InputError]:
        found: dict[tuple, InputError] = {}
        base = [((*self.path, "given"), self.raw.get("given") or {})]
        layers = [base]
        for j, part in enumerate(self.raw["parts"]):
            part_path = (*self.path, "parts", j)
            with_part = base + [((*part_path, "given"), part.get("given") or {})]
            if part.get("answer") != "text" or part.get("result") is not None or part.get("given"):
                layers.append(with_part)
            for k, mistake in enumerate(part.get("mistakes") or []):
                if isinstance(mistake, dict) and mistake.get("given"):
                    layers.append(with_part + [((*part_path, "mistakes", k, "given"), mistake["given"])])
        if len(layers) > 1:  # every part adds to the problem's given: check the merged mappings only
            layers = layers[1:]
        for stack in layers:
            for error in self._check(stack):
                found.setdefault((error.line, error.message), error)
        return list(found.values())

    def _check(self, stack: list[tuple[tuple, dict]]) -> list[InputError]:
        merged: dict = {}
        origin: dict = {}
        for where, mapping in stack:
            if not isinstance(mapping, dict):
                return [self.doc.error(where, "expected a mapping of given values")]
            for key, value in mapping.items():
                merged[key], origin[key] = value, where
        last = stack[-1][0]

        def at(inner: tuple) -> tuple:
            return (*origin[inner[0]], *inner) if inner and inner[0] in origin else (*last, *inner)

        errors = [self.doc.error(at(p), m) for p, m in schema_errors(self.family.given_schema, merged)]
        if errors:
            return errors
        errors += [self.doc.error(at(p), m) for p, m in self._layer_errors(merged)]
        if errors:
            return errors
        try:
            problems = self.runner(family_given_errors, self.family.name, merged, limits=GIVEN_CHECK_LIMITS)
        except LimitExceeded as exc:
            return [self.doc.error(last, f"family {self.family.name!r} ran past its {exc.what} limit checking "
                                         "these given values")]
        except CheckFailed as exc:
            return [self.doc.error(last, f"family {self.family.name!r} cannot use these given values: {exc}")]
        return [self.doc.error(at(p.path), p.message) for p in problems]

    def _layer_errors(self, given: dict) -> list[tuple[tuple, str]]:
        schemas = self.family.layer_schemas
        if not schemas or not isinstance(given.get("layers"), list):
            return []
        out = []
        for i, layer in enumerate(given["layers"]):
            if not isinstance(layer, dict):
                continue
            kind = layer.get("type")
            if kind not in schemas:
                allowed = ", ".join(sorted(schemas))
                hint = did_you_mean(kind, schemas) if isinstance(kind, str) else ""
                what = "a layer mapping needs a `type`" if kind is None else f"unknown layer type {kind!r}{hint}"
                out.append((("layers", i, "type"), f"{what} (allowed: {allowed})"))
                continue
            out += [(("layers", i, *p), f"{kind} layer: {m}") for p, m in schema_errors(schemas[kind], layer)]
        return out


def _result_errors(doc: YamlDoc, family: Family, raw: dict, path: tuple) -> list[InputError]:
    """An unknown `result:` (in the part or a mistake), or one the part's answer type cannot ask for."""
    errors = []
    answer = raw.get("answer")
    named = [((*path, "result"), raw.get("result"))]
    named += [((*path, "mistakes", k, "result"), m.get("result"))
              for k, m in enumerate(raw.get("mistakes") or []) if isinstance(m, dict)]
    for where, name in named:
        if name is None:
            continue
        message = family.unknown_result(str(name))
        if message:
            errors.append(doc.error(where, message))
            continue
        spec = family.result_spec(str(name))
        allowed = ANSWER_TYPES_FOR[spec.kind]
        if answer not in allowed and answer != "text":
            errors.append(doc.error(where, f"result {name!r} is {_a(spec.kind.value)} ({spec.description}); "
                                           f"`answer: {answer}` cannot ask for it (use one of: "
                                           f"{', '.join(sorted(allowed))})"))
    return errors


def _a(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def _familyless_errors(doc: YamlDoc, raw: dict, path: tuple) -> list[InputError]:
    errors = []
    if raw.get("result") is not None:
        errors.append(doc.error((*path, "result"), "`result:` names a family result, but this problem has no family"))
    if raw.get("given") and not all(_is_scalar(v) for v in raw["given"].values()):
        errors.append(doc.error((*path, "given"), "without a family, given values must be numbers"))
    for k, m in enumerate(raw.get("mistakes") or []):
        if isinstance(m, dict):
            for key in ("given", "result"):
                if m.get(key) is not None:
                    errors.append(doc.error((*path, "mistakes", k, key),
                                            f"a mistake with `{key}` recomputes a family, but this problem has none"))
    return errors


def _part(doc: YamlDoc, raw: dict, path: tuple, log_base, family, errors: list) -> Part:
    kind = raw["answer"]
    if kind != "text":
        if family is None and "reference" not in raw:
            errors.append(doc.error(path, "a part needs a `reference` when its problem has no family"))
        if family is not None and "reference" not in raw and "result" not in raw and kind != "text":
            errors.append(doc.error(path, f"say which result of family {family!r} this part asks for (`result:`)"))
    if kind == "choice" and "choices" not in raw:
        errors.append(doc.error(path, "a choice part needs `choices`"))
    for name, domain in raw.get("variables", {}).items():
        try:
            parse_domain(domain)
        except DomainError as exc:
            errors.append(doc.error((*path, "variables", name), str(exc)))
    mistakes = [
        Mistake(m["feedback"], m.get("marks", 0.0), written(doc, (*path, "mistakes", k, "answer")),
                m.get("given"), m.get("result"), m.get("log_base"), doc.line((*path, "mistakes", k)))
        for k, m in enumerate(raw.get("mistakes", []))
    ]
    for k, mistake in enumerate(mistakes):
        if mistake.answer is None and mistake.given is None and mistake.log_base is None:
            errors.append(doc.error((*path, "mistakes", k), "a mistake needs `answer`, `given` or `log_base`"))
        if mistake.marks > raw["marks"]:
            errors.append(doc.error((*path, "mistakes", k, "marks"), "a mistake cannot earn more than the part"))
    return Part(
        id=str(raw["id"]), marks=raw["marks"], answer=kind, prompt=raw.get("prompt", ""),
        result=raw.get("result"), reference=written(doc, (*path, "reference")), given=raw.get("given", {}),
        precision=precision(raw.get("precision")), variables=dict(raw.get("variables", {})),
        functions=list(raw.get("functions", [])),
        log_base=raw.get("log_base", log_base), key=written(doc, (*path, "key")), has_key="key" in raw,
        mistakes=mistakes, choices=raw.get("choices"), options=raw.get("options", {}),
        rubric=raw.get("rubric", []), note=raw.get("note", ""), line=doc.line(path),
        key_line=doc.line((*path, "key")) if "key" in raw else None,
        follow_through=followthrough.declaration(raw.get("follow_through"), doc.line((*path, "follow_through"))),
    )


def precision(raw) -> Precision:
    if raw is None:
        return Precision()
    if raw == "exact":
        return Precision("exact")
    minimum = raw.get("min_sigfigs", 3)
    for kind in ("decimals", "sigfigs", "rtol", "atol"):
        if kind in raw:
            return Precision(kind, raw[kind], minimum)
    return Precision("default", 0.0, minimum)


def written(doc: YamlDoc, path: tuple):
    """The value at path as it was written: plain scalars keep their text
    (``1.40`` stays ``"1.40"``), lists keep their items' text."""
    value = doc.data
    for key in path:
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and isinstance(key, int) and key < len(value):
            value = value[key]
        else:
            return None
    return _written(doc, path, value)


def _written(doc: YamlDoc, path: tuple, value):
    if isinstance(value, list):
        return [_written(doc, (*path, i), v) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _written(doc, (*path, k), v) for k, v in value.items()}
    if value is None:
        return None
    return doc.raw.get(path, value)
