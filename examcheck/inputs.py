"""Which files a run reads: files, folders and globs named on the command line.

Only regular files are read.  Anything else that looks like an input (a FIFO, a
device or socket named .yaml, a dangling symlink, a folder that cannot be listed)
is reported as an error for that path, never read and never silently skipped.
Inside a folder (untrusted: an unzipped submission restores symlinks), a symlink
to a folder is never followed and a symlink to a file is read only if the file lies
inside that folder; each link skipped is reported by name.  Paths named on the
command line are followed.  Repeats are dropped by (device, inode), in linear time.
"""

from __future__ import annotations

import fnmatch
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


MAX_ENTRIES = 1_000_000  # entries listed under one folder named on the command line
MAX_DEPTH = 64  # folders inside folders under it


def walk_folder(folder: str, suffixes: tuple[str, ...] = ANSWER_SUFFIXES) -> tuple[list[str], list[InputError]]:
    """Every regular file with one of suffixes under folder (sorted), and what could not be read."""
    found, errors = _walk(folder, suffixes)
    return [path for path, _ in found], errors


def _inside(path: str, root: str) -> bool:
    """Whether path (resolved) lies under the resolved folder root."""
    try:
        return os.path.commonpath([os.path.realpath(path), root]) == root
    except ValueError:  # different drives
        return False


def _walk(folder: str, suffixes: tuple[str, ...], max_entries: int = MAX_ENTRIES,
          max_depth: int = MAX_DEPTH, root: str | None = None,
          spent: list[int] | None = None) -> tuple[list[tuple[str, tuple]], list[InputError]]:
    """[(path, identity)] sorted by path, and errors; identity is (device, inode).

    The folder is untrusted (an unzipped submission restores symlinks): a symlink to a folder found inside it
    is never followed (wherever it points), and a symlink to a file is read only if that file lies inside the
    folder; each one skipped is reported by name.  The listing stops, with an error, past max_entries entries
    or max_depth levels of folders.  root (resolved): the folder links to files must stay in (folder's own)."""
    found: list[tuple[str, tuple]] = []
    errors: list[InputError] = []
    seen_dirs: set[tuple[int, int]] = set()
    root = root or os.path.realpath(folder)
    pending = [(folder, 0)]
    listed_count = 0
    while pending:
        current, depth = pending.pop()
        try:
            info = os.stat(current)
        except OSError as exc:
            errors.append(InputError(current, None, f"cannot read folder: {exc.strerror or exc}"))
            continue
        if (info.st_dev, info.st_ino) in seen_dirs:
            continue  # the same folder reached twice (a bind mount)
        seen_dirs.add((info.st_dev, info.st_ino))
        try:
            with os.scandir(current) as entries:
                listed = list(entries)
        except OSError as exc:
            errors.append(InputError(current, None, f"cannot read folder: {exc.strerror or exc}; skipped"))
            continue
        listed_count += len(listed)
        if spent is not None:  # the entries counted against a pattern's one budget
            spent[0] += len(listed)
        if listed_count > max_entries:
            errors.append(InputError(folder, None, f"more than {max_entries:,} entries under this folder: "
                                                   f"listing stopped at {current} (name the sub-folders to grade)"))
            break
        for entry in listed:
            try:
                if entry.is_file(follow_symlinks=False):  # the common case: no extra system call
                    if entry.name.endswith(suffixes):
                        found.append((entry.path, (info.st_dev, entry.inode())))
                    continue
                is_link = entry.is_symlink()
                is_dir = not is_link and entry.is_dir(follow_symlinks=False)
            except OSError:
                is_link = is_dir = False
            if is_link:
                _linked(entry.path, root, suffixes, found, errors)
                continue
            if is_dir:
                if depth + 1 > max_depth:
                    errors.append(InputError(entry.path, None, f"folder nested more than {max_depth} levels deep "
                                                               f"under {folder}; not read"))
                else:
                    pending.append((entry.path, depth + 1))
                continue
            if not entry.name.endswith(suffixes):
                continue
            path = entry.path
            kind, entry_info = _classify(path)
            if kind == "file":
                found.append((path, (entry_info.st_dev, entry_info.st_ino)))
            elif kind == "other":
                errors.append(_not_regular(path, entry_info))
            elif kind.startswith("error:"):
                errors.append(InputError(path, None, f"cannot read file: {kind[6:]}"))
    found.sort()
    errors.sort(key=lambda e: e.source)
    return found, errors


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "?"


def _linked(path: str, root: str, suffixes: tuple[str, ...], found: list, errors: list) -> None:
    """A symlink found inside an input folder: a folder is never followed; a file only inside the folder."""
    kind, info = _classify(path)
    if kind == "dir":
        errors.append(InputError(path, None, f"symlink to a folder (to {_readlink(path)}); not followed"))
    elif not path.endswith(suffixes):
        return
    elif kind == "file":
        if _inside(path, root):
            found.append((path, (info.st_dev, info.st_ino)))
        else:
            errors.append(InputError(path, None, f"symlink to a file outside {root} (to {_readlink(path)}); not read"))
    elif kind == "dangling":
        errors.append(InputError(path, None, f"dangling symlink (to {_readlink(path)}); not read"))
    elif kind == "other":
        errors.append(_not_regular(path, info))
    elif kind.startswith("error:"):
        errors.append(InputError(path, None, f"cannot read file: {kind[6:]}"))


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
            matched, problems = _glob(item, suffixes=suffixes)
            errors += problems
            for path, identity in matched:
                add(path, identity)
        else:
            errors.append(InputError(item, None, "no such file or folder"))
    return paths, errors


def _glob(pattern: str, max_entries: int = MAX_ENTRIES,
          suffixes: tuple[str, ...] = ANSWER_SUFFIXES) -> tuple[list[tuple[str, tuple]], list[InputError]]:
    """The regular files a pattern matches (as glob.glob(recursive=True) spells them, sorted), and errors.

    The folder before the first wildcard is the user's choice; below it the folders are treated as in folder
    mode: a symlink to a folder is never followed (`*` or `**` never lead through one), a symlink to a file is
    read only if the file lies under that folder, and at most max_entries entries are listed.  A real folder the
    pattern matches is read as a folder named on the command line (its files with one of suffixes, walk_folder's
    rules, a link to a file kept only under the fixed folder); each symlink skipped (to a folder, a loop,
    dangling) is reported by name, as in folder mode."""
    head, *parts = pattern.split(os.sep) if os.sep in pattern else ("", pattern)
    fixed = [head]
    while parts and not glob.has_magic(parts[0]):
        fixed.append(parts.pop(0))
    if not glob.has_magic(head):
        base = os.sep.join(fixed) if fixed != [""] else ""
    else:  # the wildcard is in the first component
        base, parts = "", [head] + parts
    if pattern.startswith(os.sep) and not base:
        base = os.sep
    root = os.path.realpath(base or os.curdir)
    errors: list[InputError] = []
    budget = [max_entries]
    reported: set[str] = set()

    def listing(folder: str) -> list[os.DirEntry]:
        try:
            with os.scandir(folder or os.curdir) as entries:
                listed = list(entries)
        except OSError:
            return []
        budget[0] -= len(listed)
        if budget[0] < 0:
            raise _TooMany(folder)
        return listed

    def join(folder: str, name: str) -> str:
        return os.path.join(folder, name) if folder else name

    def real_folder(path: str) -> bool:
        if os.path.islink(path):
            if os.path.isdir(path) and path not in reported:
                reported.add(path)
                errors.append(InputError(path, None, f"symlink to a folder (to {_readlink(path)}); not followed"))
            return False
        return os.path.isdir(path)

    def below(folder: str) -> Iterator[str]:  # folder and every real, not hidden folder under it
        yield folder
        for entry in listing(folder):
            if not entry.name.startswith(".") and real_folder(entry.path if folder else entry.name):
                yield from below(join(folder, entry.name))

    candidates = [base]
    try:
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            following: list[str] = []
            for folder in candidates:
                if folder and folder != base and not real_folder(folder):
                    continue
                if part == "**" and last:  # everything under folder, files too
                    following += [join(sub, e.name) for sub in below(folder) for e in listing(sub)
                                  if not e.name.startswith(".")]
                elif part == "**":
                    following += below(folder)
                elif glob.has_magic(part):
                    hidden = part.startswith(".")
                    following += [join(folder, e.name) for e in listing(folder)
                                  if (hidden or not e.name.startswith(".")) and fnmatch.fnmatch(e.name, part)]
                else:
                    following.append(join(folder, part))
            candidates = following
    except _TooMany as stop:
        errors.append(InputError(pattern, None, f"more than {max_entries:,} entries listed for this pattern: "
                                                f"stopped at {stop.args[0]} (name the folders to grade)"))
        return [], errors
    matched: list[tuple[str, tuple]] = []
    walk_folders = not parts or parts[-1] != "**"  # `**` last has listed every file under its folders already
    for path in sorted(set(candidates)):
        kind, info = _classify(path)
        if kind == "dir" and path and path != base:
            if os.path.islink(path):  # as in folder mode: a symlink to a folder is never followed, and is named
                if path not in reported:
                    reported.add(path)
                    errors.append(InputError(path, None, f"symlink to a folder (to {_readlink(path)}); not followed"))
            elif walk_folders:  # a folder the pattern matches is graded as if named on the command line
                spent = [0]
                found, problems = _walk(path, suffixes, max_entries=max(budget[0], 0), root=root, spent=spent)
                budget[0] -= spent[0]
                errors += problems
                if not found and not problems:
                    errors.append(InputError(path, None, "no .yaml files in this folder"))
                matched += found
        elif kind == "file":
            if os.path.islink(path) and not _inside(path, root):
                errors.append(InputError(path, None, f"symlink to a file outside {root} (to {_readlink(path)}); not read"))
            else:
                matched.append((path, (info.st_dev, info.st_ino)))
        elif kind == "other":
            errors.append(_not_regular(path, info))
        elif kind == "dangling":
            errors.append(InputError(path, None, f"dangling symlink (to {_readlink(path)}); not read"))
        elif kind.startswith("error:"):  # a symlink loop, a folder that cannot be entered: named, as in folder mode
            errors.append(InputError(path, None, f"cannot read file: {kind[6:]}"))
    if not matched and not errors and not any(os.path.lexists(c) for c in candidates if c):
        errors.append(InputError(pattern, None, "no files match this pattern"))
    return matched, errors


class _TooMany(Exception):
    """A pattern listed more entries than allowed."""


def path_spelling(path) -> str:
    """str(Path(path)) without making a Path: CPython's pathlib interns every part of every path it
    parses, which would keep a table of all names of a 100,000-file batch in this process."""
    name = os.fspath(path)
    if os.name != "posix":
        return str(Path(name))
    root = "//" if name.startswith("//") and not name.startswith("///") else "/" if name.startswith("/") else ""
    parts = [part for part in name.split("/") if part and part != "."]
    return root + "/".join(parts) if root or parts else "."


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
            self._file.write(os.fsencode(path_spelling(path)) + b"\0")  # no file name holds a NUL
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
