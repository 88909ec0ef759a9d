"""N5: without a roster, case and Unicode-width variants of one student id (`A0100005`, full-width `ａ0100005`,
`a0100005 `) are one student when deciding that several files claim one student: the contested-claims rule then
applies (the file named for the student wins, else nobody's grade is written and the files are listed).  Ids keep
their written form in the outputs."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from examcheck.classrun import identified
from examcheck.cli import main
from examcheck.roster import id_key

ROOT = Path(__file__).resolve().parent.parent
PERFECT = (ROOT / "examples" / "answers" / "perfect.yaml").read_text()
FLAWED = (ROOT / "examples" / "answers" / "flawed.yaml").read_text()


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


# ways of writing one id: case changes, full-width forms, outer spaces, compatibility ligatures, combined
SPELLINGS = st.lists(st.sampled_from(["upper", "title", "full", "space", "swapcase", "full_upper"]), max_size=3)


def _spell(sid: str, how: list[str]) -> str:
    for step in how:
        sid = {"upper": sid.upper(), "title": sid.title(), "full": _full_width(sid), "space": f" {sid} ",
               "swapcase": sid.swapcase(), "full_upper": _full_width(sid.upper())}[step]
    return sid


IDS = st.text(alphabet="abcdefxyz0123456789", min_size=3, max_size=9)


@dataclass(frozen=True)
class _Report:
    source: str
    student: str
    exam: str = "quiz"
    warnings: tuple = ()


class _ByStudent(list):
    """Reports read back from a run's store: ordered by the id as written, spellings of one id not adjacent."""
    by_student = True


@settings(max_examples=150, deadline=None)
@given(sid=IDS, spellings=st.lists(SPELLINGS, min_size=1, max_size=4), own_named=st.integers(0, 2),
       name_spelling=SPELLINGS, by_student=st.booleans(), order=st.randoms(use_true_random=False))
def test_spellings_of_one_id_never_get_two_rows(sid, spellings, own_named, name_spelling, by_student, order):
    claimants = [_Report(f"subs/c{i}.yaml", _spell(sid, how)) for i, how in enumerate(spellings)]
    named = [_Report(f"subs/{i}/{_spell(sid, name_spelling).strip()}.yaml", sid) for i in range(own_named)]
    bystander = _Report("subs/bob.yaml", "zzz-bob")
    reports = claimants + named + [bystander]
    order.shuffle(reports)
    if by_student:
        reports = _ByStudent(sorted(reports, key=lambda r: r.student))
    kept, identities = identified(reports, None, one_row=True)
    credited = [r for r in kept if r.source != bystander.source]
    assert bystander in list(kept)
    assert all(r.student == next(x for x in reports if x.source == r.source).student for r in kept)  # as written
    everyone = claimants + named
    if len(everyone) == 1:
        assert credited == everyone
    elif own_named == 1:
        assert credited == named
    else:
        assert credited == []  # nobody's grade is written ...
        listed = " ".join(identities.messages())
        assert "no grade" in listed and all(r.source in listed for r in everyone)  # ... and the files are listed
    if len(everyone) > 1:
        assert identities.problems  # --strict fails


@given(sid=IDS, how=SPELLINGS)
def test_id_key_ignores_case_width_and_outer_spaces(sid, how):
    spelled = _spell(sid, how)
    assert id_key(spelled) == id_key(sid) == sid
    assert id_key(spelled) == unicodedata.normalize("NFKC", spelled).casefold().strip()


def test_moodle_import_has_one_row_for_the_testers_spellings(tmp_path):
    folder = tmp_path / "dE"
    folder.mkdir()
    (folder / "a0100005.yaml").write_text(FLAWED.replace("student: flawed-fred", "student: a0100005"))
    for name, spelled in (("000", "A0100005"), ("002", "ａ0100005"), ("003", "Ａ0100005 ")):
        (folder / f"{name}.yaml").write_text(PERFECT.replace("student: perfect-pat", f'student: "{spelled}"'))
    for fmt in ("moodle", "csv", "canvas", "brightspace"):
        result = CliRunner().invoke(main, ["grade", str(folder), "--format", fmt])
        rows = [line for line in result.stdout.splitlines() if "0100005" in line or "０１００００５" in line]
        assert len(rows) == 1 and "a0100005" in rows[0], (fmt, result.stdout)
        assert "not credited" in result.stderr
