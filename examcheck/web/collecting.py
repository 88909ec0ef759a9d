"""Handing in: the `--collect` folder, the optional roster of tokens, and the limits on saving.

Layout of the collect folder (nothing is ever overwritten except the "latest" copy)::

    DIR/ID.yaml                                   the student's latest save: what `examcheck grade DIR` grades
    DIR/history/ID/0001-20261128T051200Z-ab12cd34.yaml.saved
                                                  every save, numbered, never overwritten (O_EXCL);
                                                  `grade DIR` skips them (not .yaml), `grade FILE` reads one

Each saved version starts with a comment naming the time and the client address it came from, so a TA
can see who saved what and when.  Without a roster a student ID is self-declared: anyone can save under
any ID, but nobody can erase a version.  With a roster (``--roster roster.csv``, columns ``student`` and
``token``) only listed students can save, each with their own token.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

HISTORY = "history"
VERSION_SUFFIX = ".yaml.saved"
TOKEN_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or copied from paper
TOKEN_LENGTH = 10  # 31^10 ≈ 8e14 guesses; saves are rate-limited per client
MAX_ROSTER_BYTES = 2 * 1024 * 1024
MAX_ROSTER_ROWS = 20_000


class CollectRefused(Exception):
    """A save the server will not store: status is the HTTP status, message says why."""

    def __init__(self, status: int, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class RosterError(ValueError):
    """The roster file is not usable: the message names the file and line."""


# ----------------------------------------------------------------------------- the roster


ID_COLUMNS = ("student", "student_id", "student id", "sis user id", "sis_id", "id", "login", "username")
TOKEN_COLUMN = "token"


@dataclass
class Roster:
    """Student ID -> token (an empty token: not issued yet); header and rows as read, so that writing
    tokens back keeps every other column (names, emails) as it was."""

    path: Path
    tokens: dict[str, str] = field(default_factory=dict)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    id_column: int = 0
    token_column: int | None = None

    def verify(self, student: str, token) -> bool:
        """Constant-time check of the token; unknown IDs and unissued tokens never match."""
        expected = self.tokens.get(student, "")
        given = token if isinstance(token, str) else ""
        ok = hmac.compare_digest(_digest(expected), _digest(given.strip().lower()))
        return ok and bool(expected)

    def missing_tokens(self) -> list[str]:
        return [student for student, token in self.tokens.items() if not token]


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def load_roster(path: Path, check_student) -> Roster:
    """A CSV with a header naming the student ID column (student, student_id, id, login, ...) and,
    once issued, a `token` column."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RosterError(f"{path}: cannot read the roster: {exc.strerror or exc}") from None
    if len(raw) > MAX_ROSTER_BYTES:
        raise RosterError(f"{path}: the roster is larger than {MAX_ROSTER_BYTES // 1024 // 1024} MB")
    try:
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    except UnicodeDecodeError:
        raise RosterError(f"{path}: the roster is not UTF-8 text") from None
    except csv.Error as exc:
        raise RosterError(f"{path}: not a CSV file: {exc}") from None
    header = [h.strip().lower() for h in rows[0]] if rows else []
    id_column = next((header.index(name) for name in ID_COLUMNS if name in header), None)
    if id_column is None:
        found = ",".join(header) or "nothing"
        raise RosterError(f"{path}:1: expected a header line with a student column and a token column, e.g. "
                          f"student,token (found {found})")
    token_column = header.index(TOKEN_COLUMN) if TOKEN_COLUMN in header else None
    roster = Roster(path, header=rows[0], id_column=id_column, token_column=token_column)
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        if len(roster.tokens) >= MAX_ROSTER_ROWS:
            raise RosterError(f"{path}:{line}: more than {MAX_ROSTER_ROWS} students")
        student = row[id_column].strip() if id_column < len(row) else ""
        try:
            check_student(student)
        except ValueError as exc:
            raise RosterError(f"{path}:{line}: {exc} (found {student!r})") from None
        if student in roster.tokens:
            raise RosterError(f"{path}:{line}: student {student!r} is listed twice")
        token = row[token_column].strip().lower() if token_column is not None and token_column < len(row) else ""
        if token and (len(token) < 6 or len(token) > 64 or not token.isalnum() or not token.isascii()):
            raise RosterError(f"{path}:{line}: a token must be 6-64 letters or digits")
        roster.tokens[student] = token
        roster.rows.append(row)
    if not roster.tokens:
        raise RosterError(f"{path}: the roster lists no student")
    return roster


def issue_tokens(roster: Roster) -> int:
    """Give every student without a token a new random one and write the roster back (mode 0600),
    every other column kept as it was."""
    issued = 0
    for student in roster.missing_tokens():
        roster.tokens[student] = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))
        issued += 1
    header = list(roster.header)
    if roster.token_column is None:
        roster.token_column = len(header)
        header.append(TOKEN_COLUMN)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in roster.rows:
        row = list(row) + [""] * (len(header) - len(row))
        row[roster.token_column] = roster.tokens[row[roster.id_column].strip()]
        writer.writerow(row)
    _write_private(roster.path, out.getvalue())
    roster.header = header
    return issued


def issue_tokens_for(path: Path, check_student) -> tuple[int, Path]:
    """--issue-tokens: load the roster at path, fill in missing tokens, write it back."""
    roster = load_roster(path, check_student)
    return issue_tokens(roster), roster.path


def _write_private(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


# ----------------------------------------------------------------------------- rate limits


class RateLimit:
    """A token bucket per client: `burst` saves at once, then one every `every` seconds."""

    def __init__(self, burst: int = 5, every: float = 10.0, clients: int = 10_000, clock=time.monotonic):
        self.burst, self.every, self.max_clients, self.clock = burst, every, clients, clock
        self.buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, when)
        self.lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 if allowed (and counted), else the seconds to wait."""
        with self.lock:
            now = self.clock()
            tokens, when = self.buckets.get(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - when) / self.every)
            if tokens < 1:
                self.buckets[client] = (tokens, now)
                return (1 - tokens) * self.every
            self.buckets[client] = (tokens - 1, now)
            if len(self.buckets) > self.max_clients:
                self._forget_idle(now)
            return 0.0

    def _forget_idle(self, now: float) -> None:
        full = [c for c, (tokens, when) in self.buckets.items() if tokens + (now - when) / self.every >= self.burst]
        for client in full:
            del self.buckets[client]
        if len(self.buckets) > self.max_clients:  # every client is mid-burst: forget the oldest
            for client, _ in sorted(self.buckets.items(), key=lambda kv: kv[1][1])[: len(self.buckets) // 2]:
                del self.buckets[client]


# ----------------------------------------------------------------------------- the folder


@dataclass
class CollectLimits:
    versions_per_student: int = 100
    total_bytes: int = 200 * 1024 * 1024
    students: int = 5_000


class Collector:
    """Stores saves in the collect folder: a new version each time, and ID.yaml as the latest."""

    def __init__(self, folder: Path, limits: CollectLimits | None = None):
        self.folder = Path(folder)
        self.history = self.folder / HISTORY
        self.limits = limits or CollectLimits()
        self.lock = threading.Lock()
        self.history.mkdir(parents=True, exist_ok=True)
        self.used_bytes, self.versions = self._scan()

    def _scan(self) -> tuple[int, dict[str, int]]:
        used = 0
        versions: dict[str, int] = {}
        for root, _dirs, files in os.walk(self.folder):
            for name in files:
                try:
                    used += os.lstat(os.path.join(root, name)).st_size
                except OSError:
                    continue
        for entry in self.history.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                numbers = [_version_number(p.name) for p in entry.iterdir()]
                versions[entry.name] = max([n for n in numbers if n is not None], default=0)
        return used, versions

    def store(self, student: str, text: str, client: str, now: datetime | None = None) -> dict:
        """Write a new version and the latest copy.  Returns {"collected", "version"}."""
        now = now or datetime.now(UTC)
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        body = f"# handed in {now.isoformat(timespec='seconds')} from {client}\n{text}"
        data = body.encode("utf-8")
        digest = hashlib.sha256(data).hexdigest()[:8]
        with self.lock:
            number = self.versions.get(student, 0) + 1
            if student not in self.versions and len(self.versions) >= self.limits.students:
                raise CollectRefused(507, f"the collection folder already holds {self.limits.students} students; "
                                          "keep the downloaded file and tell your instructor")
            if number > self.limits.versions_per_student:
                raise CollectRefused(429, f"you have saved {self.limits.versions_per_student} versions, the most this "
                                          "server keeps; your last saved version stands. Keep the downloaded file "
                                          "and tell your instructor")
            latest = self.folder / f"{student}.yaml"
            try:
                previous = latest.stat().st_size if latest.exists() else 0
            except OSError:
                previous = 0
            growth = 2 * len(data) - previous
            if self.used_bytes + growth > self.limits.total_bytes:
                raise CollectRefused(507, "the collection folder is full; keep the downloaded file and tell your "
                                          "instructor")
            folder = self.history / student
            folder.mkdir(exist_ok=True)
            version = folder / f"{number:04d}-{stamp}-{digest}{VERSION_SUFFIX}"
            fd = os.open(version, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            _write_private(latest, body)
            self.versions[student] = number
            self.used_bytes += growth
        return {"collected": latest.name, "version": number}


def _version_number(name: str) -> int | None:
    head = name.split("-", 1)[0]
    return int(head) if name.endswith(VERSION_SUFFIX) and head.isdigit() else None
