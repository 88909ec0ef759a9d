"""Variants (issue 13 §1): params drawn per student, deployed ahead of time, graded from the lock file.

By category: the `where:` grammar against Python's own operators; assignment against a fresh process
(another PYTHONHASHSEED) and against roster order; deploy against itself (same seeds, same lock) and a
golden lock; degenerate draws against brute force over the param space; hostile exams, seeds, lock
files, answer files and rosters at every entry point."""

from __future__ import annotations

import json
import operator
import os
import random
import re
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examcheck.cli import main
from examcheck.conditions import ConditionError, parse_condition
from examcheck.loader import load_set
from examcheck.schema import ValidationFailed
from examcheck.variants import (
    DeployError,
    assign,
    deploy,
    deploy_and_write,
    lock_path,
    parse_seeds,
    substitute,
)
from examcheck.yamlio import InputError, load_file

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "variants"
GOLDEN = Path(__file__).parent / "data" / "variants"
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

SMALL = """\
exam: small
title: A small variant exam
problems:
  - id: q1
    title: Doubling
    params:
      b: {type: integer, min: 1, max: 9}
    statement: "Double {b}."
    parts:
      - {id: a, marks: 1, answer: integer, reference: "{b} * 2", prompt: "2 x {b}?"}
"""

DEGENERATE = """\
exam: degen
title: A mistake that can equal the key
problems:
  - id: q1
    title: Doubling
    params:
      b: {type: integer, min: 0, max: 5}
    parts:
      - id: a
        marks: 1
        answer: integer
        reference: "{b} * 2"
        mistakes: [{answer: "{b} + 2", feedback: "added 2 instead of doubling"}]
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def reports(output: str) -> list[dict]:
    found = json.loads(output)
    return found if isinstance(found, list) else [found]


def run(*args, cwd: Path | None = None):
    old = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        return CliRunner().invoke(main, list(args))
    finally:
        os.chdir(old)


# ----------------------------------------------------------------------------- the where grammar

OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne}
ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul}


@FAST
@given(a=st.integers(-50, 50), b=st.integers(-50, 50), c=st.integers(-50, 50),
       op=st.sampled_from(sorted(OPS)), arith=st.sampled_from(sorted(ARITH)), joiner=st.sampled_from(["and", "or"]))
def test_conditions_agree_with_python_operators(a, b, c, op, arith, joiner):
    condition = parse_condition(f"a {arith} b {op} c {joiner} not (c % 3 == 0)", {"a", "b", "c"})
    left = OPS[op](ARITH[arith](a, b), c)
    right = not (c % 3 == 0)
    expected = (left and right) if joiner == "and" else (left or right)
    assert condition.holds({"a": a, "b": b, "c": c}) is expected


@FAST
@given(a=st.integers(-20, 20), b=st.integers(-20, 20), c=st.integers(-20, 20))
def test_chained_comparisons_and_functions(a, b, c):
    env = {"a": a, "b": b, "c": c}
    assert parse_condition("a < b <= c", set(env)).holds(env) is (a < b <= c)
    assert parse_condition("max(a, b) - min(a, b) == abs(a - b)", set(env)).holds(env)
    assert parse_condition("a / 2 == a * 0.5", set(env)).holds(env)
    if b != 0:
        assert parse_condition("a // b == q", {"a", "b", "q"}).holds({**env, "q": a // b})
    assert parse_condition("c / 0 > 1", set(env)).holds(env) is False  # cannot compute: does not hold


@FAST
@given(st.text(max_size=80))
def test_any_text_is_a_condition_or_a_condition_error(text):
    try:
        condition = parse_condition(text, {"a", "b"})
    except ConditionError:
        return
    assert condition.holds({"a": Fraction(3), "b": Fraction(-2)}) in (True, False)


@pytest.mark.parametrize("text, message", [
    ("__import__('os').system('true')", "cannot read"),
    ("__import__('os')", "unknown name"),
    ("a.b", "cannot read"),
    ("c > 1", "unknown name 'c'"),
    ("(" * 200 + "a" + ")" * 200, "nested too deeply"),
    ("a ** 10 ** 10 > 1", None),
])
def test_hostile_conditions(text, message):
    if message is None:  # parses, but a huge power is never computed: the condition does not hold
        assert parse_condition(text, {"a"}).holds({"a": 7}) is False
        return
    with pytest.raises(ConditionError, match=message):
        parse_condition(text, {"a", "b"})


def test_text_params_compare_with_equality_only():
    env = {"act": "relu", "n": 3}
    assert parse_condition("act == 'relu' and n > 2", set(env)).holds(env)
    assert parse_condition("act < 'z'", set(env)).holds(env) is False


# ----------------------------------------------------------------------------- substitution


@FAST
@given(value=st.integers(-10**6, 10**6))
def test_substitution_keeps_expressions_meaning_and_prose_plain(value):
    params = {"a": value}
    assert substitute("{a}", params) == value  # a whole reference keeps its type
    expression = substitute("x - {a}", params)
    assert expression == (f"x - ({value})" if value < 0 else f"x - {value}")
    assert substitute({"statement": "subtract {a}"}, params) == {"statement": f"subtract {value}"}
    assert substitute("{{a}} stays", params) == "{a} stays"
    assert substitute(r"\frac{b}{a}", params) == rf"\frac{{b}}{value if value >= 0 else f'({value})'}"


def test_real_params_are_the_grid_decimals():
    params = {"lr": 0.15}
    assert substitute("step {lr}", params) == "step 0.15"


# ----------------------------------------------------------------------------- assignment

ids = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)


@settings(max_examples=5, deadline=None)
@given(st.lists(st.tuples(ids, ids, st.integers(1, 5), st.integers(1, 50)), min_size=20, max_size=40))
def test_assignment_is_the_same_in_another_process(cases):
    here = [assign("salt", "exam", pid, student, attempt, pool) for student, pid, attempt, pool in cases]
    script = ("import json, sys\nfrom examcheck.variants import assign\n"
              "cases = json.load(sys.stdin)\n"
              "print(json.dumps([assign('salt', 'exam', p, s, a, n) for s, p, a, n in cases]))\n")
    env = {**os.environ, "PYTHONHASHSEED": str(random.randrange(1, 2**31))}
    done = subprocess.run([sys.executable, "-c", script], input=json.dumps(cases), capture_output=True, text=True,
                          env=env, timeout=60, check=True)
    assert json.loads(done.stdout) == here
    assert all(1 <= v <= pool for v, (_, _, _, pool) in zip(here, cases))


def test_assignment_is_pinned():
    """A change of the hash would move every student to another variant: it must never change silently."""
    assert [assign("cnn-chain", "cnn-chain", "q1", f"s{i:02d}", 1, 10) for i in range(1, 6)] == [2, 9, 7, 3, 10]


@FAST
@given(st.lists(ids, min_size=2, max_size=30, unique=True), st.randoms())
def test_assignment_does_not_depend_on_roster_order(students, rnd):
    from examcheck.render.variants import assignment_csv

    problem_set = load_set(EXAMPLE / "cnn-chain.yaml")
    shuffled = list(students)
    rnd.shuffle(shuffled)

    def rows(order):
        return {tuple(r.split(",")) for r in assignment_csv(problem_set, order, 1).splitlines()[1:]}

    assert rows(students) == rows(shuffled)


def test_attempts_and_salts_move_students_and_every_variant_is_used():
    pools = [assign("s", "e", "q1", f"student{i}", 1, 10) for i in range(2000)]
    assert set(pools) == set(range(1, 11))
    assert max(pools.count(v) for v in range(1, 11)) < 2.5 * min(pools.count(v) for v in range(1, 11))
    moved = sum(assign("s", "e", "q1", f"student{i}", 1, 10) != assign("s", "e", "q1", f"student{i}", 2, 10)
                for i in range(200))
    assert moved > 150
    assert sum(assign("s", "e", "q1", f"x{i}", 1, 10) != assign("t", "e", "q1", f"x{i}", 1, 10) for i in range(200)) > 150


# ----------------------------------------------------------------------------- deploy


def test_deploy_is_deterministic_and_a_seed_does_not_depend_on_the_others(tmp_path):
    exam = write(tmp_path, "small.yaml", SMALL)
    first = deploy(exam, seeds=[5, 6, 7, 8])
    second = deploy(exam, seeds=[5, 6, 7, 8])
    assert first.lock.content() == second.lock.content()
    alone = deploy(exam, seeds=[7])
    assert alone.lock.problems["q1"][0].params == first.lock.problems["q1"][2].params


def test_deploy_matches_the_golden_lock(tmp_path):
    """Same seeds, same lock: a NumPy or examcheck change of the draws or the keys shows up here."""
    exam = tmp_path / "golden.yaml"
    shutil.copy(GOLDEN / "golden.yaml", exam)
    deploy_and_write(exam, None, 6, None, 1)
    produced = lock_path(exam).read_text()

    def stable(text):
        return [line for line in text.splitlines() if not line.startswith(("examcheck:", "rng:"))]

    assert stable(produced) == stable((GOLDEN / "golden.variants.yaml").read_text())


@pytest.mark.parametrize("where", ["a < b", "a + b == 7", "a % 2 == 1 and b != 3", "not (a == b)"])
def test_deployed_variants_satisfy_where(tmp_path, where):
    exam = write(tmp_path, "w.yaml", f"""\
exam: w
title: where
problems:
  - id: q1
    title: t
    params:
      a: {{type: integer, min: 0, max: 6}}
      b: {{type: integer, min: 0, max: 6, exclude: [2]}}
    where: "{where}"
    parts:
      - {{id: a, marks: 1, answer: integer, reference: "{{a}} + 10*{{b}}"}}
""")
    result = deploy(exam, count=5)
    assert result.ok, result.failures
    env_ok = {
        "a < b": lambda a, b: a < b, "a + b == 7": lambda a, b: a + b == 7,
        "a % 2 == 1 and b != 3": lambda a, b: a % 2 == 1 and b != 3, "not (a == b)": lambda a, b: a != b,
    }[where]
    drawn = [v.params for v in result.lock.problems["q1"]]
    assert all(env_ok(p["a"], p["b"]) and p["b"] != 2 for p in drawn)
    assert len({json.dumps(p, sort_keys=True) for p in drawn}) == len(drawn)
    assert all(v.keys["a"] == str(v.params["a"] + 10 * v.params["b"]) for v in result.lock.problems["q1"])


def test_deploy_flags_every_draw_whose_mistake_equals_the_key(tmp_path):
    exam = write(tmp_path, "degen.yaml", DEGENERATE)
    result = deploy(exam, seeds=list(range(1, 40)))
    rejected = {r.seed for r in result.rejected if not r.duplicate}
    for reason in (r.reason for r in result.rejected if not r.duplicate):
        assert "mistake" in reason
    import numpy as np

    draws = {seed: int(np.random.Generator(np.random.PCG64(seed)).integers(0, 6)) for seed in range(1, 40)}
    for seed, b in draws.items():  # brute force: seed s draws b = the first integer of its generator
        assert (seed in rejected) == (b == 2 and seed == min(s for s, v in draws.items() if v == 2))
    accepted = [v.params["b"] for v in result.lock.problems["q1"]]
    assert 2 not in accepted and accepted  # 2 + 2 == 2 * 2: the one degenerate draw
    assert rejected and not result.ok


def test_deploy_cli_writes_a_lock_that_grading_reads(tmp_path):
    exam = write(tmp_path, "small.yaml", SMALL)
    out = run("variants", "deploy", str(exam), "--count", "4")
    assert out.exit_code == 0, out.output
    assert lock_path(exam).exists()
    problem_set = load_set(exam)
    assert [p.variant for p in problem_set.problems] == [1, 2, 3, 4]
    template = run("template", "small", "--problems", str(exam), "--student", "ann")
    assert template.exit_code == 0
    number = assign("small", "small", "q1", "ann", 1, 4)
    b = problem_set.problems[number - 1].params["b"]
    assert f"Double {b}." in template.output and f"q1: {number}" in template.output
    answers = write(tmp_path, "ann.yaml", f"student: ann\nexam: small\nanswers:\n  q1: {2 * b}\n")
    graded = run("grade", str(answers), "--problems", str(exam), "--format", "json")
    assert graded.exit_code == 0, graded.output
    assert reports(graded.output)[0]["score"] == 1
    wrong = write(tmp_path, "bob.yaml", f"student: bob\nexam: small\nvariant: {{q1: {number % 4 + 1}}}\nanswers:\n  q1: 1\n")
    mismatch = run("grade", str(wrong), "--problems", str(exam))
    if assign("small", "small", "q1", "bob", 1, 4) != number % 4 + 1:
        assert mismatch.exit_code == 2
        assert re.search(r"bob\.yaml:3: variant\.q1: this file answers variant \d+ of q1, but student 'bob'", mismatch.output)


# ----------------------------------------------------------------------------- hostile exams and arguments


@pytest.mark.parametrize("params, where, message", [
    ("a: {type: integer, min: 0, max: 5}", '"a > 9"', "no draw satisfies `where:`"),
    ("a: {type: integer, min: 2, max: 5}", '"a ** 64 ** 64 > 1"', "cannot be computed (exponents are whole numbers up to 64)"),
    ("a: {type: integer, min: 2, max: 5}", '"1 / (a - a) > 0"', "cannot be computed (a division by zero)"),
    ("a: {type: integer, min: 0, max: 5}", '"z > 1"', "unknown name 'z'"),
    ("a: {type: real, min: 0, max: 1}", None, "needs `step:`"),
    ("a: {type: integer, min: 5, max: 1}", None, "max 1 is below min 5"),
    ("a: {type: integer, min: 0.5, max: 3}", None, "whole-number"),
    ("a: {type: choice, values: [1, 1]}", None, "must differ"),
    ("a: {type: integer, min: 0, max: 3}\n      unused: {type: integer, min: 0, max: 3}", None, "never used"),
    ("a: {type: dice, min: 0, max: 3}", None, "expected one of: integer, real, choice"),
    ("a: {type: integer, min: -1e13, max: 3}", None, "expected a number >="),
])
def test_hostile_params_are_input_errors_with_lines(tmp_path, params, where, message):
    text = ("exam: h\ntitle: h\nproblems:\n  - id: q1\n    title: t\n    params:\n      " + params + "\n"
            + (f"    where: {where}\n" if where else "")
            + '    parts:\n      - {id: a, marks: 1, answer: integer, reference: "{a} + 1"}\n')
    exam = write(tmp_path, "h.yaml", text)
    with pytest.raises((ValidationFailed, InputError)) as caught:
        load_set(exam)
    errors = caught.value.errors if isinstance(caught.value, ValidationFailed) else [caught.value]
    assert any(message in str(e) and re.search(r"h\.yaml:\d+:", str(e)) for e in errors), errors
    out = run("variants", "deploy", str(exam), "--count", "2")
    if "where" in message or "computed" in message:  # deploy says how far it got and why: a finding (exit 1), no lock written
        assert out.exit_code == 1 and "could not draw 2 distinct variants after 1000 tries" in out.output
        assert message in out.output
    else:
        assert out.exit_code == 2 and message in out.output
    assert not lock_path(exam).exists()


def test_huge_range_and_impossible_where_are_bounded(tmp_path):
    exam = write(tmp_path, "huge.yaml", """\
exam: huge
title: huge
problems:
  - id: q1
    title: t
    params:
      a: {type: integer, min: -1000000000000, max: 1000000000000}
      b: {type: integer, min: 0, max: 1}
    where: "a % 1000 == 7"
    tries: 3000
    parts:
      - {id: a, marks: 1, answer: integer, reference: "{a} * {b}"}
""")
    out = run("variants", "deploy", str(exam), "--count", "1000")
    assert out.exit_code == 1
    assert re.search(r"could not draw 1000 distinct variants after \d+ tries", out.output)
    assert not lock_path(exam).exists()


@pytest.mark.parametrize("args", [["--count", "0"], ["--count", "5000"], ["--seeds", "1,x"], ["--seeds", "1,1"],
                                  ["--seeds", "9-1"], ["--seeds", "0-5000"], ["--seeds", str(2**64)], [],
                                  ["--count", "2", "--seeds", "1"], ["--count", "2", "--salt", "a\x1bb"]])
def test_bad_deploy_arguments_exit_2(tmp_path, args):
    exam = write(tmp_path, "small.yaml", SMALL)
    out = run("variants", "deploy", str(exam), *args)
    assert out.exit_code == 2, out.output
    assert not lock_path(exam).exists()


def test_parse_seeds_ranges():
    assert parse_seeds("1-3, 7") == [1, 2, 3, 7]
    with pytest.raises(DeployError):
        parse_seeds("-1")


def test_an_exam_without_params_has_nothing_to_deploy(tmp_path):
    out = run("variants", "deploy", str(ROOT / "problems" / "seed000-quiz.yaml"), "--count", "2")
    assert out.exit_code == 2 and "nothing to deploy" in out.output


def test_undeployed_exam_is_not_graded(tmp_path):
    exam = write(tmp_path, "small.yaml", SMALL)
    answers = write(tmp_path, "ann.yaml", "student: ann\nexam: small\nanswers:\n  q1: 4\n")
    out = run("grade", str(answers), "--problems", str(exam))
    assert out.exit_code == 2 and "run `examcheck variants deploy` first" in out.output


# ----------------------------------------------------------------------------- hostile lock files


@pytest.fixture
def deployed(tmp_path):
    exam = write(tmp_path, "small.yaml", SMALL)
    assert deploy_and_write(exam, None, 3).ok
    answers = write(tmp_path, "ann.yaml", "student: ann\nexam: small\nanswers:\n  q1: 4\n")
    return exam, lock_path(exam), answers


def _forge_digest(lock: Path) -> None:
    from examcheck.variants import fingerprint

    data = load_file(lock).data
    content = {k: data[k] for k in ("exam", "fingerprint", "salt", "problems")}
    lock.write_text(re.sub(r"digest: sha256:[0-9a-f]+", "digest: " + fingerprint(content), lock.read_text()))


@pytest.mark.parametrize("edit, forge, message", [
    (lambda t: re.sub(r"a: '(\d+)'", lambda m: f"a: '{int(m.group(1)) + 1}'", t, count=1), False, "digest does not match"),
    (lambda t: re.sub(r"a: '(\d+)'", lambda m: f"a: '{int(m.group(1)) + 1}'", t, count=1), True, "differs from the key computed"),
    (lambda t: re.sub(r"b: \d+", "b: 99", t, count=1), True, "is not one of its declared values"),
    (lambda t: re.sub(r"b: \d+", "b: 2.5", t, count=1), True, "is not one of its declared values"),
    (lambda t: re.sub(r"variant: 2", "variant: 7", t), True, "expected variant 2"),
    (lambda t: t.replace("salt: small", "salt: other"), False, "digest does not match"),
    (lambda t: t.replace("exam: small", "exam: large"), False, "not 'small'"),
    (lambda t: "- just a list\n", False, "expected a variants lock file"),
    (lambda t: "problems: [\n", False, "not valid YAML"),
    (lambda t: t.replace("problems:\n", "problems:\n  q9: []\n"), False, "expected at least 1 item"),
    (lambda t: t.replace("problems:\n", "problems:\n  q9:\n  - {variant: 1, seed: 1, params: {b: 1}, keys: {}}\n"), True,
     "no problem 'q9' with params"),
])
def test_hostile_lock_files_stop_grading_with_file_and_line(deployed, edit, forge, message):
    exam, lock, answers = deployed
    lock.write_text(edit(lock.read_text()))
    if forge:
        _forge_digest(lock)
    out = run("grade", str(answers), "--problems", str(exam))
    assert out.exit_code == 2, out.output
    assert message in out.output
    assert re.search(r"small\.variants\.yaml(:\d+)?: ", out.output)


def test_an_edited_exam_makes_the_lock_stale(deployed):
    exam, lock, answers = deployed
    exam.write_text(exam.read_text().replace("Doubling", "Doubling twice"))
    out = run("grade", str(answers), "--problems", str(exam))
    assert out.exit_code == 2 and "stale lock" in out.output
    redeploy = run("variants", "deploy", str(exam), "--count", "3")
    assert redeploy.exit_code == 0
    assert run("grade", str(answers), "--problems", str(exam)).exit_code == 0


# ----------------------------------------------------------------------------- the example exam and papers


def test_the_example_lock_is_fresh_and_its_answer_files_grade_as_the_readme_says():
    problem_set = load_set(EXAMPLE / "cnn-chain.yaml")
    assert {p.id: problem_set.variants.pool(p.id) for p in problem_set.problems} == {"q1": 10, "q2": 10}
    out = run("grade", str(EXAMPLE / "answers"), "--problems", str(EXAMPLE / "cnn-chain.yaml"), "--format", "json")
    assert out.exit_code == 0, out.output
    scores = {r["student"]: r["score"] for r in reports(out.output)}
    assert scores["s01"] == 8 and 0 < scores["s02"] < 8
    assert scores["s03"] == 1.5  # a copy of s01: only capped follow-through where the copied chain is consistent
    assert scores["s04"] == 4    # two honest slips carried forward: capped follow-through on the later parts
    for report in reports(out.output):  # each report names the variants it was graded against
        assert {p["id"]: p["variant"] for p in report["problems"]} == \
            {pid: assign("cnn-chain", "cnn-chain", pid, report["student"], 1, 10) for pid in ("q1", "q2")}


def test_solve_for_a_student_shows_their_numbers():
    out = run("solve", "cnn-chain/q1", "--problems", str(EXAMPLE / "cnn-chain.yaml"), "--student", "s01")
    assert out.exit_code == 0, out.output
    problem_set = load_set(EXAMPLE / "cnn-chain.yaml")
    number = assign("cnn-chain", "cnn-chain", "q1", "s01", 1, 10)
    size = problem_set.problems[number - 1].params["size"]
    assert f"{size}x{size}x3" in out.output


def test_papers_one_per_student_with_keys(tmp_path):
    roster = write(tmp_path, "roster.csv", 'id,name\ns01,Ann\n"x\\y{z}$",Evil\n\n')
    out = run("paper", str(EXAMPLE / "cnn-chain.yaml"), "--roster", str(roster), "-o", str(tmp_path / "papers"))
    assert out.exit_code == 0, out.output
    files = sorted(p.name for p in (tmp_path / "papers").iterdir())
    assert len(files) == 8 and "s01.md" in files and "s01-key.tex" in files
    evil = next(p for p in (tmp_path / "papers").glob("x_y_z-*.tex") if "key" not in p.name).read_text()
    assert r"x\textbackslash{}y\{z\}\$" in evil
    key = (tmp_path / "papers" / "s01-key.md").read_text()
    problem_set = load_set(EXAMPLE / "cnn-chain.yaml")
    number = assign("cnn-chain", "cnn-chain", "q1", "s01", 1, 10)
    assert problem_set.variants.lock.problems["q1"][number - 1].keys["d"] in key


@pytest.mark.parametrize("text, message", [
    ("id\ns1\ns1\n", "also on line 2"),
    ("", "empty"),
    ("id\n", "no students"),
    ("id\n\x01bad\n", "printable"),
    ("id,name\n,Ann\n", "no student id"),
])
def test_hostile_rosters(tmp_path, text, message):
    from examcheck.paper import simple_roster

    roster = write(tmp_path, "r.csv", text)
    with pytest.raises(InputError, match=message) as caught:
        simple_roster(roster)
    assert caught.value.source.endswith("r.csv")
    out = run("paper", str(EXAMPLE / "cnn-chain.yaml"), "--roster", str(roster), "-o", str(tmp_path / "p"))
    assert out.exit_code == 2 and "r.csv" in out.output  # whichever roster reader is installed


def test_deploy_rejects_family_errors_and_answers_of_the_wrong_type(tmp_path):
    exam = write(tmp_path, "kinds.yaml", """\
exam: kinds
title: kinds
problems:
  - id: q1
    title: a conv that may not fit its input
    family: cnn
    params:
      n: {type: integer, min: 2, max: 6}
    given: {input: ["{n}", "{n}", 1], layers: [{type: conv, kernel: 5, filters: 2}]}
    parts:
      - {id: a, marks: 1, answer: shape, result: output.1}
  - id: q2
    title: half of a whole number
    params:
      a: {type: integer, min: 1, max: 9}
    parts:
      - {id: a, marks: 1, answer: integer, reference: "{a} / 2"}
""")
    result = deploy(exam, count=2)
    by_problem = {pid: [v.params for v in pool] for pid, pool in result.lock.problems.items()}
    assert all(p["n"] >= 5 for p in by_problem["q1"])
    assert all(p["a"] % 2 == 0 for p in by_problem["q2"])
    reasons = {r.problem: r.reason for r in result.rejected if not r.duplicate}
    assert "q1" in reasons and "q2" in reasons
    assert "not a whole number" in reasons["q2"] or "integer" in reasons["q2"]


def test_list_and_show(tmp_path):
    listing = run("variants", "list", str(EXAMPLE / "cnn-chain.yaml"))
    assert listing.exit_code == 0 and "q1: 10 variant(s)" in listing.output
    shown = run("variants", "show", "cnn-chain/q2", "--problems", str(EXAMPLE / "cnn-chain.yaml"), "--variant", "3")
    assert shown.exit_code == 0 and "variant 3" in shown.output and "key:" in shown.output
    missing = run("variants", "show", "cnn-chain/q2", "--problems", str(EXAMPLE / "cnn-chain.yaml"), "--variant", "11")
    assert missing.exit_code == 2
    overview = run("list", "--problems", str(EXAMPLE / "cnn-chain.yaml"))
    assert overview.output.count("q1 ") == 1


def test_a_family_mistake_that_gives_the_key_for_some_draws_makes_them_degenerate(tmp_path):
    """Gradient ascent equals descent exactly at a critical point: the draws that start there are flagged,
    the others kept (the family's bias mistake, always equal to a shape, is not a mistake of that part)."""
    exam = write(tmp_path, "ascent.yaml", """\
exam: ascent
title: ascent
problems:
  - id: q1
    title: one step
    family: gradient_descent
    params:
      x0: {type: integer, min: -1, max: 1}
      a: {type: integer, min: 1, max: 2}
    given: {f: "{a}*x**2", variables: [x], start: ["{x0}"], step_size: 0.1, steps: 1}
    parts:
      - {id: a, marks: 1, answer: vector, result: point}
""")
    result = deploy(exam, count=4)
    kept = [v.params for v in result.lock.problems["q1"]]
    assert kept and all(p["x0"] != 0 for p in kept)
    flagged = [r for r in result.rejected if not r.duplicate]
    assert flagged and all(r.params["x0"] == 0 and "gives the key itself" in r.reason for r in flagged)
    assert len(kept) == 4  # the four draws with x0 = -1 or 1


@settings(max_examples=150, deadline=None)
@given(low=st.integers(-50, 50), width=st.integers(0, 30), step=st.integers(1, 5), t=st.integers(-60, 80),
       excluded=st.lists(st.integers(-50, 80), max_size=5), seed=st.integers(0, 2**63 - 1))
def test_every_draw_lies_on_the_grid_avoids_exclusions_and_satisfies_where(low, width, step, t, excluded, seed):
    from decimal import Decimal

    from examcheck.variants import Param, ParamSpace, draw

    high = low + width
    a = Param("a", "integer", Decimal(low), Decimal(step), (high - low) // step + 1, exclude=tuple(excluded))
    b = Param("b", "real", Decimal("0.5"), Decimal("0.25"), 5)
    space = ParamSpace((a, b), (parse_condition(f"a + b < {t}", {"a", "b"}),), tries=200)
    params, spent = draw(space, seed, 200)
    grid = [low + k * step for k in range((high - low) // step + 1) if low + k * step not in excluded]
    if params is None:  # only when nothing on the grid could satisfy it, or 200 draws all missed
        assert spent == 200
        return
    assert params["a"] in grid and params["a"] + Fraction(repr(params["b"])) < t
    assert params["b"] in (0.5, 0.75, 1.0, 1.25, 1.5)
    assert draw(space, seed, 200) == (params, spent)  # the same seed, the same draw


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(0, 10**12), min_size=1, max_size=4, unique=True))
def test_deploy_with_given_seeds_is_deterministic(tmp_path, seeds):
    exam = tmp_path / "small.yaml"
    exam.write_text(SMALL.replace("max: 9", "max: 1000000"))
    first, second = deploy(exam, seeds=seeds), deploy(exam, seeds=seeds)
    assert first.lock.content() == second.lock.content()
    assert [v.seed for v in first.lock.problems["q1"]] == seeds
    for variant in first.lock.problems["q1"]:
        assert variant.keys["a"] == str(2 * variant.params["b"])


def test_keys_prompts_and_mistakes_take_params_and_check_verifies_them(tmp_path):
    good = SMALL.replace('prompt: "2 x {b}?"}', 'prompt: "2 x {b}?", key: "2*{b}",\n'
                         '         mistakes: [{answer: "{b} + {b} + 1", feedback: "one too many ({b})"}]}')
    exam = write(tmp_path, "keyed.yaml", good)
    result = deploy(exam, count=3)
    assert result.ok and not [r for r in result.rejected if not r.duplicate]
    deploy_and_write(exam, None, 3)
    problem_set = load_set(exam)
    for problem in problem_set.problems:
        b = problem.params["b"]
        part = problem.parts[0]
        assert part.prompt == f"2 x {b}?" and part.key == f"2*{b}"
        assert part.mistakes[0].answer == f"{b} + {b} + 1" and part.mistakes[0].feedback == f"one too many ({b})"
    assert run("check", str(exam)).exit_code == 0
    bad = write(tmp_path, "badkey.yaml", SMALL.replace('prompt: "2 x {b}?"}', 'prompt: "2 x {b}?", key: "{b} + 2"}'))
    flawed = deploy(bad, count=2)
    assert [r for r in flawed.rejected if not r.duplicate]
    assert all(v.params["b"] == 2 for v in flawed.lock.problems["q1"])  # only b = 2 makes b + 2 the key


def test_deploy_refuses_an_exam_whose_other_problems_are_broken(tmp_path):
    exam = write(tmp_path, "mixed.yaml", SMALL + """\
  - id: q2
    title: broken
    family: no_such_family
    parts:
      - {id: a, marks: 1, answer: integer, result: x}
""")
    out = run("variants", "deploy", str(exam), "--count", "2")
    assert out.exit_code == 2 and "mixed.yaml:" in out.output and not lock_path(exam).exists()


def test_the_readme_recipe_runs_as_written(tmp_path):
    """Every command of the README's Variants recipe, on a copy of examples/variants/."""
    import shlex

    text = (ROOT / "README.md").read_text()
    section = text.split("## Variants: each student their own numbers", 1)[1].split("\n## ", 1)[0]
    recipe = re.findall(r"```bash\n(.*?)\n```", section, re.S)[0]
    shutil.copytree(EXAMPLE, tmp_path / "examples" / "variants")
    outputs = []
    for line in recipe.splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["pip"]:
            continue
        assert words[0] == "examcheck"
        out = run(*words[1:], cwd=tmp_path)
        assert out.exit_code == 0, (line, out.output)
        outputs.append(out.output)
    graded = next(o for o in outputs if "students" in o and "cnn-chain" in o)
    assert all(score in graded for score in ("8/8", "5.5/8", "1.5/8", "4/8"))
    assert len(list((tmp_path / "papers").glob("*.tex"))) == 60
    assert (tmp_path / "examples" / "variants" / "cnn-chain.variants.yaml").read_text().split("exam:", 1)[1] == \
        (EXAMPLE / "cnn-chain.variants.yaml").read_text().split("exam:", 1)[1]  # deploy again: the same lock


def test_another_attempt_is_graded_against_its_own_variant(tmp_path):
    exam = write(tmp_path, "small.yaml", SMALL)
    assert deploy_and_write(exam, None, 6).ok
    problem_set = load_set(exam)
    student = next(s for s in (f"u{i}" for i in range(100))
                   if assign("small", "small", "q1", s, 1, 6) != assign("small", "small", "q1", s, 2, 6))
    template = run("template", "small", "--problems", str(exam), "--student", student, "--attempt", "2")
    assert "attempt: 2" in template.output
    b = problem_set.problems[assign("small", "small", "q1", student, 2, 6) - 1].params["b"]
    filled = template.output.replace("\n    a:", f"\n    a: {2 * b}")
    answers = write(tmp_path, "a.yaml", filled)
    out = run("grade", str(answers), "--problems", str(exam), "--format", "json", "--attempt", "2")
    assert out.exit_code == 0, out.output
    assert reports(out.output)[0]["score"] == 1
    # the attempt is the instructor's: a file's own `attempt:` never picks its variant
    assert run("grade", str(answers), "--problems", str(exam)).exit_code == 2
    first = write(tmp_path, "b.yaml", filled.replace("attempt: 2\n", ""))  # attempt 1 names the wrong variant
    assert run("grade", str(first), "--problems", str(exam)).exit_code == 2


def test_deploy_stops_at_its_time_limit(tmp_path, monkeypatch):
    import itertools
    import types

    import examcheck.variants as variants

    clock = itertools.count(0, 0.25)  # each look at the clock: a quarter second later (however fast the machine)
    monkeypatch.setattr(variants, "time", types.SimpleNamespace(monotonic=lambda: next(clock)))
    exam = write(tmp_path, "slow.yaml", SMALL.replace("max: 9", "max: 100000"))
    out = run("variants", "deploy", str(exam), "--count", "1000", "--time-limit", "1")
    assert out.exit_code == 1 and "ran past its time limit" in out.output and not lock_path(exam).exists()


def test_the_published_schema_accepts_variant_exams_and_still_checks_fixed_ones():
    from jsonschema import Draft202012Validator

    from examcheck.publish import problem_set_schema

    validator = Draft202012Validator(problem_set_schema())
    assert not list(validator.iter_errors(load_file(EXAMPLE / "cnn-chain.yaml").data))
    fixed = load_file(EXAMPLE / "cnn-chain.yaml").data
    for problem in fixed["problems"]:
        problem.pop("params"), problem.pop("where", None)
    assert list(validator.iter_errors(fixed))  # "{size}" is not an integer once nothing is drawn


def test_roster_columns(tmp_path):
    from examcheck.paper import simple_roster as read_roster

    canvas = write(tmp_path, "canvas.csv", '"Student","ID","SIS User ID","Section"\n"Doe, Ann","101","ann1","A"\n')
    assert read_roster(canvas) == ["ann1"]  # the institution's id, not Canvas's internal one
    plain = write(tmp_path, "plain.csv", "s1\ns2\n")
    assert read_roster(plain) == ["s1", "s2"]
    named = write(tmp_path, "named.csv", "name,student\nAnn,a1\n")
    assert read_roster(named) == ["a1"]


def test_a_folder_of_problems_reads_each_lock_with_its_exam(tmp_path):
    from examcheck.loader import load_sets

    folder = tmp_path / "problems"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("answers", "*.csv"))
    sets = load_sets([folder])
    assert [s.exam for s in sets] == ["cnn-chain"] and sets[0].variants.deployed
    with pytest.raises(ValidationFailed, match="a variants lock file, not a problem set"):
        load_sets([folder / "cnn-chain.variants.yaml"])


def test_check_flags_an_undeployed_variant_exam_and_passes_a_deployed_one(tmp_path):
    exam = write(tmp_path, "small.yaml", SMALL)
    out = run("check", str(exam))
    assert out.exit_code == 1 and "no lock file" in out.output
    assert deploy_and_write(exam, None, 3).ok
    assert run("check", str(exam)).exit_code == 0
