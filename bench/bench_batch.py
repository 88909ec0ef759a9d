"""Class-scale grading benchmark: files/s and peak memory of `examcheck grade` on a synthetic class,
local --jobs 2 and the Dask backend (a 2-worker LocalCluster) side by side, at several class sizes.

    python bench/bench_batch.py --students 2000 10000 20000 [--backends local dask] [--keep DIR]

Each size N writes N answer files for every bundled exam (bench/make_class.py; 20,000 students
= 100,000 files), then grades the folder through the real CLI in a fresh process
(`examcheck grade DIR --format jsonl -o OUT --jobs 2`), which streams every report to the
output.  Reported: files/s, and the peak RSS of the whole process tree (the CLI, its sandbox
workers and, for Dask, the cluster), sampled from /proc every 0.1 s, with the CLI's own peak beside
it.  The tree's RSS is a sum: pages the workers share with the CLI they were forked from count once
per process, so a table the CLI holds when it forks them counts three times with --jobs 2.  Then
the growth of the peak per file between the smallest and the largest class: flat when under
FLAT_BYTES_PER_FILE (10 MB per 100,000 files, about the noise of the measure).
The goal (issue 11): local >= 500 files/s, peak under 300 MB and flat in N.  A baseline in the
same run, `python -c "import examcheck.engine"`, shows the machine's speed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_class import make_class  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
FLAT_BYTES_PER_FILE = 100


def _tree_rss(root: int) -> tuple[int, int]:
    """(bytes resident in root and all its descendants now, in root alone)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * PAGE
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total, rss.get(root, 0)


def measure(cmd: list[str]) -> tuple[float, int, int, int, str]:
    """(seconds, exit code, peak tree RSS in bytes, peak RSS of cmd's own process, stderr) of cmd."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = [0, 0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            tree, own = _tree_rss(proc.pid)
            peak[0], peak[1] = max(peak[0], tree), max(peak[1], own)
            stop.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = proc.communicate()
    elapsed = time.perf_counter() - start
    stop.set()
    sampler.join()
    return elapsed, proc.returncode, peak[0], peak[1], stderr


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, nargs="+", default=[1000])
    parser.add_argument("--backends", nargs="+", default=["local", "dask"], choices=["local", "dask"])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="Keep the generated classes here (reused when present).")
    args = parser.parse_args()
    exe = [sys.executable, "-m", "examcheck"]
    base_start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import examcheck.engine"], check=True, cwd=ROOT)
    baseline = time.perf_counter() - base_start
    rows = []
    work = Path(tempfile.mkdtemp(prefix="examcheck-bench-"))
    try:
        for students in args.students:
            folder = (args.keep or work) / f"class-{students}"
            if not folder.is_dir():
                t0 = time.perf_counter()
                files = len(make_class(folder, students))
                print(f"wrote {files} answer files for {students} students in {time.perf_counter() - t0:.0f} s", flush=True)
            files = sum(1 for _ in folder.iterdir())
            for backend in args.backends:
                out = work / f"out-{students}-{backend}.jsonl"
                cmd = [*exe, "grade", str(folder), "--format", "jsonl", "-o", str(out), "--jobs", str(args.jobs),
                       "--backend", backend]
                seconds, code, peak, own, stderr = measure(cmd)
                graded = sum(1 for _ in out.open()) if out.exists() else 0
                rows.append((students, files, backend, graded, seconds, peak, code, own))
                print(f"  {backend:<6} {files:>7} files: {seconds:7.1f} s, {files / seconds:6.0f} files/s, "
                      f"peak {peak / 2**20:5.0f} MB (the CLI alone {own / 2**20:.0f} MB), exit {code}", flush=True)
                if code not in (0, 2):
                    print(stderr[-2000:], file=sys.stderr)
                out.unlink(missing_ok=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nbaseline: python -c 'import examcheck.engine' takes {baseline:.2f} s")
    print(f"{'students':>8} {'files':>7} {'backend':<7} {'reports':>7} {'seconds':>8} {'files/s':>8} {'peak RSS':>9} "
          f"{'CLI alone':>9}")
    for students, files, backend, graded, seconds, peak, _, own in rows:
        print(f"{students:>8} {files:>7} {backend:<7} {graded:>7} {seconds:>8.1f} {files / seconds:>8.0f} "
              f"{peak / 2**20:>7.0f}MB {own / 2**20:>7.0f}MB")
    flat = True
    for backend in args.backends:
        some = sorted((r for r in rows if r[2] == backend), key=lambda r: r[1])
        if len(some) < 2 or some[-1][1] == some[0][1]:
            continue
        growth = (some[-1][5] - some[0][5]) / (some[-1][1] - some[0][1])
        own = (some[-1][7] - some[0][7]) / (some[-1][1] - some[0][1])
        verdict = "flat" if growth < FLAT_BYTES_PER_FILE else "NOT flat"
        flat = flat and (growth < FLAT_BYTES_PER_FILE or backend != "local")
        print(f"{backend}: peak grows {growth:.0f} bytes per file from {some[0][1]} to {some[-1][1]} files "
              f"(the CLI alone {own:.0f}): {verdict} (under {FLAT_BYTES_PER_FILE} bytes per file is flat)")
    local = [r for r in rows if r[2] == "local"]
    met = flat and all(r[1] / r[4] >= 500 and r[5] < 300 * 2**20 for r in local)
    print(f"goal (local --jobs {args.jobs}: >= 500 files/s, peak < 300 MB and flat in N): {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
