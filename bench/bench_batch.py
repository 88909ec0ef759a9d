"""Class-scale grading benchmark (1,000 students x every bundled exam in at most 20 s on 2 cores).

    python bench/bench_batch.py [--students 1000]

Generates a synthetic class (bench/make_class.py), then grades every file with the CLI's batch
engine in a fresh process per configuration: --jobs 1, --jobs 2, and --jobs 2 again with a warm
--cache. Reports files/s, parts/s, the verdict-cache hit rate and the peak RSS of the whole process
tree, and, to show memory does not grow with N, the peak RSS at a fifth of the class as well.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_class import make_class  # noqa: E402

RUNNER = r"""
import json, resource, sys, time
from pathlib import Path
from examcheck.batch import VerdictCache, grade_many
from examcheck.inputs import expand_inputs
from examcheck.loader import load_sets
folder, jobs, cache_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3] or None
start = time.perf_counter()
sets = load_sets([Path(sys.argv[4])])
paths, _ = expand_inputs([folder])
cache = VerdictCache.load(cache_dir)
result = grade_many(paths, sets, jobs=jobs, cache=cache)
cache.save(cache_dir)
elapsed = time.perf_counter() - start
parts = sum(len(p.parts) for r in result.reports for p in r.problems)
rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"files": len(result.reports), "errors": len(result.errors), "parts": parts, "seconds": elapsed,
                  "hit_rate": result.hit_rate, "peak_rss_mb": rss / 1024}))
"""


def run(folder: Path, jobs: int, cache: str = "") -> dict:
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", RUNNER, str(folder), str(jobs), cache, str(root / "problems")],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        full, small = Path(tmp) / "class", Path(tmp) / "small"
        files = make_class(full, args.students)
        make_class(small, max(1, args.students // 5), seed=1)
        print(f"{len(files)} answer files ({args.students} students x {len(files) // args.students} exams)")
        baseline = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import examcheck.grading"], check=True)
        startup = time.perf_counter() - baseline
        rows = [("--jobs 1", run(full, 1)), ("--jobs 2", run(full, 2))]
        cache_dir = str(Path(tmp) / "cache")
        run(full, 2, cache_dir)
        rows.append(("--jobs 2, warm --cache", run(full, 2, cache_dir)))
        rows.append((f"--jobs 2, {args.students // 5} students", run(small, 2)))
        print(f"baseline: importing examcheck takes {startup:.2f} s in a fresh process")
        print(f"{'run':<26} {'files':>6} {'seconds':>8} {'files/s':>8} {'parts/s':>9} {'cache hits':>10} {'peak RSS':>9}")
        for name, r in rows:
            print(f"{name:<26} {r['files']:>6} {r['seconds']:>8.2f} {r['files'] / r['seconds']:>8.0f} "
                  f"{r['parts'] / r['seconds']:>9.0f} {100 * r['hit_rate']:>9.1f}% {r['peak_rss_mb']:>7.0f}MB")
        goal = rows[1][1]["seconds"]
        print(f"goal: {args.students} students x every exam in <= 20 s with --jobs 2: "
              f"{'met' if goal <= 20 else 'MISSED'} ({goal:.1f} s)")
    return 0 if goal <= 20 else 1


if __name__ == "__main__":
    sys.exit(main())
