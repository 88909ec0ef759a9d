"""The sandbox session a run opens first, and how its workers prepare themselves.

Light on purpose (no SymPy here): `grade` opens its session and starts its workers before it imports
SymPy itself, so that each worker imports what checking needs while the CLI imports, lists and loads.
"""

from __future__ import annotations

from examcheck.limits import Limits
from examcheck.sandbox import Session


def prepare_worker() -> None:
    """What nearly every task imports on first use, imported as a worker starts instead of inside the
    time of its first task: the task functions (and SymPy with them), every answer test (and NumPy),
    and the module SymPy's Add imports the first time it is used."""
    import sympy.tensor.tensor  # noqa: F401

    import examcheck.tasks  # noqa: F401
    from examcheck.answertests import load_all

    load_all()


def open_session(jobs: int, limits: Limits = Limits()) -> Session:
    """The sandbox session of a run: create it first, load the problem sets through it
    (load_sets(paths, runner=session.bounded)), then give it to the Engine, which owns it from then on.
    One set of workers computes everything of the run: nothing is computed twice in other processes."""
    return Session(jobs, limits.memory_mb, prepare=prepare_worker)
