"""A sandbox session: the one layer of worker processes that every bounded computation runs in.

A :class:`Session` is a context manager that owns N worker processes, forked from this one (so
they start with every module already loaded).  Each worker sets its own memory limit (RLIMIT_AS)
when it starts and dies with its parent (PR_SET_PDEATHSIG, plus a parent-pid watchdog).  The
parent sends tasks over a pipe.  A task's time limit is on the CPU time it uses, not on the clock, so a
verdict does not depend on how loaded the machine is: the worker stops the task itself when its CPU
time reaches the limit (ITIMER_PROF), and the parent kills a worker that is stuck past the limit (in
C code that the timer cannot interrupt), measured on the worker's CPU time (/proc/PID/stat).  The
parent's wall clock is only a safety net (SAFETY_FACTOR times the limit, plus SAFETY_SECONDS): a worker
that starved that long is retried once in a fresh worker.  A time-out measured in CPU time is final
(it would only happen again); a crashed worker's task is retried once in a fresh worker, then reported;
the session (and its other workers) carries on.

Tasks are plain functions ``fn(context, *args)``; the :class:`WorkerContext` holds the session's
reference table (entries defined with :meth:`Session.define` travel to a worker once, the first
time a task needs them) and the session's ``data``.  There is no module-global state here.

Where fork is unavailable, tasks run in this process (the parser's size limits still apply).
"""

from __future__ import annotations

import contextlib
import faulthandler
import functools
import gc
import io
import os
import pickle
import select
import signal
import struct
import sys
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
CPU_GRACE = 1.25      # the parent kills a worker whose task used this times its limit in CPU time, plus:
CPU_GRACE_SECONDS = 0.25
SAFETY_FACTOR = 10.0  # ... and, whatever the CPU time, after this times the limit on the clock, plus:
SAFETY_SECONDS = 5.0
CPU_TIMER_REPEAT = 0.05  # the worker's CPU timer fires again after this (CPU) time if a task swallowed it


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
    retry: bool = True         # retry once in a fresh worker after a crash (or a starved worker)
    fresh: bool = True         # start from a cleared state (see WarmState)


@dataclass
class WorkerContext:
    table: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    loads: int = 0  # how many entries were unpickled here: a one-time cost of the first task that read them

    def entry(self, key):
        """A reference-table entry, unpickled here the first time it is read (see Pickled)."""
        value = self.table[key]
        if isinstance(value, Pickled):
            value = self.table[key] = value.load()
            self.loads += 1
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
        return ReferenceUnpickler(io.BytesIO(self.data)).load()


class ReferenceUnpickler(pickle.Unpickler):
    """Unpickles a reference and nothing else: only classes of SymPy, mpmath, NumPy and examcheck, a few
    plain builtins and the reconstructors pickle itself uses, never a function that could do anything
    (these bytes may come from the on-disk reference cache: authenticated there, and restricted here too)."""

    PACKAGES = ("sympy", "mpmath", "numpy", "examcheck", "fractions", "decimal", "collections", "enum")
    BUILTINS = frozenset({"set", "frozenset", "complex", "slice", "range", "int", "float", "str", "bytes", "tuple",
                          "list", "dict", "bool", "object"})
    FUNCTIONS = frozenset({("copyreg", "_reconstructor"), ("copyreg", "__newobj__"),
                           ("sympy.core.function", "_rebuild_undef"),
                           ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                           ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar")})

    def find_class(self, module: str, name: str):
        if (module, name) in self.FUNCTIONS:
            return super().find_class(module, name)
        if module == "builtins" and name in self.BUILTINS:
            return super().find_class(module, name)
        if module.split(".")[0] in self.PACKAGES:
            found = super().find_class(module, name)
            if isinstance(found, type):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a reference")


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


class CpuTimeUp(BaseException):
    """Raised in a worker when its task's CPU time reaches the limit (a BaseException: task code that
    catches Exception does not swallow it)."""


def run_task(context: WorkerContext, fn: Callable, args: tuple) -> tuple:
    """Run one task and say how it ended, as a picklable reply."""
    try:
        return ("ok", fn(context, *args))
    except CpuTimeUp:
        return ("limit", "time")
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


SETTLING = ("settling",)  # a worker's word to its parent: the task timed out and is being decided again


class WarmState:
    """Every cache a task's time depends on: SymPy's (over a hundred cached functions) and examcheck's own
    lru caches.  A task run after clear() takes the same CPU time whatever its worker ran before, so a
    verdict near the time limit depends on the answer and the limit only, not on the batch, its order or
    --jobs (and a worker's memory stays flat in the number of distinct answers it checks)."""

    def __init__(self):
        self._modules = -1
        self._caches: tuple = ()

    def clear(self) -> None:
        cache = sys.modules.get("sympy.core.cache")
        if cache is not None:
            cache.clear_cache()
        if len(sys.modules) != self._modules:  # looked for again only when modules were imported
            self._modules, self._caches = len(sys.modules), tuple(_examcheck_caches())
        for found in self._caches:
            found.cache_clear()


@contextlib.contextmanager
def importing_without_collection():
    """No garbage collections while importing (each would walk every object imported so far, for nothing);
    the objects are then frozen out of later collections, and out of the copies forked workers hold."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.freeze()


def _examcheck_caches() -> Iterator:
    for name, module in list(sys.modules.items()):
        if name.partition(".")[0] == "examcheck" and module is not None:
            for value in list(vars(module).values()):
                if isinstance(value, functools._lru_cache_wrapper) and not getattr(value, "keeps_across_tasks", False):
                    yield value


class _CpuTimer:
    """The worker's limit on a task's CPU time (ITIMER_PROF counts this process's user and system time)."""

    def __init__(self):
        self.armed = False
        self.usable = hasattr(signal, "setitimer") and hasattr(signal, "SIGPROF")
        if self.usable:
            signal.signal(signal.SIGPROF, self._fire)

    def _fire(self, signum, frame):
        if self.armed:
            raise CpuTimeUp

    def run(self, context: WorkerContext, fn: Callable, args: tuple, seconds: float | None) -> tuple:
        try:
            if self.usable and seconds:
                self.armed = True
                signal.setitimer(signal.ITIMER_PROF, seconds, CPU_TIMER_REPEAT)
            try:
                return run_task(context, fn, args)
            finally:
                self._disarm()
        except CpuTimeUp:  # fired between the task's end and the disarming
            self._disarm()
            return ("limit", "time")

    def _disarm(self) -> None:
        self.armed = False
        if self.usable:
            signal.setitimer(signal.ITIMER_PROF, 0)


def _cpu_seconds(pid: int) -> float | None:
    """A process's CPU time so far (user + system), or None where /proc cannot tell."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _unraisable(unraisable) -> None:
    """A time-out that fired inside a __del__ or a weakref callback is swallowed there (the timer fires again
    50 ms later); anything else is shown as Python would."""
    if not isinstance(unraisable.exc_value, CpuTimeUp):
        sys.__unraisablehook__(unraisable)


def _decide(timer: _CpuTimer, warm: WarmState, context: WorkerContext, task: tuple, result_fd: int) -> tuple:
    """A task's reply, decided from a cleared state, so that the CPU time it needs is the same whatever this
    worker ran before: caches emptied, the entries it reads unpickled beforehand, and no garbage collection
    while it runs (how much there is to collect depends on the worker's past; it is collected between tasks).
    A time-out whose run still paid a one-time cost (a module imported) is decided again, with a whole limit
    of its own; any other time-out is final."""
    fn, args, seconds, fresh, needs = task
    if fresh:
        warm.clear()
    for key in needs:
        with contextlib.suppress(Exception):  # a damaged entry fails again in the task, and is reported there
            context.entry(key)
    one_time = (len(sys.modules), context.loads)
    gc.disable()
    try:
        reply = timer.run(context, fn, args, seconds)
        if reply == ("limit", "time") and one_time != (len(sys.modules), context.loads):
            _write_all(result_fd, pickle.dumps(SETTLING))  # the parent starts its watch again
            warm.clear()
            reply = timer.run(context, fn, args, seconds)
    finally:
        gc.enable()
    return reply


def _worker_main(task_fd: int, result_fd: int, parent: int, memory_mb: int, context: WorkerContext,
                 prepare: Callable[[], None] | None = None) -> None:
    os.environ[WORKER_ENV] = str(os.getpid())
    _die_with_parent(parent)
    faulthandler.disable()  # a crash is reported by the parent, not dumped onto its terminal
    _limit_memory(memory_mb)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    gc.callbacks.clear()  # the parent's (Dask's diagnostics) would run inside tasks, and swallow their time-out
    sys.unraisablehook = _unraisable
    if prepare is not None:
        with importing_without_collection():  # a failure here shows again in the task that meets it
            run_task(context, lambda _context: prepare(), ())
    timer, warm = _CpuTimer(), WarmState()
    while True:
        try:
            message = _read_message(task_fd, None)
        except Exception:  # noqa: BLE001 - a broken pipe ends the worker
            message = None
        if message is None:
            os._exit(0)
        *task, definitions, shared = message
        context.table.update(definitions)
        context.data.update(shared)
        try:
            reply = _decide(timer, warm, context, task, result_fd)
        except OSError:  # the parent is gone
            os._exit(1)
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

    def __init__(self, workers: int = 1, memory_mb: int = DEFAULT_MEMORY_MB, data: dict | None = None,
                 prepare: Callable[[], None] | None = None):
        """prepare: what each worker runs when it starts, before its first task and outside any time limit
        (imports every task would otherwise pay for in its first one), while this process goes on."""
        self.size = max(1, workers)
        self.memory_mb = memory_mb
        self.prepare = prepare
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

    def start(self, workers: int | None = None) -> None:
        """Start workers now, all or this many (they start with the first tasks otherwise): each is a copy of
        this process as it is now, with whatever it holds, and prepares itself while this process goes on."""
        while CAN_FORK and len(self._workers) < min(self.size, workers or self.size):
            self._start()

    def shrink(self, workers: int) -> None:
        """At most this many workers from now on (a run with fewer files than jobs)."""
        self.size = max(1, min(self.size, workers))
        for worker in self._workers[self.size:]:
            self._stop(worker)

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
        busy: dict[int, list] = {}  # fd -> [worker, task, attempt, deadline, started, CPU time at start]
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
                cpu = _cpu_seconds(worker.pid)
                if self._send(worker, task):
                    now = time.monotonic()
                    busy[worker.from_child] = [worker, task, attempt, now + task.seconds, now, cpu]
                else:
                    yield from self._failed(worker, task, attempt, retries, "crash", "could not reach its worker")
            if not busy:
                return
            now = time.monotonic()
            wait = max(0.0, min(entry[3] for entry in busy.values()) - now)
            try:
                ready = select.select(list(busy), [], [], wait)[0]
            except InterruptedError:
                ready = []
            for fd in ready:
                worker, task, attempt, deadline, *_ = busy.pop(fd)
                try:
                    reply = _read_message(fd, max(deadline, time.monotonic() + 1.0))
                except TimeoutError:
                    reply = "time"
                except Exception:  # noqa: BLE001 - a garbled reply is a crash
                    reply = None
                if reply == SETTLING:  # its second run gets a whole limit of its own
                    now = time.monotonic()
                    busy[fd] = [worker, task, attempt, now + task.seconds, now, _cpu_seconds(worker.pid)]
                elif reply == "time":  # a reply begun but not finished
                    yield from self._failed(worker, task, attempt, retries, "starved")
                elif reply is None:
                    yield from self._failed(worker, task, attempt, retries, "crash", self._death(worker))
                elif reply == ("limit", "memory"):  # it exits by itself; its heap held what it ran before
                    yield from self._failed(worker, task, attempt, retries, "memory")
                else:
                    yield task, _outcome(reply)
            now = time.monotonic()
            for fd, entry in list(busy.items()):
                worker, task, attempt, deadline, started, cpu = entry
                if now < deadline:
                    continue
                verdict, entry[3] = self._past_deadline(worker, task, now, started, cpu)
                if verdict is not None:
                    del busy[fd]
                    yield from self._failed(worker, task, attempt, retries, verdict)

    @staticmethod
    def _past_deadline(worker: _Worker, task: Task, now: float, started: float, cpu: float | None):
        """(None, the next deadline) while the task may go on; ("time", 0) if it used its limit in CPU time
        (a final verdict), ("starved", 0) past the safety net on the clock, or with no CPU measure."""
        used = _cpu_seconds(worker.pid)
        if cpu is None or used is None:
            return "starved", 0.0
        used -= cpu
        allowed = task.seconds * CPU_GRACE + CPU_GRACE_SECONDS
        if used >= allowed:
            return "time", 0.0
        if now - started >= task.seconds * SAFETY_FACTOR + SAFETY_SECONDS:
            return "starved", 0.0
        return None, now + max(0.05, allowed - used)

    def _failed(self, worker: _Worker, task: Task, attempt: int, retries: deque, kind: str, detail: str = ""):
        """The worker died, or ran past its limit: replace it; retry a crash, a starved task or one over the
        memory limit once in a fresh worker (whose memory holds nothing another task left), or report it (a
        time-out in CPU time is final: it would only happen again)."""
        self._stop(worker)
        if kind == "crash":
            self.crashes += 1
        if task.retry and attempt == 1 and kind != "time":
            retries.append(task)
            return
        if kind == "crash":
            yield task, Outcome("crash", detail=detail)
        else:
            yield task, Outcome("limit", what="memory" if kind == "memory" else "time")

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
                _worker_main(task_read, result_write, parent, self.memory_mb, WorkerContext(self.table, self.data),
                             self.prepare)
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
            message = (task.fn, task.args, task.seconds, task.fresh, task.needs, missing, shared)
            _write_all(worker.to_child, pickle.dumps(message))
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
