"""Where a batch's reports go as each file finishes: an SQLite store on disk, read back in student
order at the end, so memory stays flat in the number of files.

Without --resume the store is an SQLite temporary file (unlinked as soon as it is opened, so
nothing is left behind even after SIGKILL).  With --resume it is a state file beside the output
(`.NAME.examcheck-resume`): a manifest of finished files by content hash, with their outcomes;
each window of files is committed at once, so an interrupted run (Ctrl-C, SIGKILL) resumes
without regrading them.  The output itself is written only at the end, atomically.

A resumed run keeps only the outcomes of files that are still among its inputs with the same
content (an edited, renamed or removed file leaves no stale report behind), so its output is that
of a fresh run on the current inputs.  The state file is held with an exclusive flock while a run
uses it: a second run with the same -o and --resume is refused (ResumeBusy), never interleaved.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from examcheck.bugs import InternalError
from examcheck.model import FollowThroughResult, PartResult, ProblemResult, Report, Status
from examcheck.yamlio import InputError

SCHEMA = 1


class ResumeBusy(Exception):
    """Another run holds this resume state (the same -o with --resume, still running)."""


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
                                             q.interpreted, q.note, q.line,
                                             q.follow_through.as_dict() if q.follow_through else None]
                                            for q in p.parts],
                      **({"variant": p.variant} if p.variant is not None else {})} for p in report.problems],
    }, ensure_ascii=False)


_STATUS = {status.value: status for status in Status}


def report_from_record(text: str) -> Report:
    data = json.loads(text)
    problems = [ProblemResult(p["id"], [PartResult(q[0], _STATUS[q[1]], *q[2:10],
                                                   follow_through=FollowThroughResult.from_dict(q[10] if len(q) > 10 else None))
                                        for q in p["parts"]], p.get("variant"))
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
        self.dropped = 0  # outcomes of an earlier run whose files changed, moved or went since
        self._lock = _lock_state(path) if path is not None else -1
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
            CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY, data TEXT);
        """)
        stamp = f"{SCHEMA}:{run}"
        found = self._db.execute("SELECT value FROM meta WHERE key = 'run'").fetchone()
        if found is None or found[0] != stamp:
            self.changed = found is not None  # a state file of another run (other problems, limits or version)
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM outcomes")
            self._db.execute("DELETE FROM verdicts")
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('run', ?)", (stamp,))
            self._db.execute("COMMIT")
        else:
            self.changed = False

    @classmethod
    def for_output(cls, output, run: str) -> ReportStore:
        return cls(state_path(output), run)

    def finished(self, file: str, digest: str) -> bool:
        """Whether this file, with this content, was graded by an earlier (interrupted) run."""
        return bool(digest) and self._db.execute("SELECT 1 FROM outcomes WHERE file = ? AND hash = ? LIMIT 1",
                                                 (_storable(file), digest)).fetchone() is not None

    def current_hash(self, file: str) -> str:
        """The content hash keep_only was given for this input file ('' if none: it could not be read)."""
        row = self._db.execute("SELECT hash FROM current WHERE file = ?", (_storable(file),)).fetchone()
        return row[0] if row is not None else ""

    def verdict(self, key: str):
        """A verdict this run (or the interrupted one it resumes) already found for this answer key, or None."""
        from examcheck.cache import _verdict_from

        row = self._db.execute("SELECT data FROM verdicts WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            return _verdict_from(row[0], 0.0)
        except (ValueError, TypeError, RecursionError):
            return None

    def add_verdicts(self, found: list) -> None:
        """(answer key, Verdict) pairs, committed at once: the checks of a window are durable as they finish,
        not only when the window's files are."""
        rows = [(key, json.dumps({"score": v.score, "status": str(v.status), "feedback": v.feedback, "note": v.note,
                                  "interpreted": v.interpreted, "seconds": 0.0}))
                for key, v in found if v.note != "internal_error"]
        if rows:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO verdicts VALUES (?, ?)", rows)
            self._db.execute("COMMIT")

    def keep_only(self, current: Iterable[tuple[str, str]] | dict[str, str]) -> None:
        """Forget every outcome of an earlier run that is not of a current input as it is now ((file, content
        hash) pairs, read once: kept in a table of the state, not in memory), and any second outcome of one file;
        outcomes not of a file (bugs met before grading) go too: this run meets them again."""
        if isinstance(current, dict):
            current = current.items()
        self._db.execute("BEGIN")
        self._db.execute("CREATE TEMP TABLE IF NOT EXISTS current (file TEXT PRIMARY KEY, hash TEXT)")
        self._db.execute("DELETE FROM current")
        self._db.executemany("INSERT OR REPLACE INTO current VALUES (?, ?)",
                             ((_storable(f), d) for f, d in current if d))
        before = self._db.execute("SELECT count(*) FROM outcomes WHERE file != ''").fetchone()[0]
        self._db.execute("DELETE FROM outcomes WHERE file = '' OR (file, hash) NOT IN (SELECT file, hash FROM current)")
        self._db.execute("DELETE FROM outcomes WHERE seq NOT IN (SELECT min(seq) FROM outcomes GROUP BY file, hash)")
        after = self._db.execute("SELECT count(*) FROM outcomes").fetchone()[0]
        self._db.execute("COMMIT")
        self.dropped = before - after

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
        empty = self.path is not None and not finished and self.count_all() == 0
        self._db.close()
        if (finished or empty) and self.path is not None:  # removed while still locked: no other run reuses it
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        if self._lock >= 0:
            os.close(self._lock)
            self._lock = -1

    def count_all(self) -> int:
        """Outcomes and verdicts kept: progress a resume would use."""
        return sum(self._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in ("outcomes", "verdicts"))


def _lock_state(path: Path) -> int:
    """An exclusive flock on the state file (created if need be), held until close; ResumeBusy if another
    run holds it.  The lock is taken on the file the name still names (a finishing run removes it)."""
    import fcntl

    for _ in range(20):
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ResumeBusy(f"{path}: another examcheck run is using this resume state (the same -o with --resume); "
                             "wait for it to finish, or write to another -o") from None
        except OSError:
            return fd  # no flock on this file system: unlocked, as before
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # removed by the run that finished meanwhile: lock the new one
    raise ResumeBusy(f"{path}: the resume state keeps being replaced by another run")


class Reports:
    """The reports of a run as renderers read them: iterable (again and again), with a length."""

    def __init__(self, source):
        self._source = source

    @property
    def by_student(self) -> bool:
        """Whether every student's reports come together (a store reads them back ordered by student)."""
        return isinstance(self._source, ReportStore)

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
