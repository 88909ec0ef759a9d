"""The verdict cache: SQLite in WAL mode, every entry authenticated, every fault a miss.

Keys include the examcheck version, a fingerprint of the checker's rules (its source), the part's
fingerprint and the answer as written (normalised), so an upgrade or an edited problem never
serves an old verdict.  Each entry carries an HMAC-SHA256 made with a secret kept outside the
cache folder ($EXAMCHECK_CACHE_KEY, or $XDG_CONFIG_HOME/examcheck/cache.key created with mode
0600 on first use), and is re-validated when read: anything forged, foreign, malformed or out of
range is a miss.  A read-only, corrupt, locked or foreign cache never fails or slows a run: it
degrades to misses, with one warning.

The output of a run is a function of its inputs and options, never of the cache's history: an entry is
stored under the answer key and the limits its verdict was decided under (the part's time limit and the
workers' memory limit), and served only to a run with the same limits.  A verdict reached in 3 s is not
served to a run whose limit is 1 s (where it would be "too complex"), nor a time-out to a run with more
time.  An entry under other limits is a plain miss (not "malformed").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import secrets
import sqlite3
import stat
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from examcheck import __version__
from examcheck.answertests import Verdict
from examcheck.limits import DEFAULT_MEMORY_MB, DEFAULT_SECONDS
from examcheck.model import STATUSES

DB_NAME = "verdicts.sqlite"
OWN_NAMES = (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", f"{DB_NAME}-journal", "references")  # what a cache folder holds
KEY_ENV = "EXAMCHECK_CACHE_KEY"
MAX_PAYLOAD = 64 * 1024
FLUSH_EVERY = 256
BUSY_SECONDS = 0.05
_RULES_EXCLUDED = ("cli.py", "engine.py", "batch.py", "cache.py", "stream.py", "inputs.py", "outputs.py", "render")


@lru_cache(maxsize=1)
def rules_fingerprint() -> str:
    """A hash of the source of everything that decides a verdict (parsing, answer tests, families, ...)."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if relative.parts[0] in _RULES_EXCLUDED:
            continue
        digest.update(str(relative).encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            pass
    return digest.hexdigest()[:16]


rules_fingerprint.keeps_across_tasks = True  # the sandbox clears every other cache before each task


def part_fingerprint(problem_set, problem, part) -> str:
    """Changes whenever anything in the problem file that decides the part's verdict changes."""
    spec = {"exam": problem_set.exam, "family": problem.family, "given": problem.given,
            "part": {k: v for k, v in vars(part).items()
                     if k not in ("line", "key_line", "prompt", "key", "rubric")}}
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:16]


def normalised_answer(written) -> str:
    text = json.dumps(written, sort_keys=True, default=str, ensure_ascii=False)
    return " ".join(text.split())


def answer_key(fingerprint: str, written) -> str:
    """The cache and dedup key of one answer to one part."""
    payload = f"{__version__}\0{rules_fingerprint()}\0{fingerprint}\0{normalised_answer(written)}"
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()


def entry_key(key: str, seconds: float, memory_mb: int) -> str:
    """Where an answer's verdict is stored: its answer key and the limits the verdict was decided under."""
    scope = f"verdict under limits\0{key}\0{float(seconds).hex()}\0{int(memory_mb)}"
    return hashlib.sha256(scope.encode()).hexdigest()


# ----------------------------------------------------------------------------- the secret


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "examcheck"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "examcheck"


class NoSecret(Exception):
    pass


def load_secret(create: bool = True) -> tuple[bytes, Path | None]:
    """(secret, the file it is kept in, or None when it comes from the environment).  create False: a missing
    key file is not made (the secret is then empty: nothing can be authenticated, nothing is created)."""
    given = os.environ.get(KEY_ENV)
    if given:
        return given.encode(), None
    path = config_dir() / "cache.key"
    try:
        return _read_key(path), path
    except FileNotFoundError:
        if not create:
            return b"", path
    except OSError as exc:
        raise NoSecret(f"cannot read the cache key {path}: {exc.strerror or exc}") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
    except FileExistsError:
        pass  # another run made it first
    except OSError as exc:
        raise NoSecret(f"cannot create the cache key {path}: {exc.strerror or exc}") from None
    try:
        return _read_key(path), path
    except OSError as exc:
        raise NoSecret(f"cannot read the cache key {path}: {exc.strerror or exc}") from None


KEY_MAX_BYTES = 4096


def _read_key(path: Path) -> bytes:
    """The key file's secret: a regular file only (a FIFO or a device would block or never end)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(0, "not a regular file")
        if info.st_size > KEY_MAX_BYTES:
            raise OSError(0, f"the key is too long: {info.st_size} bytes (examcheck makes 65; delete it to make a new one)")
        data = handle.read(KEY_MAX_BYTES + 1).strip()
    if len(data) > KEY_MAX_BYTES:
        raise OSError(0, "the key is too long (examcheck makes 65 bytes; delete it to make a new one)")
    if len(data) < 32:
        raise OSError(0, "the key is too short (delete it to make a new one)")
    return data


# ----------------------------------------------------------------------------- the store


VERDICT_FIELDS = {"score", "status", "feedback", "note", "interpreted", "seconds"}
FIELDS = VERDICT_FIELDS | {"memory_mb"}  # an entry of the cache: a verdict and the limits it was decided under


def _checked(data) -> Verdict | None:
    """The verdict in a stored mapping, or None unless every field is what a verdict can be."""
    score, status = data["score"], data["status"]
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score) or not 0 <= score <= 1:
        return None
    if status not in STATUSES or status in ("missing", "ungraded"):
        return None
    if not all(isinstance(data[k], str) for k in ("feedback", "note", "interpreted")):
        return None
    seconds = data["seconds"]
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        return None
    if status == "correct" and score != 1 or status in ("incorrect", "invalid", "undecided") and score != 0:
        return None
    return Verdict(float(score), status, data["feedback"], data["note"], data["interpreted"])


def _verdict_from(payload: str, seconds: float = 0.0) -> Verdict | None:
    """A verdict stored without its limits (the --resume state, whose run fingerprint holds the limits), or None
    unless every field is what a verdict can be.  seconds: unused, kept for the callers."""
    if len(payload) > MAX_PAYLOAD:
        return None
    data = json.loads(payload)
    if not isinstance(data, dict) or set(data) != VERDICT_FIELDS:
        return None
    return _checked(data)


def _entry_from(payload: str) -> tuple[Verdict, float, int] | None:
    """(a verdict, the time and memory limits it was decided under) from a cache entry, or None unless every
    field is what it can be."""
    if len(payload) > MAX_PAYLOAD:
        return None
    data = json.loads(payload)
    if not isinstance(data, dict) or set(data) != FIELDS:
        return None
    memory_mb = data["memory_mb"]
    if isinstance(memory_mb, bool) or not isinstance(memory_mb, int):
        return None
    verdict = _checked(data)
    return None if verdict is None else (verdict, float(data["seconds"]), memory_mb)


def cache_presence(folder: Path) -> tuple[str, str]:
    """Whether FOLDER holds a verdict cache, looking only (nothing is created): ("cache", ""); ("none", "") when
    there is none (no such folder, or a folder holding nothing but what examcheck keeps there); or ("other",
    what was expected) when something else is there."""
    expected = "expected the folder given to grade --cache, holding verdicts.sqlite"
    try:
        info = os.stat(folder)
    except (FileNotFoundError, NotADirectoryError):
        if os.path.islink(folder):
            return "other", f"a symbolic link to {os.readlink(folder)!r}, which does not exist ({expected})"
        return "none", ""
    except OSError as exc:
        return "other", f"cannot be inspected ({exc.strerror or exc})"
    if not stat.S_ISDIR(info.st_mode):
        return "other", f"not a folder ({expected})"
    if os.path.lexists(Path(folder) / DB_NAME):
        return "cache", ""
    try:
        names = os.listdir(folder)
    except OSError as exc:
        return "other", f"cannot be inspected ({exc.strerror or exc})"
    if all(name in OWN_NAMES for name in names):
        return "none", ""
    return "other", f"not a verdict cache: it holds other files and no {DB_NAME} ({expected})"


def disk_bytes(folder: Path) -> int:
    """The size on disk of the cache in FOLDER: its database and its write-ahead log (what another run has
    not yet checkpointed into it); SQLite's shared-memory index is not data and is not counted."""
    total = 0
    for name in (DB_NAME, f"{DB_NAME}-wal"):
        try:
            info = os.lstat(Path(folder) / name)
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode):
            total += info.st_size
    return total


def _is_empty_file(path: Path) -> bool:
    """A 0-byte regular file (not a link): an empty SQLite database, to be given its table."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size == 0


def _uri(path: Path) -> str:
    """An SQLite URI opening an existing database only (never creating one)."""
    from urllib.parse import quote

    return f"file:{quote(str(Path(path).absolute()))}?mode=rw"


class VerdictCache:
    """Get and put verdicts by answer key and limits.  folder None: a cache of this run only (nothing kept after it).

    memory_mb: the memory limit of the workers that check answers (a verdict is served only under the same one).
    create False (`examcheck cache stats|clear`): nothing is created (no folder, database or key file); an
    existing database is opened as it is.  initialise False: a 0-byte database is shown as empty, not written."""

    def __init__(self, folder: Path | None = None, warn: Callable[[str], None] | None = None,
                 memory_mb: int = DEFAULT_MEMORY_MB, create: bool = True, initialise: bool = True):
        self.folder = Path(folder) if folder is not None else None
        self.warn = warn or (lambda message: None)
        self.memory_mb = int(memory_mb)
        self.hits = self.misses = self.rejected = 0
        self.warned = False
        self.readable = self.writable = False
        self.empty = False  # a 0-byte database, shown without being initialised
        self.problem = ""  # why the cache cannot be read (or written), for `examcheck cache stats`
        self._pending: list[tuple[str, str, str]] = []
        self._unflushed: dict[str, str] = {}  # entry key -> payload of what was put and is not written yet
        self._db: sqlite3.Connection | None = None
        self._secret = b""
        if self.folder is not None:
            self._open(create, initialise)
        else:
            self._open_private()

    @classmethod
    def load(cls, folder: Path | None, warn: Callable[[str], None] | None = None) -> VerdictCache:
        return cls(folder, warn)

    # faults become misses, with one warning ----------------------------------------------------

    def _fault(self, message: str, reading: bool = True) -> None:
        if not self.problem or (reading and self.readable):
            self.problem = message
        if not self.warned:
            self.warned = True
            self.warn(f"verdict cache {self.folder}: {message}; checking without it")
        self.writable = False
        if reading:
            self.readable = False

    def _open(self, create: bool, initialise: bool) -> None:
        try:
            self._secret, key_path = load_secret(create)
        except NoSecret as exc:
            self._fault(str(exc))
            return
        folder = self.folder.resolve() if self.folder.exists() else self.folder.absolute()
        if key_path is not None and key_path.resolve().is_relative_to(folder):
            self._fault(f"the cache key {key_path} must not be inside the cache folder")
            return
        path = self.folder / DB_NAME
        if create:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                kind, why = cache_presence(self.folder)
                self._fault(why if kind == "other" else f"cannot make the folder ({exc.strerror or exc})")
                return
        empty = _is_empty_file(path)
        try:
            if (create and not os.path.lexists(path)) or (empty and initialise):
                self._db = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY, payload TEXT, mac TEXT)")
            elif empty:
                self.empty = self.readable = True
                self.writable = os.access(path, os.W_OK)
                return
            else:
                self._db = sqlite3.connect(_uri(path), uri=True, timeout=BUSY_SECONDS, isolation_level=None,
                                           check_same_thread=False)
            self._db.execute("SELECT key, payload, mac FROM verdicts LIMIT 1").fetchall()
            self.readable = True
        except (sqlite3.Error, OSError) as exc:
            self._fault(f"cannot be read ({exc})")
            self._close_db()
            return
        try:
            if initialise and self._db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                self._db.execute("PRAGMA journal_mode=WAL")
            self.writable = os.access(self.folder, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))
            if not self.writable:
                self._fault("is read-only", reading=False)
        except (sqlite3.Error, OSError) as exc:
            self._fault(f"cannot be written ({exc})", reading=False)

    def _open_private(self) -> None:
        """A cache of this run only: an SQLite temporary file (unlinked at once, so nothing is left even
        after SIGKILL) with a random secret; it keeps the batch's dedup exact at flat memory."""
        try:
            self._db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
            self._db.execute("CREATE TABLE verdicts (key TEXT PRIMARY KEY, payload TEXT, mac TEXT)")
            self._secret = secrets.token_bytes(32)
            self.readable = self.writable = True
        except sqlite3.Error:
            self._close_db()

    def _mac(self, key: str, payload: str) -> str:
        return hmac.new(self._secret, f"{key}\0{payload}".encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

    def entry_key(self, key: str, seconds: float = DEFAULT_SECONDS) -> str:
        """Where this answer's verdict under this run's limits is stored."""
        return entry_key(key, seconds, self.memory_mb)

    # get and put ------------------------------------------------------------------------------

    def get(self, key: str, seconds: float = DEFAULT_SECONDS) -> Verdict | None:
        """The verdict of answer KEY decided under exactly these limits (time: seconds; memory: the cache's),
        or None: a verdict under other limits is never served (it might differ from one made under these)."""
        verdict = self._lookup(self.entry_key(key, seconds), float(seconds))
        if verdict is None:
            self.misses += 1
        else:
            self.hits += 1
        return verdict

    def _lookup(self, stored_at: str, seconds: float) -> Verdict | None:
        if stored_at in self._unflushed:  # put by this run, not written yet: found all the same (dedup stays exact)
            return self._decoded(self._unflushed[stored_at], seconds)
        if not self.readable or self._db is None:
            return None
        try:
            row = self._db.execute("SELECT payload, mac FROM verdicts WHERE key = ?", (stored_at,)).fetchone()
        except sqlite3.OperationalError:
            return None  # locked by another writer for longer than we wait: a miss
        except (sqlite3.Error, OSError) as exc:
            self._fault(f"cannot be read ({exc})")
            return None
        if row is None:
            return None
        payload, mac = row
        authentic = isinstance(payload, str) and isinstance(mac, str) and hmac.compare_digest(mac, self._mac(stored_at, payload))
        if not authentic:
            self._reject("entries not written with this examcheck's cache key are ignored")
            return None
        return self._decoded(payload, seconds, report=True)

    def _decoded(self, payload: str, seconds: float, report: bool = False) -> Verdict | None:
        try:
            found = _entry_from(payload)
        except (ValueError, RecursionError, TypeError):
            found = None
        if found is None:
            if report:
                self._reject("malformed entries are ignored")
            return None
        verdict, stored_seconds, stored_memory = found
        if stored_seconds != seconds or stored_memory != self.memory_mb:
            return None  # authentic and well formed, decided under other limits: a plain miss
        return verdict

    def _reject(self, message: str) -> None:
        self.rejected += 1
        if not self.warned:
            self.warned = True
            self.warn(f"verdict cache {self.folder}: {message}")

    def put(self, key: str, verdict: Verdict, seconds: float = DEFAULT_SECONDS) -> None:
        """Keep the verdict of answer KEY, decided under these limits (time: seconds; memory: the cache's)."""
        if verdict.note == "internal_error" or not self.writable:
            return
        seconds = float(seconds)
        payload = json.dumps({"score": verdict.score, "status": str(verdict.status), "feedback": verdict.feedback,
                              "note": verdict.note, "interpreted": verdict.interpreted, "seconds": seconds,
                              "memory_mb": self.memory_mb})
        stored_at = self.entry_key(key, seconds)
        self._pending.append((stored_at, payload, self._mac(stored_at, payload)))
        self._unflushed[stored_at] = payload
        if len(self._pending) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        """Write what was put; a locked database keeps them for the next flush."""
        if not self._pending or not self.writable or self._db is None:
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?)", self._pending)
            self._db.execute("COMMIT")
            self._forget_pending()
        except sqlite3.OperationalError as exc:
            self._rollback()
            if "locked" not in str(exc) and "busy" not in str(exc):
                self._fault(f"cannot be written ({exc})", reading=False)
            elif len(self._pending) > 50 * FLUSH_EVERY:
                self._forget_pending()  # another run holds it for long: these verdicts are not remembered
        except (sqlite3.Error, OSError) as exc:
            self._rollback()
            self._fault(f"cannot be written ({exc})", reading=False)

    def _forget_pending(self) -> None:
        self._pending.clear()
        self._unflushed.clear()

    def _rollback(self) -> None:
        try:
            self._db.execute("ROLLBACK")
        except (sqlite3.Error, OSError):
            pass

    def close(self) -> None:
        if self._db is not None and self._pending and self.writable:
            try:
                self._db.execute("PRAGMA busy_timeout = 1000")  # a last, patient try
            except sqlite3.Error:
                pass
            self.flush()
            if self._pending:
                self._fault(f"is busy (another run is writing); {len(self._pending)} verdict(s) not saved", reading=False)
                self._forget_pending()
        self._close_db()

    def _close_db(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
            self._db = None

    # maintenance ---------------------------------------------------------------------------------

    def stats(self) -> dict:
        """Entries (every limit) and size; "bytes" is measured now: after close() it is the size on disk."""
        entries = 0
        if self.readable and self._db is not None:
            try:
                entries = self._db.execute("SELECT count(*) FROM verdicts").fetchone()[0]
            except (sqlite3.Error, OSError) as exc:  # the first page read, a later one is damaged
                entries = 0
                self._fault(f"cannot be read ({exc})")
        elif self.readable and not self.empty:
            self._fault("cannot be read (it is not open)")
        size = disk_bytes(self.folder) if self.folder else 0
        return {"folder": str(self.folder) if self.folder else None, "entries": entries, "bytes": size,
                "readable": self.readable, "writable": self.writable, "problem": self.problem}

    def clear(self) -> int:
        """Remove every entry; the number removed."""
        removed = self.stats()["entries"]
        if self._db is not None and self.writable:
            try:
                self._db.execute("DELETE FROM verdicts")
                self._db.execute("VACUUM")
            except sqlite3.Error as exc:
                self._fault(f"cannot be cleared ({exc})", reading=False)
                return 0
        return removed
