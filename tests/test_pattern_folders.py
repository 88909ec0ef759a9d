"""N1/N2: a wildcard given to `grade` is read as the folder mode reads a folder.  A folder the pattern matches
is graded like a folder argument (its answer files, never through a symlinked folder found inside); every
symlink skipped (to a folder, a loop, dangling, to a file outside) is named with folder mode's message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examcheck.inputs import expand_input_names

ROOT = Path(__file__).resolve().parents[1]
FLAWED = ROOT / "examples" / "answers" / "flawed.yaml"
PERFECT = ROOT / "examples" / "answers" / "perfect.yaml"

# what one entry directly inside the class folder is (names given .yaml where folder mode looks at the suffix)
ENTRY = st.sampled_from(["file", "student_folder", "nested_folder", "link_folder", "link_root", "link_parent",
                         "loop", "dangling", "link_outside_file", "link_inside_file"])


def _make(base: Path, kinds: list[str]) -> Path:
    folder = base / "class"
    folder.mkdir(parents=True)
    outside = base / "elsewhere"
    outside.mkdir()
    (outside / "intruder.yaml").write_text(PERFECT.read_text())
    (folder / "anchor.yaml").write_text(FLAWED.read_text())
    for i, kind in enumerate(kinds):
        name = f"e{i}"
        if kind == "file":
            (folder / f"{name}.yaml").write_text(FLAWED.read_text())
        elif kind == "student_folder":
            (folder / name).mkdir()
            (folder / name / "answers.yaml").write_text(FLAWED.read_text())
            (folder / name / "inner").symlink_to(outside, target_is_directory=True)  # never followed, named
        elif kind == "nested_folder":
            (folder / name / "deep").mkdir(parents=True)
            (folder / name / "deep" / "q.yml").write_text(FLAWED.read_text())
            (folder / name / "loop.yaml").symlink_to("loop.yaml")
        elif kind == "link_folder":
            (folder / name).symlink_to(outside, target_is_directory=True)
        elif kind == "link_root":
            (folder / name).symlink_to("/", target_is_directory=True)
        elif kind == "link_parent":
            (folder / name).symlink_to("..", target_is_directory=True)
        elif kind == "loop":
            (folder / f"{name}a.yaml").symlink_to(f"{name}b.yaml")
            (folder / f"{name}b.yaml").symlink_to(f"{name}a.yaml")
        elif kind == "dangling":
            (folder / f"{name}.yaml").symlink_to("nowhere.yaml")
        elif kind == "link_outside_file":
            (folder / f"{name}.yaml").symlink_to(outside / "intruder.yaml")
        elif kind == "link_inside_file":
            (folder / f"{name}.yaml").symlink_to("anchor.yaml")
    return folder


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(ENTRY, min_size=1, max_size=6), pattern=st.sampled_from(["*", "[ae]*", "**"]))
def test_a_pattern_over_a_folder_reads_what_the_folder_itself_would(tmp_path_factory, kinds, pattern):
    folder = _make(tmp_path_factory.mktemp("p"), kinds)
    by_folder, folder_errors = expand_input_names([str(folder)])
    spelled = f"{folder}/{pattern}"
    by_pattern, pattern_errors = expand_input_names([spelled])

    def resolved(names):
        return sorted(str(Path(n).resolve()) for n in names)

    def named(errors):
        return sorted({(str(Path(e.source)), e.message) for e in errors})

    assert resolved(by_pattern) == resolved(by_folder)
    assert named(pattern_errors) == named(folder_errors)


def test_grade_over_per_student_folders_grades_each_and_names_skipped_links(tmp_path):
    subs = tmp_path / "subs"
    for sid in ("a0100001", "a0100002"):
        (subs / sid).mkdir(parents=True)
        (subs / sid / "exam.yaml").write_text(PERFECT.read_text().replace("perfect-pat", sid))
    (subs / "linked").symlink_to(subs / "a0100001", target_is_directory=True)
    (subs / "l1.yaml").symlink_to("l2.yaml")
    (subs / "l2.yaml").symlink_to("l1.yaml")
    run = subprocess.run([sys.executable, "-m", "examcheck", "grade", "subs/*", "--format", "csv"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    rows = run.stdout.splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["a0100001", "a0100002"], run.stdout
    assert "subs/linked: symlink to a folder" in run.stderr
    assert "subs/l1.yaml: cannot read file" in run.stderr and "subs/l2.yaml: cannot read file" in run.stderr
    assert run.returncode == 2, run.stderr


def test_the_folders_a_pattern_matches_share_one_listing_budget(tmp_path):
    from examcheck.inputs import _glob

    for sid in range(6):
        (tmp_path / f"s{sid}").mkdir()
        for q in range(10):
            (tmp_path / f"s{sid}" / f"q{q}.yaml").write_text("x")
    matched, errors = _glob(f"{tmp_path}/s*", max_entries=30)
    assert len(matched) <= 30 and any("more than" in e.message for e in errors)
    matched, errors = _glob(f"{tmp_path}/s*", max_entries=1000)
    assert len(matched) == 60 and not errors
