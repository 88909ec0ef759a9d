"""F11: an input folder is untrusted (an unzipped submission restores symlinks).  A symlink to a folder found
inside it is never followed, wherever it points; a symlink to a file is read only if the file lies inside the
folder; each link skipped is named.  The listing is bounded.  Paths named on the command line are followed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examcheck import inputs
from examcheck.inputs import expand_inputs

ROOT = Path(__file__).resolve().parents[1]
FLAWED = ROOT / "examples" / "answers" / "flawed.yaml"
PERFECT = ROOT / "examples" / "answers" / "perfect.yaml"


def _outside(tmp_path: Path) -> Path:
    other = tmp_path / "elsewhere"
    (other / "deep").mkdir(parents=True, exist_ok=True)
    (other / "intruder.yaml").write_text(PERFECT.read_text())
    (other / "deep" / "more.yaml").write_text(PERFECT.read_text())
    return other


# where a link inside the class folder points: outside, the root, the parent, inside, itself
TARGETS = st.sampled_from(["outside", "root", "parent", "sibling", "self"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=TARGETS, depth=st.integers(0, 3), name=st.sampled_from(["link", "up", "sub.yaml", "x"]),
       as_glob=st.booleans())
def test_a_symlinked_folder_inside_an_input_folder_is_never_followed(tmp_path, target, depth, name, as_glob):
    base = tmp_path / f"run-{target}-{depth}-{name}-{as_glob}"
    folder = base / "class"
    where = folder.joinpath(*[f"d{i}" for i in range(depth)])
    where.mkdir(parents=True)
    (folder / "own.yaml").write_text(FLAWED.read_text())
    (folder / "sibling").mkdir()
    (folder / "sibling" / "mate.yaml").write_text(FLAWED.read_text())
    pointed = {"outside": _outside(base), "root": Path("/"), "parent": base, "sibling": folder / "sibling",
               "self": where}[target]
    (where / name).symlink_to(pointed, target_is_directory=True)
    paths, errors = expand_inputs([str(folder / "**" / "*.yaml") if as_glob else str(folder)])
    assert sorted(p.name for p in paths) == ["mate.yaml", "own.yaml"]
    assert all(Path(p).resolve().is_relative_to(folder.resolve()) for p in paths)
    linked = [e for e in errors if Path(e.source) == where / name]
    assert len(linked) == 1 and "symlink to a folder" in linked[0].message and "not followed" in linked[0].message


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(inside=st.booleans(), depth=st.integers(0, 2), as_glob=st.booleans())
def test_a_symlinked_file_is_read_only_when_it_lies_inside_the_folder(tmp_path, inside, depth, as_glob):
    base = tmp_path / f"run-{inside}-{depth}-{as_glob}"
    folder = base / "class"
    where = folder.joinpath(*[f"d{i}" for i in range(depth)])
    where.mkdir(parents=True)
    (folder / "own.yml").write_text(FLAWED.read_text())
    target = folder / "kept" / "real.yaml" if inside else _outside(base) / "intruder.yaml"
    target.parent.mkdir(exist_ok=True)
    target.write_text(PERFECT.read_text())
    (where / "link.yaml").symlink_to(os.path.relpath(target, where))
    paths, errors = expand_inputs([str(folder / "**" / "*.y*ml") if as_glob else str(folder)])
    if inside:
        assert not errors and sorted(p.name for p in paths) in (["own.yml", "real.yaml"], ["link.yaml", "own.yml"])
    else:
        assert [p.name for p in paths] == ["own.yml"]
        assert [(Path(e.source), "outside" in e.message) for e in errors] == [(where / "link.yaml", True)]


def test_paths_named_on_the_command_line_are_followed(tmp_path):
    other = _outside(tmp_path)
    link = tmp_path / "mine"
    link.symlink_to(other, target_is_directory=True)
    file_link = tmp_path / "answer.yaml"
    file_link.symlink_to(FLAWED)
    paths, errors = expand_inputs([str(link), str(file_link), str(link / "*.yaml")])
    assert not errors
    assert sorted(p.name for p in paths) == ["answer.yaml", "intruder.yaml", "more.yaml"]


def test_the_listing_is_bounded_with_a_clear_message(tmp_path):
    folder = tmp_path / "class"
    deep = folder.joinpath(*["d"] * 6)
    deep.mkdir(parents=True)
    (deep / "x.yaml").write_text(FLAWED.read_text())
    for i in range(20):
        (folder / f"s{i:02}.yaml").write_text(FLAWED.read_text())
    found, errors = inputs._walk(str(folder), inputs.ANSWER_SUFFIXES, max_depth=3)
    assert len(found) == 20 and any("nested more than 3 levels" in e.message for e in errors)
    found, errors = inputs._walk(str(folder), inputs.ANSWER_SUFFIXES, max_entries=10)
    assert any("more than 10 entries" in e.message for e in errors)
    found, errors = inputs._glob(str(folder / "**" / "*.yaml"), max_entries=10)
    assert not found and any("more than 10 entries" in e.message for e in errors)


def test_grade_with_a_link_to_the_root_ends_at_once_and_names_the_link(tmp_path):
    folder = tmp_path / "class"
    (folder / "student1").mkdir(parents=True)
    (folder / "student1" / "a.yaml").write_text(FLAWED.read_text())
    (folder / "student1" / "evil").symlink_to("/")
    (folder / "student1" / "ext").symlink_to(_outside(tmp_path))
    result = subprocess.run([sys.executable, "-m", "examcheck", "grade", str(folder), "--format", "csv", "--jobs", "1"],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 2
    assert [line.split(",")[0] for line in result.stdout.splitlines()[1:]] == ["flawed-fred"]
    assert "evil: symlink to a folder (to /)" in result.stderr and "ext: symlink to a folder" in result.stderr
