"""Run one check under a time and memory limit.

The check runs in a forked child with RLIMIT_AS set; the parent waits on a
pipe with a deadline and kills the child when it passes.  Unlike SIGALRM this
works from any thread and also bounds memory.  Where fork is unavailable the
check runs in-process (parser size limits still apply).
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import time
from dataclasses import dataclass

DEFAULT_SECONDS = 2.0
DEFAULT_MEMORY_MB = 768


@dataclass(frozen=True)
class Limits:
    seconds: float = DEFAULT_SECONDS
    memory_mb: int = DEFAULT_MEMORY_MB


class LimitExceeded(Exception):
    """The check ran past its time or memory limit."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


def _address_space_now() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_bounded(fn, *args, limits: Limits = Limits()):
    """fn(*args) in a child process; its return value must pickle."""
    if not hasattr(os, "fork"):
        return fn(*args)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        _child(fn, args, write_end, limits)
    os.close(write_end)
    try:
        payload = _read_until(read_end, pid, time.monotonic() + limits.seconds)
    finally:
        os.close(read_end)
    status, value = pickle.loads(payload) if payload else ("crashed", None)
    if status == "ok":
        return value
    if status == "memory" or status == "crashed":
        raise LimitExceeded("memory")
    raise RuntimeError(value)


def _child(fn, args, write_end: int, limits: Limits) -> None:
    try:
        import resource

        budget = _address_space_now() + limits.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (budget, budget))
    except (ImportError, ValueError, OSError):
        pass
    try:
        data = pickle.dumps(("ok", fn(*args)))
    except MemoryError:
        data = pickle.dumps(("memory", None))
    except RecursionError:
        data = pickle.dumps(("memory", None))
    except BaseException as exc:  # noqa: BLE001 - everything must reach the parent
        data = pickle.dumps(("error", f"{type(exc).__name__}: {exc}"))
    try:
        view = memoryview(data)
        while view:
            written = os.write(write_end, view)
            view = view[written:]
    finally:
        os._exit(0)


def _read_until(fd: int, pid: int, deadline: float) -> bytes:
    chunks = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            _kill(pid)
            raise LimitExceeded("time")
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            os.waitpid(pid, 0)
            return b"".join(chunks)
        chunks.append(chunk)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
