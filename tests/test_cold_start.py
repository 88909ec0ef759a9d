"""Grading one file cold: only the problem sets the answer files name are loaded (their exam read from the
top-level `exam:` key alone, exactly as loading reads it), and references are kept between runs in an
authenticated per-user cache (examcheck.refcache) that is untrusted input: anything tampered with is a miss."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examcheck import reference
from examcheck.answers import load_sheet
from examcheck.cli import main
from examcheck.preflight import PEEK_BYTES, UNKNOWN, peek_exam
from examcheck.yamlio import InputError, load_file

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = ROOT / "problems"
FLAWED = ROOT / "examples" / "answers" / "flawed.yaml"

BROKEN_SET = """exam: broken-exam
title: A problem set with errors
problems:
  - id: q1
    title: nothing right
    marks: 5
    parts:
      - id: a
        marks: 1
        answer: number
"""


def run(*args, env=None):
    return CliRunner(env=env).invoke(main, [str(a) for a in args])


# ----------------------------------------------------------------------------- peeking at `exam:`

SCALARS = st.one_of(
    st.text(alphabet="abcXYZ019_.- '\"#:\\", min_size=0, max_size=12),
    st.integers(-10**6, 10**6).map(str),
    st.sampled_from(["0123", "1.50", "true", "null", "~", "0x1F", "0o17", "1e3", ".inf", "seed000-quiz", "  pad  "]),
)


@st.composite
def exam_lines(draw):
    """The `exam:` line as someone might write it: plain, quoted, tagged, commented, or a collection."""
    value = draw(SCALARS)
    style = draw(st.sampled_from(["plain", "single", "double", "tag", "comment", "flow", "block", "anchor"]))
    key = draw(st.sampled_from(["exam", '"exam"', "'exam'"]))
    if style == "plain":
        return f"{key}: {value}\n"
    if style == "single":
        return f"{key}: '{value.replace(chr(39), chr(39) * 2)}'\n"
    if style == "double":
        return f"{key}: {json.dumps(value)}\n"
    if style == "tag":
        return f"{key}: !!str {value}\n"
    if style == "comment":
        return f"{key}: {value}  # the exam\n"
    if style == "flow":
        return f"{key}: [{value}]\n"
    if style == "block":
        return f"{key}: |\n  {value}\n"
    return f"{key}: &a {value}\n"


@st.composite
def answer_files(draw):
    lines = ["student: someone\n", "answers:\n  q1: 1\n  q2:\n    a: '2'\n", draw(exam_lines())]
    if draw(st.booleans()):
        lines.append(draw(exam_lines()))  # a second exam key: loading refuses the file
    if draw(st.booleans()):
        lines.append("extra: [1, {a: b}]\n")
    order = draw(st.permutations(range(len(lines))))
    text = "".join(lines[i] for i in order)
    if draw(st.booleans()):
        text = "---\n" + text
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    return text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=answer_files())
def test_the_exam_peeked_is_the_exam_loading_reads(text, tmp_path):
    path = tmp_path / "answers.yaml"
    path.write_text(text, encoding="utf-8", newline="")
    peeked = peek_exam(path, answer=True)
    try:
        loaded = load_sheet(path).exam
    except (InputError, Exception) as exc:  # noqa: BLE001 - a file loading refuses: the peek may say anything
        assert not isinstance(exc, (KeyboardInterrupt, SystemExit))
        return
    assert peeked is UNKNOWN or peeked == loaded, (text, peeked, loaded)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(line=exam_lines(), before=st.booleans())
def test_the_exam_peeked_in_a_problem_file_is_str_of_its_value(line, before, tmp_path):
    body = "title: t\nproblems: []\n"
    text = line + body if before else body + line
    path = tmp_path / "set.yaml"
    path.write_text(text, encoding="utf-8")
    peeked = peek_exam(path, answer=False)
    try:
        data = load_file(path).data
    except InputError:
        return
    assert peeked is UNKNOWN or peeked == str(data["exam"]), (text, peeked, data)


def test_a_value_cut_at_the_peek_limit_is_unknown(tmp_path):
    """A plain value that goes on past the bytes read is not taken for the part that was read."""
    exam = "exam: seed000-quiz\n"
    head = "student: s\nanswers: {}\n"
    head += "# padding\n" * ((PEEK_BYTES - len(head) - len(exam) - 5) // 10)
    head += "#" * (PEEK_BYTES - len(head) - len(exam) - 2) + "\n"
    text = head + exam + "  continued\n"
    assert text.index("  continued") < PEEK_BYTES < len(text)
    path = tmp_path / "long.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_file(path, 10**7).data["exam"] == "seed000-quiz continued"
    assert peek_exam(path) in (UNKNOWN, "seed000-quiz continued")


@pytest.mark.parametrize("content", [b"\xff\xfe not utf-8", b"exam: a\x00b\nanswers: {}\n", b"", b"- exam: x\n",
                                     b"exam: *x\nanswers: {}\n", b"exam: [x\n", b"{exam: x, answers: {}}\n"])
def test_hostile_files_peek_as_unknown_or_exactly(content, tmp_path):
    path = tmp_path / "a.yaml"
    path.write_bytes(content)
    peeked = peek_exam(path)
    try:
        loaded = load_sheet(path).exam
    except InputError:
        return
    assert peeked is UNKNOWN or peeked == loaded


def test_a_fifo_is_never_read(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    assert peek_exam(fifo) is UNKNOWN  # returns at once: opened non-blocking, and not a regular file
    assert peek_exam(tmp_path / "missing.yaml") is UNKNOWN
    assert peek_exam(tmp_path) is UNKNOWN


# ----------------------------------------------------------------------------- which sets are loaded


@pytest.fixture
def folder_with_a_broken_set(tmp_path):
    folder = tmp_path / "problems"
    folder.mkdir()
    shutil.copy(PROBLEMS / "seed000-quiz.yaml", folder)
    (folder / "broken.yaml").write_text(BROKEN_SET, encoding="utf-8")
    return folder


def test_a_set_broken_elsewhere_in_the_folder_does_not_stop_grading_another_exam(folder_with_a_broken_set):
    alone = run("grade", FLAWED, "--problems", PROBLEMS / "seed000-quiz.yaml", "--format", "json")
    beside = run("grade", FLAWED, "--problems", folder_with_a_broken_set, "--format", "json")
    assert alone.exit_code == beside.exit_code == 0, beside.output
    assert beside.stdout == alone.stdout
    # check still validates every set, and names the broken one
    checked = run("check", folder_with_a_broken_set)
    assert checked.exit_code == 2 and "broken.yaml" in checked.stderr


def test_an_answer_for_the_broken_set_gets_its_errors_as_ever(folder_with_a_broken_set, tmp_path):
    answers = tmp_path / "a.yaml"
    answers.write_text("exam: broken-exam\nanswers:\n  q1:\n    a: 1\n", encoding="utf-8")
    result = run("grade", answers, "--problems", folder_with_a_broken_set)
    checked = run("check", folder_with_a_broken_set)
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors and all("broken.yaml" in line for line in errors)
    assert set(errors) <= set(checked.stderr.splitlines())


@pytest.mark.parametrize("exam_line", ["exam: no-such-exam\n", "", "exam: [seed000-quiz]\n"])
def test_an_unknown_or_missing_exam_is_said_as_ever_naming_every_set(exam_line, tmp_path):
    answers = tmp_path / "a.yaml"
    answers.write_text(exam_line + "answers:\n  zz: 1\n", encoding="utf-8")
    result = run("grade", answers, "--problems", PROBLEMS)
    assert result.exit_code == 2
    if exam_line.startswith("exam: no-such"):
        listed = result.stderr.split("loaded problem sets: ", 1)[1].split(")", 1)[0].split(", ")
        assert sorted(listed) == sorted(p.stem for p in PROBLEMS.glob("*.yaml"))


def test_grading_two_exams_loads_both(tmp_path):
    other = ROOT / "examples" / "answers" / "dl-modern-flawed.yaml"
    both = run("grade", FLAWED, other, "--problems", PROBLEMS, "--format", "json")
    assert both.exit_code == 0, both.output
    assert {r["exam"] for r in json.loads(both.stdout)} == {"seed000-quiz", "dl-modern"}


# ----------------------------------------------------------------------------- the reference cache


def _counting(monkeypatch, log: Path) -> None:
    real = reference.solve_family

    def counted(family, given, log_base):
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, b"solve\n")
        finally:
            os.close(fd)
        return real(family, given, log_base)

    monkeypatch.setattr(reference, "solve_family", counted)


def _solves(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "references"
    monkeypatch.setenv("EXAMCHECK_REFERENCE_CACHE", str(folder))
    monkeypatch.setenv("EXAMCHECK_CACHE_KEY", "a course secret that is long enough to be a key")
    return folder


def _grade_json():
    result = run("grade", FLAWED, "--problems", PROBLEMS, "--format", "json", "--jobs", "1")
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_second_run_solves_nothing_and_says_the_same(cache, tmp_path, monkeypatch):
    log = tmp_path / "solves.log"
    _counting(monkeypatch, log)
    first = _grade_json()
    solved = _solves(log)
    assert solved > 0 and len(list(cache.glob("*.ref"))) == 4  # one entry per problem of seed000-quiz
    second = _grade_json()
    assert second == first
    assert _solves(log) == solved  # every reference came from the cache
    monkeypatch.setenv("EXAMCHECK_REFERENCE_CACHE", "off")
    assert _grade_json() == first


def _entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("*.ref"))


def _tamper_expected(path: Path) -> None:
    body, mac, _ = path.read_bytes().split(b"\n")
    content = json.loads(body)
    content["parts"][0][0] = "42"  # what the report would show as expected
    path.write_bytes(json.dumps(content, separators=(",", ":")).encode() + b"\n" + mac + b"\n")


class _Boom:
    """Unpickling this would create a file: the proof that an entry was unpickled."""

    def __init__(self, target: str):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def _forge_pickle(path: Path, target: Path) -> None:
    import base64

    body, mac, _ = path.read_bytes().split(b"\n")
    content = json.loads(body)
    content["parts"] = [[e, base64.b64encode(pickle.dumps(_Boom(str(target)))).decode()] for e, _ in content["parts"]]
    path.write_bytes(json.dumps(content, separators=(",", ":")).encode() + b"\n" + mac + b"\n")


@pytest.mark.parametrize("damage", ["expected", "pickle", "truncated", "garbage", "other-key", "swapped"])
def test_a_tampered_entry_is_ignored(damage, cache, tmp_path, monkeypatch):
    first = _grade_json()
    entries = _entries(cache)
    target = tmp_path / "unpickled"
    if damage == "expected":
        for path in entries:
            _tamper_expected(path)
    elif damage == "pickle":
        for path in entries:
            _forge_pickle(path, target)
    elif damage == "truncated":
        for path in entries:
            path.write_bytes(path.read_bytes()[:-20])
    elif damage == "garbage":
        for path in entries:
            path.write_bytes(os.urandom(300))
    elif damage == "other-key":
        monkeypatch.setenv("EXAMCHECK_CACHE_KEY", "another course's secret, also long enough")
    else:  # each entry moved under another problem's name (its own MAC is valid, for its own key)
        data = [p.read_bytes() for p in entries]
        for path, other in zip(entries, data[1:] + data[:1]):
            path.write_bytes(other)
    log = tmp_path / "solves.log"
    _counting(monkeypatch, log)
    assert _grade_json() == first
    assert _solves(log) > 0  # recomputed
    assert not target.exists()


def test_an_edited_problem_is_a_miss(tmp_path, cache):
    from examcheck.loader import load_sets
    from examcheck.refcache import problem_key

    original = load_sets([PROBLEMS / "seed000-quiz.yaml"])[0]
    edited_file = tmp_path / "seed000-quiz.yaml"
    edited_file.write_text((PROBLEMS / "seed000-quiz.yaml").read_text().replace("7600", "7601"), encoding="utf-8")
    edited = load_sets([edited_file])[0]
    keys = [problem_key(original, p) for p in original.problems]
    assert len(set(keys)) == len(keys)
    changed = [a != problem_key(edited, p) for a, p in zip(keys, edited.problems)]
    assert any(changed)
    assert keys == [problem_key(load_sets([PROBLEMS / "seed000-quiz.yaml"])[0], p) for p in original.problems]


def test_an_unwritable_cache_is_only_skipped(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("EXAMCHECK_REFERENCE_CACHE", str(blocker / "references"))
    monkeypatch.setenv("EXAMCHECK_CACHE_KEY", "a course secret that is long enough to be a key")
    result = run("grade", FLAWED, "--problems", PROBLEMS)
    assert result.exit_code == 0 and result.stderr == ""


# ----------------------------------------------------------------------------- as a program


def test_the_program_exits_with_the_same_codes_and_whole_outputs(tmp_path):
    env = {**os.environ, "EXAMCHECK_REFERENCE_CACHE": "off"}
    out = tmp_path / "out.json"
    command = [sys.executable, "-m", "examcheck", "grade", str(FLAWED), "--problems", str(PROBLEMS)]
    done = subprocess.run([*command, "--format", "json", "-o", str(out)], env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["student"] == "flawed-fred"
    piped = subprocess.run([*command, "--format", "json"], env=env, capture_output=True, timeout=120)
    assert piped.returncode == 0 and json.loads(piped.stdout) == json.loads(out.read_text())
    below = subprocess.run([*command, "--fail-under", "90"], env=env, capture_output=True, timeout=120)
    assert below.returncode == 1 and b"under --fail-under" in below.stderr
    assert yaml.safe_load(json.dumps(json.loads(piped.stdout)))["exam"] == "seed000-quiz"


# ----------------------------------------------------------------------------- problem files found valid before


def _count_family_checks(monkeypatch) -> list:
    from examcheck import loader

    calls = []
    real = loader.FamilyGivenChecker.errors

    def counted(self):
        calls.append(self.family.name)
        return real(self)

    monkeypatch.setattr(loader.FamilyGivenChecker, "errors", counted)
    return calls


def test_a_file_found_valid_is_not_validated_again_until_it_changes(cache, tmp_path, monkeypatch):
    folder = tmp_path / "problems"
    folder.mkdir()
    shutil.copy(PROBLEMS / "seed000-quiz.yaml", folder)
    calls = _count_family_checks(monkeypatch)
    first = run("grade", FLAWED, "--problems", folder, "--format", "json")
    assert first.exit_code == 0 and calls and len(list(cache.glob("*.valid"))) == 1
    calls.clear()
    again = run("grade", FLAWED, "--problems", folder, "--format", "json")
    assert again.stdout == first.stdout and calls == []
    assert run("check", folder).exit_code == 0 and calls  # check validates everything, always
    calls.clear()
    quiz = folder / "seed000-quiz.yaml"  # the same exam, now with an error: validated afresh, and refused
    quiz.write_text(quiz.read_text().replace("marks: 2", "marks: 20000", 1), encoding="utf-8")
    edited = run("grade", FLAWED, "--problems", folder)
    assert edited.exit_code == 2 and "seed000-quiz.yaml" in edited.stderr


@pytest.mark.parametrize("damage", ["garbage", "other-key", "renamed"])
def test_a_tampered_validity_record_means_validating_again(damage, cache, monkeypatch):
    first = run("grade", FLAWED, "--problems", PROBLEMS / "seed000-quiz.yaml", "--format", "json")
    (record,) = cache.glob("*.valid")
    if damage == "garbage":
        record.write_bytes(b"0" * 65 + b"\n")
    elif damage == "other-key":
        monkeypatch.setenv("EXAMCHECK_CACHE_KEY", "another course's secret, also long enough")
    else:  # a genuine record, for another file's content
        record.rename(record.with_name("0" * 64 + ".valid"))
    calls = _count_family_checks(monkeypatch)
    again = run("grade", FLAWED, "--problems", PROBLEMS / "seed000-quiz.yaml", "--format", "json")
    assert again.stdout == first.stdout and calls


# ----------------------------------------------------------------------------- answer files plainly valid

VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 2000), st.floats(allow_nan=False, allow_infinity=False),
                   st.sampled_from(["q1", "seed000-quiz", "a b", "x\n", "", "é", "1.0", "-", "a$"]),
                   st.dictionaries(st.sampled_from(["q1", "q2", "a"]),
                                   st.one_of(st.integers(-2, 3), st.booleans(), st.floats(0, 3), st.text(max_size=3)),
                                   max_size=3),
                   st.lists(st.integers(), max_size=2))


@settings(max_examples=200, deadline=None)
@given(data=st.one_of(
    st.dictionaries(st.sampled_from(["answers", "student", "exam", "attempt", "variant", "extra", "Exam"]), VALUES,
                    max_size=6),
    VALUES))
def test_an_answer_file_plainly_valid_is_valid_by_the_schema(data):
    """The fast check only ever says yes to what the schema accepts (anything else goes to the schema)."""
    from examcheck.answers import plainly_valid
    from examcheck.schema import ANSWER_FILE_SCHEMA, validator_for

    if plainly_valid(data):
        assert list(validator_for(ANSWER_FILE_SCHEMA).iter_errors(data)) == []


def test_the_usual_answer_files_are_plainly_valid():
    from examcheck.answers import plainly_valid

    assert plainly_valid({"answers": {"q1": 1}, "exam": "x-1", "student": 7, "attempt": 3, "variant": {"q1": 2}})
    assert not plainly_valid({"answers": {}, "exam": True})
    assert not plainly_valid({"answers": {}, "attempt": 1.0})  # valid, but left to the schema
    for path in (ROOT / "examples").rglob("*.yaml"):
        data = load_file(path).data
        if isinstance(data, dict) and "answers" in data and "problems" not in data and "exam" in data:
            assert plainly_valid(data), path


def test_a_reference_is_unpickled_with_its_own_types_only(tmp_path):
    """Belt and braces under the HMAC: bytes that would call a function (os.system, eval, sympify) are
    refused by the workers' unpickler; every bundled problem's references load through it."""
    import os
    import pickle

    from examcheck.loader import load_sets
    from examcheck.sandbox import Pickled, ReferenceUnpickler
    from tests.conftest import PROBLEMS

    class Call:
        def __init__(self, fn, *args):
            self.fn, self.args = fn, args

        def __reduce__(self):
            return self.fn, self.args

    import sympy

    for hostile in (Call(os.system, "true"), Call(eval, "1"), Call(sympy.sympify, "x"), Call(getattr, "x", "upper")):
        with pytest.raises(pickle.UnpicklingError):
            Pickled(pickle.dumps(hostile)).load()
    from examcheck.engine import Engine

    sets = load_sets([PROBLEMS])
    with Engine(sets, jobs=1) as engine:
        assert engine.reference_errors() == []
        entries = [v for v in engine.session.table.values() if isinstance(v, Pickled)]
    assert len(entries) > 100
    for entry in entries:
        assert ReferenceUnpickler(__import__("io").BytesIO(entry.data)).load() is not None
