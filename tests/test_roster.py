"""The roster: identifiers are text everywhere, LMS download names find their student, a student:
field cannot claim someone else's place, and unknown, duplicate and missing students are reported
(exit 1 with --strict)."""

import csv
import io
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from examcheck.answers import sheet_from_text
from examcheck.cli import main
from examcheck.roster import RosterError, Student, gradescope_identity, identify, parse_columns, roster_from_text

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = str(ROOT / "problems")
FLAWED = (ROOT / "examples" / "answers" / "flawed.yaml").read_text()

digits_with_zeros = st.from_regex(r"0[0-9]{1,9}", fullmatch=True)
words = st.text(alphabet=st.sampled_from(list("abcdefghijklmnopqrstuvwxyzéøßÅ")), min_size=2, max_size=8)
text_ids = st.text(alphabet=st.sampled_from(list("aZ09_-.@é李ß ,;\"'=+|")), min_size=1, max_size=12).map(str.strip) \
    .filter(lambda s: s and s.casefold() not in ("points possible",))


# ----------------------------------------------------------------------------- identifiers stay text

YAML_11_BREAKS = {"\x85", "\u2028", "\u2029"}


@settings(max_examples=100, deadline=None)
@given(digits_with_zeros)
def test_a_plain_student_number_keeps_its_leading_zeros(number):
    assert sheet_from_text(f"student: {number}\nanswers: {{}}\n", "x.yaml").student == number


@settings(max_examples=100, deadline=None)
@given(st.one_of(digits_with_zeros, text_ids, st.text(min_size=1, max_size=10).map(str.strip).filter(bool)
                 .filter(lambda s: not set(s) & YAML_11_BREAKS)))
def test_any_quoted_student_id_reads_back_as_written(sid):
    """(The writer here is PyYAML, a YAML 1.1 emitter: it writes NEL and the Unicode line/paragraph separators
    as line breaks, which a YAML 1.2 reader rightly folds; those characters are left out of this oracle.)"""
    text = yaml.safe_dump({"student": sid, "answers": {}}, allow_unicode=True)
    try:
        sheet = sheet_from_text(text, "x.yaml")
    except Exception as exc:  # a control character YAML itself refuses: a clear input error, never a crash
        assert type(exc).__name__ in ("InputError", "ValidationFailed"), exc
        return
    assert sheet.student == sid


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.one_of(digits_with_zeros, text_ids), words, words), min_size=1, max_size=8,
                unique_by=lambda t: t[0]))
def test_a_roster_reads_back_every_id_as_text(rows):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section"])
    for sid, first, last in rows:
        writer.writerow([f"{last}, {first}", sid, f"0{sid}", first + last, "A"])
    roster = roster_from_text(out.getvalue(), "roster.csv")
    assert [s.id for s in roster.students] == [sid for sid, _, _ in rows]
    assert [s.sis_id for s in roster.students] == [f"0{sid}" for sid, _, _ in rows]


@pytest.mark.parametrize("header, row, expect", [
    ("Student,ID,SIS User ID,SIS Login ID,Section", '"Lovelace, Ada",0123,S1,alove,L01',
     Student("0123", "Lovelace, Ada", "S1", "alove", "", "L01")),
    ("First name,Last name,ID number,Institution,Department,Email address", "Ada,Lovelace,007,U,CS,ada@u.example",
     Student("007", "Ada Lovelace", "007", "", "ada@u.example", "")),
    ("OrgDefinedId,Username,Last Name,First Name,Email", "0042,alove,Lovelace,Ada,ada@u.example",
     Student("0042", "Ada Lovelace", "0042", "alove", "ada@u.example", "")),
    ("\ufeffname;id;email", "Ada Lovelace;00;ada@u.example", Student("00", "Ada Lovelace", "", "", "ada@u.example", "")),
])
def test_lms_roster_headers_are_recognised(header, row, expect):
    assert roster_from_text(f"{header}\n{row}\n").students == [expect]


def test_header_names_are_configurable():
    text = "Matrikel,Voller Name,Kontakt\n0099,Ada Lovelace,ada@u.example\n"
    with pytest.raises(RosterError, match=r"roster.csv:1: no id column"):
        roster_from_text(text, "roster.csv")
    roster = roster_from_text(text, "roster.csv", parse_columns("id=Matrikel, name=Voller Name,email=Kontakt"))
    assert roster.students == [Student("0099", "Ada Lovelace", "", "", "ada@u.example", "")]
    with pytest.raises(RosterError, match="no column 'Nope'"):
        roster_from_text(text, "roster.csv", parse_columns("id=Nope"))
    with pytest.raises(RosterError, match="FIELD=HEADER"):
        parse_columns("identity")


@pytest.mark.parametrize("text, where", [
    ("id,name\n1,A\n1,B\n", "r.csv:3: id '1' is already on line 2"),
    ("id,name\n1,A\n,B\n", "r.csv:3: the id column"),
    ("\n", "r.csv:1: expected a header row"),
])
def test_bad_rosters_name_the_line(text, where):
    with pytest.raises(RosterError) as info:
        roster_from_text(text, "r.csv")
    assert where in str(info.value)


def test_a_roster_that_is_not_utf8_is_a_clear_error(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes("id,name\n1,Zo\xe9\n".encode("latin-1"))
    result = CliRunner().invoke(main, ["grade", "x.yaml", "--roster", str(path)])
    assert result.exit_code == 2 and "not UTF-8" in result.output and "Traceback" not in result.output


# ----------------------------------------------------------------------------- which file is whose


@st.composite
def class_roster(draw):
    people = draw(st.lists(st.tuples(st.integers(1000, 99999999), words, words), min_size=2, max_size=8,
                           unique_by=(lambda t: t[0], lambda t: (t[1], t[2]), lambda t: t[2] + t[1])))
    lines = ["ID,Name,SIS User ID,SIS Login ID,Email"]
    lines += [f"{uid},{first.title()} {last.title()},0{uid},{first}{last}x,{first}.{last}@u.example"
              for uid, first, last in people]
    return roster_from_text("\n".join(lines) + "\n", "roster.csv"), people


NAMINGS = {
    "canvas": lambda uid, first, last: f"{last}{first}_{uid}_{uid + 7}_answers.yaml",
    "canvas late": lambda uid, first, last: f"{last}{first}_LATE_{uid}_{uid + 7}_answers-1.yaml",
    "moodle folder": lambda uid, first, last: f"{first.title()} {last.title()}_{uid % 977}_assignsubmission_file_/answers.yaml",
    "moodle file": lambda uid, first, last: f"{first.title()} {last.title()}_{uid % 977}_assignsubmission_file_quiz.yaml",
    "brightspace": lambda uid, first, last: (f"152-{uid % 9999} - {first.title()} {last.title()} - Mar 3, 2026 1021 AM"
                                             " - answers.yaml"),
    "sis id": lambda uid, first, last: f"0{uid}.yaml",
    "login folder": lambda uid, first, last: f"{first}{last}x/answers.yaml",
    "e-mail": lambda uid, first, last: f"{first}.{last}@u.example.yaml",
}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(class_roster(), st.sampled_from(sorted(NAMINGS)), st.data())
def test_lms_download_names_find_their_student_whatever_the_file_claims(setup, naming, data):
    roster, people = setup
    owner = data.draw(st.sampled_from(people))
    other = data.draw(st.sampled_from(people))
    source = "downloads/" + NAMINGS[naming](*owner)
    match = identify(source, str(other[0]), roster)  # the file claims to be someone else's
    assert match.student is not None and match.student.id == str(owner[0]), (source, match)
    assert (match.note != "") == (other != owner)


@settings(max_examples=60, deadline=None)
@given(class_roster(), st.data())
def test_the_student_field_counts_only_when_it_is_on_the_roster(setup, data):
    roster, people = setup
    owner = data.draw(st.sampled_from(people))
    assert identify("x/answers.yaml", str(owner[0]), roster).student.id == str(owner[0])
    stranger = data.draw(st.integers(100_000_000, 10**12).map(str))
    assume(roster.lookup(stranger) is None)
    assert identify("x/answers.yaml", stranger, roster).student is None
    # an explicit identity (Gradescope metadata) wins over both
    assert identify(NAMINGS["canvas"](*owner), stranger, roster, override=f"0{owner[0]}").student.id == str(owner[0])
    assert identify("a.yaml", None, None, override="0123").student.id == "0123"


# ----------------------------------------------------------------------------- the command line


def _class(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section\n"
                      '"Lovelace, Ada",0123,S-1,alove,L1\n"Turing, Alan",0456,S-2,aturing,L1\n'
                      '"Hopper, Grace",0789,S-3,ghopper,L2\n')
    folder = tmp_path / "subs"
    folder.mkdir()
    (folder / "lovelaceada_0123_991_answers.yaml").write_text(FLAWED.replace("flawed-fred", "0456"))  # forged
    (folder / "aturing.yaml").write_text(FLAWED)
    (folder / "turingalan_0456_992_answers.yaml").write_text(FLAWED)  # Alan twice
    (folder / "mystery.yaml").write_text(FLAWED.replace("flawed-fred", "9999"))
    return roster, folder


def test_unknown_duplicate_and_missing_students_are_reported_and_strict_fails(tmp_path):
    roster, folder = _class(tmp_path)
    args = ["grade", str(folder), "--problems", PROBLEMS, "--jobs", "1", "--roster", str(roster), "--format", "canvas"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    err = result.stderr
    assert "mystery.yaml: unknown student" in err
    assert "student '0456' has 2 answer files" in err
    assert "no answer file from '0789' (Hopper, Grace)" in err
    assert "its student: field says '0456'" in err  # the forged field was noticed, and not believed
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    by_id = {r[1]: r for r in rows[2:]}
    assert sorted(by_id) == ["0123", "0456"]  # the unknown file is not imported (it was reported)
    assert by_id["0123"][:5] == ["Lovelace, Ada", "0123", "S-1", "alove", "L1"]
    assert by_id["0456"][2:4] == ["S-2", "aturing"]
    strict = CliRunner().invoke(main, [*args, "--strict"])
    assert strict.exit_code == 1 and strict.stdout == result.stdout
    stats = CliRunner().invoke(main, ["stats", str(folder), "--problems", PROBLEMS, "--jobs", "1", "--roster", str(roster),
                                      "--strict"])
    assert stats.exit_code == 1 and "unknown student" in stats.stderr


def test_a_clean_class_passes_strict(tmp_path):
    roster, folder = _class(tmp_path)
    for name in ("mystery.yaml", "turingalan_0456_992_answers.yaml"):
        (folder / name).unlink()
    (folder / "Grace Hopper_17_assignsubmission_file_").mkdir()
    (folder / "Grace Hopper_17_assignsubmission_file_" / "answers.yaml").write_text(FLAWED)
    result = CliRunner().invoke(main, ["grade", str(folder), "--problems", PROBLEMS, "--jobs", "1", "--roster", str(roster),
                                       "--strict", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    assert sorted(line.split('"student": "')[1].split('"')[0] for line in result.stdout.splitlines()) == \
        ["0123", "0456", "0789"]


def test_gradescope_metadata_gives_an_identity_that_wins():
    roster = roster_from_text("id,name,email\n0123,Ada Lovelace,ada@u.example\n0456,Alan Turing,alan@u.example\n")
    metadata = {"users": [{"email": "alan@u.example", "id": 998877, "name": "Alan Turing", "sid": None}]}
    who = gradescope_identity(metadata)
    assert who == "alan@u.example"
    assert identify("/autograder/submission/answers.yaml", "0123", roster, override=who).student.id == "0456"
    assert gradescope_identity({"users": [{"sid": "0042"}]}) == "0042"
    assert gradescope_identity({}) is None and gradescope_identity([]) is None and gradescope_identity({"users": [7]}) is None


def test_canvas_rows_that_are_not_students_are_skipped_and_short_numbers_are_not_canvas_ids():
    text = ("Student,ID,SIS User ID,SIS Login ID,Section,Quiz 1 (5)\n"
            "    Points Possible,,,,,10\n\"Student, Test\",99999,,,,\n\"Lovelace, Ada\",1,S1,alove,L1\n")
    roster = roster_from_text(text)
    assert [s.id for s in roster.students] == ["1"]
    assert identify("quiz_1_2_notes.yaml", None, roster).student is None
    assert identify("lovelaceada_1_2_answers.yaml", None, roster).student.id == "1"


def test_long_lists_are_cut_in_the_messages():
    roster = roster_from_text("id\n" + "".join(f"{i:04d}\n" for i in range(120)))
    from examcheck.roster import join

    class R:
        def __init__(self, source, student):
            self.source, self.student, self.exam = source, student, "q"

    found = join([R("a/0001.yaml", None)], roster)
    messages = found.messages()
    assert len(found.missing) == 119 and len(messages) == 51 and messages[-1] == "... and 69 more like this"
