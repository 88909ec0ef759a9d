"""Writing output files safely.

`write_output` writes only regular files: a folder, device, FIFO or socket is refused;
a symlink is followed to the regular file it points to (a dangling symlink is refused).
The text goes to a temporary file in the target's folder, which is renamed over the
target, so readers see the old file or the new one, never half of one.  An existing
file keeps its mode; a new file gets the mode the umask gives.  The temporary file is
removed on every way out (an error, Ctrl-C, SIGTERM).  Every failure is an
`OutputError` with a plain reason, never a traceback.

The temporary file of target NAME is `.NAME.examcheck-<16 hex digits>.tmp` (`.<16 hex digits of NAME's
sha256>.examcheck-long-<16 hex>.tmp` when NAME is too long to carry): a write to NAME removes only stale
temporaries of that same NAME (see remove_stale_temporaries), never another file's, nor any other name.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import signal
import stat
import threading
from collections.abc import Iterable
from pathlib import Path

MAX_NAME_BYTES = 255
TOKEN_DIGITS = 16  # the random part of a temporary's name: 16 lowercase hex digits (8 random bytes)
TEMPORARY_SUFFIX = ".tmp"
STALE_SECONDS = 5.0  # younger temporary files are left alone (their writer may be about to lock them)


class OutputError(Exception):
    """The output cannot be written; the message says why, naming the path."""


def _reason(exc: OSError, folder: bool = True) -> str:
    reasons = {
        errno.ENOENT: "the folder does not exist" if folder else "no such file or folder",
        errno.ENOTDIR: "a part of the path is not a folder",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "the file system is read-only",
        errno.ENOSPC: "no space left on the device",
        errno.EDQUOT: "disk quota exceeded",
        errno.ENAMETOOLONG: "the file name is too long",
        errno.EISDIR: "it is a folder",
        errno.ELOOP: "too many levels of symlinks",
    }
    return reasons.get(exc.errno, exc.strerror or type(exc).__name__)


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words (for an error that names it)."""
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def resolve_target(path: str | os.PathLike) -> tuple[Path, os.stat_result | None]:
    """(the regular file to write, its stat if it exists).  Raises OutputError for anything
    that is not, or cannot become, a regular file.  Nothing is created."""
    name = os.fspath(path)
    if isinstance(name, bytes):
        name = os.fsdecode(name)
    if not name or not name.strip():
        raise OutputError("the output file name is empty")
    if "\x00" in name:
        raise OutputError("the output file name contains a NUL character")
    if name.endswith(os.sep):
        raise OutputError(f"cannot write {name}: it names a folder")
    try:
        target = Path(os.path.realpath(name))
    except (OSError, ValueError) as exc:
        raise OutputError(f"cannot write {name}: {exc}") from None
    if len(os.fsencode(target.name)) > MAX_NAME_BYTES:
        raise OutputError(f"cannot write {name}: the file name is longer than {MAX_NAME_BYTES} bytes")
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputError(f"cannot write {name}: {_reason(exc)}") from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise OutputError(f"cannot write {name}: it is {file_kind(info.st_mode)}, not a regular file")
    if info is None and os.path.islink(name):
        raise OutputError(f"cannot write {name}: it is a symlink to a missing file ({target})")
    folder = target.parent
    if not folder.is_dir():
        raise OutputError(f"cannot write {name}: the folder {folder} does not exist")
    return target, info


def check_output(path: str | os.PathLike | None, inputs: list[str] | None = None) -> None:
    """Fail early (before a long run) if path can never be written, or would replace one of the
    run's own input files (answer or problem files, as named on the command line)."""
    if path is None or os.fspath(path) == "-":
        return
    target, info = resolve_target(path)
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {os.fspath(path)}: the folder {target.parent} is not writable")
    if info is not None and inputs:
        from examcheck.inputs import expand_inputs

        identity = (info.st_dev, info.st_ino)
        for source in expand_inputs(list(inputs))[0]:
            try:
                found = os.stat(source)
            except OSError:
                continue
            if (found.st_dev, found.st_ino) == identity:
                raise OutputError(f"cannot write {os.fspath(path)}: it is one of the input files ({source})")


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class _Interrupted(BaseException):
    pass


@contextlib.contextmanager
def _termination_as_exception():
    """SIGTERM (and SIGHUP) raise inside the block, so the temporary file is cleaned up."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}

    def handler(signum, _frame):
        raise _Interrupted(signum)

    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            try:
                previous[sig] = signal.signal(sig, handler)
            except (ValueError, OSError):
                pass
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def write_output(path: str | os.PathLike, text: str | Iterable[str]) -> Path:
    """Write text (or its chunks, as they come) to path atomically (see the module's rules); returns the file."""
    target, info = resolve_target(path)
    mode = stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_umask()
    chunks = [text] if isinstance(text, str) else text
    created: list[str] = []  # named before it exists, so a signal at any moment leaves nothing behind
    remove_stale_temporaries(target)
    lock = -1
    try:
        with _termination_as_exception():
            try:
                handle, lock = _create_temporary(target, created)
            except OSError as exc:
                raise OutputError(f"cannot write {os.fspath(path)}: cannot create a file in {target.parent}: "
                                  f"{_reason(exc, folder=False)}") from None
            temp = created[-1]
            try:
                with os.fdopen(handle, "wb") as out:
                    for chunk in chunks:
                        out.write(chunk.encode("utf-8", "surrogateescape"))
                    out.flush()
                    os.fsync(out.fileno())
                os.chmod(temp, mode)
                if info is not None and os.geteuid() == 0:
                    with contextlib.suppress(OSError):
                        os.chown(temp, info.st_uid, info.st_gid)
                os.replace(temp, target)
                created.clear()
            except OSError as exc:
                raise OutputError(f"cannot write {os.fspath(path)}: {_reason(exc)}") from None
    except _Interrupted as exc:
        _remove(created)
        raise SystemExit(128 + exc.args[0]) from None
    finally:
        _remove(created)
        _unlock(lock)
    return target


def temporary_stem(target_name: str) -> str:
    """What every temporary file of the output named target_name starts with (then TOKEN_DIGITS random hex
    digits and TEMPORARY_SUFFIX): `.NAME.examcheck-`, or `.H.examcheck-long-` (H: 16 hex digits of the name's
    sha256) when the whole would not fit in a file name.  Two targets never share a stem."""
    stem = f".{target_name}.examcheck-"
    if len(os.fsencode(stem)) + TOKEN_DIGITS + len(TEMPORARY_SUFFIX) > MAX_NAME_BYTES:
        digest = hashlib.sha256(os.fsencode(target_name)).hexdigest()[:16]
        stem = f".{digest}.examcheck-long-"
    return stem


def is_temporary_of(name: str, target_name: str) -> bool:
    """Whether name is a temporary file name _create_temporary makes for the output named target_name."""
    stem = temporary_stem(target_name)
    token = name[len(stem):-len(TEMPORARY_SUFFIX)]
    return (name.startswith(stem) and name.endswith(TEMPORARY_SUFFIX)
            and len(name) == len(stem) + TOKEN_DIGITS + len(TEMPORARY_SUFFIX)
            and len(token) == TOKEN_DIGITS and all(c in "0123456789abcdef" for c in token))


def _create_temporary(target: Path, created: list[str]) -> tuple[int, int]:
    """A new private file beside target, named for it (temporary_stem), and a second descriptor holding an
    exclusive lock on it until _unlock (after the rename: closing the first one does not release it); its
    name goes into `created` just before the file exists."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    stem = temporary_stem(Path(target).name)
    for _ in range(100):
        name = os.path.join(Path(target).parent, f"{stem}{secrets.token_hex(TOKEN_DIGITS // 2)}{TEMPORARY_SUFFIX}")
        created.append(name)
        try:
            handle = os.open(name, flags, 0o600)
        except FileExistsError:
            created.remove(name)  # someone else's file: never ours to remove
            continue
        lock = os.dup(handle)
        try:
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (ImportError, OSError):
            pass  # no flock here: a stale file is then only removed by hand
        return handle, lock
    raise OSError(errno.EEXIST, "no free temporary file name")


def _unlock(lock: int) -> None:
    if lock >= 0:
        with contextlib.suppress(OSError):
            os.close(lock)


def remove_stale_temporaries(target: str | os.PathLike, min_age: float = STALE_SECONDS) -> list[str]:
    """Remove the temporary files a killed write of target left beside it: regular files of this user, named
    as _create_temporary names them for this target (is_temporary_of: its name and a token of ours), at least
    min_age seconds old, that no process holds locked.  Another output's temporaries, and any other name, are
    never touched.  Returns the names removed; never raises."""
    import time

    target = Path(target)
    folder = target.parent
    try:
        import fcntl

        names = [n for n in os.listdir(folder) if is_temporary_of(n, target.name)]
    except (ImportError, OSError):
        return []
    removed = []
    for name in names:
        path = os.path.join(folder, name)
        try:
            info = os.lstat(path)
            if (not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid()
                    or time.time() - info.st_mtime < min_age):
                continue
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
                         | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held: a live writer's file
            now, held = os.lstat(path), os.fstat(fd)
            if (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):  # still the file we locked
                os.unlink(path)
                removed.append(name)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


def _remove(created: list[str]) -> None:
    while created:
        with contextlib.suppress(OSError):
            os.unlink(created.pop())


def atomic_write(path: Path, text: str) -> None:
    """Write through a temporary file and rename, so an interrupted run never leaves half a file.
    (Internal files such as caches; OSError propagates to the caller.)"""
    path = Path(path)
    remove_stale_temporaries(path)
    created: list[str] = []
    handle, lock = _create_temporary(path, created)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.replace(created[-1], path)
        created.clear()
    finally:
        _remove(created)
        _unlock(lock)
