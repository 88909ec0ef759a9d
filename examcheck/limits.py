"""Run checks under a time and memory limit.

Checks run in a sandbox worker: a child forked from this process (so it has
every module already loaded), with RLIMIT_AS set.  Tasks and results travel
over pipes as pickles.  The parent waits for each result with a deadline; a
check that runs past it, or a worker that dies (out of memory), gets the
worker killed and a fresh one forked for the next check.  Unlike SIGALRM this
works from any thread (each thread has its own worker) and bounds memory.
Where fork is unavailable checks run in-process; the parser's size limits
still apply there.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import threading
import time
from dataclasses import dataclass

DEFAULT_SECONDS = 2.0
DEFAULT_MEMORY_MB = 768
_HEADER = struct.Struct("!Q")


@dataclass(frozen=True)
class Limits:
    seconds: float = DEFAULT_SECONDS
    memory_mb: int = DEFAULT_MEMORY_MB


class LimitExceeded(Exception):
    """The check ran past its time or memory limit."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


class CheckFailed(Exception):
    """The check raised; the message names the exception."""


def _address_space_now() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


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


class Sandbox:
    """One worker process that runs checks, restarted whenever a limit is hit."""

    def __init__(self, memory_mb: int = DEFAULT_MEMORY_MB):
        self.memory_mb = memory_mb
        self.pid: int | None = None
        self.owner = os.getpid()

    def ensure_running(self) -> int:
        if os.getpid() != self.owner:  # we were forked: the worker belongs to the parent
            self.pid, self.owner = None, os.getpid()
        if self.pid is None:
            self._start()
        return self.pid

    def run(self, fn, args: tuple, seconds: float):
        self.ensure_running()
        try:
            _write_all(self.to_child, pickle.dumps((fn, args)))
            reply = _read_message(self.from_child, time.monotonic() + seconds)
        except TimeoutError:
            self.stop()
            raise LimitExceeded("time") from None
        except (BrokenPipeError, OSError):
            reply = None
        if reply is None:
            self.stop()
            raise LimitExceeded("memory")
        status, value = reply
        if status == "ok":
            return value
        if status == "memory":
            self.stop()
            raise LimitExceeded("memory")
        raise CheckFailed(value)

    def _start(self) -> None:
        task_read, task_write = os.pipe()
        result_read, result_write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(task_write)
            os.close(result_read)
            _worker(task_read, result_write, self.memory_mb)
        os.close(task_read)
        os.close(result_write)
        self.pid, self.to_child, self.from_child = pid, task_write, result_read

    def stop(self) -> None:
        if self.pid is None:
            return
        for fd in (self.to_child, self.from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        self.pid = None

    def __del__(self):
        if self.pid is not None and os.getpid() == self.owner:
            self.stop()


def _worker(task_read: int, result_write: int, memory_mb: int) -> None:
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")  # BLAS thread pools reserve memory the address-space limit would count
    try:
        import resource

        budget = _address_space_now() + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (budget, budget))
    except (ImportError, ValueError, OSError):
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            task = _read_message(task_read, None)
        except Exception:  # noqa: BLE001 - a broken pipe ends the worker
            task = None
        if task is None:
            os._exit(0)
        fn, args = task
        try:
            reply = ("ok", fn(*args))
        except (MemoryError, RecursionError):
            reply = ("memory", None)
        except BaseException as exc:  # noqa: BLE001 - everything must reach the parent
            reply = ("error", f"{type(exc).__name__}: {exc}")
        try:
            _write_all(result_write, pickle.dumps(reply))
        except Exception:  # noqa: BLE001
            os._exit(1)
        if reply[0] == "memory":
            os._exit(0)


_local = threading.local()


def _sandbox(limits: Limits) -> Sandbox:
    sandbox = getattr(_local, "sandbox", None)
    if sandbox is None or sandbox.memory_mb != limits.memory_mb:
        if sandbox is not None:
            sandbox.stop()
        sandbox = _local.sandbox = Sandbox(limits.memory_mb)
    return sandbox


def run_bounded(fn, *args, limits: Limits = Limits()):
    """fn(*args) in this thread's sandbox worker; fn and its result must pickle."""
    if not hasattr(os, "fork"):
        return fn(*args)
    return _sandbox(limits).run(fn, args, limits.seconds)


def worker_id(limits: Limits = Limits()) -> int | None:
    """The pid of this thread's sandbox worker (started if need be): what it remembers lives as long as it."""
    return _sandbox(limits).ensure_running() if hasattr(os, "fork") else None
