"""The Dask backend (optional extra): a LocalCluster on loopback grades a small synthetic class,
poisoned files and hostile answers included, to output byte-identical to the local backend."""

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = ROOT / "problems"


def _class(folder: Path) -> None:
    from tests.test_stream import make_class

    make_class(folder, 12)
    hostile = ["10^10^10^10", "(" * 500 + ")" * 500, "__import__('os').system('true')", "9" * 5000, "x" * 100_000]
    for i, text in enumerate(hostile):
        quoted = text.replace("'", "''")
        (folder / f"hostile{i}.yaml").write_text(
            f"student: hostile-{i}\nexam: seed000-quiz\nanswers:\n  q1: {{i: '{quoted}'}}\n  q3: {{a: '{quoted}', b: 180200}}\n")


def _grade(folder: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "examcheck", "grade", str(folder), "--problems", str(PROBLEMS),
                           "--format", "jsonl", "-o", str(out), "--jobs", "2", "--time-limit", "1", *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_dask_output_is_byte_identical_to_the_local_backend(tmp_path):
    folder = tmp_path / "class"
    _class(folder)
    local = _grade(folder, tmp_path / "local.jsonl")
    dask = _grade(folder, tmp_path / "dask.jsonl", "--backend", "dask")
    assert local.returncode == dask.returncode == 2, dask.stderr[-2000:]
    assert (tmp_path / "local.jsonl").read_bytes() == (tmp_path / "dask.jsonl").read_bytes()
    assert local.stderr.count("(skipped)") == dask.stderr.count("(skipped)") == 2
    assert len((tmp_path / "dask.jsonl").read_text().splitlines()) == 17


def test_scheduler_without_dask_backend_is_a_usage_error(tmp_path):
    result = _grade(tmp_path, tmp_path / "out.jsonl", "--scheduler", "tcp://127.0.0.1:1")
    assert result.returncode == 2 and "--scheduler needs --backend dask" in result.stderr
