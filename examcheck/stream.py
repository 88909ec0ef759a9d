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

The state is untrusted input, as the verdict cache is.  Something at its name (or its -wal/-shm/-journal
companions' names) that is not a regular file (a folder, FIFO, device, or a symlink to one) is an input error
(ResumeUnusable, exit 2), never opened; a regular file that is not a usable state (not SQLite, damaged,
another version's tables) or a symlink to a file (never written through) is replaced, with one warning, and
every file graded again.  Every stored outcome and verdict carries an HMAC-SHA256 (a key derived from the
verdict cache's secret, bound to the run's fingerprint): one that does not verify is a miss (graded again),
with one warning; without the secret nothing of an earlier run is reused.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from examcheck.bugs import InternalError
from examcheck.model import FollowThroughResult, PartResult, ProblemResult, Report, Status
from examcheck.outputs import file_kind
from examcheck.yamlio import InputError

SCHEMA = 2  # 2: every outcome and verdict carries a MAC
COMPANIONS = ("-wal", "-shm", "-journal")  # SQLite's files beside the state
COLUMNS = {"meta": ["key", "value"],
           "outcomes": ["seq", "file", "hash", "kind", "student", "source", "data", "mac"],
           "verdicts": ["key", "data", "mac"]}
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


class ResumeError(Exception):
    """The resume state cannot be used (an input error: exit 2); the message names the path and why."""


class ResumeBusy(ResumeError):
    """Another run holds this resume state (the same -o with --resume, still running)."""


class ResumeUnusable(ResumeError):
    """Something that is not a regular file (folder, FIFO, device, a symlink to one) sits at the state's name."""


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

    def __init__(self, path: Path | None = None, run: str = "", warn=None):
        self.path = path
        self.resumed = 0
        self.dropped = 0  # outcomes of an earlier run whose files changed, moved or went since
        self.forged = 0  # stored records whose MAC did not verify (graded again)
        self.changed = False
        self._warn = warn or (lambda message: None)
        self._warned_forged = False
        self._stamp = f"{SCHEMA}:{run}"
        self._key = b""
        if path is None:
            self._lock = -1
            self._db = sqlite3.connect("", isolation_level=None)
            self._db.execute("PRAGMA synchronous = NORMAL")
            _create_tables(self._db)
            self._db.execute("INSERT INTO meta VALUES ('run', ?)", (self._stamp,))
            return
        notes: list[str] = []
        self._lock = _lock_state(path, notes)
        try:
            self._key, trusted = _state_key(path, self._warn)
            self._db = self._open_state(notes)
            try:
                found = self._db.execute("SELECT value FROM meta WHERE key = 'run'").fetchone()
            except sqlite3.Error as exc:  # a damaged stamp (not even text): another run's, or none
                with contextlib.suppress(sqlite3.Error):
                    self._db.close()
                self._db = self._replaced(f"not a usable resume state ({exc or type(exc).__name__})")
                found = None
            if found is None or found[0] != self._stamp or not trusted:
                # a state of another run (other problems, limits or version), or one that cannot be authenticated
                self.changed = found is not None and found[0] != self._stamp
                self._db.execute("BEGIN")
                self._db.execute("DELETE FROM outcomes")
                self._db.execute("DELETE FROM verdicts")
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('run', ?)", (self._stamp,))
                self._db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(OSError):
                if os.fstat(self._lock).st_size == 0:  # made by this run, nothing in it: not left behind
                    _remove_state_files(path, companions=False)
            self._release()
            raise

    def _open_state(self, notes: list[str]) -> sqlite3.Connection:
        """The locked state file as a database of this schema: replaced (one warning) if it is not one."""
        _unlink_companion_links(self.path, notes)
        db, problem = _connect_checked(self.path)
        if problem is None and not notes:
            return db
        if db is not None:
            db.close()
        return self._replaced("; ".join(notes) or f"not a usable resume state ({problem})")

    def _replaced(self, why: str) -> sqlite3.Connection:
        """A fresh, empty state in place of the locked file (said once, with why)."""
        self._warn(f"{self.path}: {why}; it is replaced and every file graded again")
        os.ftruncate(self._lock, 0)  # the locked file itself: an empty file is an empty database
        _remove_state_files(self.path, main=False)
        db, problem = _connect_checked(self.path)
        if problem is not None:
            raise ResumeUnusable(f"{self.path}: the resume state cannot be written ({problem})")
        return db

    def _drop_forged(self) -> int:
        """Remove every outcome whose MAC does not verify, and rebuild the indexes from what is left; a state
        damaged past what opening it checks (a row that cannot be read) is replaced.  The number removed."""
        problem = ""
        cursor = None
        try:
            self._db.execute("BEGIN")
            cursor = self._db.execute("SELECT seq, mac, file, hash, kind, student, source, data FROM outcomes")
            forged = [seq for seq, mac, *fields in cursor if not self._verifies(mac, "outcome", *fields)]
            cursor.close()
            self._db.executemany("DELETE FROM outcomes WHERE seq = ?", ((seq,) for seq in forged))
            self._db.execute("REINDEX")
            self._db.execute("COMMIT")
            return len(forged)
        except sqlite3.Error as exc:
            problem = str(exc) or type(exc).__name__
        if cursor is not None:
            cursor.close()
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("ROLLBACK")
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        self._db = self._replaced(f"not a usable resume state ({problem})")
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('run', ?)", (self._stamp,))
        return 0

    def _mac(self, *fields: str) -> str:
        message = json.dumps([self._stamp, *fields], ensure_ascii=False).encode("utf-8", "surrogatepass")  # unambiguous
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _verifies(self, mac, *fields) -> bool:
        return (isinstance(mac, str) and mac.isascii() and all(isinstance(f, str) for f in fields)
                and hmac.compare_digest(mac, self._mac(*fields)))

    def _reject(self, count: int) -> None:
        self.forged += count
        if count and not self._warned_forged:
            self._warned_forged = True
            self._warn(f"{self.path}: records of the resume state that this examcheck did not write with its key "
                       "(forged, damaged, or written without the cache key) are ignored; their files are graded again")

    @classmethod
    def for_output(cls, output, run: str, warn=None) -> ReportStore:
        return cls(state_path(output), run, warn)

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

        try:
            row = self._db.execute("SELECT data, mac FROM verdicts WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:  # a damaged page: a miss
            self._reject(1)
            return None
        if row is None:
            return None
        if self.path is not None and not self._verifies(row[1], "verdict", key, row[0]):
            self._reject(1)
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
        rows = [(key, data, self._mac("verdict", key, data) if self.path is not None else "") for key, data in rows]
        if rows:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?)", rows)
            self._db.execute("COMMIT")

    def keep_only(self, current: Iterable[tuple[str, str]] | dict[str, str]) -> None:
        """Forget every outcome of an earlier run that is not of a current input as it is now ((file, content
        hash) pairs, read once: kept in a table of the state, not in memory), and any second outcome of one file;
        outcomes not of a file (bugs met before grading) go too: this run meets them again.  Outcomes whose MAC
        does not verify go first (with one warning): their files are graded again."""
        if isinstance(current, dict):
            current = current.items()
        forged = self._drop_forged()
        self._db.execute("BEGIN")
        self._db.execute("CREATE TEMP TABLE IF NOT EXISTS current (file TEXT PRIMARY KEY, hash TEXT)")
        self._db.execute("DELETE FROM current")
        self._db.executemany("INSERT OR REPLACE INTO current VALUES (?, ?)",
                             ((_storable(f), d) for f, d in current if d))
        before = self._db.execute("SELECT count(*) FROM outcomes WHERE file != ''").fetchone()[0]
        self._db.execute("DELETE FROM outcomes WHERE file IS NULL OR file = '' OR NOT EXISTS "
                         "(SELECT 1 FROM current WHERE current.file = outcomes.file AND current.hash = outcomes.hash)")
        self._db.execute("DELETE FROM outcomes WHERE seq NOT IN (SELECT min(seq) FROM outcomes GROUP BY file, hash)")
        after = self._db.execute("SELECT count(*) FROM outcomes").fetchone()[0]
        self._db.execute("COMMIT")
        self.dropped = before - after
        self._reject(forged)

    def add(self, window: list[tuple[str, str, Report | InputError | InternalError]]) -> None:
        """One window of outcomes, committed at once."""
        rows = []
        for file, digest, outcome in window:
            if isinstance(outcome, Report):
                row = (_storable(file), digest, "report", _storable(outcome.student), _storable(outcome.source),
                       report_record(outcome))
            else:
                kind, data = _error_record(outcome)
                row = (_storable(file), digest, kind, "", _storable(outcome.source), data)
            rows.append((*row, self._mac("outcome", *row) if self.path is not None else ""))
        self._db.execute("BEGIN")
        self._db.executemany("INSERT INTO outcomes (file, hash, kind, student, source, data, mac) VALUES (?, ?, ?, ?, ?, ?, ?)",
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
            _remove_state_files(self.path)
        self._release()

    def _release(self) -> None:
        if self._lock >= 0:
            os.close(self._lock)
            self._lock = -1

    def count_all(self) -> int:
        """Outcomes and verdicts kept: progress a resume would use."""
        return sum(self._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in ("outcomes", "verdicts"))


def _expect_file(path: str | Path) -> bool:
    """Whether a symlink is at path (not followed: the caller replaces the link itself).  Nothing there, or a
    regular file: False.  Anything else (a folder, FIFO, device, or a symlink to one) is ResumeUnusable,
    named and never opened, so nothing blocks on it and nothing is written through it."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise ResumeUnusable(f"{path}: cannot be examined ({exc.strerror or exc}); expected the resume state "
                             "(a regular file) or nothing") from None
    if stat.S_ISREG(info.st_mode):
        return False
    if stat.S_ISLNK(info.st_mode):
        try:
            target = os.stat(path)
        except OSError:
            return True  # a dangling (or looping) link: replaced, its target never created
        if stat.S_ISREG(target.st_mode):
            return True
        info = target
        what = f"a symlink to {file_kind(info.st_mode)}"
    else:
        what = file_kind(info.st_mode)
    raise ResumeUnusable(f"{path}: it is {what}; expected a regular file of examcheck's resume state for this -o, "
                         "or nothing there (move it away, or write to another -o)")


def _unlink_companion_links(path: Path, notes: list[str]) -> None:
    """Check SQLite's companions of the (locked) state: a symlink there is removed (never its target), and noted."""
    for link in [f"{path}{suffix}" for suffix in COMPANIONS if _expect_file(f"{path}{suffix}")]:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(link)
        notes.append(f"a symlink was at {link} (removed, not followed: its target is untouched)")


def _create_tables(db: sqlite3.Connection) -> None:
    db.executescript("""
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
        CREATE TABLE IF NOT EXISTS outcomes (seq INTEGER PRIMARY KEY, file TEXT, hash TEXT, kind TEXT,
                                             student TEXT, source TEXT, data TEXT, mac TEXT);
        CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY, data TEXT, mac TEXT);
    """)
    for table, columns in COLUMNS.items():
        found = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
        if found != columns:
            raise sqlite3.DatabaseError(f"its table {table} has columns {found}, not {columns}: another version's state")
    db.executescript("""
        CREATE INDEX IF NOT EXISTS by_file ON outcomes (file, hash);
        CREATE INDEX IF NOT EXISTS by_student ON outcomes (kind, student, source, seq);
    """)


def _connect_checked(path: Path) -> tuple[sqlite3.Connection | None, str | None]:
    """(the state's database, None), or (None, why it is not a usable state of this schema)."""
    db = None
    try:
        db = sqlite3.connect(str(path), isolation_level=None)
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA journal_mode = WAL")
        check = db.execute("PRAGMA quick_check(1)").fetchone()
        if check is None or check[0] != "ok":
            raise sqlite3.DatabaseError(f"damaged: {check[0] if check else 'no answer'}")
        _create_tables(db)
        return db, None
    except (sqlite3.Error, OSError, ValueError) as exc:
        if db is not None:
            with contextlib.suppress(sqlite3.Error):
                db.close()
        name = getattr(exc, "sqlite_errorname", "")
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or (not name and "locked" in str(exc)):
            raise ResumeUnusable(f"{path}: another process holds a lock on the resume state ({exc}); "
                                 "wait for it, or write to another -o") from None
        return None, str(exc) or type(exc).__name__


def _state_key(path: Path, warn) -> tuple[bytes, bool]:
    """(the key the state's records are authenticated with, whether it is the user's own): derived from the
    verdict cache's secret; without it a random key of this run only, and nothing of an earlier run is trusted."""
    from examcheck.cache import NoSecret, load_secret

    try:
        secret, _ = load_secret()
    except NoSecret as exc:
        warn(f"{path}: {exc}: the resume state cannot be authenticated, so nothing in it is reused "
             "(every file is graded again)")
        return secrets.token_bytes(32), False
    return hmac.new(secret, b"examcheck resume state", hashlib.sha256).digest(), True


def _remove_state_files(path: Path, main: bool = True, companions: bool = True) -> None:
    """Unlink the state and/or its companions: regular files and symlinks only (a link, never its target)."""
    for suffix in ("",) * main + COMPANIONS * companions:
        with contextlib.suppress(OSError):
            mode = os.lstat(f"{path}{suffix}").st_mode
            if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
                os.unlink(f"{path}{suffix}")


def _lock_state(path: Path, notes: list[str]) -> int:
    """An exclusive flock on the state file (created if need be), held until close; ResumeBusy if another
    run holds it.  The lock is taken on the file the name still names (a finishing run removes it).  Only a
    regular file is opened (never through a symlink, never a FIFO or device: ResumeUnusable); a symlink at
    the name is replaced by a state of ours, with its target untouched (and said in notes)."""
    import fcntl

    for _ in range(20):
        if _expect_file(path):
            with contextlib.suppress(OSError):
                notes.append(f"a symlink to {os.readlink(path)} was there (removed, not followed: its target is untouched)")
                os.unlink(path)  # the link, not its target
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o600)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EEXIST):
                continue  # a symlink appeared meanwhile: looked at again
            what = "it is a folder" if exc.errno == errno.EISDIR else exc.strerror or str(exc)
            raise ResumeUnusable(f"{path}: cannot be opened ({what}); expected the resume state of this -o "
                                 "(a regular file) or nothing there") from None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise ResumeUnusable(f"{path}: it is {file_kind(info.st_mode)}; expected the resume state of this -o "
                                 "(a regular file) or nothing there")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ResumeBusy(f"{path}: another examcheck run is using this resume state (the same -o with --resume); "
                             "wait for it to finish, or write to another -o") from None
        except OSError:
            return fd  # no flock on this file system: unlocked, as before
        try:
            same = os.path.samestat(info, os.lstat(path))
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # removed by the run that finished meanwhile: lock the new one
    raise ResumeBusy(f"{path}: the resume state keeps being replaced by another run")


def remove_stale_state(output: str | os.PathLike) -> bool:
    """After a completed run wrote output: remove the resume state an earlier, interrupted run left beside it,
    unless a live run holds it (flock) or it is not a regular file of ours.  Whether it was removed; never raises."""
    path = state_path(output)
    try:
        import fcntl

        if not stat.S_ISREG(os.lstat(path).st_mode):
            return False
        fd = os.open(path, os.O_RDWR | _NOFOLLOW)
    except (ImportError, OSError):
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held by a live run: BlockingIOError, left alone
        if not os.path.samestat(os.fstat(fd), os.lstat(path)):
            return False
        _remove_state_files(path)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


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
