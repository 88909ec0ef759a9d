"""Internal errors: bugs in examcheck, reported as such, with the traceback kept in a file.

They are never blamed on the student or on the problem file, and make the run exit with
EXIT_INTERNAL (70, EX_SOFTWARE)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

EXIT_INTERNAL = 70


def bug_folder() -> Path:
    return Path(os.environ.get("EXAMCHECK_BUG_DIR") or Path(tempfile.gettempdir()) / f"examcheck-bugs-{os.getuid()}")


def record(traceback_text: str, where: str) -> str:
    """Keep the traceback in a file; its path (or a note that it could not be kept)."""
    digest = hashlib.sha256(traceback_text.encode("utf-8", "replace")).hexdigest()[:12]
    folder = bug_folder()
    path = folder / f"traceback-{digest}.txt"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as out:
                out.write(f"while: {where}\n\n{traceback_text}")
        return f"traceback in {path}"
    except OSError:
        return "traceback: " + (traceback_text.strip().splitlines() or ["?"])[-1]


class InternalError(Exception):
    """A bug met while handling `source`; `trace` says where its traceback is."""

    def __init__(self, source: str, trace: str, summary: str = ""):
        super().__init__(source, trace, summary)
        self.source, self.trace, self.summary = source, trace, summary

    def __str__(self) -> str:
        what = f" ({self.summary})" if self.summary else ""
        return (f"{self.source}: internal error in examcheck{what}: a bug, not a fault of this file; "
                f"please report it ({self.trace})")

    def __reduce__(self):
        return (InternalError, (self.source, self.trace, self.summary))


def from_traceback(source: str, traceback_text: str, doing: str = "") -> InternalError:
    last = (traceback_text.strip().splitlines() or [""])[-1]
    return InternalError(source, record(traceback_text, f"{source}: {doing}" if doing else source), last[:200])
