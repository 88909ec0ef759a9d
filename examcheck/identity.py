"""Who an answer file belongs to, decided once, BEFORE grading: the same identity is credited in the
reports and hashed for the variant assignment (a copied file cannot be graded on a classmate's numbers).

With a roster the identity is the roster id (case as in the roster) the file is joined to
(examcheck.roster.identify: a trusted override, the LMS file/folder name, else a `student:` on the
roster).  Without one: the override, else the declared `student:`, else the file name, exactly as
written (matching without a roster is exact too).  The attempt is the instructor's (`grade --attempt`),
never the answer file's.  No SymPy here."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from examcheck.roster import Roster, identify


@dataclass(frozen=True)
class IdentityOptions:
    """What grading needs to resolve identities (shared with the workers)."""

    roster: Roster | None = None
    attempt: int = 1
    overrides: dict[str, str] = field(default_factory=dict)  # answer file -> trusted identity (Gradescope)


@dataclass(frozen=True)
class Resolved:
    student: str   # the id credited and hashed for the variant
    on_roster: bool
    how: str       # "override", "Canvas file name", ..., "student field", "file name"
    note: str = ""


def declared_student(sheet) -> str | None:
    """The `student:` the file itself wrote (None when it has none: the file name is a default, not a claim)."""
    doc = getattr(sheet, "doc", None)
    if doc is None:  # a sheet made in code (the page's, a test's): its student is what it says
        return sheet.student or None
    data = doc.data if isinstance(doc.data, dict) else {}
    if "student" not in data or data.get("student") is None:
        return None
    return sheet.student


def resolve(sheet, options: IdentityOptions | None) -> Resolved:
    """The one identity of this answer file."""
    options = options or IdentityOptions()
    declared = declared_student(sheet)
    override = options.overrides.get(str(sheet.source))
    if options.roster is None:
        if override:
            return Resolved(override, False, "override")
        return Resolved(declared or Path(str(sheet.source)).stem, False, "student field" if declared else "file name")
    match = identify(str(sheet.source), declared, options.roster, override)
    if match.student is not None:
        return Resolved(match.student.id, True, match.how, match.note)
    return Resolved(override or declared or Path(str(sheet.source)).stem, False, match.how, match.note)
