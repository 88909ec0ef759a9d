"""The caches never make a command's output depend on their history (blind tester 17, F12, F13, F6, F7, F10).

- A verdict (and a reference) is served only to a run with the limits it was decided (computed) under:
  grading with limits A then B on one cache equals grading with B and no cache, for A < B and A > B.
- An entry kept under other limits is a plain miss, never reported as "malformed".
- `cache stats|clear` create nothing (no folder, database or key), say "no cache" for a missing one and
  exit 2 naming what was expected for a path that is not a cache; the size shown is the size on disk.
- A 0-byte database is an empty cache: grading initialises it, `clear` resets it, `stats` shows 0.
- `cache stats|clear --help` list every exit code they use.
"""

import json
import os
import re
import sqlite3
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examcheck.answertests import Verdict
from examcheck.cache import DB_NAME, VerdictCache, answer_key, disk_bytes
from examcheck.cli import main
from examcheck.engine import grade_paths
from examcheck.limits import Limits
from examcheck.refcache import ReferenceCache

ROOT = Path(__file__).resolve().parent.parent
FLAWED = ROOT / "examples" / "answers" / "flawed.yaml"
PROBLEMS = str(ROOT / "problems")


pytestmark = pytest.mark.usefixtures("config_home")


# ----------------------------------------------------------------------------- F12/F13: verdicts per limits

limits_st = st.tuples(st.sampled_from([0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 60.0]) | st.floats(0.1, 60),
                      st.sampled_from([256, 768, 1024]) | st.integers(64, 8192))
verdicts = st.one_of(
    st.builds(Verdict, st.just(1.0), st.just("correct"), st.text(max_size=30)),
    st.builds(Verdict, st.just(0.0), st.just("incorrect"), st.text(max_size=30)),
    st.sampled_from([0.1, 2.0, 5.0]).map(lambda s: Verdict(0.0, "invalid", f"too complex to check: over the {s:g} s time "
                                                           "limit", "too_complex")),
    st.builds(Verdict, st.floats(0.05, 0.95), st.just("partial"), st.text(max_size=30)),
)


@settings(max_examples=120, deadline=None)
@given(written=limits_st, reading=limits_st, verdict=verdicts, answer=st.text(max_size=20), flushed=st.booleans())
def test_a_verdict_is_served_only_under_the_limits_it_was_decided_under(written, reading, verdict, answer, flushed):
    (seconds_a, memory_a), (seconds_b, memory_b) = written, reading
    key = answer_key("fingerprint", answer)
    with tempfile.TemporaryDirectory() as folder:
        store = VerdictCache(Path(folder) / "c", memory_mb=memory_a)
        store.put(key, verdict, seconds_a)
        if flushed:
            store.close()
        warnings = []
        reader = VerdictCache(Path(folder) / "c", warnings.append, memory_mb=memory_b) if flushed else store
        if not flushed:
            reader.memory_mb = memory_b  # the same run can only have one memory limit; this checks the lookup
        found = reader.get(key, seconds_b)
        reader.close()
    if (float(seconds_a), memory_a) == (float(seconds_b), memory_b):
        assert found == verdict
    else:
        assert found is None
    assert reader.rejected == 0 and warnings == []  # another limit's entry is a plain miss (F13)


def _slow_answer(kind: str, terms: int) -> str:
    """sigma'(z) x_i written right, plus many zero terms that make the check slow (decided given seconds)."""
    zero = {"floor": "floor(z*{k})*0", "max": "0*max(z,{k})", "sin": "sin({k}*pi*z)^2*0"}[kind]
    return "x_i*sigma(z)*(1-sigma(z)) + " + "+".join(zero.format(k=k) for k in range(1, terms + 1))


def _grade(path: Path, seconds: float, cache: Path | None = None):
    args = ["grade", str(path), "--problems", PROBLEMS, "--format", "jsonl", "--jobs", "1", "--time-limit", str(seconds)]
    result = CliRunner().invoke(main, args + (["--cache", str(cache)] if cache else []))
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def _status_of_q1i(jsonl: str) -> str:
    report = json.loads(jsonl.splitlines()[0])
    return next(p["status"] for q in report["problems"] if q["id"] == "q1" for p in q["parts"] if p["id"] == "i")


@pytest.mark.parametrize(("first", "then", "kind"), [
    (5.0, 0.1, "floor"),   # decided under a long limit, then a short one (F12: was served "correct")
    (0.1, 5.0, "max"),     # timed out, then a long limit (F13: was "malformed entries")
    (0.3, 0.1, "sin"),     # both time out: the feedback names the run's own limit
    (0.1, 0.3, "floor"),
])
def test_a_cached_run_equals_an_uncached_run_under_its_own_time_limit(tmp_path, first, then, kind):
    answers = tmp_path / "slow.yaml"
    answers.write_text(f"student: slow\nexam: seed000-quiz\nanswers:\n  q1:\n    i: '{_slow_answer(kind, 200)}'\n",
                       encoding="utf-8")
    cache = tmp_path / "cache"
    _grade(answers, first, cache)
    cached, warnings = _grade(answers, then, cache)
    uncached, _ = _grade(answers, then)
    assert cached == uncached
    assert "warning" not in warnings, warnings
    if {first, then} == {5.0, 0.1}:  # the case is the one meant: decided in 5 s, too complex in 0.1 s
        assert _status_of_q1i(uncached) == ("invalid" if then == 0.1 else "correct")


def test_a_verdict_is_not_served_under_another_memory_limit(tmp_path, quiz):
    folder = tmp_path / "c"
    first = grade_paths([FLAWED], quiz, limits=Limits(memory_mb=768), cache_dir=folder)
    assert first.cache_misses > 0
    again = grade_paths([FLAWED], quiz, limits=Limits(memory_mb=768), cache_dir=folder)
    assert again.cache_misses == 0 and again.cache_hits > 0
    other = grade_paths([FLAWED], quiz, limits=Limits(memory_mb=1024), cache_dir=folder)
    assert other.cache_hits == 0


# ----------------------------------------------------------------------------- the reference cache


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(written=limits_st, reading=limits_st, content=st.binary(max_size=50))
def test_a_reference_is_served_only_under_the_limits_it_was_computed_under(monkeypatch, written, reading, content):
    monkeypatch.setenv("EXAMCHECK_CACHE_KEY", "a course secret that is long enough to be a key")
    with tempfile.TemporaryDirectory() as folder:
        ReferenceCache(Path(folder), *written).put("problem", [("7600", content)])
        ReferenceCache(Path(folder), *written).remember(b"exam: x\n")
        found = ReferenceCache(Path(folder), *reading).get("problem", 1)
        valid = ReferenceCache(Path(folder), *reading).holds(b"exam: x\n")
        same = ReferenceCache(Path(folder), *written).for_limits(*reading)
        assert (same.get("problem", 1), same.holds(b"exam: x\n")) == (found, valid)
    if (float(written[0]), written[1]) == (float(reading[0]), reading[1]):
        assert found == [("7600", content)] and valid
    else:
        assert found is None and not valid


def test_the_engine_keeps_references_per_limits(tmp_path, quiz, monkeypatch):
    """References computed under one family limit are not served to an engine with another (whatever limits the
    ReferenceCache object was made for: the engine binds it to its own)."""
    monkeypatch.setenv("EXAMCHECK_CACHE_KEY", "a course secret that is long enough to be a key")
    folder = tmp_path / "refs"
    from examcheck.engine import Engine

    def grade(limits):
        with Engine(quiz, jobs=1, limits=limits, references=ReferenceCache(folder)) as engine:
            return [r.score for r in engine.grade_paths([FLAWED]).reports]

    first = grade(Limits(family_seconds=30.0))
    made = sorted(folder.glob("*.ref"))
    assert made
    assert grade(Limits(family_seconds=30.0)) == first and sorted(folder.glob("*.ref")) == made  # served
    assert grade(Limits(family_seconds=45.0)) == first
    assert len(list(folder.glob("*.ref"))) == 2 * len(made)  # computed again, kept apart


# ----------------------------------------------------------------------------- F6: stats/clear create nothing


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


names = st.text(st.sampled_from("abcXYZ019_-. "), min_size=1, max_size=8).filter(lambda n: n.strip(". ") == n and n)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(names, min_size=1, max_size=4), command=st.sampled_from(["stats", "clear"]))
def test_a_missing_cache_is_reported_and_nothing_is_created(tmp_path, parts, command):
    before = _tree(tmp_path)
    target = tmp_path.joinpath("missing", *parts)
    result = CliRunner().invoke(main, ["cache", command, str(target)])
    assert result.exit_code == 0, result.output
    assert f"no cache in {target}" in result.output
    assert _tree(tmp_path) == before  # no folder, no database, no key file


@pytest.mark.parametrize("command", ["stats", "clear"])
@pytest.mark.parametrize("make", ["file", "foreign folder", "file as parent"])
def test_a_path_that_is_not_a_cache_is_exit_2_saying_what_was_expected(tmp_path, command, make):
    if make == "file":
        target = tmp_path / "answers.yaml"
        target.write_text("student: a\n")
    elif make == "foreign folder":
        target = tmp_path / "submissions"
        target.mkdir()
        (target / "a.yaml").write_text("student: a\n")
    else:
        (tmp_path / "blocker").write_text("x")
        target = tmp_path / "blocker" / "cache"
    before = _tree(tmp_path)
    result = CliRunner().invoke(main, ["cache", command, str(target)])
    if make == "file as parent":  # nothing can be there: no cache
        assert result.exit_code == 0 and "no cache" in result.output
    else:
        assert result.exit_code == 2 and "expected the folder given to grade --cache" in result.output
        assert "Traceback" not in result.output
    assert _tree(tmp_path) == before


def test_the_default_folder_holding_only_the_reference_cache_is_no_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    (tmp_path / "xdg-cache" / "examcheck" / "references").mkdir(parents=True)
    before = _tree(tmp_path)
    for command in ("stats", "clear"):
        result = CliRunner().invoke(main, ["cache", command])
        assert result.exit_code == 0 and "no cache in" in result.output, result.output
    assert _tree(tmp_path) == before


def test_stats_shows_the_size_on_disk_and_creates_nothing(tmp_path, quiz):
    folder = tmp_path / "c"
    grade_paths([FLAWED], quiz, cache_dir=folder)
    files = _tree(folder)
    result = CliRunner().invoke(main, ["cache", "stats", str(folder)])
    assert result.exit_code == 0
    shown = int(re.search(r"(\d+) bytes", result.output).group(1))
    on_disk = sum((folder / name).stat().st_size for name in (DB_NAME, DB_NAME + "-wal") if (folder / name).exists())
    assert shown == on_disk == disk_bytes(folder) and _tree(folder) == files


def test_stats_counts_the_log_another_run_has_not_checkpointed(tmp_path):
    folder = tmp_path / "c"
    store = VerdictCache(folder)
    holder = sqlite3.connect(folder / DB_NAME)  # another run, still open: the log is real data on disk
    holder.execute("PRAGMA wal_autocheckpoint=0")
    for i in range(50):
        store.put(answer_key("f", str(i)), Verdict(1.0, "correct", "x" * 500))
    store.close()
    try:
        result = CliRunner().invoke(main, ["cache", "stats", str(folder)])
        shown = int(re.search(r"(\d+) bytes", result.output).group(1))
        wal = folder / (DB_NAME + "-wal")
        assert shown == (folder / DB_NAME).stat().st_size + (wal.stat().st_size if wal.exists() else 0)
        assert "50 verdict(s)" in result.output
    finally:
        holder.close()


# ----------------------------------------------------------------------------- F10: an empty database file


def test_an_empty_database_file_is_an_empty_cache(tmp_path, quiz):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / DB_NAME).write_bytes(b"")
    stats = CliRunner().invoke(main, ["cache", "stats", str(folder)])
    assert stats.exit_code == 0 and "0 verdict(s)" in stats.output
    assert (folder / DB_NAME).stat().st_size == 0  # inspecting writes nothing
    warnings = []
    store = VerdictCache(folder, warnings.append)
    assert store.readable and store.writable and warnings == []
    store.close()
    result = grade_paths([FLAWED], quiz, cache_dir=folder)
    assert result.cache_misses > 0
    assert grade_paths([FLAWED], quiz, cache_dir=folder).cache_hits == result.cache_misses


def test_clear_resets_an_empty_database_file(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / DB_NAME).write_bytes(b"")
    cleared = CliRunner().invoke(main, ["cache", "clear", str(folder)])
    assert cleared.exit_code == 0 and "removed 0" in cleared.output
    with sqlite3.connect(folder / DB_NAME) as db:
        assert db.execute("SELECT count(*) FROM verdicts").fetchone() == (0,)


def test_a_symlink_to_an_empty_file_is_not_written_through(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_bytes(b"")
    folder = tmp_path / "c"
    folder.mkdir()
    os.symlink(target, folder / DB_NAME)
    VerdictCache(folder).close()
    assert target.read_bytes() == b""


# ----------------------------------------------------------------------------- F7: the help lists the codes


@pytest.mark.parametrize("command", ["stats", "clear"])
def test_the_help_lists_every_exit_code_the_command_uses(tmp_path, command):
    help_text = CliRunner().invoke(main, ["cache", command, "--help"]).output
    listed = set(re.findall(r"\b(\d+) ", " ".join(help_text.split("Exit codes:")[1].split())))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / DB_NAME).write_bytes(b"not a database" * 100)
    good = tmp_path / "good"
    VerdictCache(good).close()
    used = {str(CliRunner().invoke(main, ["cache", command, str(path)]).exit_code)
            for path in (good, bad, tmp_path / "missing", FLAWED)}
    assert used == {"0", "2"} and used <= listed, (used, help_text)
