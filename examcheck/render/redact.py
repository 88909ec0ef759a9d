"""--no-reveal, for every format at once: reports with nothing of the expected answers left in them.

`render()` passes a report run through `redacted()` before any format sees it, so no renderer
(present or future) can leak what it was never given.  For each part:

- ``expected`` is dropped;
- hand-marked parts say "marked by hand", without the rubric (the model answer);
- feedback and notes keep their diagnosis but lose every number that is not the student's own:
  a parenthesis holding such a number goes whole ("(at x = 0.5 your expression is 1.2, the
  answer 3.4)"), any other such number becomes "…" ("expected shape …, got 3×4"); counts that
  describe the answer's form ("2 of 5 entries", "3 decimal places") stay;
- the expected text itself, wherever it is spelled out, becomes "…".

The student's own answer (``given``, ``interpreted``) is theirs and stays.
"""

from __future__ import annotations

import re
from dataclasses import replace

from examcheck.model import PartResult, ProblemResult, Report

HIDDEN = "…"
_NUMBER = re.compile(r"(?<![\w.])[-+−]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?(?![\w]|\.\d)")
_COUNT_AFTER = re.compile(r"\s*(?:of\s+\d+\s+)?(?:entr(?:y|ies)|elements?(?:\(s\))?|points?(?:\(s\))?|decimal place|"
                          r"significant figure|dimensions?(?:\(s\))?|agreed|times?\b)", re.IGNORECASE)
_COUNT_BEFORE = re.compile(r"(?:entry|first:\s*entry|log base)\s*$", re.IGNORECASE)
_PAREN = re.compile(r"\s*\([^()]*\)")
HAND_MARKED = "marked by hand"


def _value(text: str) -> float | None:
    try:
        return float(text.replace("−", "-"))
    except ValueError:
        return None


def _own_numbers(*texts) -> set:
    out: set = set()
    for text in texts:
        if text is None:
            continue
        for m in _NUMBER.finditer(str(text)):
            out.add(m.group().lstrip("+"))
            value = _value(m.group())
            if value is not None:
                out.add(value)
                out.add(abs(value))
    return out


def _foreign(match: re.Match, text: str, own: set) -> bool:
    token = match.group()
    if token.lstrip("+") in own:
        return False
    value = _value(token)
    if value is not None and (value in own):
        return False
    if _COUNT_AFTER.match(text, match.end()) or _COUNT_BEFORE.search(text, 0, match.start()):
        return False
    return not (token == "10" and text.startswith("^", match.end()))  # "a factor of 10^…": the base says nothing


def redact_text(text: str, own: set, secrets: list[str] = ()) -> str:
    """text without the expected spellings (secrets) and numbers that are not the student's (own)."""
    if not text:
        return text
    for secret in sorted((s for s in secrets if s.strip()), key=len, reverse=True):
        if secret in own or _value(secret) in own:
            continue
        start = r"(?<![\w.])" if re.match(r"[\w.]", secret) else ""
        end = r"(?![\w]|\.\d)" if re.search(r"\w$", secret) else ""
        text = re.sub(start + re.escape(secret) + end, HIDDEN, text)

    def paren(m: re.Match) -> str:
        inner = m.group()
        return "" if any(_foreign(n, inner, own) for n in _NUMBER.finditer(inner)) else inner

    previous = None
    while previous != text:  # innermost parentheses first
        previous, text = text, _PAREN.sub(paren, text)
    text = _NUMBER.sub(lambda m: HIDDEN if _foreign(m, text, own) else m.group(), text)
    return re.sub(r"\s+([,;:.])(?=\s|$)", r"\1", text).strip()


def _secrets(expected: str | None) -> list[str]:
    if not expected:
        return []
    core = expected.split(" (", 1)[0].strip()  # "0.173 (rounded to 3 decimal place(s))" -> "0.173"
    return [s for s in dict.fromkeys((expected, core)) if len(s) >= 2 or s.isdigit()]


def redact_part(part: PartResult) -> PartResult:
    own = _own_numbers(part.given, part.interpreted)
    secrets = _secrets(part.expected)
    feedback = part.feedback or ""
    if feedback.startswith(HAND_MARKED):
        feedback = HAND_MARKED
    else:
        feedback = redact_text(feedback, own, secrets)
    return replace(part, expected=None, feedback=feedback, note=redact_text(part.note or "", own, secrets))


def redact_report(report: Report) -> Report:
    problems = [ProblemResult(p.id, [redact_part(q) for q in p.parts]) for p in report.problems]
    return replace(report, problems=problems)


class redacted:
    """The reports, redacted as they are read (re-iterable, sized, as the reports are)."""

    def __init__(self, reports):
        self._reports = reports

    def __iter__(self):
        for report in self._reports:
            yield redact_report(report)

    def __len__(self) -> int:
        return len(self._reports)

    def __bool__(self) -> bool:
        return len(self) > 0

    def first(self):
        return next(iter(self), None)

    def contested(self):
        """Reports withheld from a gradebook's rows (see render.gradebooks.gradebook), redacted too."""
        return (redact_report(report) for report in getattr(self._reports, "contested", tuple)())
