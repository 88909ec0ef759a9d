"""Variants: what per-student versions cost, as ratios against a baseline in the same run.

    python bench/bench_variants.py [--students 30] [--count 10]

- deploy: seconds per vetted variant (`examcheck variants deploy --count N` on examples/variants/cnn-chain.yaml,
  copied to a temporary folder);
- grade: a class of N answer files (each student's own keys) on the deployed variant exam, against the same
  class on a fixed copy of the exam (variant 1's numbers, no params): the ratio is the cost of variants at
  grading (more references to compute, a lock to verify)."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "variants" / "cnn-chain.yaml"


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "examcheck", *args], check=True, capture_output=True)
    return time.perf_counter() - start


def fixed_copy(template: Path, lock_data: dict, out: Path) -> None:
    from examcheck.variants import substitute

    data = yaml.safe_load(template.read_text())
    for problem in data["problems"]:
        if "params" in problem:
            params = lock_data["problems"][problem["id"]][0]["params"]
            for key in ("params", "where", "tries"):
                problem.pop(key, None)
            problem.update(substitute(problem, params))
    out.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def answer_files(folder: Path, exam: str, students: list[str], keys_of) -> None:
    folder.mkdir()
    for student in students:
        answers = {pid: dict(parts) for pid, parts in keys_of(student).items()}
        (folder / f"{student}.yaml").write_text(yaml.safe_dump({"student": student, "exam": exam, "answers": answers},
                                                               allow_unicode=True))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--count", type=int, default=10)
    options = parser.parse_args()
    from examcheck.loader import load_set
    from examcheck.variants import assignment

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        exam = folder / "cnn-chain.yaml"
        shutil.copy(EXAMPLE, exam)
        deploy_seconds = timed(["variants", "deploy", str(exam), "--count", str(options.count)])
        lock_data = yaml.safe_load((folder / "cnn-chain.variants.yaml").read_text())
        fixed = folder / "fixed" / "cnn-chain.yaml"
        fixed.parent.mkdir()
        fixed_copy(exam, lock_data, fixed)
        problem_set = load_set(exam)
        students = [f"s{i:03d}" for i in range(options.students)]

        def own_keys(student):
            chosen = assignment(problem_set, student)
            return {pid: lock_data["problems"][pid][n - 1]["keys"] for pid, n in chosen.items()}

        def fixed_keys(_student):
            return {pid: pool[0]["keys"] for pid, pool in lock_data["problems"].items()}

        answer_files(folder / "variant", "cnn-chain", students, own_keys)
        answer_files(folder / "fixed-answers", "cnn-chain", students, fixed_keys)
        common = ["--format", "json", "--jobs", "2", "-o"]
        variant_seconds = timed(["grade", str(folder / "variant"), "--problems", str(exam), *common, str(folder / "v.json")])
        fixed_seconds = timed(["grade", str(folder / "fixed-answers"), "--problems", str(fixed), *common, str(folder / "f.json")])
        import json

        for out in ("v.json", "f.json"):  # every student answered their own keys: full marks, or the bench is void
            scores = [r["score"] for r in json.loads((folder / out).read_text())]
            assert len(scores) == options.students and all(s == 8 for s in scores), (out, scores)
    variants = 2 * options.count
    print(f"deploy: {deploy_seconds:.2f} s for {variants} variants ({deploy_seconds / variants:.3f} s per variant)")
    print(f"grade {options.students} students: variant exam {variant_seconds:.2f} s, fixed exam {fixed_seconds:.2f} s, "
          f"ratio {variant_seconds / fixed_seconds:.2f}")


if __name__ == "__main__":
    main()
