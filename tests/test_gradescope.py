"""Gradescope end to end: `examcheck gradescope build` writes the zip; the zip, unpacked into a simulated
/autograder tree, runs on good, flawed, empty and unreadable submissions; every results.json is validated
against a JSON Schema transcribed from Gradescope's specification (tests/data/gradescope-results.schema.json).

The submissions run the examcheck *from the zip's wheel* (installed with --target, on this environment's
dependencies), never the repository's.  One test runs the zip's own setup.sh into a fresh venv, with
Python 3.10 when one is found (Gradescope's Ubuntu 22.04 base image has 3.10)."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examcheck.cli import main
from examcheck.gradescope import md_text

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = ROOT / "problems"
EXAM = "seed000-quiz"
SCHEMA = json.loads((ROOT / "tests" / "data" / "gradescope-results.schema.json").read_text())
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)
PY310_CANDIDATES = [os.environ.get("EXAMCHECK_TEST_PY310", ""), "/root/.pyenv/versions/3.10.13/bin/python",
                    shutil.which("python3.10") or ""]


def build(tmp: Path, *args: str) -> Path:
    out = tmp / "autograder.zip"
    result = CliRunner().invoke(main, ["gradescope", "build", EXAM, "--problems", str(PROBLEMS), "-o", str(out), *args])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(zip, a command that runs the zip's examcheck) for the default settings."""
    tmp = tmp_path_factory.mktemp("gradescope")
    archive = build(tmp)
    wheel_dir = tmp / "wheel"
    with zipfile.ZipFile(archive) as z:
        wheel = next(n for n in z.namelist() if n.endswith(".whl"))
        z.extract(wheel, tmp)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target",
                    str(wheel_dir), str(tmp / wheel)], check=True)
    shim = tmp / "examcheck-from-wheel"
    shim.write_text(f'#!/bin/sh\nPYTHONPATH="{wheel_dir}" exec "{sys.executable}" -m examcheck "$@"\n')
    shim.chmod(0o755)
    return archive, shim


def autograder_tree(tmp: Path, archive: Path, files: dict[str, bytes], metadata: dict | None) -> Path:
    root = tmp / "autograder"
    (root / "source").mkdir(parents=True)
    (root / "submission").mkdir()
    with zipfile.ZipFile(archive) as z:
        z.extractall(root / "source")
    for name, data in files.items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).write_bytes(data)
    if metadata is not None:
        (root / "submission_metadata.json").write_text(json.dumps(metadata))
    return root


def run_autograder(root: Path, examcheck: Path) -> dict:
    script = root / "source" / "run_autograder"
    env = {**os.environ, "EXAMCHECK_AUTOGRADER_ROOT": str(root), "EXAMCHECK_AUTOGRADER_BIN": str(examcheck)}
    done = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    errors = sorted(VALIDATOR.iter_errors(results), key=str)
    assert not errors, [e.message for e in errors]
    return results


METADATA = {"id": 1, "users": [{"email": "ann@example.edu", "id": 991, "name": "Ann Lee", "sid": "0123"}]}
FLAWED = (ROOT / "examples" / "answers" / "flawed.yaml").read_bytes()
PERFECT = (ROOT / "examples" / "answers" / "perfect.yaml").read_bytes()


def graded_tests(results):
    return [t for t in results["tests"] if "score" in t]


def test_zip_holds_what_gradescope_needs(built):
    archive, _ = built
    with zipfile.ZipFile(archive) as z:
        names = set(z.namelist())
        assert {"setup.sh", "run_autograder", "autograder.json", "requirements.txt"} <= names
        assert any(n.startswith("problems/") for n in names) and any(n.endswith("-py3-none-any.whl") for n in names)
        for script in ("setup.sh", "run_autograder"):  # executable, at the root of the archive
            assert stat.S_IMODE(z.getinfo(script).external_attr >> 16) & 0o111
        requirements = z.read("requirements.txt").decode()
        for dependency in ("sympy", "numpy", "click", "rich", "PyYAML", "jsonschema"):
            line = next(r for r in requirements.splitlines() if r.lower().startswith(dependency.lower()))
            assert "<" in line and ">=" in line, line  # a range, both ends pinned
        wheel = next(n for n in names if n.endswith(".whl"))
        with zipfile.ZipFile(z.open(wheel)) as w:
            inside = set(w.namelist())
            meta = w.read(next(n for n in inside if n.endswith("dist-info/METADATA"))).decode()
    assert "examcheck/cli.py" in inside and "Requires-Python: >=3.10" in meta
    assert not any("__pycache__" in n for n in inside)


def test_the_build_is_reproducible(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert build(tmp_path / "a").read_bytes() == build(tmp_path / "b").read_bytes()


def test_good_submission_gets_every_autograded_mark_and_the_metadata_identity(built, tmp_path):
    archive, examcheck = built
    forged = PERFECT.replace(b"student: perfect-pat", b"student: someone-else", 1)
    assert forged != PERFECT
    results = run_autograder(autograder_tree(tmp_path, archive, {"answers.yaml": forged}, METADATA), examcheck)
    graded = graded_tests(results)
    assert graded and all(t["status"] == "passed" for t in graded)
    assert results["score"] == sum(t["max_score"] for t in graded) == results["extra_data"]["autograded_max"]
    assert results["extra_data"]["student"] == "0123"  # the sid from submission_metadata.json, a string
    assert "someone-else" not in json.dumps(results) and "Ann Lee" in results["output"]
    assert "Graded file: answers.yaml" in results["output"]


def test_hand_marked_parts_are_informational_and_not_in_the_total(built, tmp_path):
    archive, examcheck = built
    results = run_autograder(autograder_tree(tmp_path, archive, {"answers.yml": FLAWED}, METADATA), examcheck)
    by_hand = [t for t in results["tests"] if "score" not in t]
    assert by_hand, "seed000-quiz has a part marked by hand"
    for test in by_hand:
        assert "max_score" not in test and "status" not in test and "marked by hand" in test["output"]
    graded = graded_tests(results)
    assert results["score"] == sum(t["score"] for t in graded)
    total_marks = sum(p.marks for s in __import__("examcheck.loader").loader.load_sets([PROBLEMS])
                      if s.exam == EXAM for p in s.problems)
    assert results["extra_data"]["autograded_max"] == sum(t["max_score"] for t in graded) < total_marks


def test_flawed_txt_submission_is_graded_and_expected_answers_stay_hidden(built, tmp_path):
    archive, examcheck = built
    results = run_autograder(autograder_tree(tmp_path, archive, {"answers.txt": FLAWED}, METADATA), examcheck)
    graded = graded_tests(results)
    assert 0 < results["score"] < sum(t["max_score"] for t in graded)
    assert any(t["status"] == "failed" for t in graded) and any(t["status"] == "passed" for t in graded)
    assert all("expected:" not in t["output"] for t in results["tests"])
    assert results["output_format"] == "text" and results["visibility"] == "after_published"


@pytest.mark.parametrize("files", [{}, {"answers.yaml": b""}, {"notes.pdf": b"%PDF-1.4"}], ids=["nothing", "empty", "pdf"])
def test_empty_submissions_get_score_zero_and_a_reason(built, tmp_path, files):
    archive, examcheck = built
    results = run_autograder(autograder_tree(tmp_path, archive, files, METADATA), examcheck)
    assert results["score"] == 0 and results["tests"] == [] and results["output"].strip()
    if "notes.pdf" in files:
        assert "notes.pdf" in results["output"] and ".yaml, .yml or .txt" in results["output"]


@pytest.mark.parametrize("data", [b"answers: [oops\n", b"\xff\xfe\x00garbage", b"student: x\nanswers:\n  q1: \"\\sigma\"\n"],
                         ids=["bad-yaml", "not-utf8", "double-quoted-latex"])
def test_unreadable_submission_explains_itself(built, tmp_path, data):
    archive, examcheck = built
    results = run_autograder(autograder_tree(tmp_path, archive, {"answers.yaml": data}, METADATA), examcheck)
    assert results["score"] == 0 and "answers.yaml" in results["output"]
    assert "answers.yaml:" in results["output"]  # file:line


def test_several_files_say_which_was_graded(built, tmp_path):
    archive, examcheck = built
    files = {"a-notes.txt": b"scratch work, not YAML: [", "answers.yaml": FLAWED, "old/answers.yml": PERFECT}
    results = run_autograder(autograder_tree(tmp_path, archive, files, METADATA), examcheck)
    assert "Graded file: answers.yaml" in results["output"]
    assert "a-notes.txt" in results["output"] and "old/answers.yml" in results["output"]


def test_missing_metadata_still_grades(built, tmp_path):
    archive, examcheck = built
    results = run_autograder(autograder_tree(tmp_path, archive, {"answers.yaml": FLAWED}, None), examcheck)
    assert results["score"] > 0 and "submission_metadata.json" in results["output"]


@pytest.mark.parametrize("visibility", ["after_due_date", "after_published", "visible", "hidden"])
def test_visibility_and_markdown_output(tmp_path, visibility):
    archive = build(tmp_path, "--visibility", visibility, "--output-format", "md", "--reveal")
    with zipfile.ZipFile(archive) as z:
        config = json.loads(z.read("autograder.json"))
    assert config["visibility"] == visibility and config["output_format"] == "md" and config["reveal"] is True


def test_markdown_results_escape_student_text(built, tmp_path):
    _, examcheck = built
    archive = build(tmp_path, "--output-format", "md", "--visibility", "visible")
    hostile = {"users": [{"sid": "s1", "name": "<img src=x onerror=alert(1)> **bold** [x](http://e.vil)\x1b[31m"}]}
    root = autograder_tree(tmp_path, archive, {"answers.yaml": FLAWED}, hostile)
    results = run_autograder(root, examcheck)
    assert results["output_format"] == "md" and all(t["output_format"] == "md" for t in results["tests"])
    text = results["output"]
    assert "<img" not in text and "**bold**" not in text and "](" not in text and "\x1b" not in text
    assert all(t["visibility"] == "visible" for t in results["tests"])


MARKDOWN_ACTIVE = ["<", ">", "**", "__", "](", "`", "\x1b", "\x07"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("<>*_[]()`!#|\\-.&ab \x1b\x07\n")), max_size=40))
def test_md_text_leaves_nothing_active(text):
    escaped = md_text(text)
    for token in ("<", ">", "\x1b", "\x07"):
        assert token not in escaped
    # every markdown punctuation character is preceded by a backslash (or is part of an entity)
    i = 0
    while i < len(escaped):
        char = escaped[i]
        if char == "\\":
            i += 2
            continue
        if char == "&":
            end = escaped.index(";", i)
            assert escaped[i:end + 1] in ("&amp;", "&lt;", "&gt;")
            i = end + 1
            continue
        assert char not in "*_[]()`!#|-.", escaped
        i += 1


def test_build_refuses_an_unknown_exam_and_a_bad_output(tmp_path):
    result = CliRunner().invoke(main, ["gradescope", "build", "no-such-exam", "--problems", str(PROBLEMS),
                                       "-o", str(tmp_path / "a.zip")])
    assert result.exit_code == 2 and "no-such-exam" in result.output
    result = CliRunner().invoke(main, ["gradescope", "build", EXAM, "--problems", str(PROBLEMS), "-o", str(tmp_path)])
    assert result.exit_code == 2
    result = CliRunner().invoke(main, ["gradescope", "build", EXAM, "--problems", str(PROBLEMS), "-o",
                                       str(tmp_path / "a.zip"), "--visibility", "sometimes"])
    assert result.exit_code == 2


def _python_310() -> str | None:
    for candidate in PY310_CANDIDATES:
        if candidate and Path(candidate).exists():
            version = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 10))"],
                                     capture_output=True, text=True)
            if version.stdout.strip() == "True":
                return candidate
    return None


def test_setup_sh_installs_the_wheel_on_python_310_and_grades(built, tmp_path):
    """The zip's own setup.sh (apt skipped) makes the venv Gradescope would have; then run_autograder
    with no override grades with the examcheck installed from the wheel."""
    archive, _ = built
    python = _python_310() or sys.executable
    root = autograder_tree(tmp_path, archive, {"answers.yaml": FLAWED}, METADATA)
    env = {**os.environ, "EXAMCHECK_AUTOGRADER_ROOT": str(root), "EXAMCHECK_AUTOGRADER_PYTHON": python,
           "EXAMCHECK_SKIP_APT": "1"}
    env.pop("VIRTUAL_ENV", None)
    done = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True,
                          timeout=600)
    offline = ("No matching distribution", "NewConnectionError", "Could not find a version", "ReadTimeout",
               "Temporary failure in name resolution", "ConnectionError", "Network is unreachable")
    if done.returncode != 0 and any(marker in done.stderr for marker in offline):
        pytest.skip(f"the dependencies cannot be fetched here: {done.stderr[-300:]}")
    assert done.returncode == 0, done.stderr[-2000:]
    installed = subprocess.run([str(root / "venv" / "bin" / "python"), "-c",
                                "import examcheck, sys; print(examcheck.__file__); print(sys.version_info[:2])"],
                               capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    assert str(root / "venv") in installed and str(ROOT) not in installed
    if python != sys.executable:
        assert "(3, 10)" in installed
    results = run_autograder(root, root / "venv" / "bin" / "examcheck")
    assert results["score"] > 0 and results["extra_data"]["student"] == "0123"
    # every module of the installed wheel imports on this Python (the optional extras' modules aside)
    every = ("import importlib, pkgutil, examcheck\n"
             "for m in pkgutil.walk_packages(examcheck.__path__, 'examcheck.'):\n"
             "    if not any(x in m.name for x in ('.web', 'dask', '__main__')):\n"
             "        importlib.import_module(m.name)\n")
    imported = subprocess.run([str(root / "venv" / "bin" / "python"), "-c", every], capture_output=True, text=True,
                              cwd=tmp_path, timeout=300)
    assert imported.returncode == 0, imported.stderr[-2000:]


PY311_ONLY = re.compile(r"^\s*(from enum import .*StrEnum|import tomllib|from typing import .*\bSelf\b)|datetime\.UTC\b|"
                        r"\bexcept\*|asyncio\.TaskGroup|hashlib\.file_digest|\bExceptionGroup\b", re.M)


def test_no_python_311_only_names_in_the_package():
    """Gradescope's python3 is 3.10: what 3.10 lacks goes through examcheck.compat."""
    offenders = [f"{path.relative_to(ROOT)}: {match.group(0).strip()}"
                 for path in sorted((ROOT / "examcheck").rglob("*.py")) if path.name != "compat.py"
                 for match in PY311_ONLY.finditer(path.read_text(encoding="utf-8"))]
    assert not offenders


def test_hostile_submission_tree_and_metadata(built, tmp_path):
    """Symlinks and FIFOs in the submission are never read; odd metadata never crashes the run."""
    archive, examcheck = built
    metadata = {"users": [{"sid": {"nested": 1}, "email": None, "id": 4417, "name": ["x"]}, "not a user"]}
    root = autograder_tree(tmp_path, archive, {"real.yml": FLAWED}, metadata)
    (root / "submission" / "answers.yaml").symlink_to("/etc/passwd")
    os.mkfifo(root / "submission" / "answers.txt")
    results = run_autograder(root, examcheck)
    assert "Graded file: real.yml" in results["output"] and results["score"] > 0
    assert results["extra_data"]["student"] == "4417" and "group submission" in results["output"]


def test_blank_hand_marked_part_is_informational_and_hides_its_rubric(built, tmp_path):
    """A hand-marked part left blank is informational like an answered one (the autograded maximum does not
    depend on what the student left blank), and without --reveal its rubric is not shown."""
    archive, examcheck = built
    blank = (tmp_path / "blank")
    perfect = (tmp_path / "perfect")
    blank.mkdir(), perfect.mkdir()
    empty = f"exam: {EXAM}\nanswers: {{}}\n".encode()
    none = run_autograder(autograder_tree(blank, archive, {"answers.yaml": empty}, METADATA), examcheck)
    full = run_autograder(autograder_tree(perfect, archive, {"answers.yaml": PERFECT}, METADATA), examcheck)
    assert none["extra_data"]["autograded_max"] == full["extra_data"]["autograded_max"]
    assert [t["name"] for t in graded_tests(none)] == [t["name"] for t in graded_tests(full)]
    text = json.dumps(none)
    assert "marked by hand" in text and "marked by hand:" not in text


def test_a_symlinked_answer_file_is_named_as_ignored(built, tmp_path):
    archive, examcheck = built
    root = autograder_tree(tmp_path, archive, {}, METADATA)
    (root / "submission" / "answers.yaml").symlink_to(root / "source" / "autograder.json")
    results = run_autograder(root, examcheck)
    assert results["score"] == 0 and "answers.yaml (a symbolic link: ignored, never read)" in results["output"]
    assert "reveal" not in results["output"]  # nothing of the target was read


def test_build_refuses_an_exam_with_params_that_is_not_deployed(tmp_path):
    """Without its lock no student has a variant: the zip would grade against nothing; deploy first."""
    exam = tmp_path / "cnn-chain.yaml"
    shutil.copy(ROOT / "examples" / "variants" / "cnn-chain.yaml", exam)
    target = tmp_path / "a.zip"
    result = CliRunner().invoke(main, ["gradescope", "build", str(exam), "-o", str(target)])
    assert result.exit_code == 2 and "variants deploy" in result.output and not target.exists()
    shutil.copy(ROOT / "examples" / "variants" / "cnn-chain.variants.yaml", tmp_path / "cnn-chain.variants.yaml")
    result = CliRunner().invoke(main, ["gradescope", "build", str(exam), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "problems/cnn-chain.variants.yaml" in zipfile.ZipFile(target).namelist()
