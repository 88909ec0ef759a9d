"""The pre-commit hook, run by the real pre-commit on a throwaway git repository: a wrong key in a problem
set outside ./problems fails the commit, the corrected file passes, and YAML that is not a problem set is
skipped with a note.  The hook is our .pre-commit-hooks.yaml, used as a `repo: local` hook (language
system, so no network and no install); pass_filenames, files and entry are taken from the manifest as is."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SEED = (ROOT / "problems" / "seed000-quiz.yaml").read_text(encoding="utf-8")
GOOD_KEY = "        key: 0.999                                 # C03: exactly the reported 99.9%"
WRONG_KEY = "        key: 0.25                                  # C03: exactly the reported 99.9%"

PRE_COMMIT = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")
if not Path(PRE_COMMIT).exists() or not shutil.which("git"):
    pytest.skip("pre-commit (the test extra) or git is not installed", allow_module_level=True)


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path):
    repo = tmp_path / "course"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "t@example.edu")
    git(repo, "config", "user.name", "t")
    hook = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())[0]
    assert hook["pass_filenames"] is True  # the point of the hook: check the files that changed
    local = {key: hook[key] for key in ("id", "name", "entry", "files", "pass_filenames", "require_serial")
             if key in hook}
    local["language"] = "system"  # the examcheck of this environment, on PATH
    config = {"repos": [{"repo": "local", "hooks": [local]}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    git(repo, "add", ".pre-commit-config.yaml")
    return repo


def pre_commit(repo: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}", "NO_COLOR": "1"}
    return subprocess.run([PRE_COMMIT, "run", "--color", "never"], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=300)


def test_a_wrong_key_outside_problems_fails_and_the_fix_passes(repo, tmp_path):
    assert GOOD_KEY in SEED
    exams = repo / "exams"
    exams.mkdir()
    (exams / "week3.yaml").write_text(SEED.replace(GOOD_KEY, WRONG_KEY))
    workflows = repo / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text("name: ci\non: [push]\njobs: {}\n")
    git(repo, "add", "-A")
    assert not (repo / "problems").exists()
    failed = pre_commit(repo, tmp_path)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    line = SEED.splitlines().index(GOOD_KEY) + 1
    assert f"exams/week3.yaml:{line}" in failed.stdout + failed.stderr
    assert "ci.yml: skipped" in failed.stdout + failed.stderr

    (exams / "week3.yaml").write_text(SEED)
    git(repo, "add", "-A")
    passed = pre_commit(repo, tmp_path)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout


def test_only_non_problem_yaml_changed_passes_with_a_note(repo, tmp_path):
    (repo / "answers.yaml").write_text("student: a\nexam: seed000-quiz\nanswers:\n  q1: {i: x}\n")
    (repo / "mkdocs.yml").write_text("site_name: course\n")
    git(repo, "add", "-A")
    done = pre_commit(repo, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_broken_problem_set_is_never_skipped(repo, tmp_path):
    (repo / "quiz.yaml").write_text(SEED.replace("problems:", "problems: [oops", 1))
    git(repo, "add", "-A")
    done = pre_commit(repo, tmp_path)
    assert done.returncode != 0 and "quiz.yaml" in done.stdout + done.stderr
