"""Finding 13.5: a `check` warning (trivial 0/1 earlier values give the same later answer) does not reject a
variant at deploy, whether or not the part allows trivial values (`check` still reports it, exit 0)."""

import pytest
from click.testing import CliRunner

from examcheck.cli import main
from examcheck.variants import deploy_and_write

CHAIN = """\
exam: chain{n}
title: sigmoid chain
problems:
  - id: q
    title: sigmoid value then slope
    params:
      z: {{type: real, min: -2, max: 2, step: 0.5}}
    where: "z != 0"
    statement: "z = {{z}}"
    family: activation_catalogue
    given: {{function: sigmoid, at: "{{z}}"}}
    parts:
      - {{id: a, marks: 1, result: value_at, answer: number, precision: {{rtol: 0.001}}}}
      - id: b
        marks: 2
        answer: number
        reference: "value_at*(1 - value_at)"
        precision: {{rtol: 0.001}}
        follow_through: {{from: a, replaces: results.value_at, cap: 0.75, when: "0 < x < 1"{extra}}}
"""


@pytest.mark.parametrize("allow", [False, True])
def test_a_warning_does_not_reject_a_variant(tmp_path, allow):
    exam = tmp_path / "chain.yaml"
    exam.write_text(CHAIN.format(n=int(allow), extra=", allow_trivial: true" if allow else ""))
    result = deploy_and_write(exam, None, 3)
    assert result.ok and not [r for r in result.rejected if not r.duplicate], (result.failures, result.rejected)
    checked = CliRunner().invoke(main, ["check", str(exam)])
    assert checked.exit_code == 0, checked.output
    assert "warning:" in checked.output and "trivial values 0 and 1" in checked.output
