"""Grade many answer files through one sandbox session: read each file in a worker, plan every
part's reference once, check each distinct (part, answer) pair of the whole batch once (the
verdict cache first), and assemble the reports.  Nothing here imports the engine or the CLI."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from examcheck import bugs, followthrough
from examcheck.answertests import Verdict
from examcheck.bugs import InternalError
from examcheck.cache import VerdictCache, answer_key, part_fingerprint
from examcheck.grading import (
    PartPlan,
    ScannedSheet,
    build_report,
    internal_error_verdict,
    limit_verdict,
    needs_check,
    part_seconds,
)
from examcheck.limits import Limits, describe_limit
from examcheck.model import ProblemSet, Report
from examcheck.sandbox import Outcome, Pickled, Session, Task
from examcheck.tasks import check_task, reference_key, reference_task, references_task, scan_task
from examcheck.yamlio import InputError

SAVE_SECONDS = 0.5  # a resumable run commits the verdicts it found at least this often
MEMO_SIZE = 10_000  # distinct verdicts kept in memory (beyond this, the cache, at least this run's, has them)


@dataclass
class BatchResult:
    reports: list[Report] = field(default_factory=list)  # or, from a store, a re-iterable in student order
    errors: list[InputError] = field(default_factory=list)
    bugs: list[InternalError] = field(default_factory=list)
    cache_hits: int = 0
    cache_misses: int = 0
    answers: int = 0          # answers that needed an answer test
    checks: int = 0           # answer tests actually run (after dedup and the cache)

    def any_below(self, percent: float) -> bool:
        """Whether any report scores below this percent of its maximum (one pass over the reports)."""
        return any((100 * r.score / r.max_score if r.max_score > 0 else 0.0) < percent for r in self.reports)

    def statistics(self) -> dict:
        """exam -> ClassStats over the reports."""
        from examcheck.stats import by_exam

        return by_exam(self.reports)

    @property
    def hit_rate(self) -> float:
        """Share of answers that needed no check of their own (an identical one was checked, or cached)."""
        return 1 - self.checks / self.answers if self.answers else 0.0


class Pipeline:
    """One run's grading over a session; its references and verdicts live as long as it does."""

    def __init__(self, sets: list[ProblemSet], session: Session, limits: Limits, cache: VerdictCache,
                 result: BatchResult | None = None, checker=None, references=None):
        """checker: where answer checks run (anything with run_many, e.g. the Dask backend); default the session.
        references: a cache of computed references kept between runs (examcheck.refcache), or None."""
        self.sets, self.session, self.limits, self.cache = sets, session, limits, cache
        self.checker = checker
        self.references = references
        self.plans: dict[tuple, PartPlan] = {}
        self._where = {id(part): reference_key(si, pi, qi) for si, problem_set in enumerate(sets)
                       for pi, problem in enumerate(problem_set.problems) for qi, part in enumerate(problem.parts)}
        self.memo: OrderedDict[str, Verdict] = OrderedDict()  # the latest verdicts; older ones are in the cache
        self.memo_size = MEMO_SIZE
        self.saved = None  # a resume state (examcheck.stream.ReportStore): verdicts kept as they are found
        self.result = result or BatchResult()

    # references -------------------------------------------------------------------------------

    def plan_sets(self, indices: Iterable[int]) -> None:
        """Every part's reference in these sets, computed in the workers (one task per problem)."""
        self.plan_problems((si, pi) for si in sorted(set(indices)) for pi in range(len(self.sets[si].problems)))

    def plan_problems(self, pairs: Iterable[tuple[int, int]]) -> None:
        """Every part's reference of these problems (set index, problem index), each computed once per run."""
        tasks = []
        for si, pi in pairs:
            problem_set = self.sets[si]
            problem = problem_set.problems[pi]
            todo = []
            for qi, part in enumerate(problem.parts):
                key = reference_key(si, pi, qi)
                if key not in self.plans:
                    self.plans[key] = PartPlan(fingerprint=part_fingerprint(problem_set, problem, part))
                    todo.append(qi)
            if todo and not self._kept(si, pi, todo):
                tag = (si, pi, tuple(todo))
                tasks.append(Task(references_task, tag, self.limits.family_seconds, tag=tag))
        alone = []
        for task, outcome in self.session.run_many(tasks):
            si, pi, todo = task.tag
            if outcome.ok:
                for qi, found in zip(todo, outcome.value):
                    self._planned(reference_key(si, pi, qi), Outcome("ok", found))
                self._keep(si, pi, todo, outcome.value)
            elif len(todo) == 1:
                self._planned(reference_key(si, pi, todo[0]), outcome)
            else:  # find the part at fault: each on its own
                alone += [Task(reference_task, (si, pi, qi), self.limits.family_seconds, tag=reference_key(si, pi, qi))
                          for qi in todo]
        for task, outcome in self.session.run_many(alone):
            self._planned(task.tag, outcome)

    def _kept(self, si: int, pi: int, todo: list[int]) -> bool:
        """Plan the problem from the reference cache, if it holds every part of it (authenticated)."""
        problem = self.sets[si].problems[pi]
        if self.references is None or len(todo) != len(problem.parts):
            return False
        from examcheck.refcache import problem_key

        found = self.references.get(problem_key(self.sets[si], problem), len(problem.parts))
        if found is None:
            return False
        for qi, (expected, entry) in zip(todo, found):
            self._planned(reference_key(si, pi, qi), Outcome("ok", (PartPlan(expected=expected), Pickled(entry))))
        return True

    def _keep(self, si: int, pi: int, todo: tuple, found: list) -> None:
        """Keep a problem's references in the reference cache when every part of it was computed."""
        problem = self.sets[si].problems[pi]
        if self.references is None or len(todo) != len(problem.parts):
            return
        if any(plan.error is not None or not isinstance(entry, Pickled) for plan, entry in found):
            return
        from examcheck.refcache import problem_key

        self.references.put(problem_key(self.sets[si], problem), [(plan.expected, entry.data) for plan, entry in found])

    def _planned(self, key: tuple, outcome: Outcome) -> None:
        plan = self.plans[key]
        if outcome.ok:
            found, entry = outcome.value
            plan.expected, plan.error = found.expected, found.error
            if entry is not None:
                self.session.define(key, entry)
        elif outcome.kind == "limit":
            plan.error = f"its answer cannot be computed within {describe_limit(outcome.what, self.limits.family_seconds)}"
        else:
            plan.bug = self._bug(outcome, self.sets[key[1]].source, "computing the answer of a part").trace

    def plan(self, si: int, problem, part) -> PartPlan:
        return self.plans[self._where[id(part)]]

    # verdicts ---------------------------------------------------------------------------------

    def grade(self, scans: list[ScannedSheet]) -> list[Report]:
        """The reports of these sheets, in order; distinct answers checked once across the whole run."""
        self.plan_sets(s.exam_index for s in scans)
        keys: list[dict] = []
        pending: dict[str, Task] = {}
        known: dict[str, Verdict] = {}  # this window's verdicts (the memo may forget old ones)
        for scan in scans:
            keys.append(self._keys(scan, pending, known))
        unsaved, saved_at = [], time.monotonic()
        for task, outcome in (self.checker or self.session).run_many(pending.values()):
            verdict = self._verdict(outcome, task.seconds, task.tag)
            known[task.tag] = verdict
            self._remember(task.tag, verdict)
            self.cache.put(task.tag, verdict, task.seconds)
            if self.saved is not None:
                unsaved.append((task.tag, verdict))
                if time.monotonic() - saved_at >= SAVE_SECONDS:
                    self.saved.add_verdicts(unsaved)
                    unsaved, saved_at = [], time.monotonic()
        if self.saved is not None:
            self.saved.add_verdicts(unsaved)
        self.result.checks += len(pending)
        reports = []
        for scan, scan_keys in zip(scans, keys):
            problem_set = self.sets[scan.exam_index]
            reports.append(build_report(
                scan, problem_set, lambda problem, part, si=scan.exam_index: self.plan(si, problem, part),
                lambda problem, part, answer, k=scan_keys: known[k[(problem.id, part.id)]]))
        followthrough.apply(self, scans, reports)  # declared follow-through credit, re-marked in the workers
        self.result.cache_hits, self.result.cache_misses = self.cache.hits, self.cache.misses
        return reports

    def _keys(self, scan: ScannedSheet, pending: dict, known: dict) -> dict:
        """(problem, part) -> answer key, for every answer this sheet needs checked; queue the new ones."""
        out = {}
        problem_set = self.sets[scan.exam_index]
        for pi, problem in enumerate(problem_set.problems):
            if not scan.includes(problem):
                continue
            for qi, part in enumerate(problem.parts):
                answer = scan.answers.get((problem.id, part.id))
                ref = reference_key(scan.exam_index, pi, qi)
                plan = self.plans[ref]
                if not needs_check(part, answer, plan):
                    continue
                key = scan.keys.get((problem.id, part.id)) or answer_key(plan.fingerprint, answer.value)
                out[(problem.id, part.id)] = key
                self.result.answers += 1
                if key in known or key in pending:
                    continue
                if key in self.memo:
                    self.memo.move_to_end(key)
                    known[key] = self.memo[key]
                    continue
                seconds = part_seconds(part, self.limits.seconds)
                saved = self.saved.verdict(key) if self.saved is not None else None
                if saved is not None:
                    self._remember(key, saved)
                    known[key] = saved
                    continue
                cached = self.cache.get(key, seconds)
                if cached is not None:
                    self._remember(key, cached)
                    known[key] = cached
                    continue
                pending[key] = Task(check_task, (ref, answer.value), seconds, needs=(ref,), tag=key)
        return out

    def _remember(self, key: str, verdict: Verdict) -> None:
        self.memo[key] = verdict
        self.memo.move_to_end(key)
        while len(self.memo) > self.memo_size:
            self.memo.popitem(last=False)

    def _verdict(self, outcome: Outcome, seconds: float, where: str) -> Verdict:
        if outcome.ok:
            return outcome.value
        if outcome.kind == "limit":
            return limit_verdict(outcome.what, seconds, self.limits.memory_mb)
        bug = self._bug(outcome, "an answer check", f"checking the answer with key {where[:16]}")
        return internal_error_verdict(bug.trace)

    def _bug(self, outcome: Outcome, source: str, doing: str) -> InternalError:
        text = outcome.detail if outcome.kind == "bug" else f"the sandbox worker died, twice: {outcome.detail}\n"
        bug = bugs.from_traceback(source, text, doing)
        self.result.bugs.append(bug)
        return bug

    # files ------------------------------------------------------------------------------------

    def scan(self, paths: list) -> Iterator[tuple[int, ScannedSheet | InputError | InternalError]]:
        """Each file read in a worker under the limits: (its index, what came of it)."""
        tasks = (Task(scan_task, (str(path),), self.limits.file_seconds, tag=i) for i, path in enumerate(paths))
        for task, outcome in self.session.run_many(tasks):
            source = str(paths[task.tag])
            if outcome.ok:
                yield task.tag, outcome.value
            elif outcome.kind == "limit":
                limit = describe_limit(outcome.what, self.limits.file_seconds, self.limits.memory_mb)
                yield task.tag, InputError(source, None, f"too complex to read: over {limit}")
            else:
                yield task.tag, self._bug(outcome, source, "reading the answer file")
