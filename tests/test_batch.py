"""Batch grading through the engine: inputs, parallel workers, dedup, the verdict cache, skip-on-error, atomic writes."""

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from examcheck import tasks as tasks_module
from examcheck.cli import main
from examcheck.engine import grade_paths
from examcheck.inputs import expand_inputs
from examcheck.outputs import atomic_write
from examcheck.render.reports import report_dict

ROOT = Path(__file__).resolve().parent.parent
REAL_SCAN = tasks_module.scan_task  # kept before any test patches it
EXAMPLES = ROOT / "examples"
PROBLEMS = str(ROOT / "problems")


@pytest.fixture
def classroom(tmp_path):
    """A folder of answer files: the bundled examples, copies of them, and one broken file."""
    folder = tmp_path / "class"
    folder.mkdir()
    bundled = [EXAMPLES / "answers" / name for name in ("flawed.yaml", "perfect.yaml")]  # not every example sheet
    for source in bundled + sorted((EXAMPLES / "seeds").glob("*.yaml")):
        shutil.copy(source, folder / source.name)
    for i in range(3):
        text = (EXAMPLES / "answers" / "flawed.yaml").read_text().replace("flawed-fred", f"copy-{i}")
        (folder / f"copy{i}.yaml").write_text(text)
    (folder / "broken.yaml").write_text("answers: [unclosed\n")
    return folder


def test_expand_inputs(classroom):
    paths, errors = expand_inputs([str(classroom), str(classroom / "copy*.yaml"), "nope/*.yaml"])
    assert len(paths) == len(set(paths)) == 11
    assert len(errors) == 1 and "nope" in str(errors[0])


def test_batch_skips_a_broken_file_and_grades_the_rest(classroom, sets):
    paths, _ = expand_inputs([str(classroom)])
    result = grade_paths(paths, sets, jobs=2)
    assert len(result.reports) == 10
    assert len(result.errors) == 1 and "broken.yaml" in str(result.errors[0])
    students = [r.student for r in result.reports]
    assert students == sorted(students, key=lambda s: [r.student for r in result.reports].index(s))


def test_parallel_and_serial_agree(classroom, sets):
    paths, _ = expand_inputs([str(classroom)])
    serial = grade_paths(paths, sets, jobs=1)
    parallel = grade_paths(paths, sets, jobs=2)
    assert [report_dict(r) for r in serial.reports] == [report_dict(r) for r in parallel.reports]


def test_identical_answers_are_checked_once(classroom, sets):
    paths = sorted(classroom.glob("copy*.yaml"))
    result = grade_paths(paths, sets, jobs=1)
    assert result.checks < result.answers and result.hit_rate >= 0.6


def test_cache_persists_and_a_changed_problem_invalidates_it(tmp_path, classroom, sets, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    cache_dir = tmp_path / "cache"
    first = grade_paths([classroom / "flawed.yaml"], sets, cache_dir=cache_dir)
    assert first.cache_misses > 0 and first.checks > 0
    assert (cache_dir / "verdicts.sqlite").is_file()
    again = grade_paths([classroom / "flawed.yaml"], sets, cache_dir=cache_dir)
    assert again.cache_misses == 0 and again.cache_hits > 0 and again.checks == 0
    assert [report_dict(r) for r in again.reports] == [report_dict(r) for r in first.reports]

    import copy

    changed = copy.deepcopy(sets)
    quiz = next(s for s in changed if s.exam == "seed000-quiz")
    quiz.problem("q3").given["layers"][0]["filters"] = 99
    third = grade_paths([classroom / "flawed.yaml"], changed, cache_dir=cache_dir)
    q3a = next(q for p in third.reports[0].problems if p.id == "q3" for q in p.parts if q.id == "a")
    assert third.cache_misses > 0 and q3a.expected == "7524"  # (5·5·3 + 1)·99


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "grades.csv"
    atomic_write(target, "old\n")

    with pytest.raises(TypeError):
        atomic_write(target, 12345)  # not text: the write fails part-way
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"]


def test_cli_batch_table_and_summary(classroom):
    result = CliRunner().invoke(main, ["grade", str(classroom), "--problems", PROBLEMS, "--jobs", "2"])
    assert result.exit_code == 2  # the broken file
    assert "students" in result.stdout and "copy-2" in result.stdout and "per part" in result.stdout
    assert "broken.yaml" in result.stderr and "skipped" in result.stderr


def test_cli_output_file_and_cache_dir(tmp_path, classroom, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    out = tmp_path / "grades.json"
    args = ["grade", str(classroom / "flawed.yaml"), str(classroom / "perfect.yaml"), "--problems", PROBLEMS,
            "--format", "json", "-o", str(out), "--cache", str(tmp_path / "c")]
    assert CliRunner().invoke(main, args).exit_code == 0
    assert [r["student"] for r in json.loads(out.read_text())] == ["flawed-fred", "perfect-pat"]
    assert (tmp_path / "c" / "verdicts.sqlite").is_file()


def test_stats_command(classroom):
    result = CliRunner().invoke(main, ["stats", str(classroom / "copy*.yaml"), str(classroom / "perfect.yaml"),
                                       "--problems", PROBLEMS, "--format", "json"])
    data = json.loads(result.stdout)["seed000-quiz"]
    assert data["students"] == 4
    q3a = next(p for p in data["parts"] if p["part"] == "q3.a")
    assert q3a["percent_correct"] == 25.0
    assert q3a["common_wrong"][0] == {"answer": "7500", "count": 3,
                                      "diagnosis": "you left out the biases (one per filter or unit)"}
    q3 = next(q for q in data["questions"] if q["question"] == "q3")
    assert q3["discrimination"] > 0
    assert sum(b["count"] for b in data["histogram"]) == 4


def _fragile(context, path):
    import os

    from tests.test_batch import REAL_SCAN as real

    if path.endswith("perfect.yaml"):
        os._exit(3)  # as a segfault would
    return real(context, path)


def test_a_file_that_kills_its_worker_is_reported_as_a_bug_and_the_rest_graded(classroom, sets, monkeypatch, tmp_path):
    monkeypatch.setenv("EXAMCHECK_BUG_DIR", str(tmp_path / "bugs"))
    monkeypatch.setattr(tasks_module, "scan_task", _fragile)
    from examcheck import batch

    monkeypatch.setattr(batch, "scan_task", _fragile)
    paths = [classroom / "flawed.yaml", classroom / "perfect.yaml", classroom / "copy0.yaml", classroom / "copy1.yaml"]
    result = grade_paths(paths, sets, jobs=2)
    assert sorted(r.student for r in result.reports) == ["copy-0", "copy-1", "flawed-fred"]
    assert result.errors == []
    assert len(result.bugs) == 1 and "perfect.yaml" in str(result.bugs[0]) and "internal error" in str(result.bugs[0])
    assert "exited with status 3" in (tmp_path / "bugs").joinpath(result.bugs[0].trace.split("/")[-1]).read_text()


def test_progress_goes_to_stderr_and_output_stays_clean(classroom, monkeypatch):
    from examcheck import cli

    shown = []
    monkeypatch.setattr(cli, "_progress_wanted", lambda files: shown.append(files) or True)
    result = CliRunner().invoke(main, ["grade", str(classroom / "copy*.yaml"), "--problems", PROBLEMS,
                                       "--format", "json", "--jobs", "1"])
    assert shown == [3]
    assert [r["student"] for r in json.loads(result.stdout)] == ["copy-0", "copy-1", "copy-2"]
