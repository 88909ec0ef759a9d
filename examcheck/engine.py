"""The engine: the one way in to grading, checking and solving.

An :class:`Engine` owns, for one run over unchanging problem sets, a sandbox session (the worker
processes every bounded computation runs in; see examcheck.sandbox), the references of every
part (computed in those workers, once) and the verdict cache.  The CLI, the statistics and the
benchmarks call only its public calls: grade_paths(), grade_sheet(), check_sets(), solve().

    with Engine(sets, jobs=2, cache_dir=folder) as engine:
        result = engine.grade_paths(paths)
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import astuple
from itertools import islice
from pathlib import Path

from examcheck import __version__
from examcheck.batch import BatchResult, Pipeline
from examcheck.bugs import InternalError
from examcheck.cache import VerdictCache
from examcheck.grading import ScannedSheet, scan_sheet
from examcheck.identity import IdentityOptions
from examcheck.inputs import SpooledPaths
from examcheck.limits import Limits, describe_limit
from examcheck.model import Finding, ProblemSet, Report
from examcheck.sandbox import Session, Task
from examcheck.stream import Reports, ReportStore, content_hash
from examcheck.tasks import check_problem_task, reference_key, solve_task
from examcheck.workers import open_session
from examcheck.yamlio import InputError

WINDOW_PER_JOB = 32  # files read, checked and reported together


class Engine:
    def __init__(self, sets: list[ProblemSet], *, jobs: int | None = None, limits: Limits = Limits(),
                 cache_dir: Path | None = None, warn: Callable[[str], None] | None = None, window: int = 0,
                 backend: str = "local", scheduler: str | None = None, session: Session | None = None,
                 identity=None, references=None):
        """backend: "local" (this machine's sandbox workers) or "dask" (answer checks on a Dask cluster:
        the scheduler's address, or a LocalCluster of `jobs` workers on loopback).  session: the sandbox
        session to own (one the problem sets were loaded through, see open_session); default a new one.
        references: a cache of computed references kept between runs (examcheck.refcache); default none."""
        self.sets = list(sets)
        self.window = window
        self.jobs = jobs or (session.size if session is not None else None) or os.cpu_count() or 1
        self.limits = limits
        self.session = session or open_session(self.jobs, limits)
        self.session.share("sets", self.sets)
        self.identity = identity  # examcheck.identity.IdentityOptions: roster, attempt, overrides
        self.session.share("identity", identity)
        checks_memory = limits.memory_mb if backend == "dask" else self.session.memory_mb  # what answer checks run under
        self.cache = VerdictCache(cache_dir, warn, memory_mb=checks_memory)  # verdicts served under the same limits only
        if references is not None:  # references computed in the session's workers, under the family time limit
            references = references.for_limits(limits.family_seconds, self.session.memory_mb)
        self.result = BatchResult()
        self.checker = None
        if backend == "dask":
            from examcheck.dask_backend import DaskChecker

            self.checker = DaskChecker(self.session.table, limits.memory_mb, self.jobs, scheduler)
        elif backend != "local":
            raise ValueError(f"unknown backend {backend!r}")
        self.pipeline = Pipeline(self.sets, self.session, limits, self.cache, self.result, self.checker, references)

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.checker is not None:
            self.checker.close()
        self.session.close()
        self.cache.close()

    # grading ----------------------------------------------------------------------------------

    def grade_paths(self, paths: Iterable[Path], progress: Callable[[int], None] | None = None,
                    on_outcome: Callable | None = None, store: ReportStore | None = None) -> BatchResult:
        """Grade answer files, a window at a time.  Each outcome (report, input error or internal error)
        goes to on_outcome as its window finishes, and to the store if one is given (then result.reports
        reads them back from it in student order; files an earlier run finished are not graded again).
        The paths are read as they are graded, so a generator or examcheck.inputs.SpooledPaths keeps the
        run free of any per-file table (a resume state reads them twice: hashed first, then graded)."""
        resuming = store is not None and store.path is not None
        if resuming:
            if iter(paths) is paths:  # a one-shot iterator: kept on disk for the second reading
                paths = SpooledPaths(paths)
            store.keep_only((str(path), content_hash(path)) for path in paths)
            self.pipeline.saved = store
        if store is not None and self.result.bugs:  # met before grading (computing the references): kept too
            store.add([("", "", bug) for bug in self.result.bugs])
        todo = self._unfinished(paths, store, progress) if resuming else ((path, "") for path in paths)
        window = max(1, self.window or WINDOW_PER_JOB * self.jobs)
        while batch := list(islice(todo, window)):
            chunk = [path for path, _ in batch]
            bugs_before = len(self.result.bugs)
            outcomes = self._grade_window(chunk)
            for outcome in outcomes:
                self._collect(outcome, on_outcome, keep=store is None)
            if store is not None:
                rows = [(str(path), digest, outcome) for (path, digest), outcome in zip(batch, outcomes)]
                filed = {id(o) for o in outcomes}
                rows += [("", "", bug) for bug in self.result.bugs[bugs_before:] if id(bug) not in filed]
                store.add(rows)
            if progress:
                progress(len(chunk))
        self.cache.flush()
        if store is None:
            self.result.reports.sort(key=lambda r: (r.student, r.source))
        else:
            self.result.reports = Reports(store)
            self.result.errors = store.errors()
            self.result.bugs = store.bugs()
        return self.result

    @staticmethod
    def _unfinished(paths: Iterable[Path], store: ReportStore, progress) -> Iterator[tuple[Path, str]]:
        """(path, content hash) of each file the resume state holds no outcome of; the others count as resumed."""
        for path in paths:
            digest = store.current_hash(str(path))
            if store.finished(str(path), digest):
                store.resumed += 1
                if progress:
                    progress(1)
            else:
                yield path, digest

    def _grade_window(self, chunk: list[Path]) -> list:
        outcomes: list = [None] * len(chunk)
        scans: list[tuple[int, ScannedSheet]] = []
        for index, found in self.pipeline.scan(chunk):
            if isinstance(found, ScannedSheet):
                scans.append((index, found))
            else:
                outcomes[index] = found
        for (index, _), report in zip(scans, self.pipeline.grade([s for _, s in scans])):
            outcomes[index] = report
        return outcomes

    def _collect(self, outcome, on_outcome, keep: bool = True) -> None:
        if isinstance(outcome, Report):
            if keep:
                self.result.reports.append(outcome)
        elif isinstance(outcome, InternalError):
            pass  # already among result.bugs
        elif keep:
            self.result.errors.append(outcome)
        if on_outcome:
            on_outcome(outcome)

    def run_fingerprint(self) -> str:
        """What decides every report of a run: a resume state of another run is not reused."""
        from examcheck.cache import part_fingerprint, rules_fingerprint

        parts = [part_fingerprint(s, p, q) for s in self.sets for p in s.problems for q in p.parts]
        locks = [s.variants.lock.digest() if s.variants is not None and s.variants.deployed else None for s in self.sets]
        spec = [__version__, rules_fingerprint(), [s.exam for s in self.sets], parts, vars(self.limits), locks,
                _identity_spec(self.identity)]
        return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:32]

    def grade_sheet(self, sheet) -> Report:
        """One answer sheet already read (examcheck.answers.AnswerSheet)."""
        return self.pipeline.grade([scan_sheet(sheet, self.sets, self.identity)])[0]

    # references ------------------------------------------------------------------------------

    def reference_errors(self, sets: Iterable[ProblemSet] | None = None,
                         problems: Iterable[tuple[ProblemSet, object]] | None = None) -> list[InputError]:
        """One input error (file, line) per part whose reference cannot be computed: of every set, of the
        given sets, or of the given (set, problem) pairs.  The references are computed in the workers once
        and kept: grading and solving use them (a bug while computing one is reported there, as a bug)."""
        if problems is not None:
            pairs = [(self._set_index(s), s.problems.index(p)) for s, p in problems]
        else:
            chosen = self.sets if sets is None else list(sets)
            pairs = [(self._set_index(s), pi) for s in chosen for pi in range(len(s.problems))]
        self.pipeline.plan_problems(pairs)
        errors = []
        for si, pi in pairs:
            problem_set = self.sets[si]
            problem = problem_set.problems[pi]
            for qi, part in enumerate(problem.parts):
                plan = self.pipeline.plans[reference_key(si, pi, qi)]
                if plan.error is not None:
                    errors.append(InputError(problem_set.source, part.line or problem.line,
                                             f"{problem_set.exam}/{problem.id}.{part.id}: cannot compute the reference: "
                                             f"{plan.error}"))
        return errors

    def answered_sets(self, paths: Iterable[Path]) -> list[ProblemSet]:
        """The problem sets these answer files answer, read in a worker under the limits (a file that cannot be
        read, or not within the limits, answers none here: it is reported when it is graded)."""
        from examcheck.tasks import answered_task

        outcome = self.session.run(answered_task, [str(p) for p in paths], seconds=self.limits.file_seconds)
        return [self.sets[i] for i in outcome.value] if outcome.ok else []

    def expected(self, problem_set: ProblemSet, problem, part) -> str | None:
        """A part's reference as shown, once reference_errors has computed it (None if it could not be)."""
        si, pi = self._set_index(problem_set), problem_set.problems.index(problem)
        plan = self.pipeline.plans.get(reference_key(si, pi, problem.parts.index(part)))
        return None if plan is None or plan.error is not None or plan.bug is not None else plan.expected

    def _set_index(self, problem_set: ProblemSet) -> int:
        return next(i for i, s in enumerate(self.sets) if s is problem_set)

    # checking and solving ------------------------------------------------------------------------

    def check_sets(self, key_sheets: Iterable = ()) -> list[Finding]:
        """Every part recomputed and every stated key verified; then key files graded (all must be correct).
        A part whose reference cannot be computed is an input error: ValidationFailed lists them all, and
        nothing is checked (each worker computes a problem's references once, for both)."""
        from examcheck.checking import key_findings
        from examcheck.schema import ValidationFailed

        tasks = [Task(check_problem_task, (si, pi), self.limits.family_seconds, tag=(si, pi))
                 for si, problem_set in enumerate(self.sets) for pi, _ in enumerate(problem_set.problems)]
        found: dict[tuple, list[Finding]] = {}
        errors: dict[tuple, list[InputError]] = {}
        for task, outcome in self.session.run_many(tasks):
            si, pi = task.tag
            problem_set, problem = self.sets[si], self.sets[si].problems[pi]
            where = f"{problem_set.exam}/{problem.id}"
            if outcome.ok:
                errors[task.tag], found[task.tag] = outcome.value
            elif outcome.kind == "limit":
                limit = describe_limit(outcome.what, self.limits.family_seconds, self.limits.memory_mb)
                found[task.tag] = [Finding(problem_set.source, problem.line, where, f"cannot be checked within {limit}")]
            else:
                bug = self.pipeline._bug(outcome, problem_set.source, f"checking {where}")
                found[task.tag] = [Finding(problem_set.source, problem.line, where, str(bug))]
        if any(errors.values()):
            raise ValidationFailed([e for tag in sorted(errors) for e in errors[tag]])
        findings = [f for tag in sorted(found) for f in found[tag]]
        for sheet in key_sheets:
            findings += key_findings(self.grade_sheet(sheet))
        return findings

    def solve(self, problem_id: str):
        """The worked solution of a problem ('q3' or 'EXAM/q3'); LookupError if there is no such problem."""
        from examcheck.model import PartSolution, ProblemSolution
        from examcheck.solving import find_problem

        problem_set, problem = find_problem(self.sets, problem_id)
        si = self.sets.index(problem_set)
        pi = problem_set.problems.index(problem)
        outcome = self.session.run(solve_task, si, pi, seconds=self.limits.family_seconds)
        if outcome.ok:
            return outcome.value
        if outcome.kind == "limit":
            error = f"cannot be computed within {describe_limit(outcome.what, self.limits.family_seconds, self.limits.memory_mb)}"
        else:
            error = str(self.pipeline._bug(outcome, problem_set.source, f"solving {problem_id}"))
        parts = [PartSolution(p.id, p.prompt, p.marks, p.answer, None, error=error, rubric=p.rubric) for p in problem.parts]
        return ProblemSolution(problem_set.exam, problem.id, problem.title, problem.statement, problem.family, parts)

    @property
    def bugs(self) -> list[InternalError]:
        return self.result.bugs


# ----------------------------------------------------------------------------- one-call conveniences


def _identity_spec(identity) -> list:
    """Who is credited and which variant each file gets: the roster's students, the attempt, the overrides."""
    identity = identity or IdentityOptions()
    roster = identity.roster
    students = [] if roster is None else [astuple(s) for s in roster.students]
    return [students, identity.attempt, sorted(identity.overrides.items())]


def grade_paths(paths: Iterable[Path], sets: list[ProblemSet], jobs: int = 1, limits: Limits = Limits(),
                cache_dir: Path | None = None, progress: Callable[[int], None] | None = None) -> BatchResult:
    with Engine(sets, jobs=jobs, limits=limits, cache_dir=cache_dir) as engine:
        return engine.grade_paths(paths, progress)


def grade_sheet(sheet, sets: list[ProblemSet] | ProblemSet, limits: Limits = Limits(), jobs: int = 1) -> Report:
    sets = [sets] if isinstance(sets, ProblemSet) else sets
    with Engine(sets, jobs=jobs, limits=limits) as engine:
        return engine.grade_sheet(sheet)


def grade_file(sheet, sets: list[ProblemSet], resolver=None, limits: Limits = Limits(), cache=None) -> Report:
    """As grade_sheet (the resolver and cache arguments of older call sites are not needed)."""
    return grade_sheet(sheet, sets, limits)


def check_sets(sets: list[ProblemSet], key_sheets: Iterable = ()) -> list[Finding]:
    with Engine(sets, jobs=None) as engine:
        return engine.check_sets(key_sheets)


def solve(sets: list[ProblemSet], problem_id: str):
    with Engine(sets, jobs=1) as engine:
        return engine.solve(problem_id)


def bounded_verdict(part, written, ref, limits: Limits = Limits()):
    """One answer checked as `grade` checks it: in a sandbox worker (a session of its own), under the limits."""
    from examcheck import bugs
    from examcheck.grading import internal_error_verdict, limit_verdict
    from examcheck.tasks import check_task

    with Session(1, limits.memory_mb) as session:
        session.define("reference", (part, ref))
        outcome = session.run(check_task, "reference", written, seconds=limits.seconds, needs=("reference",))
    if outcome.ok:
        return outcome.value
    if outcome.kind == "limit":
        return limit_verdict(outcome.what, limits.seconds, limits.memory_mb)
    text = outcome.detail if outcome.kind == "bug" else f"the sandbox worker died, twice: {outcome.detail}\n"
    return internal_error_verdict(bugs.from_traceback("an answer check", text).trace)
