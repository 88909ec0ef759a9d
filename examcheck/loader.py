"""Find, validate and load problem sets."""

from __future__ import annotations

import math
from pathlib import Path

from examcheck.answertests import Precision
from examcheck.domains import DomainError, parse_domain
from examcheck.families import FamilyError
from examcheck.families import get as get_family
from examcheck.model import Mistake, Part, Problem, ProblemSet
from examcheck.schema import PROBLEM_SET_SCHEMA, ValidationFailed, validate
from examcheck.yamlio import InputError, YamlDoc, load_file

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

    files, errors = expand_inputs([str(p) for p in paths])
    return files, errors


def load_sets(paths: list[Path] | None = None) -> list[ProblemSet]:
    """Load every problem set; raise ValidationFailed listing all errors found."""
    sets: list[ProblemSet] = []
    files, errors = problem_files(paths or default_paths())
    for file in files:
        try:
            sets.append(load_set(file))
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


def load_set(path: Path) -> ProblemSet:
    doc = load_file(path)
    if not isinstance(doc.data, dict):
        raise InputError(doc.source, 1, "expected a problem set (a mapping with exam, title, problems)")
    bad_numbers = number_errors(doc)
    if bad_numbers:
        raise ValidationFailed(bad_numbers)
    validate(doc, PROBLEM_SET_SCHEMA)
    data = doc.data
    errors: list[InputError] = []
    problems = []
    ids = set()
    for i, raw in enumerate(data["problems"]):
        problem = _problem(doc, raw, ("problems", i), data.get("log_base", "e"), errors)
        if problem.id in ids:
            errors.append(doc.error(("problems", i, "id"), f"duplicate problem id {problem.id!r}"))
        ids.add(problem.id)
        problems.append(problem)
    if errors:
        raise ValidationFailed(errors)
    return ProblemSet(str(data["exam"]), data["title"], problems, doc.source)


def _problem(doc: YamlDoc, raw: dict, path: tuple, log_base, errors: list) -> Problem:
    log_base = raw.get("log_base", log_base)
    family = raw.get("family")
    if family is not None:
        try:
            schema = get_family(family).given_schema
            validate(doc, schema, (*path, "given"), value=raw.get("given", {}))
        except FamilyError as exc:
            errors.append(doc.error((*path, "family"), str(exc)))
        except ValidationFailed as exc:
            errors += exc.errors
    elif raw.get("given") and not all(_is_scalar(v) for v in raw["given"].values()):
        errors.append(doc.error((*path, "given"), "without a family, given values must be numbers"))
    parts = []
    part_ids = set()
    for j, part_raw in enumerate(raw["parts"]):
        part_path = (*path, "parts", j)
        part = _part(doc, part_raw, part_path, log_base, family, errors)
        if part.id in part_ids:
            errors.append(doc.error((*part_path, "id"), f"duplicate part id {part.id!r}"))
        part_ids.add(part.id)
        parts.append(part)
    total = sum(p.marks for p in parts)
    marks = raw.get("marks", total)
    if abs(marks - total) > 1e-9:
        errors.append(doc.error((*path, "marks"), f"marks is {marks:g} but the parts add up to {total:g}"))
    return Problem(str(raw["id"]), raw["title"], parts, raw.get("statement", ""), marks, family,
                   raw.get("given", {}), doc.line(path))


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
