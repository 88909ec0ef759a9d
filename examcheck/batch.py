"""Grade a whole class: many files, parallel workers, a verdict cache, and
errors that skip one file without stopping the batch."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from examcheck.answertests import Verdict
from examcheck.limits import Limits
from examcheck.model import ProblemSet, Report
from examcheck.outputs import atomic_write
from examcheck.yamlio import InputError

# ----------------------------------------------------------------------------- verdict cache


def part_fingerprint(problem_set: ProblemSet, problem, part) -> str:
    """Changes whenever anything that decides the part's verdict changes."""
    spec = {"exam": problem_set.exam, "family": problem.family, "given": problem.given,
            "part": {k: v for k, v in vars(part).items()
                     if k not in ("line", "key_line", "prompt", "key", "rubric")}}
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:16]


def answer_key(fingerprint: str, written) -> str:
    normal = json.dumps(written, sort_keys=True, default=str)
    normal = " ".join(normal.split())
    return hashlib.sha256(f"{fingerprint}\0{normal}".encode()).hexdigest()


@dataclass
class VerdictCache:
    entries: dict[str, dict] = field(default_factory=dict)
    fresh: dict[str, dict] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0

    def get(self, key: str) -> Verdict | None:
        found = self.entries.get(key) or self.fresh.get(key)
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        return Verdict(**found)

    def put(self, key: str, verdict: Verdict) -> None:
        if verdict.note in ("too_complex", "checker_error"):
            return  # limits depend on the machine's load: never remember them
        self.fresh[key] = vars(verdict).copy()

    @classmethod
    def load(cls, folder: Path | None) -> VerdictCache:
        cache = cls()
        if folder is None:
            return cache
        path = Path(folder) / "verdicts.json"
        try:
            cache.entries = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            cache.entries = {}
        return cache

    def save(self, folder: Path | None) -> None:
        if folder is None or not self.fresh:
            return
        Path(folder).mkdir(parents=True, exist_ok=True)
        atomic_write(Path(folder) / "verdicts.json", json.dumps({**self.entries, **self.fresh}))


# ----------------------------------------------------------------------------- grading many files


@dataclass
class BatchResult:
    reports: list[Report]
    errors: list[InputError]
    cache_hits: int = 0
    cache_misses: int = 0

    @property
    def hit_rate(self) -> float:
        total = self.cache_hits + self.cache_misses
        return self.cache_hits / total if total else 0.0


_WORKER: dict = {}


def _init_worker(sets, limits, cache, resolver=None) -> None:
    from examcheck.reference import Resolver

    _WORKER.update(sets=sets, limits=limits, cache=cache, resolver=resolver or Resolver())


def warm_resolver(sets: list[ProblemSet], resolver=None):
    """Every part's reference, computed once here so that forked workers inherit them."""
    from examcheck.reference import ProblemError, Resolver

    resolver = resolver or Resolver()
    for problem_set in sets:
        for problem in problem_set.problems:
            for part in problem.parts:
                try:
                    resolver.reference(problem, part)
                except ProblemError:
                    pass  # reported on the part when it is graded
    return resolver


def _grade_one(path: Path):
    """(report or error, new cache entries, hits, misses) for one file, in a worker."""
    from examcheck.answers import load_sheet
    from examcheck.grading import grade_file
    from examcheck.schema import ValidationFailed

    cache: VerdictCache = _WORKER["cache"]
    before_hits, before_misses, before_fresh = cache.hits, cache.misses, set(cache.fresh)
    try:
        report = grade_file(load_sheet(path), _WORKER["sets"], _WORKER["resolver"], _WORKER["limits"], cache)
        outcome: Report | InputError = report
    except ValidationFailed as exc:
        outcome = exc.errors[0] if len(exc.errors) == 1 else InputError(str(path), None, "; ".join(
            e.message for e in exc.errors))
    except InputError as exc:
        outcome = exc
    except Exception as exc:  # noqa: BLE001 - one bad file never stops a batch
        outcome = InputError(str(path), None, f"could not be graded ({type(exc).__name__}: {exc})")
    new = {k: cache.fresh[k] for k in set(cache.fresh) - before_fresh}
    return outcome, new, cache.hits - before_hits, cache.misses - before_misses


def _isolated(path: Path, setup: dict):
    """Grade one file in a worker of its own, so a file that kills its worker is found and skipped."""
    try:
        with ProcessPoolExecutor(max_workers=1, **setup) as pool:
            return pool.submit(_grade_one, path).result()
    except BrokenProcessPool:
        return InputError(str(path), None, "crashed the grading worker; skipped"), {}, 0, 0


def grade_many(paths: list[Path], sets: list[ProblemSet], jobs: int = 1, limits: Limits = Limits(),
               cache: VerdictCache | None = None, progress: Callable[[int], None] | None = None,
               resolver=None) -> BatchResult:
    cache = cache or VerdictCache()
    outcomes: list = [None] * len(paths)
    hits = misses = 0

    def collect(index: int, result) -> None:
        nonlocal hits, misses
        outcome, new, h, m = result
        outcomes[index] = outcome
        cache.fresh.update(new)
        hits, misses = hits + h, misses + m
        if progress:
            progress(1)

    if jobs <= 1 or len(paths) <= 1 or not hasattr(os, "fork"):
        _init_worker(sets, limits, cache, resolver)
        for i, path in enumerate(paths):
            collect(i, _grade_one(path))
    else:
        resolver = warm_resolver(sets, resolver)
        context = get_context("fork")
        setup = {"mp_context": context, "initializer": _init_worker, "initargs": (sets, limits, cache, resolver)}
        done = 0
        try:
            with ProcessPoolExecutor(max_workers=jobs, **setup) as pool:
                chunk = max(1, min(32, len(paths) // (jobs * 8) or 1))
                for i, result in enumerate(pool.map(_grade_one, paths, chunksize=chunk)):
                    collect(i, result)
                    done = i + 1
        except BrokenProcessPool:
            for i in range(done, len(paths)):  # a worker died: isolate each remaining file
                collect(i, _isolated(paths[i], setup))
    reports = [o for o in outcomes if isinstance(o, Report)]
    errors = [o for o in outcomes if isinstance(o, InputError)]
    return BatchResult(reports, errors, hits, misses)
