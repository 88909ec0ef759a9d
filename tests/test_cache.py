"""The verdict cache as an entry point for hostile input: forged, foreign, out-of-range, corrupt,
unwritable, busy and concurrently written caches never change a grade, fail or slow a run."""

import hashlib
import hmac
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from examcheck import cache as cache_module
from examcheck.answertests import Verdict
from examcheck.cache import VerdictCache, answer_key
from examcheck.cli import main
from examcheck.engine import grade_paths
from examcheck.render.reports import report_dict

ROOT = Path(__file__).resolve().parent.parent
FLAWED = ROOT / "examples" / "answers" / "flawed.yaml"
PERFECT = ROOT / "examples" / "answers" / "perfect.yaml"
PROBLEMS = str(ROOT / "problems")


pytestmark = pytest.mark.usefixtures("config_home")


@pytest.fixture(scope="module")
def fresh(quiz):
    """flawed.yaml graded without any cache: the reference grades."""
    return [report_dict(r) for r in grade_paths([FLAWED], quiz).reports]


def _rows(folder: Path) -> list[tuple]:
    with sqlite3.connect(folder / "verdicts.sqlite") as db:
        return db.execute("SELECT key, payload, mac FROM verdicts").fetchall()


def _rewrite(folder: Path, fn) -> None:
    """Replace every entry's (payload, mac) by fn(key, payload, mac)."""
    with sqlite3.connect(folder / "verdicts.sqlite") as db:
        for key, payload, mac in db.execute("SELECT key, payload, mac FROM verdicts").fetchall():
            db.execute("UPDATE verdicts SET payload = ?, mac = ? WHERE key = ?", (*fn(key, payload, mac), key))


def _full_marks(payload: str) -> str:
    data = json.loads(payload)
    data.update(score=1.0, status="correct", feedback="forged", note="")
    return json.dumps(data)


def test_secret_is_created_private_outside_the_cache(tmp_path, config_home, quiz):
    grade_paths([FLAWED], quiz, cache_dir=tmp_path / "c")
    key_file = config_home / "examcheck" / "cache.key"
    assert key_file.is_file() and (key_file.stat().st_mode & 0o777) == 0o600
    assert not any("key" in p.name for p in (tmp_path / "c").iterdir())


def test_forged_entries_with_a_recomputed_key_are_misses(tmp_path, quiz, fresh):
    """An attacker who can write the cache and read the problem file, but not the secret."""
    folder = tmp_path / "c"
    grade_paths([FLAWED], quiz, cache_dir=folder)
    _rewrite(folder, lambda key, payload, mac: (_full_marks(payload), hashlib.sha256(payload.encode()).hexdigest()))
    warnings = []
    store = VerdictCache(folder, warnings.append)
    assert all(store._lookup(stored_at, 2.0) is None for stored_at, _, _ in _rows(folder))  # each row as stored
    assert store.rejected == len(_rows(folder)) and len(warnings) == 1
    with_forgery = grade_paths([FLAWED], quiz, cache_dir=folder)
    assert [report_dict(r) for r in with_forgery.reports] == fresh
    assert with_forgery.cache_hits == 0


def test_entries_made_with_another_secret_are_misses(tmp_path, quiz, fresh, monkeypatch):
    folder = tmp_path / "c"
    monkeypatch.setenv("EXAMCHECK_CACHE_KEY", "another course's secret, long enough to be a key")
    grade_paths([FLAWED], quiz, cache_dir=folder)
    _rewrite(folder, lambda key, payload, mac: (_full_marks(payload), hmac.new(
        b"another course's secret, long enough to be a key", f"{key}\0{_full_marks(payload)}".encode(),
        hashlib.sha256).hexdigest()))
    monkeypatch.delenv("EXAMCHECK_CACHE_KEY")
    result = grade_paths([FLAWED], quiz, cache_dir=folder)
    assert result.cache_hits == 0 and [report_dict(r) for r in result.reports] == fresh


@pytest.mark.parametrize("payload", [
    {"score": 5.0, "status": "correct"},
    {"score": -1.0, "status": "incorrect"},
    {"score": float("nan"), "status": "partial"},
    {"score": 1.0, "status": "excellent"},
    {"score": 1.0, "status": "missing"},
    {"score": 0.0, "status": "correct"},
    {"score": True, "status": "correct"},
    {"feedback": ["not", "text"]},
    "[" * 5000 + "]" * 5000,
    "not json",
])
def test_authentic_but_impossible_entries_are_misses(tmp_path, quiz, payload):
    """Even with the secret (a bug, an old version), an entry must be a possible verdict."""
    store = VerdictCache(tmp_path / "c")
    key = answer_key("fingerprint", "42")
    base = {"score": 0.0, "status": "incorrect", "feedback": "", "note": "", "interpreted": "", "seconds": 2.0,
            "memory_mb": store.memory_mb}
    text = payload if isinstance(payload, str) else json.dumps({**base, **payload})
    stored_at = store.entry_key(key, 2.0)
    store._pending.append((stored_at, text, store._mac(stored_at, text)))
    store.flush()
    assert store.get(key, 2.0) is None and store.rejected == 1


def test_a_corrupt_cache_warns_once_and_grades_as_without(tmp_path, quiz, fresh):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "verdicts.sqlite").write_bytes(os.urandom(8192))
    result = CliRunner().invoke(main, ["grade", str(FLAWED), "--problems", PROBLEMS, "--format", "json",
                                       "--cache", str(folder), "--jobs", "1"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == fresh[0]
    assert result.stderr.count("warning:") == 1 and "verdict cache" in result.stderr


def test_a_cache_that_cannot_be_created_still_writes_the_output(tmp_path, quiz, fresh):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    out = tmp_path / "grades.json"
    result = CliRunner().invoke(main, ["grade", str(FLAWED), "--problems", PROBLEMS, "--format", "json",
                                       "--cache", str(blocker / "c"), "-o", str(out), "--jobs", "1"])
    assert result.exit_code == 0 and json.loads(out.read_text()) == fresh[0]
    assert result.stderr.count("warning:") == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through file permissions")
def test_a_read_only_cache_is_read_and_not_written(tmp_path, quiz, fresh):
    folder = tmp_path / "c"
    grade_paths([FLAWED], quiz, cache_dir=folder)
    for path in folder.iterdir():
        path.chmod(0o444)
    folder.chmod(0o555)
    try:
        warnings = []
        store = VerdictCache(folder, warnings.append)
        assert not store.writable and len(warnings) <= 1
        result = grade_paths([FLAWED, PERFECT], quiz, cache_dir=folder)
        assert [report_dict(r) for r in result.reports][:1] == fresh
    finally:
        folder.chmod(0o755)


def test_a_busy_cache_does_not_slow_the_run(tmp_path, quiz, fresh):
    folder = tmp_path / "c"
    grade_paths([PERFECT], quiz, cache_dir=folder)
    holder = sqlite3.connect(folder / "verdicts.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another run in the middle of writing
    try:
        warnings = []
        store = VerdictCache(folder, warnings.append)
        start = time.monotonic()
        store.put(answer_key("f", "1"), Verdict(1.0, "correct"), 2.0)
        store.flush()
        assert time.monotonic() - start < 0.5 and store._pending  # kept for a later try
        store.close()
        assert len(warnings) == 1 and "busy" in warnings[0]
        result = grade_paths([FLAWED], quiz, cache_dir=folder)
        assert [report_dict(r) for r in result.reports] == fresh
    finally:
        holder.execute("ROLLBACK")
        holder.close()


WRITER = r"""
import sys
from pathlib import Path
from examcheck.cache import VerdictCache, answer_key
from examcheck.answertests import Verdict
store = VerdictCache(Path(sys.argv[1]))
for i in range(400):
    store.put(answer_key("f", f"{sys.argv[2]}-{i}"), Verdict(1.0, "correct", "ok"), 2.0)
    if i % 50 == 0:
        store.flush()
store.close()
print(store.writable)
"""


def test_concurrent_writers_keep_each_others_entries(tmp_path, config_home):
    folder = tmp_path / "c"
    VerdictCache(folder).close()
    env = {**os.environ, "XDG_CONFIG_HOME": str(config_home)}
    runs = [subprocess.Popen([sys.executable, "-c", WRITER, str(folder), name], env=env, cwd=ROOT,
                             stdout=subprocess.PIPE, text=True) for name in ("a", "b", "c")]
    assert [r.communicate(timeout=60)[0].strip() for r in runs] == ["True"] * 3
    store = VerdictCache(folder)
    assert store.stats()["entries"] == 1200
    assert all(store.get(answer_key("f", f"{n}-{i}")) is not None for n in "abc" for i in (0, 199, 399))


def test_time_outs_are_cached_as_such_and_only_for_the_same_limit(tmp_path):
    store = VerdictCache(tmp_path / "c")
    key = answer_key("f", "10^10^10")
    store.put(key, Verdict(0.0, "invalid", "too complex to check: over the 2 s time limit", "too_complex"), 2.0)
    store.flush()
    assert store.get(key, seconds=2.0).note == "too_complex"
    assert store.get(key, seconds=1.0) is None  # its feedback names the 2 s limit: a 1 s run says "1 s"
    assert store.get(key, seconds=10.0) is None  # a longer limit might decide it
    assert store.rejected == 0


def test_an_upgrade_or_new_rules_never_serve_an_old_verdict(monkeypatch):
    before = answer_key("fingerprint", "x^2")
    monkeypatch.setattr(cache_module, "__version__", "99.0")
    assert answer_key("fingerprint", "x^2") != before
    monkeypatch.undo()
    cache_module.rules_fingerprint.cache_clear()
    monkeypatch.setattr(cache_module, "rules_fingerprint", lambda: "other-rules")
    assert answer_key("fingerprint", "x^2") != before


def test_a_cached_run_gives_the_same_reports(tmp_path, quiz, fresh):
    folder = tmp_path / "c"
    grade_paths([FLAWED], quiz, cache_dir=folder)
    again = grade_paths([FLAWED], quiz, cache_dir=folder)
    assert again.cache_hits > 0 and again.cache_misses == 0 and again.checks == 0
    assert [report_dict(r) for r in again.reports] == fresh


def test_cache_stats_and_clear(tmp_path, quiz):
    folder = tmp_path / "c"
    grade_paths([FLAWED], quiz, cache_dir=folder)
    stats = CliRunner().invoke(main, ["cache", "stats", str(folder)])
    count = len(_rows(folder))
    assert stats.exit_code == 0 and f"{count} verdict(s)" in stats.output and count > 0
    cleared = CliRunner().invoke(main, ["cache", "clear", str(folder)])
    assert cleared.exit_code == 0 and f"removed {count}" in cleared.output and _rows(folder) == []


@pytest.mark.parametrize("make", ["fifo", "folder", "short", "long", "long line"])
def test_a_key_file_that_is_not_a_key_means_checking_without_it_never_a_hang(tmp_path, config_home, make):
    """The secret is read from a regular file only: a FIFO there (blind-17 F2) blocked every cached run."""
    import subprocess
    import sys

    key = config_home / "examcheck" / "cache.key"
    key.parent.mkdir(parents=True)
    if make == "fifo":
        os.mkfifo(key)
    elif make == "folder":
        key.mkdir()
    elif make == "long":  # blind-17b F2: 200 MB of random bytes were taken as the key
        key.write_bytes(os.urandom(1 << 20))
    elif make == "long line":
        key.write_text("a" * 5000 + "\n")
    else:
        key.write_text("short\n")
    env = {**os.environ, "XDG_CONFIG_HOME": str(config_home), "EXAMCHECK_REFERENCE_CACHE": str(tmp_path / "refs")}
    env.pop("EXAMCHECK_CACHE_KEY", None)
    (tmp_path / "c").mkdir()  # an existing cache (stats on a missing one needs no key: "no cache in ...")
    with sqlite3.connect(tmp_path / "c" / "verdicts.sqlite") as db:
        db.execute("CREATE TABLE verdicts (key TEXT PRIMARY KEY, payload TEXT, mac TEXT)")
    for args in (["grade", str(FLAWED), "--cache", str(tmp_path / "c")], ["grade", str(FLAWED)],
                 ["cache", "stats", str(tmp_path / "c")]):
        run = subprocess.run([sys.executable, "-m", "examcheck", *args], env=env, capture_output=True, text=True,
                             timeout=120, stdin=subprocess.DEVNULL)
        assert run.returncode in ((2,) if args[0] == "cache" else (0, 1)), (args, run.stderr)
        assert "Traceback" not in run.stderr and "internal error" not in run.stderr
        if args[0] == "cache" or "--cache" in args:
            assert "cache key" in run.stderr, run.stderr
