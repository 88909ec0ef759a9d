"""The README quickstart is exactly two commands, and .ci/run runs the second."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quickstart_commands():
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)\n```", section, re.S)


def test_two_commands():
    commands = quickstart_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)
    assert commands[0].startswith("pip install . && examcheck grade examples/answers/")


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert quickstart_commands()[1] in ci
    assert "ruff check ." in ci


def test_the_example_graded_by_the_quickstart_exists():
    path = quickstart_commands()[0].split("examcheck grade ", 1)[1].strip()
    assert (ROOT / path).is_file()
