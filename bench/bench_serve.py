"""Load test of `examcheck serve` on loopback (a benchmark, not a unit test).

    pip install ".[web]"
    python bench/bench_serve.py [--students 50] [--validations 20] [--workers 2]

Starts `examcheck serve seed000-quiz` as its own process on 127.0.0.1, then 50
simulated students each send 20 "as read" validations (POST /api/read) at once,
about one in five of them hostile (deep nesting, huge powers, 4000-character
inputs, towers of exponents, bad escapes), plus one whole-sheet check each,
while a probe sends a one-symbol reading every 0.25 s.  Then a burst (the blind test's F7):
40 long readings at once, and one-symbol readings sent while they queue.
Reports p50/p95/max latency for benign and hostile requests, requests per second,
and the number of failed requests (any non-200 reply or connection error), which
must be 0.  Baseline in the same run: one student alone, the same benign requests,
so the ratio p50(load)/p50(alone) shows what sharing the server costs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import httpx

BENIGN = [
    ("q1", "i", "x_i sigma(z)(1 - sigma(z))"), ("q1", "i", "\\frac{e^{-z}}{(1+e^{-z})^2} x_i"),
    ("q1", "i", "1-sigma(z)sigma(z)"), ("q1", "ii", "[sigma(z)(1-sigma(z)), x_1 sigma(z)(1-sigma(z)), x_2, x_3]"),
    ("q2", "i", "99.9%"), ("q2", "ii", "0.999"), ("q3", "a", "7,600"), ("q3", "d", "254 x 254 x 100"),
    ("q4", "a", "yes"), ("q4", "c", "0.173"), ("q1", "i", "sigma(z)(1-"),
]
HOSTILE = [
    ("q1", "i", "(" * 2000 + "z" + ")" * 1999),
    ("q1", "i", "9^9^9^9^9^9^9"),
    ("q1", "i", "z^" * 1300 + "z"),
    ("q1", "i", "x_i" * 1333),
    ("q3", "a", "9" * 3999),
    ("q2", "i", "1e999999999"),
    ("q1", "ii", "[" * 1000 + "]" * 1000),
    ("q1", "i", "\\frac{" * 600),
    ("q1", "i", "exp(exp(exp(exp(exp(exp(z))))))^(10^10)"),
    ("q4", "c", "10^(10^(10^10))"),
]
BENIGN_SHEET = {"q1": {"i": "x_i sigma(z)(1-sigma(z))"}, "q3": {"a": "7600", "d": "254x254x100"}, "q4": {"c": "0.173"}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(workers: int) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    cmd = [sys.executable, "-m", "examcheck", "serve", "seed000-quiz", "--port", str(port)]
    if workers:
        cmd += ["--workers", str(workers)]
    log = tempfile.NamedTemporaryFile("w+", prefix="bench-serve-", suffix=".log", delete=False)
    process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    process.log_path = log.name
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=2).text == "ok":
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


async def student(client: httpx.AsyncClient, rng: random.Random, validations: int, hostile_share: float,
                  results: list, failures: list) -> None:
    for seq in range(validations):
        hostile = rng.random() < hostile_share
        problem, part, text = rng.choice(HOSTILE if hostile else BENIGN)
        start = time.perf_counter()
        try:
            reply = await client.post("/api/read", json={"problem": problem, "part": part, "text": text, "seq": seq})
            ok = reply.status_code == 200 and reply.json().get("seq") == seq
        except httpx.HTTPError as exc:
            ok, reply = False, exc
        results.append(("hostile" if hostile else "benign", time.perf_counter() - start))
        if not ok:
            failures.append(f"{problem}.{part} ({len(text)} chars): {reply!r}")
        await asyncio.sleep(rng.uniform(0, 0.05))  # a student types between pauses
    start = time.perf_counter()
    try:
        reply = await client.post("/api/check", json={"answers": BENIGN_SHEET})
        if reply.status_code != 200:
            failures.append(f"check: {reply.status_code}")
    except httpx.HTTPError as exc:
        failures.append(f"check: {exc}")
    results.append(("check", time.perf_counter() - start))


async def probe(client: httpx.AsyncClient, done: asyncio.Event, results: list, failures: list) -> None:
    """A one-symbol reading every 0.25 s while the load runs: what a light request waits (issue 14, F7)."""
    seq = 0
    while not done.is_set():
        start = time.perf_counter()
        try:
            reply = await client.post("/api/read", json={"problem": "q1", "part": "i", "text": "z", "seq": seq})
            if reply.status_code != 200:
                failures.append(f"probe: {reply.status_code}")
        except httpx.HTTPError as exc:
            failures.append(f"probe: {exc}")
        results.append(("one-symbol", time.perf_counter() - start))
        seq += 1
        await asyncio.sleep(0.25)


async def run(base: str, students: int, validations: int, hostile_share: float, seed: int, with_probe: bool = False):
    results: list = []
    failures: list = []
    limits = httpx.Limits(max_connections=students + 1, max_keepalive_connections=students + 1)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        start = time.perf_counter()
        done = asyncio.Event()
        probing = asyncio.create_task(probe(client, done, results, failures)) if with_probe else None
        await asyncio.gather(*(student(client, random.Random(seed + i), validations, hostile_share, results, failures)
                               for i in range(students)))
        wall = time.perf_counter() - start
        done.set()
        if probing is not None:
            await probing
    return results, failures, wall


HEAVY_READING = ("q1", "i", " + ".join(["x_i sigma(z)(1 - sigma(z))"] * 130))  # benign, about 3,800 characters


async def burst(base: str, heavy: int) -> tuple[list[float], list[float], list]:
    """The blind test's F7: `heavy` long readings at once, then one-symbol readings while they queue."""
    problem, part, text = HEAVY_READING
    failures: list = []
    limits = httpx.Limits(max_connections=heavy + 2, max_keepalive_connections=heavy + 2)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        async def timed(body):
            start = time.perf_counter()
            reply = await client.post("/api/read", json=body)
            if reply.status_code != 200:
                failures.append(f"burst: {reply.status_code}")
            return time.perf_counter() - start

        tasks = [asyncio.create_task(timed({"problem": problem, "part": part, "text": text, "seq": i}))
                 for i in range(heavy)]
        await asyncio.sleep(0.1)
        light = []
        for seq in range(5):
            light.append(await timed({"problem": "q1", "part": "i", "text": "z", "seq": seq}))
            await asyncio.sleep(0.05)
        return light, list(await asyncio.gather(*tasks)), failures


def _quantiles(times: list[float]) -> str:
    if not times:
        return "n=0"
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (f"n={len(times):5d}  p50 {1000 * statistics.median(times):7.1f} ms  p95 {1000 * p95:7.1f} ms  "
            f"max {1000 * ordered[-1]:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--validations", type=int, default=20)
    parser.add_argument("--hostile", type=float, default=0.2, help="share of hostile inputs")
    parser.add_argument("--workers", type=int, default=0, help="--workers of the server (default: its own)")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--burst", type=int, default=40, help="long readings sent at once in the burst phase")
    args = parser.parse_args()
    process, base = start_server(args.workers)
    try:
        asyncio.run(run(base, 1, 5, 0.0, args.seed))  # warm-up, untimed
        alone, _, _ = asyncio.run(run(base, 1, args.validations, 0.0, args.seed))
        load_before = os.getloadavg()[0]
        results, failures, wall = asyncio.run(run(base, args.students, args.validations, args.hostile, args.seed, True))
        light, heavy, burst_failures = asyncio.run(burst(base, args.burst))
        failures += burst_failures
    finally:
        process.terminate()
        process.wait(timeout=10)
    baseline = [t for kind, t in alone if kind == "benign"]
    print(f"examcheck serve on loopback: {args.students} students x {args.validations} validations "
          f"(~{args.hostile:.0%} hostile) + 1 sheet check each, in {wall:.1f} s "
          f"({len(results) / wall:.0f} requests/s); load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after, {os.cpu_count()} cores")
    print(f"  baseline, one student alone:  {_quantiles(baseline)}")
    for kind in ("benign", "hostile", "check", "one-symbol"):
        print(f"  {kind:10s} under load:      {_quantiles([t for k, t in results if k == kind])}")
    print(f"  burst of {args.burst} long readings ({len(HEAVY_READING[2])} chars) at once:")
    print(f"    the long readings:           {_quantiles(heavy)}")
    print(f"    one-symbol readings meanwhile: {_quantiles(light)}")
    benign = [t for k, t in results if k == "benign"]
    if baseline and benign:
        print(f"  benign p50 under load / alone: {statistics.median(benign) / statistics.median(baseline):.1f}x")
    print(f"  failed requests: {len(failures)} of {len(results)}")
    for failure in failures[:10]:
        print("   ", failure)
    with open(process.log_path, encoding="utf-8", errors="replace") as log:
        server_log = log.read()
    os.unlink(process.log_path)
    if failures and server_log.strip():
        print("  the server's console (last 40 lines):")
        print("\n".join("    " + line for line in server_log.splitlines()[-40:]))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
