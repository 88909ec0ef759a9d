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
import stat
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
    paths: list[Path] = []
    errors: list[InputError] = []
    seen: set[tuple] = set()

    def add(path: str, identity: tuple) -> None:
        if identity not in seen:
            seen.add(identity)
            paths.append(Path(path))

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
