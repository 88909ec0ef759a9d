"""Follow-through overhead: grading a synthetic class on examples/follow-through/chain.yaml, against the same
exam with its follow_through declarations removed (the baseline, in the same run, on the same files).

    python bench/bench_followthrough.py [--students 300] [--repeat 3]

Each student's answers mix right answers, declared mistakes carried forward and random slips, so that most
later parts are re-marked.  Reported: seconds for each (best of --repeat), the ratio, and how many parts got
follow-through.  Runs the real CLI in a fresh process: `examcheck grade DIR --format jsonl -o OUT --jobs 2`.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAM = ROOT / "examples" / "follow-through" / "chain.yaml"


def make_answers(folder: Path, students: int, seed: int = 7) -> None:
    rand = random.Random(seed)
    for i in range(students):
        h, c = rand.choice([55, 54, 56, 27]), rand.choice([96, 3, 48])
        g = rand.choice([[2, 12], [2, 6], [rand.randint(-9, 9), rand.randint(-9, 9)]])
        answers = {"q1": {"a": f"{h}x{h}x{c}", "b": rand.choice([(25 * c + 1) * 256, 614656, rand.randint(1, 10**6)]),
                          "c": rand.choice([f"{h - 4}x{h - 4}x256", "51x51x256"])},
                   "q2": {"a": json.dumps(g), "b": f"[{1 - g[0] / 10:.6f}, {2 - g[1] / 10:.6f}]"}}
        text = json.dumps({"student": f"s{i:05d}", "exam": "follow-through-demo", "answers": answers})
        (folder / f"s{i:05d}.yaml").write_text(text, encoding="utf-8")


def run(folder: Path, exam: Path, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "examcheck", "grade", str(folder), "--problems", str(exam), "--jobs", "2",
                    "--format", "jsonl", "-o", str(out)], check=False, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder = tmp / "class"
        folder.mkdir()
        make_answers(folder, args.students)
        plain = tmp / "plain.yaml"
        plain.write_text("".join(line for line in EXAM.read_text().splitlines(True) if "follow_through:" not in line))
        times = {"without follow-through": [], "with follow-through": []}
        for _ in range(args.repeat):  # interleaved, so that the machine's load falls on both alike
            times["without follow-through"].append(run(folder, plain, tmp / "plain.jsonl"))
            times["with follow-through"].append(run(folder, EXAM, tmp / "ft.jsonl"))
        best = {name: min(values) for name, values in times.items()}
        rows = [json.loads(line) for line in (tmp / "ft.jsonl").read_text().splitlines()]
        counts = Counter(q["follow_through"]["status"] for r in rows for p in r["problems"] for q in p["parts"]
                         if q.get("follow_through"))
    for name, seconds in best.items():
        print(f"{name:>24}: {seconds:6.2f} s for {args.students} files")
    print(f"{'ratio':>24}: {best['with follow-through'] / best['without follow-through']:.2f}")
    print(f"{'follow-through records':>24}: {dict(counts)}")


if __name__ == "__main__":
    main()
