"""A sandbox session: the one layer of worker processes that every bounded computation runs in.

A :class:`Session` is a context manager that owns N worker processes, forked from this one (so
they start with every module already loaded).  Each worker sets its own memory limit (RLIMIT_AS)
when it starts and dies with its parent (PR_SET_PDEATHSIG, plus a parent-pid watchdog).  The
parent sends tasks over a pipe and enforces each task's time limit: a task that runs past it gets
its worker killed.  A task whose worker crashed or timed out is retried once in a fresh worker,
then reported; the session (and its other workers) carries on.

Tasks are plain functions ``fn(context, *args)``; the :class:`WorkerContext` holds the session's
reference table (entries defined with :meth:`Session.define` travel to a worker once, the first
time a task needs them) and the session's ``data``.  There is no module-global state here.

Where fork is unavailable, tasks run in this process (the parser's size limits still apply).
"""

from __future__ import annotations

import faulthandler
import os
import pickle
import select
import signal
import struct
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from examcheck.limits import DEFAULT_MEMORY_MB, CheckFailed, LimitExceeded, Limits

_HEADER = struct.Struct("!Q")
CAN_FORK = hasattr(os, "fork")
WATCHDOG_SECONDS = 0.5


# ----------------------------------------------------------------------------- outcomes


@dataclass
class Outcome:
    """How a task ended: ok (value), limit (what: time, memory, recursion, size), crash (detail), bug (traceback)."""

    kind: str
    value: Any = None
    what: str = ""
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.kind == "ok"


@dataclass
class Task:
    fn: Callable
    args: tuple = ()
    seconds: float = Limits().seconds
    needs: tuple = ()          # keys of the reference table this task reads
    tag: Any = None            # the caller's handle, returned with the outcome
    retry: bool = True         # retry once in a fresh worker after a crash or a time-out


@dataclass
class WorkerContext:
    table: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)

    def entry(self, key):
        """A reference-table entry, unpickled here the first time it is read (see Pickled)."""
        value = self.table[key]
        if isinstance(value, Pickled):
            value = self.table[key] = value.load()
        return value


@dataclass(frozen=True)
class Pickled:
    """A value that stays pickled until a worker reads it: the parent passes it on without
    rebuilding it (rebuilding SymPy objects costs time and imports the parent does not need)."""

    data: bytes

    @classmethod
    def of(cls, value) -> Pickled:
        return cls(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

    def load(self):
        return pickle.loads(self.data)


# ----------------------------------------------------------------------------- framing


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes | None:
    chunks, remaining = [], size
    while remaining:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _read_message(fd: int, deadline: float | None):
    header = _read_exact(fd, _HEADER.size, deadline)
    if header is None:
        return None
    body = _read_exact(fd, _HEADER.unpack(header)[0], deadline)
    return None if body is None else pickle.loads(body)


# ----------------------------------------------------------------------------- the worker side


def _address_space_now() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _die_with_parent(parent: int) -> None:
    """Ask the kernel to SIGKILL us when the parent dies; a watchdog thread covers other systems."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(0)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCHDOG_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="examcheck-watchdog", daemon=True).start()


def _limit_memory(memory_mb: int) -> None:
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")  # BLAS thread pools reserve memory the address-space limit would count
    try:
        import resource

        budget = _address_space_now() + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (budget, budget))
    except (ImportError, ValueError, OSError):
        pass


def run_task(context: WorkerContext, fn: Callable, args: tuple) -> tuple:
    """Run one task and say how it ended, as a picklable reply."""
    try:
        return ("ok", fn(context, *args))
    except MemoryError:
        return ("limit", "memory")
    except RecursionError:
        return ("limit", "recursion")
    except LimitExceeded as exc:
        return ("limit", exc.what)
    except BaseException:  # noqa: BLE001 - anything else is a bug, and must reach the parent with its traceback
        return ("bug", traceback.format_exc())


WORKER_ENV = "EXAMCHECK_SANDBOX_WORKER"


def in_worker() -> bool:
    """Whether this process is a sandbox worker (its limits already hold for everything it runs)."""
    return os.environ.get(WORKER_ENV) == str(os.getpid())


def _worker_main(task_fd: int, result_fd: int, parent: int, memory_mb: int, context: WorkerContext) -> None:
    os.environ[WORKER_ENV] = str(os.getpid())
    _die_with_parent(parent)
    faulthandler.disable()  # a crash is reported by the parent, not dumped onto its terminal
    _limit_memory(memory_mb)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    while True:
        try:
            message = _read_message(task_fd, None)
        except Exception:  # noqa: BLE001 - a broken pipe ends the worker
            message = None
        if message is None:
            os._exit(0)
        fn, args, definitions, shared = message
        context.table.update(definitions)
        context.data.update(shared)
        reply = run_task(context, fn, args)
        try:
            body = pickle.dumps(reply)
        except Exception:  # noqa: BLE001 - an unpicklable result is a bug too
            body = pickle.dumps(("bug", traceback.format_exc()))
        try:
            _write_all(result_fd, body)
        except Exception:  # noqa: BLE001
            os._exit(1)
        if reply == ("limit", "memory"):
            os._exit(0)  # the heap may be in pieces: start afresh


# ----------------------------------------------------------------------------- the parent side


@dataclass
class _Worker:
    pid: int
    to_child: int
    from_child: int
    known: set = field(default_factory=set)
    shared: set = field(default_factory=set)


class Session:
    """N sandbox workers with a memory limit each; the parent enforces time limits."""

    def __init__(self, workers: int = 1, memory_mb: int = DEFAULT_MEMORY_MB, data: dict | None = None):
        self.size = max(1, workers)
        self.memory_mb = memory_mb
        self.table: dict = {}
        self.data: dict = dict(data or {})
        self.owner = os.getpid()
        self._workers: list[_Worker] = []
        self._inline = WorkerContext(self.table, self.data)
        self.crashes = 0

    # lifetime -----------------------------------------------------------------------------

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if os.getpid() != self.owner:
            return
        for worker in list(self._workers):
            self._stop(worker)

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def define(self, key, value) -> None:
        """An entry of the reference table; a worker receives it once, with the first task that needs it."""
        self.table[key] = value

    def share(self, name: str, value) -> None:
        """An entry of the session's data (context.data in every worker); workers started before it was
        shared receive it with their next task."""
        self.data[name] = value
        for worker in self._workers:
            worker.shared.discard(name)

    def bounded(self, fn, *args, limits: Limits = Limits()):
        """fn(*args) in one of this session's workers, as run_bounded (LimitExceeded, CheckFailed)."""
        return run_bounded(fn, *args, limits=limits, session=self)

    @property
    def pids(self) -> list[int]:
        return [w.pid for w in self._workers]

    # running ----------------------------------------------------------------------------------

    def run(self, fn: Callable, *args, seconds: float = Limits().seconds, needs: tuple = (), retry: bool = True) -> Outcome:
        """fn(context, *args) in a worker."""
        return next(self.run_many([Task(fn, args, seconds, needs, retry=retry)]))[1]

    def run_many(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, Outcome]]:
        """Each task's outcome as soon as it is known (not in order); tasks are pulled lazily."""
        if not CAN_FORK:
            for task in tasks:
                reply = run_task(self._inline, task.fn, task.args)
                yield task, _outcome(reply)
            return
        yield from self._run_forked(iter(tasks))

    def _run_forked(self, tasks: Iterator[Task]) -> Iterator[tuple[Task, Outcome]]:
        busy: dict[int, tuple[_Worker, Task, int, float]] = {}  # fd -> (worker, task, attempt, deadline)
        try:
            yield from self._loop(tasks, busy)
        finally:  # abandoned part-way (an error, Ctrl-C): workers still busy would answer the next caller
            for worker, *_ in list(busy.values()):
                self._stop(worker)

    def _loop(self, tasks: Iterator[Task], busy: dict) -> Iterator[tuple[Task, Outcome]]:
        retries: deque[Task] = deque()
        exhausted = False
        while True:
            while len(busy) < self.size:
                if retries:  # in a fresh worker
                    task, attempt = retries.popleft(), 2
                elif not exhausted:
                    task = next(tasks, None)
                    if task is None:
                        exhausted = True
                        continue
                    attempt = 1
                else:
                    break
                worker = self._fresh_worker(busy) if attempt == 2 else self._idle_worker(busy)
                if self._send(worker, task):
                    busy[worker.from_child] = (worker, task, attempt, time.monotonic() + task.seconds)
                else:
                    yield from self._failed(worker, task, attempt, retries, "crash", "could not reach its worker")
            if not busy:
                return
            now = time.monotonic()
            wait = max(0.0, min(deadline for _, _, _, deadline in busy.values()) - now)
            try:
                ready = select.select(list(busy), [], [], wait)[0]
            except InterruptedError:
                ready = []
            for fd in ready:
                worker, task, attempt, deadline = busy.pop(fd)
                try:
                    reply = _read_message(fd, max(deadline, time.monotonic() + 1.0))
                except TimeoutError:
                    reply = "time"
                except Exception:  # noqa: BLE001 - a garbled reply is a crash
                    reply = None
                if reply == "time":
                    yield from self._failed(worker, task, attempt, retries, "time")
                elif reply is None:
                    yield from self._failed(worker, task, attempt, retries, "crash", self._death(worker))
                else:
                    if reply == ("limit", "memory"):
                        self._stop(worker)  # it exits by itself; reap it
                    yield task, _outcome(reply)
            now = time.monotonic()
            for fd, (worker, task, attempt, deadline) in list(busy.items()):
                if now >= deadline:
                    del busy[fd]
                    yield from self._failed(worker, task, attempt, retries, "time")

    def _failed(self, worker: _Worker, task: Task, attempt: int, retries: deque, kind: str, detail: str = ""):
        """The worker timed out or died: replace it; retry the task once, or report it."""
        self._stop(worker)
        if kind == "crash":
            self.crashes += 1
        if task.retry and attempt == 1:
            retries.append(task)
            return
        yield task, Outcome("limit", what="time") if kind == "time" else Outcome("crash", detail=detail)

    # workers ----------------------------------------------------------------------------------

    def _fresh_worker(self, busy: dict) -> _Worker:
        """A newly started worker (an idle one makes room for it: the pool keeps its size)."""
        if len(self._workers) >= self.size:
            idle = [w for w in self._workers if w.from_child not in busy]
            if idle:
                self._stop(idle[0])
        return self._start()

    def _idle_worker(self, busy: dict) -> _Worker:
        for worker in self._workers:
            if worker.from_child not in busy:
                return worker
        return self._start()

    def _start(self) -> _Worker:
        task_read, task_write = os.pipe()
        result_read, result_write = os.pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the worker
            try:
                os.close(task_write)
                os.close(result_read)
                for other in self._workers:  # so that a dead parent's pipes read as closed
                    for fd in (other.to_child, other.from_child):
                        try:
                            os.close(fd)
                        except OSError:
                            pass
                _worker_main(task_read, result_write, parent, self.memory_mb, WorkerContext(self.table, self.data))
            finally:
                os._exit(1)
        os.close(task_read)
        os.close(result_write)
        worker = _Worker(pid, task_write, result_read, known=set(self.table), shared=set(self.data))
        self._workers.append(worker)
        return worker

    def _send(self, worker: _Worker, task: Task) -> bool:
        missing = {key: self.table[key] for key in task.needs if key not in worker.known and key in self.table}
        shared = {name: value for name, value in self.data.items() if name not in worker.shared}
        try:
            _write_all(worker.to_child, pickle.dumps((task.fn, task.args, missing, shared)))
        except (BrokenPipeError, OSError):
            return False
        worker.known.update(missing)
        worker.shared.update(shared)
        return True

    def _death(self, worker: _Worker) -> str:
        """How the worker died, for the report."""
        try:
            pid, status = os.waitpid(worker.pid, 0)
        except ChildProcessError:
            return "the worker process died"
        if os.WIFSIGNALED(status):
            try:
                name = signal.Signals(os.WTERMSIG(status)).name
            except ValueError:
                name = f"signal {os.WTERMSIG(status)}"
            return f"the worker process was killed by {name}"
        return f"the worker process exited with status {os.WEXITSTATUS(status)}"

    def _stop(self, worker: _Worker) -> None:
        if worker in self._workers:
            self._workers.remove(worker)
        for fd in (worker.to_child, worker.from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.kill(worker.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(worker.pid, 0)
        except ChildProcessError:
            pass


def _outcome(reply: tuple) -> Outcome:
    kind, value = reply
    if kind == "ok":
        return Outcome("ok", value)
    if kind == "limit":
        return Outcome("limit", what=value)
    return Outcome("bug", detail=value)


# ----------------------------------------------------------------------------- one-off calls


def _plain(context: WorkerContext, fn: Callable, args: tuple):
    return fn(*args)


class _Alarm(BaseException):
    pass


def _raise_alarm(signum, frame):
    raise _Alarm


def _run_here(fn, args: tuple, seconds: float):
    """Inside a worker: fn(*args) under a time limit of its own (SIGALRM), no second layer of processes.
    The worker's memory limit and the parent's deadline for the whole task still hold around it."""
    nested = signal.getitimer(signal.ITIMER_REAL)[0] > 0 or threading.current_thread() is not threading.main_thread()
    if not nested:
        previous = signal.signal(signal.SIGALRM, _raise_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(*args)
    except _Alarm:
        raise LimitExceeded("time") from None
    except MemoryError:
        raise LimitExceeded("memory") from None
    except RecursionError:
        raise LimitExceeded("recursion") from None
    finally:
        if not nested:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


_PER_THREAD = threading.local()  # a caller without a session of its own: one worker per thread, reused


def _thread_session(memory_mb: int) -> Session:
    """This thread's own one-worker session (a new one after a fork or for another memory limit), so that
    callers without a session do not fork a worker per call."""
    key = (os.getpid(), memory_mb)
    found = getattr(_PER_THREAD, "sessions", None)
    if found is None or found[0] != key:
        found = _PER_THREAD.sessions = (key, Session(1, memory_mb))
    return found[1]


def run_bounded(fn, *args, limits: Limits = Limits(), session: Session | None = None):
    """fn(*args) in a sandbox (the session's, else one of its own); raises LimitExceeded or CheckFailed.
    In a sandbox worker it runs right there, under a time limit of its own (one layer of processes);
    an exception that is not a limit then propagates as it is (a bug stays a bug)."""
    if session is None and in_worker():
        return _run_here(fn, args, limits.seconds)
    if session is None:
        session = _thread_session(limits.memory_mb)
    outcome = session.run(_plain, fn, args, seconds=limits.seconds, retry=False)
    if outcome.kind == "ok":
        return outcome.value
    if outcome.kind == "limit":
        raise LimitExceeded(outcome.what)
    if outcome.kind == "crash":
        raise CheckFailed(outcome.detail)
    failure = CheckFailed(outcome.detail.strip().splitlines()[-1])
    failure.detail = outcome.detail  # the whole traceback, for a bug report
    raise failure
