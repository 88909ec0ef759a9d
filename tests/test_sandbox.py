"""The sandbox session: limits named correctly, one crashed worker replaced (the pool survives),
retries once, workers die with their parent, and no import cycles."""

import ast
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from examcheck.limits import CheckFailed, LimitExceeded, Limits
from examcheck.sandbox import Session, Task, run_bounded

ROOT = Path(__file__).resolve().parent.parent


def _spin(context=None):
    while True:
        pass


def _hog(context=None):
    return len(bytearray(4 * 1024 ** 3))


def _deep(context, n=0):
    return _deep(context, n + 1)


def _answer(context=None):
    return 42


def _pid(context):
    return os.getpid()


def _boom(context=None):
    raise ValueError("bad input")


def _oserror(context):
    raise OSError(28, "No space left on device")


def _die_once(context, marker):
    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(9)
    return "second try"


def _die_always(context):
    os.kill(os.getpid(), signal.SIGSEGV)


def _table(context, key):
    return context.table[key]


def test_result_comes_back():
    assert run_bounded(_answer) == 42


def test_time_limit_kills_a_runaway_check():
    start = time.monotonic()
    with pytest.raises(LimitExceeded) as info:
        run_bounded(_spin, limits=Limits(seconds=0.3))
    assert info.value.what == "time"
    assert time.monotonic() - start < 0.3 * 10 + 5  # CPU time: under load the clock runs longer (the safety net)


def test_memory_and_recursion_are_named_apart():
    with Session(1, memory_mb=256) as session:
        assert session.run(_hog, seconds=10).what == "memory"
        assert session.run(_deep, seconds=10).what == "recursion"
        assert session.run(_answer).value == 42


def test_an_oserror_is_a_bug_not_a_memory_limit():
    with Session(1) as session:
        outcome = session.run(_oserror)
    assert outcome.kind == "bug" and "OSError" in outcome.detail and "Traceback" in outcome.detail


def test_errors_cross_the_boundary_as_check_failed():
    with pytest.raises(CheckFailed, match="ValueError: bad input"):
        run_bounded(_boom)
    assert run_bounded(_answer) == 42


def test_limits_hold_in_a_worker_thread():
    outcome = {}

    def work():
        with Session(1) as session:
            outcome["what"] = session.run(_spin, seconds=0.3, retry=False).what

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(10)
    assert outcome == {"what": "time"}


def test_a_crashed_task_is_retried_once_in_a_fresh_worker(tmp_path):
    with Session(2) as session:
        outcome = session.run(_die_once, str(tmp_path / "marker"))
        assert outcome.value == "second try" and session.crashes == 1
        dead = session.run(_die_always)
        assert dead.kind == "crash" and "SIGSEGV" in dead.detail and session.crashes == 3


def test_the_pool_survives_a_crash_and_keeps_its_other_workers(tmp_path):
    tasks = [Task(_pid, tag=i) for i in range(6)] + [Task(_die_always, tag="bad")] + [Task(_pid, tag=i) for i in range(6, 12)]
    with Session(2) as session:
        outcomes = dict((task.tag, outcome) for task, outcome in session.run_many(tasks))
        assert outcomes["bad"].kind == "crash"
        assert all(outcomes[i].ok for i in range(12))
        pids = {outcomes[i].value for i in range(12)}
        assert len(pids) <= 4  # two workers, plus at most the two that replaced the crashed one
        assert len(session.pids) <= 2


def test_a_timed_out_task_is_reported_and_others_finish():
    tasks = [Task(_spin, seconds=0.3, tag="slow")] + [Task(_answer, tag=i) for i in range(5)]
    with Session(2) as session:
        start = time.monotonic()
        outcomes = {task.tag: outcome for task, outcome in session.run_many(tasks)}
        assert time.monotonic() - start < 0.3 * 10 + 5
    assert outcomes["slow"].kind == "limit" and outcomes["slow"].what == "time"
    assert all(outcomes[i].value == 42 for i in range(5))


def test_reference_table_entries_travel_once_per_worker():
    with Session(1) as session:
        session.run(_answer)  # a worker that started before the entry existed
        session.define("k", {"big": list(range(10))})
        assert session.run(_table, "k", needs=("k",)).value == {"big": list(range(10))}
        worker = session._workers[0]
        assert "k" in worker.known


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_workers_die_with_their_parent_even_on_sigkill():
    script = textwrap.dedent("""
        import sys, time
        from examcheck.sandbox import Session, Task

        def spin(context):
            while True:
                pass

        def pid(context):
            import os
            return os.getpid()

        with Session(2) as session:
            pids = [o.value for _, o in session.run_many([Task(pid), Task(pid)])]
            print(" ".join(map(str, session.pids)), flush=True)
            list(session.run_many([Task(spin, seconds=60), Task(spin, seconds=60)]))
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    pids = [int(p) for p in parent.stdout.readline().split()]
    assert len(pids) == 2 and all(_alive(p) for p in pids)
    time.sleep(0.3)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in pids)


# ----------------------------------------------------------------------------- the import graph


def _imports(path: Path, package: str) -> set[str]:
    """examcheck modules imported at module level (import time) by this file."""
    tree = ast.parse(path.read_text())
    found = set()
    for node in tree.body:
        if isinstance(node, ast.If):  # if TYPE_CHECKING: ...
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("examcheck")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.startswith("examcheck"):
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            found.add(f"{base}.{node.module}" if node.module else base)
    return found


def _modules() -> dict[str, Path]:
    out = {}
    for path in (ROOT / "examcheck").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def test_no_import_cycles_at_import_time():
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        graph[name] = {m for m in _imports(path, package) if m in modules and m != name}
    assert "examcheck.batch" not in graph["examcheck.grading"] and "examcheck.grading" in graph["examcheck.batch"]
    state, cycles = {}, []

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    # a package's __init__ may import its own submodules (the registries do); nothing else may loop
    assert [c for c in cycles if len({_top(m) for m in c}) > 1] == []


def test_grading_never_reaches_back_to_the_batch_or_the_engine_even_lazily():
    """The walk is cli -> engine -> batch -> grading; an import inside a function counts too."""
    for name, path in (("grading", ROOT / "examcheck" / "grading.py"), ("batch", ROOT / "examcheck" / "batch.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
            elif isinstance(node, ast.Import):
                names |= {a.name for a in node.names}
        upward = {"grading": {"examcheck.batch", "examcheck.engine"}, "batch": {"examcheck.engine"}}[name]
        assert not names & upward, (name, names & upward)


def _top(module: str) -> str:
    """examcheck.parsing.grammar -> examcheck.parsing (the package a module belongs to)."""
    return ".".join(module.split(".")[:2])


def test_renderers_and_the_model_import_no_sympy():
    code = ("import sys, examcheck.model, examcheck.render.reports, examcheck.render.exports, examcheck.render.stats, "
            "examcheck.render.solutions, examcheck.render.listings; print('sympy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


def test_every_module_imports_alone_in_a_fresh_interpreter():
    names = sorted(n for n in _modules() if n != "examcheck.__main__")
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    failures = []
    for chunk in (names[i::4] for i in range(4)):  # several per interpreter, each first in one of them
        for first in chunk[:1]:
            out = subprocess.run([sys.executable, "-c", code, first, *chunk], capture_output=True, text=True, cwd=ROOT)
            if out.returncode:
                failures.append(out.stderr[-500:])
    assert failures == []
