"""A batch's memory stays flat in the number of files: no table in the parent grows with the files
graded (the dedup memo is bounded and backed by the run's cache on disk, the paths are read a window
at a time from a spool on disk, duplicates are found a student at a time).  Structural tests, no
timing and no RSS: each fails if a per-file table comes back."""

import json
import os
import tracemalloc
from collections import deque
from pathlib import Path, PurePosixPath
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from examcheck.classrun import _duplicates
from examcheck.engine import Engine
from examcheck.inputs import SpooledPaths, expand_inputs, path_spelling, spool_inputs
from examcheck.render.reports import report_dict
from examcheck.stream import ReportStore


def write_class(folder: Path, students: int) -> list[Path]:
    """Quiz answer files whose numbers cycle with different periods: many distinct answers, each met again
    several windows later (after a small memo has forgotten it)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(students):
        sheet = {"student": f"s{i:03d}", "exam": "seed000-quiz",
                 "answers": {"q2": {"i": f"0.9{90 + i % 5}"},
                             "q3": {"a": 7000 + i % 11, "b": 180000 + i % 13, "c": 7600, "d": "100x254x254"},
                             "q4": {"a": "true", "c": f"0.0{70 + i % 7}"}}}
        path = folder / f"s{i:03d}.yaml"
        path.write_text(json.dumps(sheet))
        paths.append(path)
    (folder / "poison.yaml").write_text("answers: [unclosed\n")
    return paths + [folder / "poison.yaml"]


def grade(quiz, paths, memo_size=None, window=4):
    """(report dicts in order, checks run, answers needing a check, the largest memo seen after any window)."""
    store = ReportStore()
    largest = [0]
    with Engine(quiz, jobs=1, window=window) as engine:
        if memo_size is not None:
            engine.pipeline.memo_size = memo_size
        result = engine.grade_paths(paths, store=store,
                                    on_outcome=lambda _: largest.__setitem__(0, max(largest[0], len(engine.pipeline.memo))))
        reports = [report_dict(r) for r in result.reports]
        checks, answers = result.checks, result.answers
    store.close()
    return reports, checks, answers, largest[0]


def test_a_small_memo_keeps_dedup_exact_across_the_batch(tmp_path, quiz):
    paths = write_class(tmp_path / "class", 60)
    reports, checks, answers, _ = grade(quiz, paths)
    small, small_checks, small_answers, largest = grade(quiz, paths, memo_size=3)
    assert largest <= 3  # bounded, whatever the number of files
    assert small_checks == checks < answers == small_answers  # what the memo forgot, the run's cache still had
    assert small == reports


def test_paths_are_read_a_window_at_a_time(tmp_path, quiz):
    paths = write_class(tmp_path / "class", 24)
    pulled: list[Path] = []

    def one_at_a_time():
        for path in paths:
            pulled.append(path)
            yield path

    read_by_first_outcome = []
    store = ReportStore()
    with Engine(quiz, jobs=1, window=4) as engine:
        engine.grade_paths(one_at_a_time(), store=store,
                           on_outcome=lambda _: read_by_first_outcome.append(len(pulled)))
        assert len(engine.result.reports) == len(paths) - 1  # every file graded (one is poisoned)
    store.close()
    assert read_by_first_outcome[0] == 4 and len(pulled) == len(paths)


def test_resuming_from_a_one_shot_iterator(tmp_path, quiz):
    paths = write_class(tmp_path / "class", 9)
    state = tmp_path / "state"
    with Engine(quiz, jobs=1, window=4) as engine:
        store = ReportStore(state, engine.run_fingerprint())
        first = [report_dict(r) for r in engine.grade_paths(iter(paths), store=store).reports]
        store.close()
    with Engine(quiz, jobs=1, window=4) as engine:
        store = ReportStore(state, engine.run_fingerprint())
        again = engine.grade_paths(iter(paths), store=store)
        assert store.resumed == len(paths) and [report_dict(r) for r in again.reports] == first
        store.close()


def _largest_table(root, depth: int = 4) -> tuple[int, str]:
    """(the largest len() of a dict, list, set or deque reachable from root's attributes, where)."""
    best, seen, todo = (0, ""), set(), [(root, "engine", depth)]
    while todo:
        obj, where, left = todo.pop()
        if id(obj) in seen or left < 0 or isinstance(obj, (str, bytes, int, float, type)):
            continue
        seen.add(id(obj))
        if isinstance(obj, (dict, list, set, frozenset, tuple, deque)):
            best = max(best, (len(obj), where))
            items = obj.items() if isinstance(obj, dict) else enumerate(obj)
            todo += [(value, f"{where}[{key!r}]"[:120], left - 1) for key, value in list(items)[:50]]
        elif hasattr(obj, "__dict__") and type(obj).__module__.startswith("examcheck"):
            todo += [(value, f"{where}.{name}", left - 1) for name, value in vars(obj).items()]
    return best


def test_no_table_in_the_parent_grows_with_the_files(tmp_path, quiz):
    parts = sum(len(p.parts) for s in quiz for p in s.problems)
    sizes = {}
    for students in (20, 120):
        paths = write_class(tmp_path / f"class{students}", students)
        store = ReportStore()
        with Engine(quiz, jobs=1, window=8) as engine:
            engine.pipeline.memo_size = 8
            engine.grade_paths(SpooledPaths(paths), store=store)
            sizes[students] = _largest_table(engine)
        store.close()
    assert sizes[120][0] <= max(parts, 8) + 4 < 120, sizes  # parts, the memo, a window: not the 120 files
    assert sizes[120][0] <= sizes[20][0] + 4, sizes


# ----------------------------------------------------------------------------- the path spool

names = st.lists(st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), min_size=1, max_size=12)
                 | st.binary(min_size=1, max_size=8).filter(lambda b: b"\0" not in b).map(os.fsdecode), max_size=30)


@settings(max_examples=100, deadline=None)
@given(names)
def test_the_spool_gives_back_every_name_in_order(written):
    spool = SpooledPaths(written)
    spool.BLOCK = 7  # names split across blocks
    expected = [Path(name) for name in written]
    assert len(spool) == len(written) and bool(spool) == bool(written)
    assert list(spool) == expected and [str(p) for p in spool] == [str(p) for p in expected]
    one, two = iter(spool), iter(spool)  # iterations interleave without disturbing each other
    assert [(a, b) for a, b in zip(one, two)] == [(p, p) for p in expected]
    spool.close()


def test_the_spool_holds_no_name_in_memory():
    def traced_by(count: int) -> int:
        tracemalloc.start()  # names never seen before in this process: nothing an earlier test did can matter
        spool = SpooledPaths(f"/class-{count}/{os.urandom(6).hex()}/exam-{i:06d}.yaml" for i in range(count))
        size = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        assert len(spool) == count
        spool.close()
        return size

    assert traced_by(20_000) < traced_by(200) + 4096


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["", "/", "//", ".", "..", "a", "b.yaml", "é", " ", "\\", "~"]), max_size=8).map("".join)
       | st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=20))
def test_path_spelling_is_paths_own_spelling(name):
    assert path_spelling(name) == str(PurePosixPath(name)) == path_spelling(PurePosixPath(name))


def test_spooled_inputs_are_the_expanded_inputs(tmp_path):
    folder = tmp_path / "class"
    (folder / "sub").mkdir(parents=True)
    for name in ("b.yaml", "a.yml", "sub/c.yaml", "notes.txt", "odd\nname.yaml"):
        (folder / name).write_text("student: x\n")
    (folder / "dangling.yaml").symlink_to(folder / "gone.yaml")
    os.mkfifo(folder / "pipe.yaml")
    items = [str(folder), str(folder / "b.yaml"), str(tmp_path / "missing.yaml"), str(tmp_path / "*.nothing")]
    spool, errors = spool_inputs(items)
    paths, expected_errors = expand_inputs(items)
    assert list(spool) == paths and len(spool) == len(paths) == 4
    assert [str(e) for e in errors] == [str(e) for e in expected_errors] and len(errors) == 4
    spool.close()


# ----------------------------------------------------------------------------- duplicates, a student at a time


class _ByStudent(list):
    by_student = True


files = st.lists(st.tuples(st.sampled_from(["0042", "ann", "bob", "é李"]), st.sampled_from(["quiz1", "final"]),
                           st.sampled_from(["a.yaml", "b.yaml", "c.yaml", "d/e.yaml"])), max_size=25)


@settings(max_examples=150, deadline=None)
@given(files)
def test_duplicates_found_a_student_at_a_time_are_those_of_one_table(rows):
    ordered = sorted(rows, key=lambda row: (row[0], row[2]))  # as a store reads them back
    reports = [SimpleNamespace(student=student, exam=exam, source=source) for student, exam, source in ordered]
    assert _duplicates(_ByStudent(reports)).duplicates == _duplicates(reports).duplicates
