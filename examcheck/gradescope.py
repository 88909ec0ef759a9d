"""Gradescope, end to end: build the autograder zip, and run it on one submission.

`build_autograder` writes a zip holding ``setup.sh``, ``run_autograder``, the exam's problem file, a
wheel of this very examcheck (so the image needs nothing of our repository) with its dependency ranges
in ``requirements.txt``, and ``autograder.json`` (the settings chosen at build time).

Gradescope's base image is Ubuntu 22.04, whose ``python3`` is 3.10: examcheck supports 3.10
(``examcheck.compat``), so ``setup.sh`` needs only the distribution's python3-venv, nothing downloaded
but the dependencies' wheels from PyPI.

`run_submission` is what ``run_autograder`` calls for every submission: it reads the student's identity
from ``submission_metadata.json`` (never from the answer file), finds the answer file (``.yaml``, ``.yml``
or ``.txt``), grades it and writes ``results/results.json`` as Gradescope's specification defines it:
https://gradescope-autograders.readthedocs.io/en/latest/specs/ .  Parts marked by hand are informational
tests with no score and are not in the autograder total.  Every text a student (or a name) can reach is
escaped for the declared ``output_format``.  A submission that cannot be graded still gets a results.json
that says why, with score 0.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import stat
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from examcheck.model import Report
from examcheck.render.escape import terminal_text

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
OUTPUT_FORMATS = ("text", "md")
SUBMISSION_SUFFIXES = (".yaml", ".yml", ".txt")
CONFIG_NAME = "autograder.json"
ROOT_ENV = "EXAMCHECK_AUTOGRADER_ROOT"          # the /autograder folder (a temporary tree in tests)
MAX_CANDIDATES = 20                             # answer files tried in one submission
MAX_LISTED = 200                                # entries looked at in the submission folder
MAX_DEPTH = 3                                   # folders deep into the submission
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)               # reproducible zips


class AutograderError(Exception):
    """The autograder cannot be built; the message says why."""


@dataclass(frozen=True)
class Settings:
    exam: str
    problem_file: str                 # inside the zip, under problems/
    visibility: str = "after_published"
    output_format: str = "text"
    reveal: bool = False              # show expected answers
    time_limit: float = 2.0

    @staticmethod
    def from_json(text: str) -> Settings:
        data = json.loads(text)
        settings = Settings(str(data["exam"]), str(data["problem_file"]), str(data.get("visibility", "after_published")),
                            str(data.get("output_format", "text")), bool(data.get("reveal", False)),
                            float(data.get("time_limit", 2.0)))
        if settings.visibility not in VISIBILITIES or settings.output_format not in OUTPUT_FORMATS:
            raise ValueError(f"{CONFIG_NAME}: visibility must be one of {VISIBILITIES}, output_format one of {OUTPUT_FORMATS}")
        return settings


# ----------------------------------------------------------------------------- building


def _zip_write(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    archive.writestr(info, data)


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def package_files() -> list[tuple[str, bytes]]:
    """(path inside the wheel, bytes) of the installed examcheck package, with the bundled library."""
    import examcheck
    from examcheck.loader import SOURCE_TREE

    package = Path(examcheck.__file__).resolve().parent
    files: list[tuple[str, bytes]] = []
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package)
        if path.is_file() and "__pycache__" not in relative.parts and path.suffix not in (".pyc", ".pyo"):
            files.append((f"examcheck/{relative.as_posix()}", path.read_bytes()))
    if not (package / "problems").is_dir() and SOURCE_TREE.is_dir():  # an editable install: the library is beside
        for path in sorted(SOURCE_TREE.rglob("*.yaml")):
            files.append((f"examcheck/problems/{path.relative_to(SOURCE_TREE).as_posix()}", path.read_bytes()))
    return files


def dependency_ranges() -> list[str]:
    """examcheck's own dependencies with their ranges (Requires-Dist without extras)."""
    from importlib import metadata

    try:
        requires = metadata.requires("examcheck") or []
    except metadata.PackageNotFoundError as exc:
        raise AutograderError("examcheck is not installed (pip install .); its wheel cannot be built") from exc
    return [r for r in requires if "extra ==" not in r]


def build_wheel() -> tuple[str, bytes]:
    """A pure-Python wheel of the running examcheck: (file name, bytes).  Reproducible (fixed times)."""
    from examcheck import __version__

    name = f"examcheck-{__version__}"
    info = f"{name}.dist-info"
    meta = ["Metadata-Version: 2.1", "Name: examcheck", f"Version: {__version__}",
            "Summary: Check and grade mathematical exam answers for deep-learning and ML courses",
            "Requires-Python: >=3.10", *(f"Requires-Dist: {r}" for r in dependency_ranges())]
    files = package_files() + [
        (f"{info}/METADATA", ("\n".join(meta) + "\n").encode()),
        (f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: examcheck gradescope build\nRoot-Is-Purelib: true\n"
                          b"Tag: py3-none-any\n"),
        (f"{info}/entry_points.txt", b"[console_scripts]\nexamcheck = examcheck.cli:main\n"),
    ]
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in files) + f"{info}/RECORD,,\n"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for path, data in files:
            _zip_write(archive, path, data)
        _zip_write(archive, f"{info}/RECORD", record.encode())
    return f"{name}-py3-none-any.whl", out.getvalue()


SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu 22.04: python3 is 3.10,
# which examcheck supports).  It installs the examcheck wheel shipped in this zip into a venv, with the
# dependency ranges of requirements.txt.  For a local trial: EXAMCHECK_AUTOGRADER_ROOT=DIR (instead of
# /autograder), EXAMCHECK_AUTOGRADER_PYTHON=python3.x, EXAMCHECK_SKIP_APT=1.
set -euo pipefail
ROOT="${EXAMCHECK_AUTOGRADER_ROOT:-/autograder}"
PYTHON="${EXAMCHECK_AUTOGRADER_PYTHON:-python3}"
if [ "${EXAMCHECK_SKIP_APT:-0}" != 1 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
fi
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "examcheck needs Python 3.10+, not " + sys.version)'
"$PYTHON" -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install --quiet --disable-pip-version-check \\
    -r "$ROOT/source/requirements.txt" "$ROOT/source/{wheel}"
"$ROOT/venv/bin/examcheck" --version
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission: examcheck reads submission_metadata.json and the answer file
# (.yaml, .yml or .txt) in submission/, and writes results/results.json.  If examcheck itself fails, a
# results.json still says so (score 0), and exit status 0 keeps Gradescope from hiding it.
set -u
ROOT="${EXAMCHECK_AUTOGRADER_ROOT:-/autograder}"
EXAMCHECK="${EXAMCHECK_AUTOGRADER_BIN:-$ROOT/venv/bin/examcheck}"
mkdir -p "$ROOT/results"
rm -f "$ROOT/results/results.json"
"$EXAMCHECK" gradescope run --root "$ROOT"
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
  printf '{"score": 0, "output": "The autograder failed (examcheck exit status %s); please tell your instructor.", %s}\\n' \\
      "$status" '"output_format": "text", "visibility": "visible", "stdout_visibility": "hidden", "tests": []' \\
      > "$ROOT/results/results.json"
fi
exit 0
"""


def build_autograder(problem_source: str | Path, exam: str, output: str | Path, *, visibility: str = "after_published",
                     output_format: str = "text", reveal: bool = False, time_limit: float = 2.0) -> list[str]:
    """Write the autograder zip to output (atomically); return the names it holds."""
    from examcheck.outputs import OutputError, resolve_target
    from examcheck.yamlio import MAX_FILE_BYTES, read_regular_file

    if visibility not in VISIBILITIES:
        raise AutograderError(f"--visibility must be one of {', '.join(VISIBILITIES)}")
    if output_format not in OUTPUT_FORMATS:
        raise AutograderError(f"--output-format must be one of {', '.join(OUTPUT_FORMATS)}")
    problem_bytes = read_regular_file(problem_source, MAX_FILE_BYTES)
    problem_file = "problems/" + _safe_name(Path(problem_source).name, ".yaml")
    wheel_name, wheel = build_wheel()
    settings = Settings(exam, problem_file, visibility, output_format, reveal, time_limit)
    requirements = "# examcheck's dependencies, with the ranges it is tested with\n" + "".join(
        f"{r}\n" for r in dependency_ranges())
    entries = [
        ("setup.sh", SETUP_SH.replace("{wheel}", wheel_name).encode(), True),
        ("run_autograder", RUN_AUTOGRADER.encode(), True),
        (CONFIG_NAME, (json.dumps(asdict(settings), indent=2) + "\n").encode(), False),
        ("requirements.txt", requirements.encode(), False),
        (wheel_name, wheel, False),
        (problem_file, problem_bytes, False),
    ]
    from examcheck.variants import lock_path

    lock = lock_path(Path(problem_source))
    if lock.is_file():  # a deployed variant exam: the runner grades against its lock
        entries.append((lock_path(Path(problem_file)).as_posix(), read_regular_file(lock, MAX_FILE_BYTES), False))
    try:
        target, _ = resolve_target(output)
    except OutputError as exc:
        raise AutograderError(str(exc)) from None
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(temporary, "w") as archive:
            for name, data, executable in entries:
                _zip_write(archive, name, data, executable)
        os.replace(temporary, target)
    except OSError as exc:
        raise AutograderError(f"{output}: cannot write the zip: {exc.strerror or exc}") from None
    finally:
        if temporary.exists():
            temporary.unlink()
    return [name for name, _, _ in entries]


def _safe_name(name: str, default_suffix: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or "exam"
    return stem if stem.endswith((".yaml", ".yml")) else stem + default_suffix


# ----------------------------------------------------------------------------- running (inside the image)


@dataclass(frozen=True)
class Student:
    id: str           # sid, else email, else Gradescope's user id, else the name
    name: str
    note: str = ""    # why the metadata could not give an identity


def read_identity(root: Path) -> Student:
    """The submitter from submission_metadata.json (users[0]); identifiers stay strings."""
    path = root / "submission_metadata.json"
    try:
        data = json.loads(path.read_bytes()[:5_000_000].decode("utf-8"))
        users = data.get("users") if isinstance(data, dict) else None
        user = users[0] if isinstance(users, list) and users and isinstance(users[0], dict) else None
    except (OSError, ValueError) as exc:
        return Student("", "", f"submission_metadata.json could not be read ({type(exc).__name__})")
    if user is None:
        return Student("", "", "submission_metadata.json names no user")

    def text(key: str) -> str:
        value = user.get(key)
        return "" if value is None or isinstance(value, (dict, list, bool)) else str(value).strip()[:200]

    ident = next((text(k) for k in ("sid", "email", "id") if text(k)), "") or text("name")
    group = len(users) - 1
    note = f"group submission: {group} other member(s)" if group > 0 else ""
    return Student(ident, text("name"), note)


def submission_candidates(folder: Path) -> tuple[list[Path], list[str]]:
    """Answer files (.yaml, .yml, .txt) in the submission, in name order, and every file name seen."""
    found: list[Path] = []
    seen: list[str] = []
    stack = [(folder, 0)]
    while stack and len(seen) < MAX_LISTED:
        current, depth = stack.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries[:MAX_LISTED]:
            if entry.name.startswith(".") or entry.name == "__MACOSX":
                continue
            path = Path(entry.path)
            if entry.is_dir(follow_symlinks=False):
                if depth + 1 < MAX_DEPTH:
                    stack.append((path, depth + 1))
            elif entry.is_file(follow_symlinks=False):
                seen.append(path.relative_to(folder).as_posix())
                if path.suffix.lower() in SUBMISSION_SUFFIXES:
                    found.append(path)
            elif entry.is_symlink():  # reported, never read or followed
                seen.append(f"{path.relative_to(folder).as_posix()} (a symbolic link: ignored, never read)")
    found.sort(key=lambda p: (len(p.relative_to(folder).parts), p.as_posix()))
    return found, seen


def _grade_one(path: Path, sets, time_limit: float, identity: str = ""):
    """(report or None, error messages) for one answer file; identity (the metadata's) is the student its
    variants are drawn for, never the file's own `student:`."""
    from examcheck.engine import Engine
    from examcheck.identity import IdentityOptions
    from examcheck.limits import Limits

    options = IdentityOptions(overrides={str(path): identity} if identity else {})
    with Engine(sets, jobs=1, limits=Limits(seconds=time_limit), identity=options) as engine:
        result = engine.grade_paths([path])
        reports = list(result.reports)
        errors = [str(e) for e in result.errors] + [str(b) for b in result.bugs]
    return (reports[0] if reports else None), errors


def run_submission(root: Path) -> dict:
    """Grade the submission under root and return the results.json document (also written there)."""
    from examcheck.loader import load_sets

    started = time.monotonic()
    source = root / "source"
    settings = Settings.from_json((source / CONFIG_NAME).read_text(encoding="utf-8"))
    sets = [s for s in load_sets([source / settings.problem_file]) if s.exam == settings.exam]
    student = read_identity(root)
    folder = root / "submission"
    candidates, seen = submission_candidates(folder)
    out = Output(settings.output_format)
    if student.note:
        out.line(f"note: {student.note}")
    report, errors, graded = None, [], None
    for path in candidates[:MAX_CANDIDATES]:
        report, file_errors = _grade_one(path, sets, settings.time_limit, student.id)
        if graded is None or report is not None:
            graded, errors = path, file_errors
        if report is not None:
            break
    if graded is None:
        listed = ", ".join(seen[:20]) + (" ..." if len(seen) > 20 else "") if seen else "nothing"
        results = _failure(settings, out, [f"No answer file (.yaml, .yml or .txt) was found; you submitted: {listed}"])
    else:
        name = graded.relative_to(folder).as_posix()
        others = [c.relative_to(folder).as_posix() for c in candidates if c != graded]
        out.line(f"Graded file: {name}" + (f" (also submitted, not graded: {', '.join(others[:10])})" if others else ""))
        if report is None:
            results = _failure(settings, out, [f"{name} could not be graded:", *errors])
        else:
            report.student = student.id or report.student
            results = results_document(report, settings, out, student)
    results["execution_time"] = round(time.monotonic() - started, 3)
    write_results(root, results)
    return results


def write_results(root: Path, results: dict) -> None:
    folder = root / "results"
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".results.{os.getpid()}.tmp"
    temporary.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, folder / "results.json")


# ----------------------------------------------------------------------------- results.json


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def md_text(value) -> str:
    """Text shown literally by a Markdown renderer: no HTML, no emphasis, no links, no control characters."""
    text = terminal_text(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


class Output:
    """Lines of one output field, escaped for its format (text: control characters made visible)."""

    def __init__(self, fmt: str):
        self.fmt = fmt
        self.lines: list[str] = []

    def escape(self, value) -> str:
        return md_text(value) if self.fmt == "md" else terminal_text(value)

    def line(self, text: str, *, trusted: str = "") -> None:
        self.lines.append(trusted + self.escape(text))

    def text(self) -> str:
        return ("\n\n" if self.fmt == "md" else "\n").join(self.lines)


def _num(x: float):
    return int(x) if float(x).is_integer() else round(float(x), 4)


def _common(settings: Settings) -> dict:
    return {"output_format": settings.output_format, "test_output_format": settings.output_format,
            "test_name_format": "text", "visibility": settings.visibility, "stdout_visibility": "hidden"}


def _failure(settings: Settings, out: Output, messages: list[str]) -> dict:
    for message in messages:
        out.line(message)
    return {"score": 0, "output": out.text(), **_common(settings), "tests": []}


def part_tests(report: Report, settings: Settings) -> list[dict]:
    tests = []
    for problem in report.problems:
        for part in problem.parts:
            out = Output(settings.output_format)
            name = f"{problem.id}.{part.id}"
            test = {"name": name, "name_format": "text", "number": name}
            if part.hand_marked:
                out.line(f"marked by hand ({_num(part.max_score)} marks): not part of the autograder score")
                if part.interpreted or part.given is not None:
                    out.line(f"your answer: {part.interpreted or part.given}")
            else:
                out.line(f"status: {part.status}")
                if part.interpreted:
                    out.line(f"your answer, as read: {part.interpreted}")
                if settings.reveal and part.expected:
                    out.line(f"expected: {part.expected}")
                    carried = part.follow_through.expected_for_value(part.expected) if part.follow_through else ""
                    if carried:
                        out.line(f"expected {carried}")
                if part.feedback:
                    out.line(part.feedback)
                test.update(score=_num(part.score), max_score=_num(part.max_score),
                            status="passed" if part.status.is_correct else "failed")
            test.update(output=out.text(), output_format=settings.output_format, visibility=settings.visibility)
            tests.append(test)
    return tests


def results_document(report: Report, settings: Settings, out: Output | None = None,
                     student: Student | None = None) -> dict:
    """results.json for one graded report: autograded parts scored, hand-marked ones informational."""
    if not settings.reveal:  # the same filter as `grade --no-reveal`: no expected answer, rubric or reference value
        from examcheck.render.redact import redact_report

        report = redact_report(report)
    out = out or Output(settings.output_format)
    graded = [q for p in report.problems for q in p.parts if not q.hand_marked]
    by_hand = [q for p in report.problems for q in p.parts if q.hand_marked]
    score = sum(q.score for q in graded)
    possible = sum(q.max_score for q in graded)
    who = student.name if student and student.name else report.student
    out.line(f"{who}: {_num(score)}/{_num(possible)} autograded marks on {report.exam}")
    if by_hand:
        out.line(f"{len(by_hand)} part(s) worth {_num(sum(q.max_score for q in by_hand))} marks are marked by hand "
                 "and are not in this score.")
    for warning in report.warnings[:20]:
        out.line(f"warning: {warning}")
    return {"score": _num(score), "output": out.text(), **_common(settings),
            "extra_data": {"student": report.student, "exam": report.exam, "autograded_max": _num(possible)},
            "tests": part_tests(report, settings)}
