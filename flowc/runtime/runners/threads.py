"""Runs task calls on a pool of threads in this process: the default runner.

Because the engine dispatches a run only once its upstreams are final, no worker ever waits
on another, so a bounded pool cannot deadlock on dependencies (Prefect's default pool is
unbounded for that reason).

The pool is a queue and some threads rather than a ``ThreadPoolExecutor``: the engine already
gives each run a completion signal, and a second ``Future`` per call (with its lock and
condition) would double the cost of a trivial task. In plan mode the queue is ordered by each
run's priority (its longest remaining path, see :mod:`flowc.optimize`), so a run on the
critical path that becomes ready overtakes side branches already waiting for a thread.
"""

from __future__ import annotations

import collections
import concurrent.futures
import ctypes
import math
import os
import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from flowc.exceptions import TaskRunTimeoutError
from flowc.runtime.calls import Call, Outcome, run_call
from flowc.runtime.context import flow_run_var, task_run_var
from flowc.runtime.runners.base import Placement, TaskRunner

if TYPE_CHECKING:
    from flowc.runtime.taskrun import TaskRun

__all__ = ["Placed", "ThreadPoolTaskRunner", "raise_in_thread", "run_in_context"]


class Placed(Placement):
    """One call placed on a thread of this process: skipped if cancelled before it starts,
    interrupted (its thread asked to raise) if cancelled while it runs."""

    __slots__ = ("run", "call", "thread", "cancelled", "on_interrupt")

    def __init__(self, run: TaskRun, call: Call) -> None:
        # Placement's fields, set here: one call less on the hottest path of the thread runner.
        self._settled = False
        self._outcome = None
        self._callbacks = None
        self.run = run
        self.call = call
        self.thread: int | None = None
        self.cancelled = False
        #: called after a running call was interrupted (the pool replaces its thread).
        self.on_interrupt: Callable[[], None] | None = None

    def execute(self) -> None:
        if self.cancelled:
            return
        if self.call.timeout is None:
            self.set_outcome(run_in_context(self.run, self.call))
            return
        # Interruptible: ``cancel`` may only target this thread while the call runs.
        with _interrupt_lock:
            self.thread = threading.get_ident()
        outcome = run_in_context(self.run, self.call)
        with _interrupt_lock:
            self.thread = None
        self.set_outcome(outcome)

    def cancel(self) -> bool:
        """Skip the call, or raise in its thread at its next bytecode if it is running.

        Code blocked inside C (a long ``time.sleep``) sees it only when that returns; the
        engine has already moved the run on, and its thread is not waited for at shutdown.
        """
        with _interrupt_lock:
            self.cancelled = True
            busy = self.thread is not None
            if busy:
                raise_in_thread(self.thread, TaskRunTimeoutError)  # type: ignore[arg-type]
        if busy and self.on_interrupt is not None:
            self.on_interrupt()
        return True


_interrupt_lock = threading.Lock()


class _PriorityQueue:
    """``SimpleQueue``'s ``put``/``get``/``get_nowait`` by run priority, highest first;
    equal priorities in arrival order, and the stop sentinel (None) after all work.

    Runs of one call site share a priority, so the work waits in one FIFO per priority (a
    ``deque``, whose ``append`` and ``popleft`` are atomic), found through a sorted list of
    the few priorities seen; a ``SimpleQueue`` of tokens, one per item, does the waiting. A
    run costs a few C calls on each side and no lock: the queue of a pool that runs a million
    trivial tasks is no slower than ``SimpleQueue`` itself to within a microsecond.
    """

    def __init__(self) -> None:
        self._buckets: dict[float, collections.deque[Placed | None]] = {}
        self._ranks: list[float] = []  # sorted, best first; replaced, never changed in place
        self._new_rank = threading.Lock()
        self._tokens: queue.SimpleQueue[None] = queue.SimpleQueue()

    def put(self, placed: Placed | None) -> None:
        rank = -placed.run.priority if placed is not None else math.inf
        bucket = self._buckets.get(rank)
        if bucket is None:
            with self._new_rank:
                bucket = self._buckets.get(rank)
                if bucket is None:
                    bucket = self._buckets[rank] = collections.deque()
                    self._ranks = sorted([*self._ranks, rank])
        bucket.append(placed)
        self._tokens.put(None)

    def get(self) -> Placed | None:
        self._tokens.get()
        return self._take()

    def get_nowait(self) -> Placed | None:
        self._tokens.get_nowait()  # queue.Empty when there is nothing
        return self._take()

    def _take(self) -> Placed | None:
        """The best item there is. A token says one is there for this taker; another taker
        may take the one this scan was heading for while a better one arrives behind it, so
        the scan starts again until it finds one."""
        buckets = self._buckets
        while True:
            for rank in self._ranks:
                bucket = buckets[rank]
                if bucket:  # an empty bucket costs a test, not a raised IndexError
                    try:
                        return bucket.popleft()
                    except IndexError:  # another taker emptied it since
                        continue


class ThreadPoolTaskRunner(TaskRunner):
    """Task calls on up to ``max_workers`` threads (default: ``min(32, cpu_count + 4)``)."""

    def __init__(self, max_workers: int | None = None) -> None:
        super().__init__()
        if max_workers is not None and max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {max_workers}")
        self.max_workers = max_workers
        self._queue: queue.SimpleQueue[Placed | None] | _PriorityQueue = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._limit = 0
        self._spawn_lock = threading.Lock()

    def duplicate(self) -> ThreadPoolTaskRunner:
        return type(self)(max_workers=self.max_workers)

    def _start(self) -> None:
        from flowc.runtime.planmode import active_plan

        self._limit = self.max_workers or min(32, (os.cpu_count() or 1) + 4)
        plan = active_plan()
        ordered = plan is not None and plan.defer and plan.reorders
        self._queue = _PriorityQueue() if ordered else queue.SimpleQueue()
        self._threads = []

    def _shutdown(self, abandon_running: bool) -> None:
        with self._spawn_lock:
            threads, self._threads = self._threads, []
            self._limit = 0  # a late placement must not start a thread nobody will stop
        if abandon_running:
            self._cancel_queued()
        for _ in threads:
            self._queue.put(None)
        if not abandon_running:
            for thread in threads:
                thread.join()

    def _cancel_queued(self) -> None:
        """Calls still queued when the flow gives up on its runner are cancelled, not run."""
        while True:
            try:
                placed = self._queue.get_nowait()
            except queue.Empty:
                return
            if placed is not None and not placed.cancelled:
                placed.cancelled = True
                placed.set_outcome(concurrent.futures.CancelledError())

    def _place(self, run: TaskRun, call: Call) -> Placed:
        placed = Placed(run, call)
        if call.timeout is not None:
            placed.on_interrupt = self._replace_interrupted_thread
        self._queue.put(placed)
        if len(self._threads) < self._limit:
            self._add_thread()
        return placed

    def _add_thread(self) -> None:
        # Placements come from the flow's thread and from workers (retries, downstream runs
        # released by a finishing task), so deciding to start a thread must be atomic.
        with self._spawn_lock:
            if len(self._threads) >= self._limit:
                return
            thread = threading.Thread(
                target=_worker,
                args=(self._queue,),
                name=f"flowc-task-{len(self._threads)}",
                daemon=True,
            )
            self._threads.append(thread)
        thread.start()

    def _replace_interrupted_thread(self) -> None:
        """A call interrupted while running may still hold its thread (stuck in C): until it
        returns, that thread does not count against ``max_workers``, so abandoned calls never
        starve the rest of the flow."""
        with self._spawn_lock:
            if self._limit:
                self._limit += 1
        self._add_thread()

    def __repr__(self) -> str:
        return f"ThreadPoolTaskRunner(max_workers={self.max_workers})"


def _worker(work: queue.SimpleQueue[Placed | None] | _PriorityQueue) -> None:
    while True:
        placed = work.get()
        if placed is None:
            return
        try:
            placed.execute()
        except BaseException:  # an interrupt that landed after the call returned
            continue


def raise_in_thread(ident: int, exc_type: type[BaseException]) -> None:
    """Ask CPython to raise ``exc_type`` in thread ``ident`` at its next bytecode."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(exc_type))


def run_in_context(run: TaskRun, call: Call) -> Outcome:
    """Execute a call in this process with the flow and task run set as the current context."""
    flow_token = flow_run_var.set(run.flow_run)
    task_token = task_run_var.set(run)
    try:
        call.started()
        return run_call(call.fn, call.args, call.kwargs, call.timeout, False, call.is_async)
    finally:
        task_run_var.reset(task_token)
        flow_run_var.reset(flow_token)
