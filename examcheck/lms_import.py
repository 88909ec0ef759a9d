"""LMS quiz responses in: a Canvas "Student Analysis" CSV or a Moodle quiz "Responses" download becomes one
answer file per student, through a mapping file from the LMS's question columns to problem/part ids.

Canvas (Quiz > Quiz Statistics > Student Analysis): ``name, id, sis_id, section, section_id, section_sis_id,
submitted[, attempt]``, then for each question a column ``"<question id>: <question text>"`` followed by its
score column (headed by the points possible), then ``n correct, n incorrect, score``.  With every attempt
exported, a student has one row per attempt; the highest attempt is used.

Moodle (Quiz > Results > Responses, download as CSV): ``Surname, First name``, the site's identity fields
(``ID number``, ``Email address``, ``Username``, ...), ``State, Started on, Completed, Time taken, Grade/N``,
then ``Response 1``, ``Response 2``, ... per question slot (and ``Question N`` / ``Right answer N`` when chosen).

The mapping file (YAML)::

    exam: seed000-quiz
    questions:
      "29684859": q1.i        # Canvas: the question id; Moodle: the slot number (or the column's full title)
      "29684860": q1.ii

The CSV is untrusted: it is read with a size limit, as UTF-8 (with or without a BOM) or UTF-16 with a BOM,
with a field size limit; every problem is an error naming the file and line.  Student ids stay text
(``0123`` stays ``0123``); file names are made safe; HTML in essay answers is reduced to its text.
"""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from examcheck.render.escape import terminal_text
from examcheck.yamlio import InputError, load_file, read_regular_file

MAX_CSV_BYTES = 50_000_000
MAX_ROWS = 100_000
MAX_COLUMNS = 5_000
MAX_FIELD = 100_000            # characters in one cell
FORMATS = ("canvas", "moodle")

CANVAS_META = ("name", "id", "sis_id", "section", "section_id", "section_sis_id", "submitted", "attempt")
CANVAS_TRAILER = ("n correct", "n incorrect", "score")
_CANVAS_QUESTION = re.compile(r"(\d+): ", re.S)
_MOODLE_RESPONSE = re.compile(r"Response (\d+)\Z")
MOODLE_IDS = ("ID number", "Username", "Email address")
_FORMULA = ("=", "+", "-", "@", "\t", "\r", "|")
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass
class Student:
    id: str
    name: str
    line: int
    answers: dict[str, str] = field(default_factory=dict)    # "q1.i" -> text
    attempt: float = 0  # Canvas: the attempt number; Moodle: the grade (the highest is kept)


@dataclass
class Imported:
    format: str
    exam: str
    students: list[Student]
    errors: list[InputError]
    notes: list[str]
    source: str = ""


# ----------------------------------------------------------------------------- reading the CSV


def decode(data: bytes, source: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(source, None, "not valid UTF-16 text") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(source, line, f"not UTF-8 text (byte 0x{data[exc.start]:02x}); export or save the file as "
                                       "CSV UTF-8") from None


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def read_rows(path: str | Path) -> tuple[str, list[tuple[int, list[str]]]]:
    """(source, [(line, cells)]): the header first.  Raises InputError for what cannot be read at all."""
    source = str(path)
    text = decode(read_regular_file(path, MAX_CSV_BYTES), source)
    if "\x00" in text:
        raise InputError(source, text.count("\n", 0, text.index("\x00")) + 1, "a NUL character: not a CSV text file")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    rows: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for cells in reader:
            if len(rows) > MAX_ROWS:
                raise InputError(source, line, f"more than {MAX_ROWS} rows")
            if len(cells) > MAX_COLUMNS:
                raise InputError(source, line, f"more than {MAX_COLUMNS} columns")
            long = next((c for c in cells if len(c) > MAX_FIELD), None)
            if long is not None:
                raise InputError(source, line, f"a cell of more than {MAX_FIELD} characters")
            if any(c.strip() for c in cells):
                rows.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(source, reader.line_num or line, f"not valid CSV: {exc}") from None
    if not rows:
        raise InputError(source, 1, "empty: no header row")
    return source, rows


def detect(header: list[str]) -> str | None:
    names = [h.strip() for h in header]
    if {"name", "id"} <= set(names) and any(_CANVAS_QUESTION.match(h) for h in names):
        return "canvas"
    if any(_MOODLE_RESPONSE.match(h) for h in names) or {"Surname", "First name"} <= set(names):
        return "moodle"
    return None


# ----------------------------------------------------------------------------- the mapping file


@dataclass
class Mapping:
    exam: str | None
    targets: dict[str, tuple[str, int | None]]    # LMS question key -> ("q1.i", line in the mapping file)
    source: str


def load_mapping(path: str | Path) -> Mapping:
    doc = load_file(path)
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("questions"), dict) or not data["questions"]:
        raise InputError(doc.source, doc.line(()) or 1,
                         "expected a mapping file: `questions:` mapping LMS question ids to problem/part ids "
                         "(and optionally `exam:`)")
    unknown = set(data) - {"exam", "questions"}
    if unknown:
        key = sorted(map(str, unknown))[0]
        raise InputError(doc.source, doc.line((key,)), f"unknown key {key!r} (expected exam, questions)")
    targets = {}
    for key, target in data["questions"].items():
        line = doc.line(("questions", key))
        written = doc.raw.get(("questions", key), target)
        if not isinstance(written, str) or not re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)?", written):
            raise InputError(doc.source, line, f"questions.{key}: expected a problem/part id such as q1.i, "
                                               f"found {written!r}")
        targets[str(key).strip()] = (written, line)
    exam = data.get("exam")
    return Mapping(str(exam) if exam is not None else None, targets, doc.source)


# ----------------------------------------------------------------------------- turning rows into students


def _question_keys(fmt: str, header: list[str]) -> dict[int, list[str]]:
    """Column index -> the keys a mapping may use for it (id or slot, and the full title)."""
    keys: dict[int, list[str]] = {}
    for index, title in enumerate(header):
        title = title.strip()
        if fmt == "canvas":
            match = _CANVAS_QUESTION.match(title)
            if match:
                keys[index] = [match.group(1), title]
        else:
            match = _MOODLE_RESPONSE.match(title)
            if match:
                keys[index] = [match.group(1), title]
    return keys


def _clean(value: str) -> str:
    """An LMS cell as the student typed it: HTML (Canvas essays) reduced to text, whitespace trimmed."""
    text = value.strip()
    if "</" in text or re.search(r"<br\s*/?>", text, re.I):
        text = re.sub(r"<br\s*/?>|</p>\s*<p[^>]*>", "\n", text, flags=re.I)
        text = re.sub(r"<[^>]{0,200}>", "", text)
        text = html.unescape(text).strip()
    return text


_FOOTER = re.compile(r"(?i)overall average|average|points possible")


def _grade(cell: str) -> float:
    """A Moodle grade cell ("7.50", "7,50", "-" when not graded) as a number; -1 when there is none."""
    try:
        return float(cell.strip().replace(",", "."))
    except ValueError:
        return -1.0


def _looks_like_formula(text: str) -> bool:
    return text.startswith(_FORMULA) and not re.fullmatch(r"[-+]?\d[\d.]*", text)


def _identity(fmt: str, header: list[str], id_column: str | None) -> tuple[list[int], list[int]]:
    """(indexes of the id columns, in the order tried for each row, indexes that make up the display name).
    A row whose first id cell is empty falls back to the next (Canvas sis_id, then id; Moodle ID number,
    then Username, then Email address); --id-column names the only one."""
    names = [h.strip() for h in header]
    if id_column:
        if id_column not in names:
            raise LookupError(f"no column {id_column!r} (columns: {', '.join(names[:12])})")
        id_indexes = [names.index(id_column)]
    elif fmt == "canvas":
        choices = [c for c in ("sis_id", "id") if c in names]
        if not choices:
            raise LookupError("no student id column: Canvas's Student Analysis has `id` and `sis_id`")
        id_indexes = [names.index(c) for c in choices]
    else:
        choices = [c for c in MOODLE_IDS if c in names]
        if not choices:
            raise LookupError(f"no student id column: expected one of {', '.join(MOODLE_IDS)} (Moodle's identity "
                              "fields), or name one with --id-column")
        id_indexes = [names.index(c) for c in choices]
    if fmt == "canvas":
        name_indexes = [names.index("name")] if "name" in names else []
    else:
        name_indexes = [names.index(c) for c in ("First name", "Surname", "Last name") if c in names]
    return id_indexes, name_indexes


def import_rows(fmt: str, source: str, rows: list[tuple[int, list[str]]], mapping: Mapping,
                exam: str | None = None, id_column: str | None = None) -> Imported:
    errors: list[InputError] = []
    notes: list[str] = []
    exam = exam or mapping.exam
    if not exam:
        raise InputError(mapping.source, 1, "say which exam the answers are for: `exam:` in the mapping file or --exam")
    header_line, header = rows[0]
    try:
        id_indexes, name_indexes = _identity(fmt, header, id_column)
    except LookupError as exc:
        raise InputError(source, header_line, str(exc)) from None
    columns = _question_keys(fmt, header)
    by_key = {title.strip(): index for index, title in enumerate(header) if title.strip()}  # any column by its title
    by_key.update({key: index for index, keys in columns.items() for key in keys})
    chosen: dict[int, str] = {}
    for key, (target, line) in mapping.targets.items():
        if key not in by_key:
            shown = ", ".join(f"{keys[0]!r}" for keys in columns.values()) or "none"
            errors.append(InputError(mapping.source, line, f"questions.{key}: no such question column in {source} "
                                                           f"(its questions: {shown})"))
            continue
        chosen[by_key[key]] = target
    # a missing question column is an error (above), and the other columns and rows are still imported
    for index in columns:
        if index not in chosen:
            notes.append(f"{source}:{header_line}: column {header[index].strip()[:60]!r} is not in the mapping; skipped")
    attempt_index = header.index("attempt") if fmt == "canvas" and "attempt" in header else None
    grade_index = next((i for i, h in enumerate(header) if fmt == "moodle" and h.strip().startswith("Grade/")), None)
    students: dict[str, Student] = {}
    for line, cells in rows[1:]:
        if len(cells) != len(header):
            errors.append(InputError(source, line, f"{len(cells)} cells where the header has {len(header)}; row skipped"))
            continue
        ident = next((cells[i].strip() for i in id_indexes if cells[i].strip()), "")
        if not ident:
            label = " ".join(cells[i] for i in name_indexes).strip()
            if _FOOTER.fullmatch(label) or _FOOTER.fullmatch(cells[0].strip() if cells else ""):
                continue  # Moodle's "Overall average" footer, Canvas's "Points Possible"
            tried = " or ".join(repr(header[i].strip()) for i in id_indexes)
            errors.append(InputError(source, line, f"no student id in column {tried}; row skipped"))
            continue
        if _looks_like_formula(ident) or len(ident) > 200:
            errors.append(InputError(source, line, f"student id {ident[:40]!r} is not an id (a spreadsheet formula or "
                                                   "overlong text); row skipped"))
            continue
        attempt: float = 0
        if attempt_index is not None and cells[attempt_index].strip().isdigit():
            attempt = int(cells[attempt_index].strip()[:9])
        elif grade_index is not None:  # Moodle: the highest-graded attempt; a tie, the later row
            attempt = _grade(cells[grade_index])
        name = " ".join(cells[i].strip() for i in name_indexes).strip()[:200]
        student = Student(ident, name, line, {t: _clean(cells[i]) for i, t in chosen.items()}, attempt)
        earlier = students.get(ident)
        if earlier is not None:
            if grade_index is not None:
                if attempt < earlier.attempt:
                    continue
            elif attempt_index is None or attempt == earlier.attempt:
                errors.append(InputError(source, line, f"student {ident!r} appears again (first at line {earlier.line}); "
                                                       "this row is skipped"))
                continue
            if attempt < earlier.attempt:
                continue
        students[ident] = student
    return Imported(fmt, exam, list(students.values()), errors, notes, source)


# ----------------------------------------------------------------------------- writing answer files


class _Dumper(yaml.SafeDumper):
    """Single-quoted strings (LaTeX backslashes stay as written); literal blocks for multi-line answers."""


_Dumper.add_representer(str, lambda dumper, text: dumper.represent_scalar(
    "tag:yaml.org,2002:str", text, style="|" if "\n" in text and text == text.strip() else "'"))


def answer_file(student: Student, exam: str, source: str) -> str:
    answers: dict = {}
    for target, text in student.answers.items():
        if not text:
            continue
        problem, _, part = target.partition(".")
        if part:
            answers.setdefault(problem, {})[part] = text
        else:
            answers[problem] = text
    data = {"student": student.id, "exam": exam, "answers": answers}
    name = " ".join(terminal_text(student.name, keep_newlines=False).split())
    header = f"# Imported by examcheck import from {' '.join(Path(source).name.split())}, line {student.line}"
    header += f" ({name})\n" if name else "\n"
    return header + yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1 << 16)


def file_names(students: list[Student]) -> dict[str, str]:
    """Student id -> a safe, unique file name."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for student in students:
        base = _SAFE.sub("_", student.id)[:64].lstrip(".") or "student"
        name, n = base, 1
        while name.lower() in used:
            n += 1
            name = f"{base}-{n}"
        used.add(name.lower())
        names[student.id] = f"{name}.yaml"
    return names


class ImportFailed(Exception):
    """Errors that stop the whole import (each an InputError with file and line)."""

    def __init__(self, errors: list[InputError]):
        super().__init__("; ".join(map(str, errors)))
        self.errors = errors


def run(export: str | Path, mapping_path: str | Path, folder: str | Path, fmt: str | None = None,
        exam: str | None = None, id_column: str | None = None, problem_paths=()) -> tuple[Imported, list[Path]]:
    """The `import` command: read, check the mapping against the exam (when its problem set loads), write.
    Raises ImportFailed (or OSError for the output folder); row errors are in the result's `errors`."""
    from examcheck.loader import load_sets
    from examcheck.schema import ValidationFailed

    try:
        mapping = load_mapping(mapping_path)
        imported = import_file(export, mapping, fmt, exam, id_column)
    except InputError as exc:
        raise ImportFailed([exc]) from None
    if imported.errors and not imported.students and not imported.notes:
        raise ImportFailed(imported.errors)
    try:
        sets = load_sets(list(problem_paths) or None)
    except (ValidationFailed, InputError):
        sets = []
    wrong = check_targets(imported, mapping, sets)
    if wrong:  # those answers are dropped and reported; the other questions and rows are still imported
        bad = {target for target, _ in (mapping.targets[k] for k in wrong)}
        for student in imported.students:
            student.answers = {t: a for t, a in student.answers.items() if t not in bad}
        imported.errors[:0] = list(wrong.values())
    return imported, write_answer_files(imported, folder)


def import_file(path: str | Path, mapping: Mapping, fmt: str | None = None, exam: str | None = None,
                id_column: str | None = None) -> Imported:
    """Read the export with this mapping; raise InputError for what stops everything."""
    source, rows = read_rows(path)
    detected = detect(rows[0][1])
    if fmt is None:
        if detected is None:
            raise InputError(source, rows[0][0], "cannot tell whether this is a Canvas Student Analysis or a Moodle "
                                                 "Responses export; say it with --from canvas|moodle")
        fmt = detected
    return import_rows(fmt, source, rows, mapping, exam, id_column)


def check_targets(imported: Imported, mapping: Mapping, sets) -> dict[str, InputError]:
    """Mapping keys whose target names no problem/part of the exam (when its problem set is loaded) -> the error."""
    problem_set = next((s for s in sets if s.exam == imported.exam), None)
    if problem_set is None:
        return {}
    errors = {}
    for key, (target, line) in mapping.targets.items():
        problem_id, _, part_id = target.partition(".")
        problem = problem_set.problem(problem_id)
        if problem is None or (part_id and problem.part(part_id) is None) or (not part_id and len(problem.parts) != 1):
            errors[key] = InputError(mapping.source, line, f"questions.{key}: {target!r} is not a part of exam "
                                                           f"{imported.exam} (write problem.part, such as q1.i); "
                                                           "its answers are not imported")
    return errors


def write_answer_files(imported: Imported, folder: str | Path) -> list[Path]:
    from examcheck.outputs import atomic_write

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = file_names(imported.students)
    written = []
    for student in imported.students:
        target = folder / names[student.id]
        atomic_write(target, answer_file(student, imported.exam, imported.source))
        written.append(target)
    return written
