"""Started with stdout or stderr closed (`>&-`, `2>&-`; blind-17b N4): never a traceback or an internal error;
the -o output is written and the exit code is the run's."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLAWED = ROOT / "examples" / "answers" / "flawed.yaml"


@pytest.mark.parametrize("closed", [">&-", "2>&-", ">&- 2>&-"])
@pytest.mark.parametrize("to_file", [True, False])
def test_a_closed_standard_stream_is_not_a_bug(tmp_path, closed, to_file):
    out = tmp_path / "grades.csv"
    target = f"--format csv -o '{out}'" if to_file else ""
    marker = tmp_path / "stderr.txt"
    redirect = closed if "2>" in closed else f"{closed} 2>'{marker}'"
    command = f"'{sys.executable}' -m examcheck grade '{FLAWED}' {target} {redirect}"
    run = subprocess.run(["bash", "-c", command], cwd=ROOT, timeout=300)
    assert run.returncode == 0
    if marker.exists():
        assert "internal error" not in marker.read_text() and "Traceback" not in marker.read_text()
    if to_file:
        assert out.read_text().startswith("student,")
