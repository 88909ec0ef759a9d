"""Finding 13.12: re-running `variants deploy` with another pool or salt would re-assign every student; it is
refused (exit 2) unless --force, saying what changes.  The same deploy again is allowed; an empty salt is not."""

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examcheck.cli import main
from examcheck.variants import DeployError, deploy_and_write, lock_path

SMALL = """\
exam: small
title: A small variant exam
problems:
  - id: q1
    title: Halving
    params:
      b: {type: integer, min: -40, max: 40}
      r: {type: real, min: 0.05, max: 0.95, step: 0.05}
    statement: "Half of {b} plus {r}."
    parts:
      - {id: a, marks: 1, answer: number, reference: "{b} / 2 + {r}"}
"""


def deploy_cli(exam, *args):
    return CliRunner().invoke(main, ["variants", "deploy", str(exam), *args])


@pytest.fixture
def exam(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    return path


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(1, 6), st.integers(1, 6), st.sampled_from([None, "s1", "other salt"]),
       st.sampled_from([None, "s1", "other salt"]))
def test_a_redeploy_that_reassigns_is_refused_unless_forced(exam, first, second, salt1, salt2):
    lock_path(exam).unlink(missing_ok=True)
    assert deploy_and_write(exam, None, first, salt1).ok
    before = lock_path(exam).read_text()
    changes = first != second or salt1 != salt2
    if changes:
        with pytest.raises(DeployError) as err:
            deploy_and_write(exam, None, second, salt2)
        assert "--force" in str(err.value) and ("pool" in str(err.value) or "salt" in str(err.value))
        assert lock_path(exam).read_text() == before
        assert deploy_and_write(exam, None, second, salt2, force=True).ok
    else:
        assert deploy_and_write(exam, None, second, salt2).ok
        assert lock_path(exam).read_text() == before


def test_cli_exit_codes(exam):
    assert deploy_cli(exam, "--count", "3").exit_code == 0
    assert deploy_cli(exam, "--count", "3").exit_code == 0
    refused = deploy_cli(exam, "--count", "5")
    assert refused.exit_code == 2 and "from 3 to 5 variants" in refused.output and "--force" in refused.output
    seeds = deploy_cli(exam, "--seeds", "7,8,9")
    assert seeds.exit_code == 2 and "3 of its 3 variants" in seeds.output
    assert deploy_cli(exam, "--count", "5", "--force").exit_code == 0


@pytest.mark.parametrize("salt", ["", "   ", " my-var", "x\n"])
def test_empty_or_padded_salt_is_an_input_error(exam, salt):
    out = deploy_cli(exam, "--count", "2", "--salt", salt)
    assert out.exit_code == 2 and "--salt" in out.output and not lock_path(exam).exists()


@pytest.mark.parametrize("args", [["--variant", "2", "--student", "alice"], ["--student", ""],
                                  ["--student", "a\nb: 1"], ["--student", " "]])
def test_show_refuses_conflicting_or_unusable_student(exam, args):
    assert deploy_cli(exam, "--count", "3").exit_code == 0
    out = CliRunner().invoke(main, ["variants", "show", "small/q1", "--problems", str(exam), *args])
    assert out.exit_code == 2 and "--student" in out.output, out.output


def test_template_refuses_a_multiline_student(exam):
    assert deploy_cli(exam, "--count", "3").exit_code == 0
    out = CliRunner().invoke(main, ["template", "small", "--problems", str(exam), "--student", "a\nb: 1"])
    assert out.exit_code == 2 and "unprintable" in out.output, out.output


# ----------------------------------------------------------------------------- finding 13.17

@pytest.mark.parametrize("fmt", ["markdown", "html", "csv"])
def test_reports_name_the_variant_graded(fmt):
    import json
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "examples" / "variants"
    files = sorted((folder / "answers").glob("*.yaml"))[:2]
    exam = folder / "cnn-chain.yaml"
    args = ["grade", *map(str, files), "--problems", str(exam)]
    graded = json.loads(CliRunner().invoke(main, [*args, "--format", "json"]).output)
    graded = graded if isinstance(graded, list) else [graded]
    out = CliRunner().invoke(main, [*args, "--format", fmt]).output
    for report in graded:
        for problem in report["problems"]:
            if fmt == "csv":
                header, *rows = out.splitlines()
                column = header.split(",").index(f"{report['exam']}/{problem['id']}/variant")
                assert any(r.split(",")[0] == report["student"] and r.split(",")[column] == str(problem["variant"])
                           for r in rows), out
            else:
                assert f"{problem['id']} variant {problem['variant']}" in out, out
