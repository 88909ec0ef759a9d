"""`examcheck families`, `examcheck schema` and the README family table all come from the declared contracts."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from examcheck.families import all_families
from examcheck.publish import problem_set_schema
from examcheck.render.families import README_END, README_START, families_markdown

ROOT = Path(__file__).resolve().parent.parent


def run(*args):
    return subprocess.run([sys.executable, "-m", "examcheck", *args], capture_output=True, text=True, timeout=120)


def test_readme_family_table_equals_the_contracts():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index(README_START):readme.index(README_END) + len(README_END)] + "\n"
    expected = families_markdown([f.describe() for f in all_families().values()])
    assert block == expected, "README family table is stale: regenerate it with `examcheck families --format markdown`"


def test_families_json_lists_every_family_with_given_results_and_example():
    out = run("families", "--format", "json")
    assert out.returncode == 0
    data = json.loads(out.stdout)
    assert [d["name"] for d in data] == sorted(all_families())
    for d in data:
        assert d["given"]["type"] == "object" and d["results"] and isinstance(d["example"], dict)
        assert all(r["kind"] in {"integer", "number", "expression", "shape", "vector", "matrix", "boolean", "choice"}
                   for r in d["results"])
        assert {c["name"] for c in d["conventions"]} >= {"log_base"}
    gd = next(d for d in data if d["name"] == "gradient_descent")
    assert "include the start point" in gd["notes"]


def test_families_text_and_unknown_name():
    out = run("families", "cnn")
    assert out.returncode == 0 and "layer type conv:" in out.stdout and "params.{layer} [integer]" in out.stdout
    bad = run("families", "cnnn")
    assert bad.returncode == 2 and "did you mean 'cnn'" in bad.stderr


SCHEMA = problem_set_schema()
VALIDATOR = Draft202012Validator(SCHEMA)


def test_published_schema_is_valid_and_names_every_family():
    Draft202012Validator.check_schema(SCHEMA)
    assert set(SCHEMA["properties"]["problems"]["items"]["properties"]["family"]["enum"]) == set(all_families())
    out = run("schema")
    from examcheck.schema_files import draft07

    assert out.returncode == 0 and json.loads(out.stdout) == json.loads(json.dumps(draft07(SCHEMA)))


@pytest.mark.parametrize("path", sorted((ROOT / "problems").glob("*.yaml")), ids=lambda p: p.name)
def test_bundled_problem_sets_satisfy_the_published_schema(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = [e.message for e in VALIDATOR.iter_errors(data)]
    assert not errors, errors[:3]


def _set(family, given, result):
    return {"exam": "x", "title": "x", "problems": [
        {"id": "q", "title": "t", "family": family, "given": given,
         "parts": [{"id": "a", "marks": 1, "answer": "integer", "result": result}]}]}


@pytest.mark.parametrize("family, given, result", [
    ("cnn", {"input": [8, 8, 3], "layers": [{"type": "conv", "kernel": 3, "filters": 2, "strides": 2}]}, "params.1"),
    ("cnn", {"input": [8, 8, 3], "layers": [{"type": "fc", "units": 2, "pad": 1}]}, "params.1"),
    ("cnn", {"input": [8, 8, 3], "layers": ["Conv3-2"], "biass": True}, "params.1"),
    ("cnn", {"input": [8, 8, 3], "layers": ["Conv3-2"]}, "parms.1"),
    ("dense", {"layers": [3, 2]}, "totals"),
])
def test_published_schema_rejects_what_the_loader_rejects(family, given, result):
    assert list(VALIDATOR.iter_errors(_set(family, given, result)))


def test_published_schema_accepts_every_example_and_every_result():
    for name, family in all_families().items():
        for spec in family.results:
            result = re.sub(r"\{[^}]+\}", "1", spec.name)
            errors = [e.message for e in VALIDATOR.iter_errors(_set(name, family.example, result))]
            assert not errors, (name, result, errors[:2])
