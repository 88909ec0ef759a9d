"""Which of the YAML files named on the command line are problem sets.

`examcheck check FILE...` is what the pre-commit hook runs with the YAML files that changed: a workflow, a
config or an answer file among them is skipped with a note, never an error.  Only a file that clearly is not a
problem set is skipped: one whose top level is a mapping with neither `problems` nor `exam` (or an answer file:
`answers` without `problems`).  A file that cannot be read, or looks like a problem set, goes to the loader,
which reports what is wrong with it: a broken problem set must never pass by being skipped."""

from __future__ import annotations

import os
from pathlib import Path

from examcheck.yamlio import InputError, load_file


def looks_like_problem_set(data) -> bool:
    if not isinstance(data, dict):
        return False
    if "problems" in data:
        return True
    return "exam" in data and "answers" not in data


def only_problem_sets(paths) -> tuple[list[Path], list[str]]:
    """(paths to check, notes on the files skipped).  Folders pass unchanged (the loader walks them)."""
    kept: list[Path] = []
    notes: list[str] = []
    for path in paths:
        path = Path(path)
        try:
            is_file = path.is_file()
        except OSError:  # a name too long, say: the loader says what is wrong with it
            is_file = False
        if not is_file or path.suffix.lower() not in (".yaml", ".yml"):
            kept.append(path)
            continue
        try:
            data = load_file(path).data
        except InputError:
            kept.append(path)  # the loader says what is wrong with it
            continue
        if looks_like_problem_set(data):
            kept.append(path)
        else:
            if isinstance(data, dict) and "answers" in data:
                why = "an answer file (`answers:` and no `problems:` at the top level)"
            else:
                why = "not a problem set (no `problems:` or `exam:` at the top level)"
            notes.append(f"{os.fspath(path)}: skipped: {why}")
    return kept, notes
