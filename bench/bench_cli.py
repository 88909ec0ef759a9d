"""Cold-start benchmark of the CLI (issue: --help <= 0.15 s, grading the flawed example <= 1.0 s).

Each command is run N times as a fresh process. Times are reported as medians and as ratios
against a baseline measured in the same session: a bare `python -c pass` start-up, so the
numbers can be compared across machines.

    python bench/bench_cli.py [--runs 15]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wall(cmd: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    exe = shutil.which("examcheck") or f"{sys.executable} -m examcheck"
    cli = exe.split()
    cases = {
        "baseline: python -c pass": [sys.executable, "-c", "pass"],
        "examcheck --help": [*cli, "--help"],
        "examcheck grade examples/answers/flawed.yaml": [*cli, "grade", "examples/answers/flawed.yaml"],
        "examcheck check problems/": [*cli, "check", "problems/"],
    }
    goals = {"examcheck --help": 0.15, "examcheck grade examples/answers/flawed.yaml": 1.0}
    results = {name: wall(cmd, args.runs) for name, cmd in cases.items()}
    base = statistics.median(results["baseline: python -c pass"])
    print(f"{'command':<48} {'median s':>9} {'p90 s':>7} {'x baseline':>10}  goal")
    failed = False
    for name, times in results.items():
        median = statistics.median(times)
        p90 = sorted(times)[int(0.9 * (len(times) - 1))]
        goal = goals.get(name)
        verdict = "" if goal is None else (f"<= {goal} s " + ("ok" if median <= goal else "MISSED"))
        failed |= goal is not None and median > goal
        print(f"{name:<48} {median:>9.3f} {p90:>7.3f} {median / base:>10.1f}  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
