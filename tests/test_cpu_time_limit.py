"""The time limit is on the CPU time a task uses, not on the clock (blind test 11, findings 3 and 13):
a borderline task gets the same outcome on a loaded machine (real CPU hogs on the worker's core), a
time-out is final (not retried: it would only cost the limit again), a task stuck in C code past its
limit is killed on its CPU time, and only a crash is retried."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from examcheck.sandbox import Session, Task

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or not Path("/proc/self/stat").exists(),
                                reason="needs Linux (/proc, CPU affinity)")


def _burn(context, cpu_seconds: float, marker: str = "", core: int = -1):
    """Use this much CPU time (on one core if given); each start is counted in marker."""
    if marker:
        with open(marker, "a") as out:
            out.write("start\n")
    if core >= 0:
        os.sched_setaffinity(0, {core})
    end = time.process_time() + cpu_seconds
    while time.process_time() < end:
        pass
    return "done"


def _big_power(context, marker: str):
    """Stuck in C code (one big-integer power) that no signal handler interrupts."""
    with open(marker, "a") as out:
        out.write("start\n")
    return len(str(7 ** (10 ** 9)))


def _core() -> int:
    return min(os.sched_getaffinity(0))


def _hogs(core: int, n: int) -> list[subprocess.Popen]:
    code = f"import os\nos.sched_setaffinity(0, {{{core}}})\nwhile True:\n    pass\n"
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(n)]


def _outcome(session: Session, cpu_seconds: float, limit: float, core: int):
    start = time.monotonic()
    outcome = session.run(_burn, cpu_seconds, "", core, seconds=limit)
    return outcome.value if outcome.ok else outcome.what, time.monotonic() - start


def test_a_borderline_task_gets_the_same_outcome_on_a_loaded_machine():
    core = _core()
    with Session(1) as session:
        quiet = [_outcome(session, 0.2, 0.4, core)[0], _outcome(session, 0.6, 0.4, core)[0]]
        hogs = _hogs(core, 2)  # the worker now gets at most a third of its core
        try:
            time.sleep(0.1)
            (under, wall), (over, _) = _outcome(session, 0.2, 0.4, core), _outcome(session, 0.6, 0.4, core)
        finally:
            for hog in hogs:
                hog.kill()
                hog.wait()
    assert quiet == ["done", "time"] and [under, over] == quiet
    assert wall > 0.4  # it did take longer than the limit on the clock: the clock alone would have said "time"


def test_a_time_out_is_final_and_costs_the_limit_once(tmp_path):
    marker = tmp_path / "starts"
    tasks = [Task(_burn, (5.0, str(marker)), seconds=0.3, tag="slow")] + [Task(_burn, (0.0,), tag=i) for i in range(4)]
    with Session(2) as session:
        outcomes = {task.tag: outcome for task, outcome in session.run_many(tasks)}
        assert session.crashes == 0
    assert outcomes["slow"].kind == "limit" and outcomes["slow"].what == "time"
    assert all(outcomes[i].value == "done" for i in range(4))
    assert marker.read_text().count("start") == 1  # not retried


def test_a_task_stuck_in_c_code_is_killed_on_its_cpu_time_and_not_retried(tmp_path):
    marker = tmp_path / "starts"
    with Session(1) as session:
        start = time.monotonic()
        outcome = session.run(_big_power, str(marker), seconds=0.3)
        elapsed = time.monotonic() - start
        assert session.run(_burn, 0.0).value == "done"  # the pool carries on
    assert outcome.kind == "limit" and outcome.what == "time"
    assert marker.read_text().count("start") == 1
    assert elapsed < 0.3 * 10 + 5  # well before the wall-clock safety net on a quiet machine
