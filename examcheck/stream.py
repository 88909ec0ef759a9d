"""Where a batch's reports go as each file finishes: an SQLite store on disk, read back in student
order at the end, so memory stays flat in the number of files.

Without --resume the store is an SQLite temporary file (unlinked as soon as it is opened, so
nothing is left behind even after SIGKILL).  With --resume it is a state file beside the output
(`.NAME.examcheck-resume`): a manifest of finished files by content hash, with their outcomes;
each window of files is committed at once, so an interrupted run (Ctrl-C, SIGKILL) resumes
without regrading them.  The output itself is written only at the end, atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from examcheck.bugs import InternalError
from examcheck.model import PartResult, ProblemResult, Report, Status
from examcheck.yamlio import InputError

SCHEMA = 1


def state_path(output: str | os.PathLike) -> Path:
    target = Path(os.path.realpath(output))
    return target.with_name(f".{target.name}.examcheck-resume")


def content_hash(path: Path) -> str:
    """sha256 of the file's bytes (and its path: two copies are two submissions); '' if unreadable."""
    digest = hashlib.sha256(os.fsencode(str(path)) + b"\0")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return ""
    return digest.hexdigest()


# ----------------------------------------------------------------------------- records


def _storable(text: str) -> str:
    """SQLite text must be UTF-8: the lone surrogates that stand for a non-UTF-8 file name's bytes are
    kept as visible escapes (the report itself travels as JSON, which escapes them losslessly)."""
    text = str(text)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "backslashreplace")


def report_record(report: Report) -> str:
    return json.dumps({
        "student": report.student, "exam": report.exam, "source": report.source, "warnings": report.warnings,
        "problems": [{"id": p.id, "parts": [[q.id, str(q.status), q.score, q.max_score, q.given, q.expected, q.feedback,
                                             q.interpreted, q.note, q.line] for q in p.parts],
                      **({"variant": p.variant} if p.variant is not None else {})} for p in report.problems],
    }, ensure_ascii=False)


def report_from_record(text: str) -> Report:
    data = json.loads(text)
    problems = [ProblemResult(p["id"], [PartResult(q[0], Status(q[1]), *q[2:]) for q in p["parts"]], p.get("variant"))
                for p in data["problems"]]
    return Report(data["student"], data["exam"], problems, data["source"], data["warnings"])


def _error_record(error: InputError | InternalError) -> tuple[str, str]:
    if isinstance(error, InternalError):
        return "bug", json.dumps([error.source, error.trace, error.summary])
    return "input", json.dumps([error.source, error.line, error.message])


def _error_from(kind: str, text: str):
    values = json.loads(text)
    return InternalError(*values) if kind == "bug" else InputError(*values)


# ----------------------------------------------------------------------------- the store


class ReportStore:
    """Outcomes of a batch, by file; reports read back ordered by student."""

    def __init__(self, path: Path | None = None, run: str = ""):
        self.path = path
        self.resumed = 0
        self._db = sqlite3.connect(str(path) if path is not None else "", isolation_level=None)
        self._db.execute("PRAGMA synchronous = NORMAL")
        if path is not None:
            self._db.execute("PRAGMA journal_mode = WAL")
        self._db.executescript("""
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
            CREATE TABLE IF NOT EXISTS outcomes (seq INTEGER PRIMARY KEY, file TEXT, hash TEXT, kind TEXT,
                                                 student TEXT, source TEXT, data TEXT);
            CREATE INDEX IF NOT EXISTS by_file ON outcomes (file, hash);
            CREATE INDEX IF NOT EXISTS by_student ON outcomes (kind, student, source, seq);
        """)
        stamp = f"{SCHEMA}:{run}"
        found = self._db.execute("SELECT value FROM meta WHERE key = 'run'").fetchone()
        if found is None or found[0] != stamp:
            self.changed = found is not None  # a state file of another run (other problems, limits or version)
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM outcomes")
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('run', ?)", (stamp,))
            self._db.execute("COMMIT")
        else:
            self.changed = False
        self._finished: set[tuple[str, str]] | None = None

    @classmethod
    def for_output(cls, output, run: str) -> ReportStore:
        return cls(state_path(output), run)

    def finished(self, file: str, digest: str) -> bool:
        """Whether this file, with this content, was graded by an earlier (interrupted) run."""
        if self._finished is None:
            self._finished = set(self._db.execute("SELECT file, hash FROM outcomes").fetchall())
        return bool(digest) and (_storable(file), digest) in self._finished

    def add(self, window: list[tuple[str, str, Report | InputError | InternalError]]) -> None:
        """One window of outcomes, committed at once."""
        rows = []
        for file, digest, outcome in window:
            if isinstance(outcome, Report):
                rows.append((_storable(file), digest, "report", _storable(outcome.student), _storable(outcome.source),
                             report_record(outcome)))
            else:
                kind, data = _error_record(outcome)
                rows.append((_storable(file), digest, kind, "", _storable(outcome.source), data))
        self._db.execute("BEGIN")
        self._db.executemany("INSERT INTO outcomes (file, hash, kind, student, source, data) VALUES (?, ?, ?, ?, ?, ?)",
                             rows)
        self._db.execute("COMMIT")

    def count(self) -> int:
        return self._db.execute("SELECT count(*) FROM outcomes WHERE kind = 'report'").fetchone()[0]

    def reports(self) -> Iterator[Report]:
        """Every report, ordered by student (then file), read a row at a time."""
        cursor = self._db.execute("SELECT data FROM outcomes WHERE kind = 'report' ORDER BY student, source, seq")
        for (data,) in cursor:
            yield report_from_record(data)

    def errors(self) -> list[InputError]:
        return [_error_from(k, d) for k, d in
                self._db.execute("SELECT kind, data FROM outcomes WHERE kind = 'input' ORDER BY seq")]

    def bugs(self) -> list[InternalError]:
        return [_error_from(k, d) for k, d in
                self._db.execute("SELECT kind, data FROM outcomes WHERE kind = 'bug' ORDER BY seq")]

    def close(self, finished: bool = False) -> None:
        """finished: the output is written, so a resume state has done its work and goes."""
        self._db.close()
        if finished and self.path is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)


class Reports:
    """The reports of a run as renderers read them: iterable (again and again), with a length."""

    def __init__(self, source):
        self._source = source

    def __iter__(self) -> Iterator[Report]:
        if isinstance(self._source, ReportStore):
            return self._source.reports()
        return iter(self._source)

    def __len__(self) -> int:
        return self._source.count() if isinstance(self._source, ReportStore) else len(self._source)

    def __bool__(self) -> bool:
        return len(self) > 0

    def first(self) -> Report | None:
        return next(iter(self), None)
