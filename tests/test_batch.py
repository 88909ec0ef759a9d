"""Batch grading: inputs, parallel workers, the verdict cache, skip-on-error, atomic writes."""

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from examcheck import batch as batch_module
from examcheck.batch import VerdictCache, grade_many
from examcheck.cli import main
from examcheck.inputs import expand_inputs
from examcheck.outputs import atomic_write

ROOT = Path(__file__).resolve().parent.parent
REAL_GRADE_ONE = batch_module._grade_one  # kept before any test patches it
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
    result = grade_many(paths, sets, jobs=2)
    assert len(result.reports) == 10
    assert len(result.errors) == 1 and "broken.yaml" in str(result.errors[0])
    students = [r.student for r in result.reports]
    assert students == sorted(students, key=lambda s: [r.student for r in result.reports].index(s))


def test_parallel_and_serial_agree(classroom, sets):
    paths, _ = expand_inputs([str(classroom)])
    serial = grade_many(paths, sets, jobs=1)
    parallel = grade_many(paths, sets, jobs=2)
    assert [r.to_dict() for r in serial.reports] == [r.to_dict() for r in parallel.reports]


def test_identical_answers_are_checked_once(classroom, sets):
    paths = sorted(classroom.glob("copy*.yaml"))
    result = grade_many(paths, sets, jobs=1)
    assert result.cache_hits > 0 and result.hit_rate >= 0.6


def test_cache_persists_and_a_changed_problem_invalidates_it(tmp_path, classroom, sets):
    cache_dir = tmp_path / "cache"
    first = VerdictCache.load(cache_dir)
    grade_many([classroom / "flawed.yaml"], sets, cache=first)
    first.save(cache_dir)
    assert (cache_dir / "verdicts.json").is_file()
    second = VerdictCache.load(cache_dir)
    again = grade_many([classroom / "flawed.yaml"], sets, cache=second)
    assert again.cache_misses == 0 and again.cache_hits > 0

    import copy

    changed = copy.deepcopy(sets)
    quiz = next(s for s in changed if s.exam == "seed000-quiz")
    quiz.problem("q3").given["layers"][0]["filters"] = 99
    third = grade_many([classroom / "flawed.yaml"], changed, cache=VerdictCache.load(cache_dir))
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


def test_cli_output_file_and_cache_dir(tmp_path, classroom):
    out = tmp_path / "grades.json"
    args = ["grade", str(classroom / "flawed.yaml"), str(classroom / "perfect.yaml"), "--problems", PROBLEMS,
            "--format", "json", "-o", str(out), "--cache", str(tmp_path / "c")]
    assert CliRunner().invoke(main, args).exit_code == 0
    assert [r["student"] for r in json.loads(out.read_text())] == ["flawed-fred", "perfect-pat"]
    assert (tmp_path / "c" / "verdicts.json").is_file()


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


def _fragile(path):
    import os

    from tests.test_batch import REAL_GRADE_ONE as real

    if path.name == "perfect.yaml":
        os._exit(3)  # as a segfault would
    return real(path)


def test_a_file_that_kills_its_worker_is_skipped_and_the_rest_graded(classroom, sets, monkeypatch):
    monkeypatch.setattr(batch_module, "_grade_one", _fragile)
    paths = [classroom / "flawed.yaml", classroom / "perfect.yaml", classroom / "copy0.yaml", classroom / "copy1.yaml"]
    result = grade_many(paths, sets, jobs=2)
    assert sorted(r.student for r in result.reports) == ["copy-0", "copy-1", "flawed-fred"]
    assert len(result.errors) == 1 and "perfect.yaml" in str(result.errors[0]) and "crashed" in str(result.errors[0])


def test_progress_goes_to_stderr_and_output_stays_clean(classroom, monkeypatch):
    from examcheck import cli

    shown = []
    monkeypatch.setattr(cli, "_progress_wanted", lambda files: shown.append(files) or True)
    result = CliRunner().invoke(main, ["grade", str(classroom / "copy*.yaml"), "--problems", PROBLEMS,
                                       "--format", "json", "--jobs", "1"])
    assert shown == [3]
    assert [r["student"] for r in json.loads(result.stdout)] == ["copy-0", "copy-1", "copy-2"]
