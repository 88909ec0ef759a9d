"""Answer files (untrusted): read them into one written answer per part."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from examcheck.loader import written
from examcheck.model import ProblemSet
from examcheck.schema import ANSWER_FILE_SCHEMA, validate
from examcheck.yamlio import MAX_ANSWER_BYTES, InputError, YamlDoc, load_file, load_text, read_regular_file


@dataclass
class WrittenAnswer:
    value: Any
    line: int | None


@dataclass
class AnswerSheet:
    student: str
    exam: str | None
    source: str
    answers: dict[tuple[str, str], WrittenAnswer] = field(default_factory=dict)
    problem_values: dict[str, WrittenAnswer] = field(default_factory=dict)
    doc: YamlDoc | None = None

    def answered_problems(self) -> set[str]:
        return set(self.problem_values)


def load_sheet(path: str | Path) -> AnswerSheet:
    try:
        doc = load_file(path, MAX_ANSWER_BYTES)
    except InputError as exc:
        raise _explained(exc, lambda: read_regular_file(path, MAX_ANSWER_BYTES).decode("utf-8", "replace")) from None
    return _sheet(doc, Path(doc.source).stem)


def sheet_from_text(text: str, source: str = "<answers>") -> AnswerSheet:
    try:
        doc = load_text(text, source, MAX_ANSWER_BYTES)
    except InputError as exc:
        raise _explained(exc, lambda: text) from None
    return _sheet(doc, Path(source).stem)


def _explained(exc: InputError, text) -> InputError:
    """A backslash in double quotes that YAML cannot read: say it is LaTeX, and how to quote it."""
    from examcheck.latex_quotes import explain_yaml_error, is_escape_error

    if not is_escape_error(exc.message):
        return exc
    try:
        better = explain_yaml_error(exc.message, exc.line, text())
    except (OSError, InputError):
        better = explain_yaml_error(exc.message, exc.line, None)
    return InputError(exc.source, exc.line, better) if better else exc


def _sheet(doc: YamlDoc, default_student: str) -> AnswerSheet:
    if not isinstance(doc.data, dict):
        raise InputError(doc.source, doc.line(()) or 1,
                         "expected an answer file: a mapping with `answers:` (and optionally student, exam)")
    if not plainly_valid(doc.data):
        validate(doc, ANSWER_FILE_SCHEMA)  # says what is wrong (or finds nothing: the check below is only sufficient)
    data = doc.data
    sheet = AnswerSheet(_as_written(doc, "student") or default_student, _as_written(doc, "exam"), doc.source, doc=doc)
    for problem_id in (data.get("answers") or {}):
        path = ("answers", problem_id)
        sheet.problem_values[problem_id] = WrittenAnswer(written(doc, path), doc.line(path))
    return sheet


# The answer-file schema plainly_valid was written for: any change to the schema turns it off (validated as ever).
_PLAIN_FOR = "5804d40f20598f25771917969f99413823dc7e74d00fe42eaafb48ef0287a457"
_ID_TEXT = re.compile(r"[A-Za-z0-9_.\-]+")  # fullmatch: stricter than the schema's pattern (re.search, ^...$)
_schema_unchanged: list[bool] = []


def plainly_valid(data) -> bool:
    """True only if data certainly satisfies ANSWER_FILE_SCHEMA, so that the schema (jsonschema, slow to import:
    a quarter of grading one file cold) need not be run; anything else, valid or not, goes to the schema."""
    if not _schema_unchanged:
        text = json.dumps(ANSWER_FILE_SCHEMA, sort_keys=True)
        _schema_unchanged.append(hashlib.sha256(text.encode()).hexdigest() == _PLAIN_FOR)
    if not _schema_unchanged[0] or type(data) is not dict or "answers" not in data:
        return False
    for key, value in data.items():
        kind = type(value)
        if key == "answers":
            fits = value is None or kind is dict
        elif key == "student":
            fits = kind is str or kind is int
        elif key == "exam":
            fits = kind is int or (kind is str and _ID_TEXT.fullmatch(value) is not None)
        elif key == "attempt":
            fits = kind is int and 1 <= value <= 1000
        elif key == "variant":
            fits = kind is dict and all(type(v) is int and v >= 1 for v in value.values())
        else:
            return False
        if not fits:
            return False
    return True


def _as_written(doc: YamlDoc, key: str) -> str | None:
    """A top-level identifier as the student wrote it: ``student: 0123`` is "0123", never 123."""
    value = doc.data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        value = doc.raw.get((key,), str(value))
    return value.strip() or None


def choose_set(sheet: AnswerSheet, sets: list[ProblemSet]) -> ProblemSet:
    """The problem set an answer file is for."""
    if sheet.exam is not None:
        for s in sets:
            if s.exam == sheet.exam:
                return s
        known = ", ".join(s.exam for s in sets) or "none"
        raise InputError(sheet.source, sheet.doc.line(("exam",)) if sheet.doc else None,
                         f"exam: unknown exam {sheet.exam!r} (loaded problem sets: {known})")
    if len(sets) == 1:
        return sets[0]
    answered = sheet.answered_problems()
    fitting = [s for s in sets if answered and answered <= {p.id for p in s.problems}]
    if len(fitting) == 1:
        return fitting[0]
    known = ", ".join(s.exam for s in sets) or "none"
    raise InputError(sheet.source, 1, f"say which exam this file answers (`exam:`); loaded: {known}")


def split_parts(sheet: AnswerSheet, problem_set: ProblemSet) -> tuple[dict, list[str]]:
    """(problem id, part id) -> WrittenAnswer, and warnings about unknown ids."""
    out: dict[tuple[str, str], WrittenAnswer] = {}
    warnings: list[str] = []
    where = sheet.source
    for problem_id, answer in sheet.problem_values.items():
        problem = problem_set.problem(problem_id)
        if problem is None:
            warnings.append(f"{where}:{answer.line}: answers.{problem_id}: no problem {problem_id!r} "
                            f"in exam {problem_set.exam}; ignored")
            continue
        if isinstance(answer.value, dict):
            for part_id, value in answer.value.items():
                line = sheet.doc.line(("answers", problem_id, part_id)) if sheet.doc else None
                if problem.part(part_id) is None:
                    ids = ", ".join(p.id for p in problem.parts)
                    warnings.append(f"{where}:{line}: answers.{problem_id}.{part_id}: no part {part_id!r} "
                                    f"(parts are {ids}); ignored")
                    continue
                out[(problem_id, part_id)] = WrittenAnswer(value, line)
        elif len(problem.parts) == 1:
            out[(problem_id, problem.parts[0].id)] = answer
        else:
            ids = ", ".join(p.id for p in problem.parts)
            warnings.append(f"{where}:{answer.line}: answers.{problem_id}: this problem has parts {ids}; "
                            "give a mapping of part ids to answers")
    return out, warnings
