"""Which answer files a run reads: files, folders and globs named on the command line."""

from __future__ import annotations

import glob
from pathlib import Path

from examcheck.yamlio import InputError

ANSWER_SUFFIXES = (".yaml", ".yml")


def expand_inputs(items: list[str]) -> tuple[list[Path], list[InputError]]:
    """Files, folders (every .yaml inside) and globs, in order, without repeats."""
    paths: list[Path] = []
    errors: list[InputError] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in ANSWER_SUFFIXES and p.is_file())
        elif path.is_file():
            found = [path]
        elif glob.has_magic(item):
            found = sorted(Path(p) for p in glob.glob(item, recursive=True) if Path(p).is_file())
        else:
            found = []
        if not found:
            errors.append(InputError(item, None, "no such file, or no answer files match"))
        paths += [p for p in found if p not in paths]
    return paths, errors
