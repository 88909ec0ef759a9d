"""A class roster, and which student each answer file belongs to.

The roster is a CSV file with a header row.  Its columns are found by name (case and spacing
ignored): ``id`` (required), ``name`` (or ``first name`` + ``last name``), ``sis_id``, ``login``,
``email`` and ``section``, under the names LMS exports use (Canvas: ``ID``, ``SIS User ID``,
``SIS Login ID``; Moodle: ``ID number``, ``Username``, ``Email address``; Brightspace:
``OrgDefinedId``, ``Username``).  Other names are given with ``columns`` (``--roster-columns``):
``id=Student ID,name=Full name``.  Identifiers are text, always: ``0123`` stays ``0123``.

An answer file is joined to a student, first match wins:

1. an explicit identity (``identify(..., override=...)``: Gradescope's submission_metadata.json);
2. its file name or its folder's, as LMS bulk downloads name them:
   Canvas ``smithjane_LATE_12345_678901_answers.yaml`` (user id 12345),
   Moodle ``Jane Smith_4242_assignsubmission_file_`` (the full name, else participant id 4242),
   Brightspace ``123-456 - Jane Smith - Mar 3, 2026 1021 AM - answers.yaml`` (the full name),
   or a name that is a roster id, SIS id, login or e-mail (``s0123.yaml``, ``jsmith/answers.yaml``);
3. the file's own ``student:`` field, only when it names a roster student (a file cannot claim
   someone else's place when its name says whose it is).

Files that match no student are *unknown*; two files of one student for one exam are
*duplicates*; roster students with no file for an exam that others answered are *missing*.
Nothing here imports SymPy or the engine: the Gradescope runner can use it as it is.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

MAX_ROSTER_BYTES = 20_000_000
MAX_STUDENTS = 200_000
FIELDS = ("id", "name", "sis_id", "login", "email", "section")

# Header names each field is found under (compared after _header_key).
KNOWN_HEADERS = {
    "id": ("id", "student id", "user id", "canvas user id", "studentid", "student_id", "user_id", "participant id"),
    "name": ("name", "student", "full name", "student name", "fullname", "display name"),
    "first": ("first name", "firstname", "given name", "first"),
    "last": ("last name", "lastname", "surname", "family name", "last"),
    "sis_id": ("sis id", "sis user id", "sis_id", "sis_user_id", "orgdefinedid", "org defined id", "id number",
               "idnumber", "student number", "matriculation number"),
    "login": ("login", "sis login id", "login id", "login_id", "username", "user name", "netid"),
    "email": ("email", "e-mail", "email address", "e-mail address", "mail"),
    "section": ("section", "sections", "group", "groups", "class"),
}


class RosterError(Exception):
    """A roster that cannot be used: names the file, the line and what was expected."""


@dataclass(frozen=True)
class Student:
    id: str
    name: str = ""
    sis_id: str = ""
    login: str = ""
    email: str = ""
    section: str = ""

    def keys(self) -> Iterator[str]:
        """Every text this student may be named by in a file name or a `student:` field."""
        for value in (self.id, self.sis_id, self.login, self.email):
            if value:
                yield value
        if "@" in self.email:
            yield self.email.split("@", 1)[0]


@dataclass
class Match:
    """Who an answer file belongs to: the student (None when unknown), how that was decided, and a note."""

    student: Student | None
    how: str
    note: str = ""


def _header_key(text: str) -> str:
    return " ".join(text.replace("\ufeff", "").replace("_", " ").strip().lower().split())


def _name_key(text: str) -> str:
    """Names compared without case, accents, punctuation or word order (Moodle writes "First Last",
    Canvas "lastfirst")."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return "".join(sorted(re.findall(r"[^\W_]+", text)))


def _squashed(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text.casefold() if c.isalnum() and not unicodedata.combining(c))


def parse_columns(spec: str | None) -> dict[str, str]:
    """``id=Student ID,name=Full name`` -> {field: header}.  Raises RosterError on a bad spec."""
    out: dict[str, str] = {}
    if not spec:
        return out
    for item in spec.split(","):
        if not item.strip():
            continue
        key, sep, header = item.partition("=")
        key = key.strip().lower().replace("-", "_")
        if not sep or key not in FIELDS + ("first", "last") or not header.strip():
            raise RosterError(f"--roster-columns: {item.strip()!r}: expected FIELD=HEADER with FIELD one of "
                              f"{', '.join(FIELDS + ('first', 'last'))}")
        out[key] = header.strip()
    return out


class Roster:
    def __init__(self, students: Iterable[Student], source: str = "<roster>"):
        self.source = source
        self.students: list[Student] = list(students)
        self.by_id: dict[str, Student] = {}
        self._keys: dict[str, Student | None] = {}     # exact key -> student (None: ambiguous)
        self._folded: dict[str, Student | None] = {}   # casefolded key -> student
        self._names: dict[str, Student | None] = {}    # name key -> student
        self._squashed: dict[str, Student | None] = {}  # "smithjane" -> student
        for student in self.students:
            self.by_id[student.id] = student
            for key in student.keys():
                _add(self._keys, key, student)
                _add(self._folded, key.casefold(), student)
            if student.name.strip():
                _add(self._names, _name_key(student.name), student)
                _add(self._squashed, _squashed(student.name), student)
                words = student.name.split()
                if len(words) > 1:  # Canvas's "lastfirst" of "First Last"
                    _add(self._squashed, _squashed(words[-1] + "".join(words[:-1])), student)

    def __len__(self) -> int:
        return len(self.students)

    def lookup(self, text: str) -> Student | None:
        """The one student this id, SIS id, login or e-mail names (exact, then ignoring case)."""
        text = text.strip()
        if not text:
            return None
        found = self._keys.get(text)
        if found is None and text not in self._keys:
            found = self._folded.get(text.casefold())
        return found

    def by_name(self, name: str) -> Student | None:
        return self._names.get(_name_key(name)) if name.strip() else None

    def by_squashed_name(self, name: str) -> Student | None:
        return self._squashed.get(_squashed(name)) if name.strip() else None


def _add(index: dict, key: str, student: Student) -> None:
    if not key:
        return
    if key in index and index[key] is not student:
        index[key] = None  # two students share it: it names neither
    else:
        index[key] = student


def read_roster(path: str | Path, columns: dict[str, str] | None = None) -> Roster:
    """The roster in a CSV file (UTF-8, a BOM allowed; comma, semicolon or tab separated)."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_ROSTER_BYTES + 1)
    except OSError as exc:
        raise RosterError(f"{path}: cannot read the roster: {exc.strerror or exc}") from None
    if len(data) > MAX_ROSTER_BYTES:
        raise RosterError(f"{path}: the roster is larger than {MAX_ROSTER_BYTES // 1_000_000} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RosterError(f"{path}: the roster is not UTF-8 text (byte {exc.start}); save it as CSV UTF-8") from None
    return roster_from_text(text, str(path), columns)


def roster_from_text(text: str, source: str = "<roster>", columns: dict[str, str] | None = None) -> Roster:
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise RosterError(f"{source}:1: {exc}") from None
    if not header or not any(h.strip() for h in header):
        raise RosterError(f"{source}:1: expected a header row naming the columns (id, name, sis_id, login, email, section)")
    where = _locate(header, columns or {}, source)
    students: list[Student] = []
    seen: dict[str, int] = {}
    line = 1
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(students) >= MAX_STUDENTS:
                raise RosterError(f"{source}:{line}: more than {MAX_STUDENTS} students")
            values = {f: (row[i].strip() if i < len(row) else "") for f, i in where.items()}
            name = values.get("name") or " ".join(v for v in (values.get("first", ""), values.get("last", "")) if v)
            student = Student(values["id"], name, values.get("sis_id", ""), values.get("login", ""),
                              values.get("email", ""), values.get("section", ""))
            label = (row[0].strip() if row else "").casefold()
            if label in _NOT_STUDENTS or student.name.casefold() in _NOT_STUDENTS:
                continue  # Canvas's Points Possible / Manual Posting rows, and its test student
            if not student.id:
                raise RosterError(f"{source}:{line}: the id column ({header[where['id']].strip()!r}) is empty")
            if student.id in seen:
                raise RosterError(f"{source}:{line}: id {student.id!r} is already on line {seen[student.id]}")
            seen[student.id] = line
            students.append(student)
    except csv.Error as exc:
        raise RosterError(f"{source}:{line}: {exc}") from None
    return Roster(students, source)


_NOT_STUDENTS = ("points possible", "manual posting", "test student", "student, test")


def _locate(header: list[str], columns: dict[str, str], source: str) -> dict[str, int]:
    keys = [_header_key(h) for h in header]
    where: dict[str, int] = {}
    for name, wanted in columns.items():
        key = _header_key(wanted)
        if key not in keys:
            raise RosterError(f"{source}:1: no column {wanted!r} for {name} (columns: {', '.join(h.strip() for h in header)})")
        where[name] = keys.index(key)
    for name, candidates in KNOWN_HEADERS.items():
        if name in where:
            continue
        for candidate in candidates:
            if candidate in keys and keys.index(candidate) not in where.values():
                where[name] = keys.index(candidate)
                break
    if "id" not in where:
        for fallback in ("sis_id", "login", "email"):  # a roster of logins or e-mails only
            if fallback in where:
                where["id"] = where[fallback]
                break
    if "id" not in where:
        raise RosterError(f"{source}:1: no id column (columns: {', '.join(h.strip() for h in header)}); "
                          "name it with --roster-columns id=HEADER")
    return where


# ----------------------------------------------------------------------------- file names of LMS downloads

_CANVAS = re.compile(r"^(?:late_)?(?P<name>[^_]+)_(?:late_)?(?P<user>\d+)_(?P<submission>\d+)(?:_|$)", re.IGNORECASE)
_MOODLE = re.compile(r"^(?P<name>.+?)_(?P<participant>\d+)_assign(?:submission|feedback)_[a-z]+_?", re.IGNORECASE)
_BRIGHTSPACE = re.compile(r"^\d+-\d+ - (?P<name>.+?) - [A-Z][a-z]{2,8} \d{1,2}, \d{4}", re.IGNORECASE)


def _from_name(text: str, roster: Roster) -> tuple[Student | None, str]:
    """The student a file or folder name names, and how (``''`` when none)."""
    m = _CANVAS.match(text)
    if m:
        by_name = roster.by_squashed_name(m["name"])
        student = roster.lookup(m["user"])
        if student is not None and len(m["user"]) < 4 and by_name is not student:
            student = None  # "quiz_1_2_x.yaml" is not user 1's: Canvas user ids are long, or the name agrees
        student = student or by_name
        if student is not None:
            return student, "Canvas file name"
    m = _MOODLE.match(text)
    if m:
        student = roster.by_name(m["name"]) or roster.lookup(m["participant"])
        if student is not None:
            return student, "Moodle file name"
    m = _BRIGHTSPACE.match(text)
    if m:
        student = roster.by_name(m["name"])
        if student is not None:
            return student, "Brightspace file name"
    for candidate in dict.fromkeys((text, Path(text).stem if "." in text else text)):
        student = roster.lookup(candidate)
        if student is not None:
            return student, "file name"
    return None, ""


def identify(source: str, declared: str | None, roster: Roster | None, override: str | None = None) -> Match:
    """Who the answer file at source belongs to.

    declared: the file's own ``student:`` field (or None); override: an identity from a trusted place
    (Gradescope's submission_metadata.json), which wins.  Without a roster every file is its own
    student: the override, else the declared id, else the file name."""
    path = Path(source)
    if roster is None:
        who = override or declared or path.stem
        return Match(Student(who), "override" if override else "student field" if declared else "file name")
    if override:
        student = roster.lookup(override) or roster.by_name(override)
        if student is None:
            return Match(None, "override", f"{override!r} is not on the roster {roster.source}")
        return Match(student, "override", _disagrees(declared, student, roster))
    for text in (path.name, path.parent.name):  # Moodle: one folder per student; Canvas, Brightspace: flat
        if not text or text in (".", "/"):
            continue
        student, how = _from_name(text, roster)
        if student is not None:
            return Match(student, how, _disagrees(declared, student, roster))
    if declared:
        student = roster.lookup(declared)
        if student is not None:
            return Match(student, "student field")
        return Match(None, "student field", f"student {declared!r} is not on the roster and the file name names no one")
    return Match(None, "file name", "no student on the roster matches the file name, and it has no student: field")


def gradescope_identity(metadata) -> str | None:
    """The identity in Gradescope's submission_metadata.json (its first user's student id, else e-mail,
    else Gradescope user id), for identify(..., override=...); None when it names no one."""
    users = metadata.get("users") if isinstance(metadata, dict) else None
    if not isinstance(users, list) or not users or not isinstance(users[0], dict):
        return None
    for key in ("sid", "email", "id"):
        value = users[0].get(key)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


DISAGREES = "its student: field says"


def _disagrees(declared: str | None, student: Student, roster: Roster) -> str:
    if declared and roster.lookup(declared) is not student:
        return f"{DISAGREES} {declared!r}; the file name says {student.id!r} (the file name is used)"
    return ""


# ----------------------------------------------------------------------------- a class of reports


@dataclass
class Identities:
    """What joining a run's reports to the roster found."""

    students: dict[str, Student] = field(default_factory=dict)   # report source -> student
    unknown: list[tuple[str, str]] = field(default_factory=list)  # (source, why)
    duplicates: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (student id, exam, sources)
    missing: list[tuple[str, Student]] = field(default_factory=list)  # (exam, student)
    notes: list[str] = field(default_factory=list)
    demoted: set[str] = field(default_factory=set)  # files whose `student:` claim lost to an LMS-named file
    withheld: set[str] = field(default_factory=set)  # files of a student no gradebook row may credit (contested)
    contested: list[str] = field(default_factory=list)  # what to say about them (one-row-per-student formats)

    @property
    def problems(self) -> bool:
        return bool(self.unknown or self.duplicates or self.missing)

    def messages(self, most: int = 50) -> list[str]:
        """What to tell the instructor: at most `most` lines of each kind, then how many more."""
        kinds = [
            self.notes,
            [f"{source}: unknown student: {why}" for source, why in self.unknown],
            [f"student {sid!r} has {len(sources)} answer files for {exam}: {', '.join(sources[:10])}"
             for sid, exam, sources in self.duplicates],
            self.contested,
            [f"{exam}: no answer file from {student.id!r}" + (f" ({student.name})" if student.name else "")
             for exam, student in self.missing],
        ]
        out = []
        for lines in kinds:
            out += lines[:most]
            if len(lines) > most:
                out.append(f"... and {len(lines) - most} more like this")
        return out


def join(reports: Iterable, roster: Roster | None, overrides: dict[str, str] | None = None) -> Identities:
    """One pass over the reports (anything with .source, .student and .exam)."""
    found = Identities()
    if roster is None:
        return found
    seen: dict[tuple[str, str], list[str]] = {}
    hows: dict[str, str] = {}
    exams: list[str] = []
    for report in reports:
        if report.exam not in exams:
            exams.append(report.exam)
        match = identify(report.source, report.student, roster, (overrides or {}).get(report.source))
        if match.student is None:
            found.unknown.append((report.source, match.note))
            continue
        if match.note:
            found.notes.append(f"{report.source}: {match.note}")
        # the identity was resolved before grading (examcheck.identity): its disagreement note travels as a warning
        found.notes += [f"{report.source}: {w}" for w in getattr(report, "warnings", None) or ()
                        if isinstance(w, str) and w.startswith(DISAGREES) and w != match.note]
        found.students[report.source] = match.student
        seen.setdefault((match.student.id, report.exam), []).append(report.source)
        hows[report.source] = match.how
    for key, sources in seen.items():
        # a file known only by its own `student:` claim never replaces a file the LMS download names
        named = [s for s in sources if hows[s] != "student field"]
        if named and len(named) < len(sources):
            for source in sources:
                if source not in named:
                    del found.students[source]
                    found.demoted.add(source)
                    found.unknown.append((source, claim_lost(key, named[0], "by the LMS download")))
            seen[key] = named
    found.duplicates = [(sid, exam, sources) for (sid, exam), sources in seen.items() if len(sources) > 1]
    # several files the LMS download names for one student are all theirs (a resubmission); several that only
    # claim a student by their `student:` field are not: none of them is credited in a one-row gradebook
    withhold_contested(found, [d for d in found.duplicates if all(hows[s] == "student field" for s in d[2])])
    for exam in exams:
        found.missing += [(exam, s) for s in roster.students if (s.id, exam) not in seen]
    return found


def claim_lost(key: tuple[str, str], winner: str, named_by: str) -> str:
    return (f"its student: field claims {key[0]!r}, whose answer file for {key[1]} is {winner} "
            f"(named so {named_by}): not credited")


def withhold_contested(found: Identities, contested: list[tuple[str, str, list[str]]]) -> None:
    """Students whose several files for one exam remain after the file names were heard (none of them, or
    several, named for the student): no claimant's grade may stand in the student's row of a one-row-per-student
    gradebook, whichever sorts first; the files are listed for the instructor to decide."""
    for sid, exam, sources in contested:
        found.withheld.update(sources)
        found.contested.append(f"student {sid!r}: no grade for {exam} in the gradebook: {len(sources)} answer files "
                               f"claim it and the file names do not settle which is theirs (decide, then grade that "
                               f"file): {', '.join(sources[:10])}" + (" ..." if len(sources) > 10 else ""))


def id_key(text: object) -> str:
    """What decides that two spellings name one student: NFKC, case-folded, outer spaces dropped (``A0100005``,
    full-width ``ａ0100005`` and ``a0100005 `` are all ``a0100005``).  Outputs keep the id as written."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", str(text)).casefold()).strip()


def settle_by_file_name(found: Identities) -> None:
    """Without a roster, the same rule as join's: of the files claiming one student for one exam, the one whose
    own name (or its folder's) is the student id wins, and the others are not credited; when none or several
    are so named, the student's gradebook row is left blank (withhold_contested)."""
    unsettled = []
    for sid, exam, sources in found.duplicates:
        key = id_key(sid)  # a file named for any spelling of the id is named for the student
        named = [s for s in sources if key in (id_key(Path(s).stem), id_key(Path(s).parent.name))]
        if len(named) == 1:
            for source in sources:
                if source != named[0]:
                    found.demoted.add(source)
                    found.unknown.append((source, claim_lost((sid, exam), named[0], "by its file name")))
        else:
            unsettled.append((sid, exam, sources))
    withhold_contested(found, unsettled)


class IdentifiedReports:
    """The reports with each student id replaced by the roster's (re-iterable, as the reports are)."""

    def __init__(self, reports, identities: Identities, known_only: bool = False):
        """known_only: leave out the reports of files joined to no roster student (LMS imports: a grade
        must never be written for an id the roster does not hold)."""
        self._reports, self._identities, self._known_only = reports, identities, known_only

    def __iter__(self):
        withheld = self._identities.withheld
        for report in self._reports:
            if report.source in withheld:  # a contested row of a one-row-per-student gradebook: left blank
                continue
            student = self._identities.students.get(report.source)
            if student is None:
                if self._known_only:
                    continue
                if report.source in self._identities.demoted:  # never under the id it claimed
                    report = replace(report, student=Path(report.source).stem)
                yield report
                continue
            yield replace(report, student=student.id)

    def __len__(self) -> int:
        withheld = self._identities.withheld
        if self._known_only:
            return sum(1 for r in self._reports if r.source in self._identities.students and r.source not in withheld)
        if withheld:
            return sum(1 for r in self._reports if r.source not in withheld)
        return len(self._reports)

    def __bool__(self) -> bool:
        return len(self) > 0

    def first(self):
        return next(iter(self), None)

    def contested(self):
        """The reports withheld from the gradebook's rows (none for most runs: then no pass is made)."""
        withheld = self._identities.withheld
        return (report for report in self._reports if report.source in withheld) if withheld else iter(())

    def with_contested(self) -> IdentifiedReports:
        """The same reports with those withheld from a one-row gradebook (each student's own feedback)."""
        return IdentifiedReports(self._reports, replace(self._identities, withheld=set()), self._known_only)
