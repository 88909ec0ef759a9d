"""Grading past one machine: the answer checks of a run on Dask distributed (`--backend dask`).

The engine reads the files and computes the references here, as always; it groups the answers of
the whole batch by key (part fingerprint + normalised answer), and only the unique keys travel:
in batches, each with the references it needs, to the Dask workers.  There each batch runs in a
sandbox session of its own (the same limits: memory per sandbox worker, the time limit enforced
by its parent, a crashed or timed-out check retried once), and the verdicts come back to be
joined to the students' parts and rendered here.  So the output is the local backend's, byte for
byte.

    --backend dask                          a LocalCluster on this machine (loopback only)
    --backend dask --scheduler tcp://H:P    an existing cluster (its workers need examcheck installed)

Needs the optional extra: pip install "examcheck[distributed]".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from examcheck.sandbox import Outcome, Session, Task

BATCH = 256  # unique checks per Dask task


class DaskUnavailable(Exception):
    pass


def check_batch(items: list[tuple], references: dict, memory_mb: int) -> list[tuple]:
    """On a Dask worker: [(tag, outcome)] for [(tag, fn, args, seconds, needs, retry)], in a sandbox session."""
    with Session(1, memory_mb) as session:
        for key, value in references.items():
            session.define(key, value)
        tasks = [Task(fn, args, seconds, needs, tag=tag, retry=retry) for tag, fn, args, seconds, needs, retry in items]
        return [(task.tag, outcome) for task, outcome in session.run_many(tasks)]


class DaskChecker:
    """Runs the engine's answer checks on a Dask cluster; same interface as Session.run_many."""

    def __init__(self, table: dict, memory_mb: int, workers: int = 2, scheduler: str | None = None):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise DaskUnavailable('the Dask backend needs the optional extra: pip install "examcheck[distributed]"') from None
        self.table, self.memory_mb = table, memory_mb
        self.cluster = None
        if scheduler:
            self.client = Client(scheduler, timeout="30s")
        else:
            self.cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                                        host="127.0.0.1", dashboard_address=None, silence_logs=40)
            self.client = Client(self.cluster)

    def run_many(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, Outcome]]:
        from distributed import as_completed

        by_tag: dict = {}
        futures = []
        batch: list[Task] = []

        def submit() -> None:
            needed = {key for task in batch for key in task.needs}
            references = {key: self.table[key] for key in needed if key in self.table}
            items = [(task.tag, task.fn, task.args, task.seconds, task.needs, task.retry) for task in batch]
            futures.append(self.client.submit(check_batch, items, references, self.memory_mb, pure=False))
            batch.clear()

        for task in tasks:
            by_tag[task.tag] = task
            batch.append(task)
            if len(batch) >= BATCH:
                submit()
        if batch:
            submit()
        for future in as_completed(futures):
            for tag, outcome in future.result():
                yield by_tag[tag], outcome

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
