"""The verdict cache: SQLite in WAL mode, every entry authenticated, every fault a miss.

Keys include the examcheck version, a fingerprint of the checker's rules (its source), the part's
fingerprint and the answer as written (normalised), so an upgrade or an edited problem never
serves an old verdict.  Each entry carries an HMAC-SHA256 made with a secret kept outside the
cache folder ($EXAMCHECK_CACHE_KEY, or $XDG_CONFIG_HOME/examcheck/cache.key created with mode
0600 on first use), and is re-validated when read: anything forged, foreign, malformed or out of
range is a miss.  A read-only, corrupt, locked or foreign cache never fails or slows a run: it
degrades to misses, with one warning.  Time-outs are cached as such (with the limit they hit).
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
from examcheck.model import STATUSES

DB_NAME = "verdicts.sqlite"
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


# ----------------------------------------------------------------------------- the secret


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "examcheck"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "examcheck"


class NoSecret(Exception):
    pass


def load_secret() -> tuple[bytes, Path | None]:
    """(secret, the file it is kept in, or None when it comes from the environment)."""
    given = os.environ.get(KEY_ENV)
    if given:
        return given.encode(), None
    path = config_dir() / "cache.key"
    try:
        return _read_key(path), path
    except FileNotFoundError:
        pass
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


def _read_key(path: Path) -> bytes:
    """The key file's secret: a regular file only (a FIFO or a device would block or never end)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(0, "not a regular file")
        data = handle.read(4096).strip()
    if len(data) < 32:
        raise OSError(0, "the key is too short (delete it to make a new one)")
    return data


# ----------------------------------------------------------------------------- the store


def _verdict_from(payload: str, seconds: float) -> Verdict | None:
    """A verdict from a stored payload, or None unless every field is what a verdict can be."""
    if len(payload) > MAX_PAYLOAD:
        return None
    data = json.loads(payload)
    if not isinstance(data, dict) or set(data) != {"score", "status", "feedback", "note", "interpreted", "seconds"}:
        return None
    score, status = data["score"], data["status"]
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score) or not 0 <= score <= 1:
        return None
    if status not in STATUSES or status in ("missing", "ungraded"):
        return None
    if not all(isinstance(data[k], str) for k in ("feedback", "note", "interpreted")):
        return None
    stored_seconds = data["seconds"]
    if isinstance(stored_seconds, bool) or not isinstance(stored_seconds, (int, float)):
        return None
    if data["note"] == "too_complex" and "time limit" in data["feedback"] and stored_seconds < seconds:
        return None  # timed out under a tighter limit than this run's
    if status == "correct" and score != 1 or status in ("incorrect", "invalid", "undecided") and score != 0:
        return None
    return Verdict(float(score), status, data["feedback"], data["note"], data["interpreted"])


class VerdictCache:
    """Get and put verdicts by answer key.  folder None: a cache of this run only (nothing kept after it)."""

    def __init__(self, folder: Path | None = None, warn: Callable[[str], None] | None = None):
        self.folder = Path(folder) if folder is not None else None
        self.warn = warn or (lambda message: None)
        self.hits = self.misses = self.rejected = 0
        self.warned = False
        self.readable = self.writable = False
        self.problem = ""  # why the cache cannot be read (or written), for `examcheck cache stats`
        self._pending: list[tuple[str, str, str]] = []
        self._unflushed: dict[str, str] = {}  # key -> payload of what was put and is not written yet
        self._db: sqlite3.Connection | None = None
        self._secret = b""
        if self.folder is not None:
            self._open()
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

    def _open(self) -> None:
        try:
            self._secret, key_path = load_secret()
        except NoSecret as exc:
            self._fault(str(exc))
            return
        folder = self.folder.resolve() if self.folder.exists() else self.folder.absolute()
        if key_path is not None and key_path.resolve().is_relative_to(folder):
            self._fault(f"the cache key {key_path} must not be inside the cache folder")
            return
        path = self.folder / DB_NAME
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            pass
        try:
            if not path.exists():
                self._db = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY, payload TEXT, mac TEXT)")
            else:
                self._db = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False)
            self._db.execute("SELECT key, payload, mac FROM verdicts LIMIT 1").fetchall()
            self.readable = True
        except (sqlite3.Error, OSError) as exc:
            self._fault(f"cannot be read ({exc})")
            self._close_db()
            return
        try:
            if self._db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
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

    # get and put ------------------------------------------------------------------------------

    def get(self, key: str, seconds: float = 0.0) -> Verdict | None:
        verdict = self._lookup(key, seconds)
        if verdict is None:
            self.misses += 1
        else:
            self.hits += 1
        return verdict

    def _lookup(self, key: str, seconds: float) -> Verdict | None:
        if key in self._unflushed:  # put by this run, not written yet: found all the same (dedup stays exact)
            return _verdict_from(self._unflushed[key], seconds)
        if not self.readable or self._db is None:
            return None
        try:
            row = self._db.execute("SELECT payload, mac FROM verdicts WHERE key = ?", (key,)).fetchone()
        except sqlite3.OperationalError:
            return None  # locked by another writer for longer than we wait: a miss
        except (sqlite3.Error, OSError) as exc:
            self._fault(f"cannot be read ({exc})")
            return None
        if row is None:
            return None
        payload, mac = row
        if not isinstance(payload, str) or not isinstance(mac, str) or not hmac.compare_digest(mac, self._mac(key, payload)):
            self._reject("entries not written with this examcheck's cache key are ignored")
            return None
        try:
            verdict = _verdict_from(payload, seconds)
        except (ValueError, RecursionError, TypeError):
            verdict = None
        if verdict is None:
            self._reject("malformed entries are ignored")
        return verdict

    def _reject(self, message: str) -> None:
        self.rejected += 1
        if not self.warned:
            self.warned = True
            self.warn(f"verdict cache {self.folder}: {message}")

    def put(self, key: str, verdict: Verdict, seconds: float = 0.0) -> None:
        if verdict.note == "internal_error" or not self.writable:
            return
        payload = json.dumps({"score": verdict.score, "status": str(verdict.status), "feedback": verdict.feedback,
                              "note": verdict.note, "interpreted": verdict.interpreted, "seconds": seconds})
        self._pending.append((key, payload, self._mac(key, payload)))
        self._unflushed[key] = payload
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
        path = self.folder / DB_NAME if self.folder else None
        entries = 0
        if self.readable and self._db is not None:
            try:
                entries = self._db.execute("SELECT count(*) FROM verdicts").fetchone()[0]
            except (sqlite3.Error, OSError) as exc:  # the first page read, a later one is damaged
                entries = 0
                self._fault(f"cannot be read ({exc})")
        elif self.readable:
            self._fault("cannot be read (it is not open)")
        try:
            size = sum(p.stat().st_size for p in (path.parent.glob(DB_NAME + "*") if path else []) if p.is_file())
        except OSError:
            size = 0
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
