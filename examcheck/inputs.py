"""Which files a run reads: files, folders and globs named on the command line.

Only regular files are read.  Anything else that looks like an input (a FIFO, a
device or socket named .yaml, a dangling symlink, a folder that cannot be listed)
is reported as an error for that path, never read and never silently skipped.
Symlinks to files and folders are followed (each folder once).  Repeats are
dropped by resolved path, in linear time.
"""

from __future__ import annotations

import glob
import os
import pickle
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from examcheck.yamlio import InputError, file_kind

ANSWER_SUFFIXES = (".yaml", ".yml")


def _classify(path: str) -> tuple[str, os.stat_result | None]:
    """('file' | 'dir' | 'dangling' | 'other' | 'missing' | 'error:<reason>', stat)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return ("dangling" if os.path.islink(path) else "missing"), None
    except OSError as exc:
        return f"error:{exc.strerror or type(exc).__name__}", None
    if stat.S_ISREG(info.st_mode):
        return "file", info
    if stat.S_ISDIR(info.st_mode):
        return "dir", info
    return "other", info


def _not_regular(path: str, info: os.stat_result) -> InputError:
    return InputError(path, None, f"not a regular file ({file_kind(info.st_mode)}); not read")


def walk_folder(folder: str, suffixes: tuple[str, ...] = ANSWER_SUFFIXES) -> tuple[list[str], list[InputError]]:
    """Every regular file with one of suffixes under folder (sorted), and what could not be read."""
    found, errors = _walk(folder, suffixes)
    return [path for path, _ in found], errors


def _walk(folder: str, suffixes: tuple[str, ...]) -> tuple[list[tuple[str, tuple]], list[InputError]]:
    """[(path, identity)] sorted by path, and errors; identity is (device, inode)."""
    found: list[tuple[str, tuple]] = []
    errors: list[InputError] = []
    seen_dirs: set[tuple[int, int]] = set()
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            info = os.stat(current)
        except OSError as exc:
            errors.append(InputError(current, None, f"cannot read folder: {exc.strerror or exc}"))
            continue
        if (info.st_dev, info.st_ino) in seen_dirs:
            continue  # a symlink loop, or the same folder reached twice
        seen_dirs.add((info.st_dev, info.st_ino))
        try:
            with os.scandir(current) as entries:
                listed = list(entries)
        except OSError as exc:
            errors.append(InputError(current, None, f"cannot read folder: {exc.strerror or exc}; skipped"))
            continue
        for entry in listed:
            try:
                if entry.is_file(follow_symlinks=False):  # the common case: no extra system call
                    if entry.name.endswith(suffixes):
                        found.append((entry.path, (info.st_dev, entry.inode())))
                    continue
                is_dir = entry.is_dir(follow_symlinks=True)
            except OSError:
                is_dir = False
            if is_dir:
                pending.append(entry.path)
                continue
            if not entry.name.endswith(suffixes):
                continue
            path = entry.path
            kind, entry_info = _classify(path)
            if kind == "file":
                found.append((path, (entry_info.st_dev, entry_info.st_ino)))
            elif kind == "dangling":
                errors.append(InputError(path, None, f"dangling symlink (to {os.readlink(path)}); not read"))
            elif kind == "other":
                errors.append(_not_regular(path, entry_info))
            elif kind.startswith("error:"):
                errors.append(InputError(path, None, f"cannot read file: {kind[6:]}"))
    found.sort()
    errors.sort(key=lambda e: e.source)
    return found, errors


def expand_inputs(items: list[str], suffixes: tuple[str, ...] = ANSWER_SUFFIXES) -> tuple[list[Path], list[InputError]]:
    """Files, folders (every .yaml inside) and globs, in order, without repeats."""
    names, errors = expand_input_names(items, suffixes)
    return [Path(name) for name in names], errors


def expand_input_names(items: list[str], suffixes: tuple[str, ...] = ANSWER_SUFFIXES) -> tuple[list[str], list[InputError]]:
    """expand_inputs as plain names, for SpooledPaths: a list of Path objects would leave every file name
    interned (pathlib interns each part) and the interpreter's table of them at its largest, after it is gone."""
    paths: list[str] = []
    errors: list[InputError] = []
    seen: set[tuple] = set()

    def add(path: str, identity: tuple) -> None:
        if identity not in seen:
            seen.add(identity)
            paths.append(path)

    for item in items:
        item = os.fspath(item)
        if not item:
            errors.append(InputError("''", None, "an empty file name"))
            continue
        kind, info = _classify(item)
        if kind == "file":
            add(item, (info.st_dev, info.st_ino))
        elif kind == "dir":
            found, problems = _walk(item, suffixes)
            errors += problems
            if not found and not problems:
                errors.append(InputError(item, None, "no .yaml files in this folder"))
            for path, identity in found:
                add(path, identity)
        elif kind == "other":
            errors.append(_not_regular(item, info))
        elif kind == "dangling":
            errors.append(InputError(item, None, f"dangling symlink (to {os.readlink(item)}); not read"))
        elif kind.startswith("error:"):
            errors.append(InputError(item, None, f"cannot read: {kind[6:]}"))
        elif glob.has_magic(item):
            matched = sorted(glob.glob(item, recursive=True))
            regular = []
            for match in matched:
                match_kind, match_info = _classify(match)
                if match_kind == "file":
                    regular.append((match, (match_info.st_dev, match_info.st_ino)))
                elif match_kind == "other":
                    errors.append(_not_regular(match, match_info))
                elif match_kind == "dangling":
                    errors.append(InputError(match, None, "dangling symlink; not read"))
            if not regular and not matched:
                errors.append(InputError(item, None, "no files match this pattern"))
            for path, identity in regular:
                add(path, identity)
        else:
            errors.append(InputError(item, None, "no such file or folder"))
    return paths, errors


class SpooledPaths:
    """A run's answer files kept in an anonymous temporary file, not as a list of Path objects: the
    parent of a 100,000-file batch holds no per-file table (nor do the sandbox workers it forks later,
    which would otherwise each count its pages).  Sized and re-iterable, in the order given; each
    iteration yields new Path objects, a block at a time.  Names are kept as Path spells them."""

    BLOCK = 1 << 16

    def __init__(self, paths: Iterable = ()):
        self._file = tempfile.TemporaryFile()  # unlinked at once: nothing is left behind, even after SIGKILL
        self._count = 0
        self.add(paths)

    def add(self, paths: Iterable) -> None:
        for path in paths:
            self._file.write(os.fsencode(str(Path(path))) + b"\0")  # no file name holds a NUL
            self._count += 1
        self._file.flush()

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __iter__(self) -> Iterator[Path]:
        offset, rest = 0, b""
        while True:
            self._file.seek(offset)  # each iteration keeps its own place: iterations may interleave
            block = self._file.read(self.BLOCK)
            if not block:
                return
            offset += len(block)
            *names, rest = (rest + block).split(b"\0")
            for name in names:
                yield Path(os.fsdecode(name))

    def close(self) -> None:
        self._file.close()


def spool_inputs(items: list[str], suffixes: tuple[str, ...] = ANSWER_SUFFIXES) -> tuple[SpooledPaths, list[InputError]]:
    """expand_inputs into SpooledPaths, listed in a short-lived child process where there is fork: listing a
    folder of 100,000 files makes as many short-lived objects, and the memory they leave fragmented would stay
    with this process, and with every sandbox worker forked from it later."""
    spool = SpooledPaths()
    if not hasattr(os, "fork"):
        names, errors = expand_input_names(items, suffixes)
        spool.add(names)
        return spool, errors
    receive, send = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: list, write the names into the (shared) spool file, say how many and what failed
        try:
            os.close(receive)
            names, errors = expand_input_names(items, suffixes)
            spool.add(names)
            with os.fdopen(send, "wb") as out:
                pickle.dump((len(spool), errors), out)
        finally:
            os._exit(0)
    os.close(send)
    with os.fdopen(receive, "rb") as answer:
        reply = answer.read()
    os.waitpid(pid, 0)
    try:
        spool._count, errors = pickle.loads(reply)
    except Exception:  # noqa: BLE001 - the child died (killed, out of memory): list here instead
        spool.close()
        names, errors = expand_input_names(items, suffixes)
        return SpooledPaths(names), errors
    return spool, errors
