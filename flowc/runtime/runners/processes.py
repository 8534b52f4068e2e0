"""Runs task runs in worker processes, shipping them with cloudpickle (see ``wire``).

Lambdas, closures and tasks defined in ``__main__`` work. A worker that dies mid-run fails
only that run (it is placed again while it has retries left, else Crashed) and is replaced;
an argument that cannot be pickled fails that run with a message naming it.
"""

from __future__ import annotations

import concurrent.futures
import os
from typing import TYPE_CHECKING

from flowc.runtime import groupcall  # noqa: F401  # loaded with the worker, not by its first group
from flowc.runtime.calls import Call
from flowc.runtime.runners import wire
from flowc.runtime.runners.base import Placement, TaskRunner
from flowc.runtime.runners.worker_pool import CallHandle, WorkerPool

if TYPE_CHECKING:
    from flowc.runtime.taskrun import TaskRun

__all__ = ["ProcessPoolTaskRunner"]


class ProcessPoolTaskRunner(TaskRunner):
    """Task calls in up to ``max_workers`` processes (default: the number of CPUs)."""

    in_process = False
    supports_groups = True

    def __init__(self, max_workers: int | None = None) -> None:
        super().__init__()
        if max_workers is not None and max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {max_workers}")
        self.max_workers = max_workers
        self._pool: WorkerPool | None = None

    @property
    def worker_count(self) -> int:
        return self.max_workers or os.cpu_count() or 1

    def duplicate(self) -> ProcessPoolTaskRunner:
        return type(self)(max_workers=self.max_workers)

    def _start(self) -> None:
        self._pool = WorkerPool(self.max_workers or os.cpu_count() or 1, worker_fn=wire.run_packed)
        self._pool.warm()  # a flow run is starting: its first task runs will not wait

    def _shutdown(self, abandon_running: bool) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_pending=abandon_running, kill_running=abandon_running)

    def _place(self, run: TaskRun, call: Call) -> Placement:
        pool = self._pool
        assert pool is not None
        payload = wire.pack(run, call)
        call.started()
        placement = _PoolPlacement(pool)
        placement.handle = pool.call(payload, placement.settle)
        return placement

    def __repr__(self) -> str:
        return f"ProcessPoolTaskRunner(max_workers={self.max_workers})"


class _PoolPlacement(Placement):
    """A call in the pool: cancelling it drops it from the queue, or kills its worker."""

    __slots__ = ("_pool", "handle")

    def __init__(self, pool: WorkerPool) -> None:
        super().__init__()
        self._pool = pool
        self.handle: CallHandle | None = None

    def cancel(self) -> bool:
        handle = self.handle
        return handle is not None and self._pool.kill(handle, concurrent.futures.CancelledError())

    def settle(self, reply: bytes | BaseException) -> None:
        """The worker's reply, or the exception that stands for it (a dead worker, a kill)."""
        self.set_outcome(reply if isinstance(reply, BaseException) else wire.outcome_of(reply))
