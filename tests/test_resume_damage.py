"""The --resume state is untrusted input, as the verdict cache is (blind test 17, F1, F4, F9).

- A regular file at the state's name that is not a usable state of this run (random bytes, a truncated or
  damaged database, another version's tables, an empty file, damaged -wal/-shm companions) or a symlink to a
  file: one warning naming the state, it is replaced (never written through a symlink) and every file is
  graded again, to the output of a fresh run.  Never exit 70.
- Something that is not a regular file (a folder, FIFO, device, socket, or a symlink to one) at the state's
  name or a companion's: exit 2 naming the path and what was expected; nothing blocks, nothing is touched.
- Every outcome and verdict in it carries an HMAC: an edited, moved or forged record is a miss (graded again),
  with one warning; without the key nothing of an earlier run is reused.
- A completed run writing -o FILE removes FILE's stale state, unless a live run holds it.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from examcheck.engine import Engine
from examcheck.stream import ReportStore, ResumeUnusable, remove_stale_state, state_path
from tests.test_resume_state import cli, interrupted_state, make_class, sheet

COMPANIONS = ("-wal", "-shm", "-journal")


@pytest.fixture(scope="module")
def quiz():
    from examcheck.loader import load_sets
    from tests.test_resume_state import QUIZ

    return load_sets([QUIZ])


@pytest.fixture(scope="module")
def fingerprint(quiz):
    with Engine(quiz, jobs=1) as engine:
        return engine.run_fingerprint()


@pytest.fixture(scope="module")
def graded(tmp_path_factory, quiz):
    """A small class, its fresh output, and the bytes of a real interrupted state (checkpointed, no -wal)."""
    base = tmp_path_factory.mktemp("graded")
    folder = base / "class"
    paths = make_class(folder, 4)
    paths[1].write_text(sheet("student-0001", "7600"))  # not all alike: the forged grade differs from the true one
    fresh = base / "fresh.jsonl"
    run = cli(folder, "--format", "jsonl", "-o", fresh)
    assert run.wait(300) == 0, run.stderr.read()
    out = base / "state-maker.jsonl"
    interrupted_state(paths, out, quiz)
    state = state_path(out)
    db = sqlite3.connect(state)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    for suffix in COMPANIONS:
        Path(f"{state}{suffix}").unlink(missing_ok=True)
    return {"folder": folder, "paths": paths, "fresh": fresh.read_bytes(), "state": state.read_bytes()}


def resume(folder: Path, out: Path, env=None, seconds: float = 300):
    run = cli(folder, "--format", "jsonl", "-o", out, "--resume", env=env)
    code = run.wait(seconds)
    return code, run.stderr.read()


def unchanged(path: Path) -> tuple:
    info = os.lstat(path)
    return info.st_ino, info.st_mtime_ns, info.st_size


# ----------------------------------------------------------------------------- F1: a damaged or foreign state


def damaged(state: bytes, how: str, data) -> bytes:
    if how == "random":
        return data
    if how == "truncated":
        return state[:int(len(state) * data)]
    if how == "flipped":  # bytes overwritten at random places (a crashed write, a bad sector)
        damaged_state = bytearray(state)
        for offset, value in data:
            damaged_state[offset % len(damaged_state)] = value
        return bytes(damaged_state)
    raise AssertionError(how)


DAMAGE = st.one_of(
    st.tuples(st.just("random"), st.binary(min_size=0, max_size=5000)),
    st.tuples(st.just("truncated"), st.floats(0.0, 0.99)),
    st.tuples(st.just("flipped"), st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), min_size=1, max_size=40)),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(DAMAGE)
def test_a_damaged_state_file_is_replaced_with_one_warning_never_a_crash(tmp_path_factory, graded, fingerprint, damage):
    out = tmp_path_factory.mktemp("d") / "grades.jsonl"
    state = state_path(out)
    state.write_bytes(damaged(graded["state"], *damage))
    warnings: list[str] = []
    store = ReportStore.for_output(out, fingerprint, warnings.append)
    try:
        assert len(warnings) <= 2 and all(str(state) in w for w in warnings)  # at most: replaced, forged records
        store.keep_only((str(p), f"h{i}") for i, p in enumerate(graded["paths"]))  # the state is fully usable
        assert len(warnings) <= 2 and all(str(state) in w for w in warnings)
        store.add([(str(graded["paths"][0]), "h0", _error())])
        assert store.finished(str(graded["paths"][0]), "h0") and len(store.errors()) == 1
        assert list(store.reports()) == [] and store.count() == 0
    finally:
        store.close()


def _error():
    from examcheck.yamlio import InputError

    return InputError("a.yaml", 3, "expected a mapping")


def foreign_schema(path: Path, tables: dict[str, list[str]]) -> None:
    db = sqlite3.connect(path)
    for table, columns in tables.items():
        db.execute(f"CREATE TABLE {table} ({', '.join(columns)})")
    if "meta" in tables and tables["meta"][:2] == ["key", "value"]:
        db.execute("INSERT INTO meta (key, value) VALUES ('run', '1:old')")
    db.commit()
    db.close()


COLUMN_NAMES = st.sampled_from(["key", "value", "seq", "file", "hash", "kind", "student", "source", "data", "mac", "extra"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(["meta", "outcomes", "verdicts", "other"]),
                       st.lists(COLUMN_NAMES, min_size=1, max_size=9, unique=True), min_size=1))
def test_a_state_of_another_schema_is_replaced(tmp_path_factory, fingerprint, tables):
    expected = {"meta": ["key", "value"], "outcomes": ["seq", "file", "hash", "kind", "student", "source", "data", "mac"],
                "verdicts": ["key", "data", "mac"]}
    out = tmp_path_factory.mktemp("s") / "grades.jsonl"
    foreign_schema(state_path(out), tables)
    warnings: list[str] = []
    store = ReportStore.for_output(out, fingerprint, warnings.append)
    try:
        if any(table in expected and columns != expected[table] for table, columns in tables.items()):
            assert len(warnings) == 1 and "another version" in warnings[0] and str(state_path(out)) in warnings[0]
        store.add([("a.yaml", "h", _error())])
        assert store.finished("a.yaml", "h")
    finally:
        store.close()


def test_an_empty_state_file_is_a_fresh_state_without_warning(tmp_path, fingerprint):
    out = tmp_path / "grades.jsonl"
    state_path(out).write_bytes(b"")
    warnings: list[str] = []
    store = ReportStore.for_output(out, fingerprint, warnings.append)
    store.close()
    assert warnings == []


@pytest.mark.parametrize("damage", ["random", "truncated", "foreign", "wal", "shm", "symlink", "dangling", "empty"])
def test_grade_resume_over_a_damaged_state_grades_everything_again(tmp_path, graded, quiz, damage):
    """End to end, on a real interrupted state: exit 0, one warning naming the state, the fresh run's output."""
    out = tmp_path / "grades.jsonl"
    state = state_path(out)
    interrupted_state(graded["paths"], out, quiz)
    precious = tmp_path / "precious.txt"
    precious.write_text("not a database")
    before = unchanged(precious)
    if damage in ("random", "truncated", "foreign", "symlink", "dangling", "empty"):
        for suffix in COMPANIONS:
            Path(f"{state}{suffix}").unlink(missing_ok=True)
        state.unlink()
    if damage == "random":
        state.write_bytes(os.urandom(20000))
    elif damage == "truncated":
        state.write_bytes(graded["state"][:len(graded["state"]) // 2])
    elif damage == "foreign":
        foreign_schema(state, {"meta": ["key TEXT PRIMARY KEY", "value TEXT"], "outcomes": ["seq INTEGER PRIMARY KEY", "file"]})
    elif damage in ("wal", "shm"):
        Path(f"{state}-{damage}").write_bytes(os.urandom(40000))
    elif damage == "symlink":
        state.symlink_to(precious)
    elif damage == "dangling":
        state.symlink_to(tmp_path / "nowhere" / "x")
    elif damage == "empty":
        state.write_bytes(b"")
    code, stderr = resume(graded["folder"], out)
    assert code == 0, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    assert out.read_bytes() == graded["fresh"]
    if damage in ("random", "truncated", "foreign", "symlink", "dangling"):
        assert stderr.count(f"{state}:") == 1 and "replaced and every file graded again" in stderr, stderr
        assert "resumed" not in stderr
    assert not state.exists() and not state.is_symlink()
    assert unchanged(precious) == before and precious.read_text() == "not a database"
    assert not (tmp_path / "nowhere").exists()


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _folder(path: Path) -> None:
    path.mkdir()
    (path / "inside").write_text("kept")


def _socket(path: Path) -> None:
    server, cwd = socket.socket(socket.AF_UNIX), os.getcwd()
    os.chdir(path.parent)  # a relative name: a socket's path is limited to ~100 bytes
    try:
        server.bind(path.name)
    finally:
        os.chdir(cwd)
        server.close()


NOT_FILES = {
    "folder": (_folder, "a folder"),
    "fifo": (_fifo, "a FIFO"),
    "socket": (_socket, "a socket"),
    "link-to-folder": (lambda p: p.symlink_to(p.parent / "target-folder", target_is_directory=True), "a symlink to a folder"),
    "link-to-device": (lambda p: p.symlink_to("/dev/null"), "a symlink to a character device"),
    "link-to-fifo": (lambda p: (_fifo(p.parent / "target-fifo"), p.symlink_to(p.parent / "target-fifo")), "a symlink to a FIFO"),
}


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm", "-journal"])
@pytest.mark.parametrize("kind", sorted(NOT_FILES))
def test_something_not_a_regular_file_at_the_states_name_is_an_input_error(tmp_path, fingerprint, kind, suffix):
    out = tmp_path / "grades.jsonl"
    (tmp_path / "target-folder").mkdir()
    path = Path(f"{state_path(out)}{suffix}")
    make, what = NOT_FILES[kind]
    make(path)
    before = unchanged(path)
    with pytest.raises(ResumeUnusable) as raised:
        ReportStore.for_output(out, fingerprint)
    message = str(raised.value)
    assert message.startswith(f"{path}: it is {what}; expected a regular file")
    assert unchanged(path) == before and os.listdir(tmp_path / "target-folder") == []
    assert not state_path(out).exists() or suffix == ""  # nothing left behind


@pytest.mark.parametrize("kind", ["fifo", "folder", "link-to-device"])
def test_grade_resume_with_a_fifo_or_folder_there_exits_2_at_once(tmp_path, graded, kind):
    out = tmp_path / "grades.jsonl"
    (tmp_path / "target-folder").mkdir()
    NOT_FILES[kind][0](state_path(out))
    started = time.monotonic()
    code, stderr = resume(graded["folder"], out, seconds=120)
    assert code == 2, stderr
    assert f"{state_path(out)}: it is {NOT_FILES[kind][1]}; expected a regular file" in stderr
    assert "Traceback" not in stderr and not out.exists() and time.monotonic() - started < 100


# ----------------------------------------------------------------------------- F4: authenticated records


def test_forged_outcomes_are_graded_again_not_served(tmp_path, graded, quiz):
    """The blind tester's attack: stored reports edited to full marks; the resumed output is the fresh run's."""
    out = tmp_path / "grades.jsonl"
    interrupted_state(graded["paths"], out, quiz)
    db = sqlite3.connect(state_path(out))
    rows = db.execute("SELECT seq, data FROM outcomes WHERE kind = 'report'").fetchall()
    assert rows and any('"incorrect", 0.0' in data for _, data in rows)
    for seq, data in rows:
        db.execute("UPDATE outcomes SET data = ? WHERE seq = ?", (data.replace('"incorrect", 0.0', '"correct", 1.0'), seq))
    db.execute("UPDATE verdicts SET data = replace(data, '\"score\": 0.0, \"status\": \"incorrect\"', "
               "'\"score\": 1.0, \"status\": \"correct\"')")
    db.commit()
    db.close()
    code, stderr = resume(graded["folder"], out)
    assert code == 0, stderr
    assert out.read_bytes() == graded["fresh"]
    assert stderr.count("did not write with its key") == 1


COLUMNS = ["file", "hash", "kind", "student", "source", "data", "mac"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 3), st.sampled_from(COLUMNS), st.one_of(st.text(max_size=30), st.binary(max_size=8), st.none(),
                                                                st.integers(-(2**63), 2**63 - 1)), st.booleans())
def test_any_edited_outcome_is_a_miss(tmp_path_factory, graded, fingerprint, row, column, value, append):
    """Any column of any stored outcome changed (replaced, or a suffix added): that file is not resumed."""
    out = tmp_path_factory.mktemp("f") / "grades.jsonl"
    state_path(out).write_bytes(graded["state"])
    db = sqlite3.connect(state_path(out))
    seqs = [seq for (seq,) in db.execute("SELECT seq FROM outcomes WHERE file != '' ORDER BY seq")]
    seq = seqs[row % len(seqs)]
    old = db.execute(f"SELECT {column}, file, hash FROM outcomes WHERE seq = ?", (seq,)).fetchone()
    new = old[0] + value if append and isinstance(value, str) else value
    assume(new != old[0])
    db.execute(f"UPDATE outcomes SET {column} = ? WHERE seq = ?", (new, seq))
    db.commit()
    db.close()
    warnings: list[str] = []
    store = ReportStore.for_output(out, fingerprint, warnings.append)
    try:
        store.keep_only((str(p), h) for p, h in _hashes(graded["paths"]))
        assert store.forged == 1 and len(warnings) == 1 and "did not write with its key" in warnings[0]
        hashes = dict(_hashes(graded["paths"]))
        if column not in ("file", "hash"):
            assert not store.finished(old[1], old[2])
        assert sum(store.finished(str(p), hashes[str(p)]) for p in graded["paths"]) == len(graded["paths"]) - 1
    finally:
        store.close()


def _hashes(paths):
    from examcheck.stream import content_hash

    return [(str(p), content_hash(p)) for p in paths]


def test_records_moved_between_rows_or_from_another_run_are_misses(tmp_path, graded, fingerprint, quiz):
    out = tmp_path / "grades.jsonl"
    state_path(out).write_bytes(graded["state"])
    db = sqlite3.connect(state_path(out))
    (a, mac_a), (b, mac_b) = db.execute("SELECT seq, mac FROM outcomes WHERE file != '' ORDER BY seq LIMIT 2").fetchall()
    db.execute("UPDATE outcomes SET mac = ? WHERE seq = ?", (mac_b, a))  # MACs swapped between two rows
    db.execute("UPDATE outcomes SET mac = ? WHERE seq = ?", (mac_a, b))
    db.execute("UPDATE meta SET value = '2:another-run'")  # a state of another run relabelled as this one's:
    db.commit()
    db.close()
    warnings: list[str] = []
    store = ReportStore.for_output(out, "another-run", warnings.append)
    try:
        store.keep_only(_hashes(graded["paths"]))
        assert store.forged == len(graded["paths"])  # the MACs are bound to the run they were made in
        assert store.verdict(_any_verdict_key(graded["state"], tmp_path)) is None
    finally:
        store.close()


def _any_verdict_key(state: bytes, tmp_path: Path) -> str:
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes(state)
    db = sqlite3.connect(copy)
    try:
        return db.execute("SELECT key FROM verdicts LIMIT 1").fetchone()[0]
    finally:
        db.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["data", "mac", "key"]), st.text(max_size=40))
def test_an_edited_verdict_is_a_miss(tmp_path_factory, graded, fingerprint, column, value):
    out = tmp_path_factory.mktemp("v") / "grades.jsonl"
    state_path(out).write_bytes(graded["state"])
    db = sqlite3.connect(state_path(out))
    key, data, mac = db.execute("SELECT key, data, mac FROM verdicts ORDER BY key LIMIT 1").fetchone()
    new = {"data": data, "mac": mac, "key": key}
    new[column] = new[column][:len(value)] + value if value else new[column][:-1]
    assume(new[column] != {"data": data, "mac": mac, "key": key}[column])
    db.execute("DELETE FROM verdicts WHERE key = ? OR key = ?", (key, new["key"]))
    db.execute("INSERT INTO verdicts VALUES (?, ?, ?)", (new["key"], new["data"], new["mac"]))
    db.commit()
    db.close()
    warnings: list[str] = []
    store = ReportStore.for_output(out, fingerprint, warnings.append)
    try:
        assert store.verdict(new["key"]) is None and store.forged == 1 and len(warnings) == 1
        assert store.verdict(key) is None  # gone or changed: never a forged verdict
    finally:
        store.close()


def test_verdicts_and_outcomes_that_verify_are_reused(tmp_path, graded, fingerprint):
    out = tmp_path / "grades.jsonl"
    state_path(out).write_bytes(graded["state"])
    warnings: list[str] = []
    store = ReportStore.for_output(out, fingerprint, warnings.append)
    try:
        store.keep_only(_hashes(graded["paths"]))
        assert all(store.finished(p, h) for p, h in _hashes(graded["paths"]))
        assert store.verdict(_any_verdict_key(graded["state"], tmp_path)) is not None
        assert warnings == [] and store.forged == 0
    finally:
        store.close()


def test_without_the_key_nothing_of_the_state_is_reused_said_once(tmp_path, graded, quiz):
    """The key file cannot be read (here: a folder): the state cannot be trusted, so every file is graded again."""
    out = tmp_path / "grades.jsonl"
    interrupted_state(graded["paths"], out, quiz)
    config = tmp_path / "config"
    (config / "examcheck" / "cache.key").mkdir(parents=True)
    env = {"XDG_CONFIG_HOME": str(config), "EXAMCHECK_CACHE_KEY": ""}
    code, stderr = resume(graded["folder"], out, env=env)
    assert code == 0, stderr
    assert out.read_bytes() == graded["fresh"] and "resumed" not in stderr
    assert stderr.count("cannot be authenticated") == 1 and str(state_path(out)) in stderr


# ----------------------------------------------------------------------------- F9: a completed run cleans up


def test_a_completed_run_without_resume_removes_the_stale_state(tmp_path, graded, quiz):
    out = tmp_path / "grades.jsonl"
    interrupted_state(graded["paths"], out, quiz)
    state = state_path(out)
    assert state.exists()
    run = cli(graded["folder"], "--format", "jsonl", "-o", out)
    assert run.wait(300) == 0, run.stderr.read()
    assert out.read_bytes() == graded["fresh"]
    assert [p for p in tmp_path.iterdir() if "examcheck-resume" in p.name] == []


def test_a_live_runs_state_or_a_foreign_thing_is_left_alone(tmp_path, graded, fingerprint):
    out = tmp_path / "grades.jsonl"
    holder = ReportStore.for_output(out, fingerprint)  # a live --resume run on the same -o (flock held)
    holder.add([("a.yaml", "h", _error())])  # some progress: kept when it closes unfinished
    try:
        run = cli(graded["folder"], "--format", "jsonl", "-o", out)
        assert run.wait(300) == 0, run.stderr.read()
        assert state_path(out).exists()
        assert not remove_stale_state(out)
    finally:
        holder.close()
    assert remove_stale_state(out) and not state_path(out).exists()
    state_path(out).mkdir()
    assert not remove_stale_state(out) and state_path(out).is_dir()
    state_path(out).rmdir()
    precious = tmp_path / "precious.txt"
    precious.write_text("x")
    state_path(out).symlink_to(precious)
    assert not remove_stale_state(out) and precious.read_text() == "x" and state_path(out).is_symlink()


def test_a_run_stamp_that_is_not_text_is_another_runs(tmp_path):
    """A flipped byte can leave the state's stamp undecodable (SQLite cannot read it as text): replaced with
    one warning, never an OperationalError out of the store (a hypothesis find)."""
    state = tmp_path / "state"
    first = ReportStore(state, "run-a")
    first._db.close()  # as a killed run leaves it
    first._release()
    db = sqlite3.connect(state)
    db.execute("UPDATE meta SET value = CAST(x'ff3a63' AS TEXT) WHERE key = 'run'")
    db.commit()
    db.close()
    said = []
    store = ReportStore(state, "run-a", warn=said.append)
    assert store.count_all() == 0 and len(said) == 1 and "not a usable resume state" in said[0]
    store.close()
