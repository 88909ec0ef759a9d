"""Each report's warnings (an answer under a problem or part id the exam does not have, ...: `file:line: ...`)
said on stderr in every format, not only in the formats that carry them (json, jsonl, the one-file table).

WatchedReports wraps a run's reports (re-iterable, as they are read back from the run's store) and notes the
warnings of the first complete pass that other work makes anyway (the identity join, the renderer), so saying
them costs no extra pass over a large class; a pass is made only when none was.  At most `most` lines are kept,
with the count of the rest, so the memory stays flat in the number of files."""

from __future__ import annotations

from collections.abc import Iterator


class WatchedReports:
    def __init__(self, reports, most: int = 20):
        self._reports, self._most = reports, most
        self.by_student = getattr(reports, "by_student", False)
        self._shown: list[str] = []
        self._total = 0
        self._files = 0
        self._complete = False

    def __iter__(self) -> Iterator:
        if self._complete:
            yield from self._reports
            return
        shown, total, files = [], 0, 0
        for report in self._reports:
            warnings = getattr(report, "warnings", None) or ()
            if warnings:
                files += 1
                total += len(warnings)
                shown += [str(w) for w in warnings[: max(0, self._most - len(shown))]]
            yield report
        self._shown, self._total, self._files, self._complete = shown, total, files, True

    def __len__(self) -> int:
        return len(self._reports)

    def __bool__(self) -> bool:
        return len(self) > 0

    def first(self):
        return next(iter(self._reports), None)

    def lines(self) -> list[str]:
        """The warnings to say (at most `most`, then how many more in how many files)."""
        if not self._complete:
            for _ in self:
                pass
        lines = list(self._shown)
        rest = self._total - len(lines)
        if rest > 0:
            lines.append(f"... and {rest} more warning(s); {self._files} file(s) have warnings (each report's are in "
                         "--format jsonl)")
        return lines
