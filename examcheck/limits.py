"""Limits on every computation, and how a limit that was hit is named.

The processes that enforce them live in :mod:`examcheck.sandbox`."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_SECONDS = 2.0
DEFAULT_MEMORY_MB = 768
DEFAULT_FILE_SECONDS = 10.0
DEFAULT_FAMILY_SECONDS = 60.0
LIMIT_KINDS = ("time", "memory", "recursion", "size")


@dataclass(frozen=True)
class Limits:
    seconds: float = DEFAULT_SECONDS          # each answer check
    memory_mb: int = DEFAULT_MEMORY_MB        # each sandbox worker's address space, above its size at start
    file_seconds: float = DEFAULT_FILE_SECONDS  # reading one answer file
    family_seconds: float = DEFAULT_FAMILY_SECONDS  # computing one problem's answers (checking, solving it)


class LimitExceeded(Exception):
    """A computation ran past a limit: what is time, memory, recursion or size."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what

    def __reduce__(self):
        return (LimitExceeded, (self.what,))


class CheckFailed(Exception):
    """The computation raised or its process died; the message says how."""


def describe_limit(what: str, seconds: float | None = None, memory_mb: int | None = None) -> str:
    """'the 2 s time limit', 'the 768 MB memory limit', 'the recursion depth limit', 'the size limit'."""
    if what == "time" and seconds is not None:
        return f"the {seconds:g} s time limit"
    if what == "memory" and memory_mb is not None:
        return f"the {memory_mb} MB memory limit"
    if what == "recursion":
        return "the recursion depth limit"
    return f"the {what} limit"
