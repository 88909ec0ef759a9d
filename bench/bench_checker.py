"""examcheck's answer checker against HuggingFace math-verify, side by side on bench/corpus.yaml and
bench/corpus-blind.yaml (the blind corpus, written without reading the code).

    pip install math-verify      # bench-only, optional
    python bench/bench_checker.py [--repeat 3]

Both tools judge every (reference, answer) pair; for each we report the share of correct verdicts,
median and p95 time per pair (warm: after one untimed pass) and pairs per second, in the same run.
examcheck is timed through grading's own bounded check (the sandbox), exactly as `grade` runs it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import Pair, load_pairs  # noqa: E402

from examcheck.limits import Limits  # noqa: E402
from examcheck.sandbox import Session  # noqa: E402
from examcheck.tasks import check_task  # noqa: E402

LIMIT = Limits(seconds=2.0)
PAIR_GOAL = 0.2  # seconds: no single pair may take longer
SESSION = Session(1, LIMIT.memory_mb)  # the engine's sandbox: one worker, references sent to it once


def examcheck_judge(pair: Pair) -> bool:
    """Exactly as `grade` checks an answer: in a sandbox worker, under the time and memory limits."""
    if pair.ref is None:  # the reference itself is unreadable: examcheck cannot judge the pair
        return not pair.truth
    key = ("bench", id(pair.part), id(pair.ref))
    if key not in SESSION.table:
        SESSION.define(key, (pair.part, pair.ref))
    outcome = SESSION.run(check_task, key, pair.answer, seconds=LIMIT.seconds, needs=(key,))
    return outcome.ok and outcome.value.correct


def _dollars(text: str) -> str:
    return text if text.startswith("$") else f"${text}$"


def mathverify_judge(pair: Pair) -> bool:
    from math_verify import parse, verify

    gold = parse(_dollars(pair.gold))
    answer = parse(_dollars(pair.answer) if "\\" in pair.answer else pair.answer)
    return bool(verify(gold, answer))


def measure(judge, pairs: list[Pair], repeat: int) -> dict:
    for pair in pairs:  # warm-up, untimed
        judge(pair)
    times, verdicts = [], []
    start = time.perf_counter()
    for _ in range(repeat):
        verdicts = []
        for pair in pairs:
            t0 = time.perf_counter()
            verdicts.append(judge(pair))
            times.append(time.perf_counter() - t0)
    total = time.perf_counter() - start
    right = sum(v == p.truth for v, p in zip(verdicts, pairs))
    wrong = [p for v, p in zip(verdicts, pairs) if v != p.truth]
    return {
        "accuracy": right / len(pairs), "right": right, "median_ms": 1000 * statistics.median(times),
        "p95_ms": 1000 * sorted(times)[int(0.95 * (len(times) - 1))], "max_ms": 1000 * max(times),
        "pairs_per_s": len(pairs) * repeat / total, "wrong": wrong,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--show-wrong", action="store_true")
    args = parser.parse_args()
    pairs = load_pairs()
    print(f"{len(pairs)} pairs, {sum(not p.truth for p in pairs)} of them wrong answers")
    results = {"examcheck": measure(examcheck_judge, pairs, args.repeat)}
    try:
        import math_verify  # noqa: F401

        results["math-verify"] = measure(mathverify_judge, pairs, args.repeat)
    except ImportError:
        print("math-verify is not installed (pip install math-verify); showing examcheck only")
    print(f"{'checker':<12} {'correct':>14} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'pairs/s':>9}")
    for name, r in results.items():
        print(f"{name:<12} {r['right']:>4}/{len(pairs)} {100 * r['accuracy']:>6.1f}% {r['median_ms']:>10.3f} "
              f"{r['p95_ms']:>8.3f} {r['max_ms']:>8.1f} {r['pairs_per_s']:>9.0f}")
    if "math-verify" in results:
        speedup = results["examcheck"]["pairs_per_s"] / results["math-verify"]["pairs_per_s"]
        print(f"examcheck / math-verify throughput: {speedup:.1f}x (goal >= 10x)")
    print(f"slowest examcheck pair: {results['examcheck']['max_ms']:.1f} ms (goal <= {1000 * PAIR_GOAL:.0f} ms)")
    by_topic: dict[str, list] = {}
    for name, r in results.items():
        for pair in r["wrong"]:
            by_topic.setdefault(name, []).append(pair)
    for name, wrong in by_topic.items():
        topics = {}
        for pair in wrong:
            topics[pair.topic] = topics.get(pair.topic, 0) + 1
        print(f"{name} misjudged by topic: {topics}")
        if args.show_wrong:
            for pair in wrong:
                print(f"   {pair.topic}: ref {pair.reference!r} answer {pair.answer!r} truth {pair.truth}")
    over = results["examcheck"]["max_ms"] > 1000 * PAIR_GOAL
    return 1 if results["examcheck"]["accuracy"] < 1 or over else 0


if __name__ == "__main__":
    sys.exit(main())
