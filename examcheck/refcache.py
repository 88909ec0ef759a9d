"""A per-user cache of computed references, so that grading one file does not solve its exam again.

One entry per problem: each part's reference as the sandbox workers computed it (the text shown as
expected, and the reference itself, pickled by the worker).  The key is a hash of the examcheck version,
the fingerprint of its rules (the source of everything that decides a reference, see
cache.rules_fingerprint) and everything the problem file says about the problem (all its parts), so an
edited problem or an upgrade never meets an old entry.  Only problems whose every part could be computed
are kept (an error is always computed afresh, and reported as ever).

Entries are kept per limits, like verdicts (examcheck.cache): a reference is computed under the family time
limit and the workers' memory limit, and one computed under generous limits must not be served to a run whose
limits it would not fit in (there it is "cannot be computed within ..."); so every entry's name, content and
HMAC hold the limits it was computed under, and a run with other limits does not meet it (a plain miss).
The same holds for the record of problem files found valid (validating runs in the same workers).

The cache is untrusted input, like the verdict cache: every entry carries an HMAC-SHA256 made with the
verdict cache's secret (kept outside the cache folder: $EXAMCHECK_CACHE_KEY, or
$XDG_CONFIG_HOME/examcheck/cache.key), over its key and its content.  Anything forged, foreign,
truncated, malformed or too large is a miss, and a cache that cannot be read or written never fails or
slows a run (it is only skipped).  The parent never unpickles an entry: it passes the authenticated bytes
on to the workers, as it does with references they just computed.

It also records, by content hash (with the same version, rules and HMAC), the problem files that were loaded
without any error, so that grading reads such a file again without validating it again (the families' checks
and their load-time solves are what makes validating slow).  A file edited in any way is validated afresh.

Where: $EXAMCHECK_REFERENCE_CACHE (a folder), else $XDG_CACHE_HOME/examcheck/references;
EXAMCHECK_REFERENCE_CACHE=off turns it off.  `examcheck check` never uses it (it recomputes everything).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import os
from pathlib import Path

from examcheck import __version__
from examcheck.limits import DEFAULT_FAMILY_SECONDS, DEFAULT_MEMORY_MB

ENV = "EXAMCHECK_REFERENCE_CACHE"
FORMAT = "examcheck-references-2"
MAX_ENTRY_BYTES = 4 * 1024 * 1024
SUFFIX = ".ref"
VALID_SUFFIX = ".valid"


def default_folder() -> Path | None:
    """The cache folder of this user, or None when it is turned off."""
    chosen = os.environ.get(ENV, "")
    if chosen.strip().lower() in ("off", "0", "no", "false", "none"):
        return None
    if chosen:
        return Path(chosen)
    from examcheck.cache import default_cache_dir

    return default_cache_dir() / "references"


def _plain(value):
    """JSON-able data of a problem (dataclasses as mappings), for its key."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(repr(v) for v in value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return f"{type(value).__module__}.{type(value).__qualname__}:{value!r}"


def _code() -> list[str]:
    """What computes references: examcheck (its version and the fingerprint of its rules), Python, SymPy, mpmath."""
    import sys

    import mpmath
    import sympy

    from examcheck.cache import rules_fingerprint

    return [FORMAT, __version__, rules_fingerprint(), sys.version, sympy.__version__, mpmath.__version__]


def problem_key(problem_set, problem) -> str:
    """Changes whenever anything that may decide one of the problem's references changes."""
    spec = [*_code(), problem_set.exam, _plain(problem)]
    text = json.dumps(spec, sort_keys=True, ensure_ascii=False, allow_nan=True, default=repr)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class ReferenceCache:
    """get(key) -> [(expected text or None, pickled entry)] per part, or None; put(key, parts).

    seconds, memory_mb: the limits references are computed (and problem files validated) under; entries made
    under other limits are neither served nor replaced."""

    def __init__(self, folder: Path | None, seconds: float = DEFAULT_FAMILY_SECONDS, memory_mb: int = DEFAULT_MEMORY_MB):
        self.folder = Path(folder) if folder is not None else None
        self.seconds, self.memory_mb = float(seconds), int(memory_mb)
        self._secret: bytes | None = None
        self.hits = self.misses = self.rejected = 0

    @classmethod
    def default(cls, limits=None) -> ReferenceCache:
        """The user's cache, for runs under these limits (examcheck.limits.Limits; default the defaults)."""
        if limits is None:
            return cls(default_folder())
        return cls(default_folder(), limits.family_seconds, limits.memory_mb)

    def for_limits(self, seconds: float, memory_mb: int) -> ReferenceCache:
        """The same cache (folder, secret), for runs under these limits."""
        if float(seconds) == self.seconds and int(memory_mb) == self.memory_mb:
            return self
        other = ReferenceCache(self.folder, seconds, memory_mb)
        other._secret = self._secret
        return other

    def _scoped(self, key: str) -> str:
        """The key of an entry made under this cache's limits."""
        text = f"{key}\0limits\0{self.seconds.hex()}\0{self.memory_mb}"
        return hashlib.sha256(text.encode()).hexdigest()

    def _key_bytes(self) -> bytes | None:
        if self.folder is None:
            return None
        if self._secret is None:
            from examcheck.cache import NoSecret, load_secret

            try:
                secret, key_path = load_secret()
            except NoSecret:
                self.folder = None
                return None
            try:
                folder = self.folder.resolve() if self.folder.exists() else self.folder.absolute()
                if key_path is not None and key_path.resolve().is_relative_to(folder):
                    self.folder = None  # a key kept beside the entries would authenticate nothing
                    return None
            except (OSError, RuntimeError, ValueError):
                self.folder = None
                return None
            self._secret = secret
        return self._secret

    def _mac(self, secret: bytes, key: str, body: bytes) -> str:
        return hmac.new(secret, key.encode() + b"\0" + body, hashlib.sha256).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}{SUFFIX}"

    def get(self, key: str, parts: int) -> list[tuple[str | None, bytes]] | None:
        secret = self._key_bytes()
        if secret is None:
            return None
        key = self._scoped(key)
        try:
            data = _read_bounded(self._path(key))
        except OSError:
            self.misses += 1
            return None
        found = self._parse(secret, key, data, parts)
        if found is None:
            self.rejected += 1
        else:
            self.hits += 1
        return found

    def _parse(self, secret: bytes, key: str, data: bytes, parts: int):
        if not data.endswith(b"\n"):
            return None  # a write cut short
        body, _, mac = data[:-1].rpartition(b"\n")
        if not body or not hmac.compare_digest(mac, self._mac(secret, key, body).encode()):
            return None
        try:
            content = json.loads(body)
        except (ValueError, RecursionError):
            return None
        if not isinstance(content, dict) or content.get("format") != FORMAT or content.get("key") != key:
            return None
        items = content.get("parts")
        if not isinstance(items, list) or len(items) != parts:
            return None
        out = []
        for item in items:
            if not (isinstance(item, list) and len(item) == 2 and (item[0] is None or isinstance(item[0], str))
                    and isinstance(item[1], str)):
                return None
            try:
                entry = base64.b64decode(item[1].encode("ascii"), validate=True)
            except (ValueError, UnicodeEncodeError):
                return None
            out.append((item[0], entry))
        return out

    def put(self, key: str, parts: list[tuple[str | None, bytes]]) -> None:
        secret = self._key_bytes()
        if secret is None:
            return
        key = self._scoped(key)
        content = {"format": FORMAT, "key": key,
                   "parts": [[expected, base64.b64encode(entry).decode("ascii")] for expected, entry in parts]}
        body = json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode()
        data = body + b"\n" + self._mac(secret, key, body).encode() + b"\n"
        if len(data) > MAX_ENTRY_BYTES:
            return
        _write_atomic(self.folder, self._path(key), data)

    # problem files found valid before ----------------------------------------------------------

    def holds(self, content: bytes) -> bool:
        """Whether a problem file with exactly this content was found valid by this version (and rules) before."""
        secret = self._key_bytes()
        if secret is None:
            return False
        key = self._scoped(_valid_key(content))
        try:
            data = _read_bounded(self.folder / f"{key}{VALID_SUFFIX}")
        except OSError:
            return False
        return hmac.compare_digest(data, self._mac(secret, key, b"valid").encode() + b"\n")

    def remember(self, content: bytes) -> None:
        """Record that a problem file with this content is valid (it was loaded without any error)."""
        secret = self._key_bytes()
        if secret is None:
            return
        key = self._scoped(_valid_key(content))
        _write_atomic(self.folder, self.folder / f"{key}{VALID_SUFFIX}", self._mac(secret, key, b"valid").encode() + b"\n")


def _valid_key(content: bytes) -> str:
    spec = [*_code(), "a valid problem file", hashlib.sha256(content).hexdigest()]
    return hashlib.sha256(json.dumps(spec).encode()).hexdigest()


def _write_atomic(folder: Path, path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass


def _read_bounded(path: Path) -> bytes:
    """A regular file's bytes, at most MAX_ENTRY_BYTES (anything else: OSError)."""
    import stat

    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY_BYTES:
            raise OSError("not a cache entry")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, MAX_ENTRY_BYTES + 1 - total)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            total += len(chunk)
            if total > MAX_ENTRY_BYTES:
                raise OSError("not a cache entry")
    finally:
        os.close(fd)
