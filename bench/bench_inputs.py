"""Reading inputs under limits: YAML answer files and de-duplicating file arguments.

    python bench/bench_inputs.py [--students 2000] [--repeat 3]

YAML: examcheck's loader (YAML 1.2 core scalars, an iterative composer over libyaml's events, depth,
size and node limits, regular files only) against the baseline of PyYAML's C loader
(`yaml.load(text, CSafeLoader)`, no limits, no line numbers) on the same synthetic class, in the same run.
Arguments: expand_inputs on N file names given twice (2N arguments), and on the folder holding them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_class import make_class  # noqa: E402

from examcheck.answers import load_sheet  # noqa: E402
from examcheck.inputs import expand_inputs  # noqa: E402


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        make_class(Path(folder), args.students)
        files = sorted(str(p) for p in Path(folder).rglob("*.yaml"))
        texts = [Path(f).read_text() for f in files]
        baseline = [timed(lambda: [yaml.load(t, Loader=yaml.CSafeLoader) for t in texts]) for _ in range(args.repeat)]
        ours = [timed(lambda: [load_sheet(f) for f in files]) for _ in range(args.repeat)]
        n = len(files)
        base, mine = statistics.median(baseline), statistics.median(ours)
        print(f"{n} answer files, {sum(map(len, texts)) / n:.0f} bytes each on average")
        print(f"baseline yaml.load(CSafeLoader), text in memory: {1e6 * base / n:7.1f} µs/file")
        print(f"examcheck load_sheet (read file + YAML + schema):  {1e6 * mine / n:7.1f} µs/file "
              f"({mine / base:.2f}× baseline)")
        doubled = files + files[::-1]
        dedup = statistics.median(timed(lambda: expand_inputs(doubled)) for _ in range(args.repeat))
        walk = statistics.median(timed(lambda: expand_inputs([folder])) for _ in range(args.repeat))
        print(f"expand_inputs, {len(doubled)} file arguments (each twice): {dedup:.3f} s "
              f"({1e6 * dedup / len(doubled):.1f} µs/argument)")
        print(f"expand_inputs, one folder of {n} files: {walk:.3f} s ({1e6 * walk / n:.1f} µs/file)")


if __name__ == "__main__":
    main()
