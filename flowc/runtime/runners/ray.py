"""Runs task calls as Ray tasks: on a Ray that is already running, or on one it starts.

Each call is one Ray task of a single remote function made once per process (Ray registers
a remote function with the cluster, and each worker loads it, once: one per call, or per flow
run, would be exported and loaded again every time), with ``max_retries=0`` because flowc's
engine does the retries. Upstream results reach their downstream as ``ObjectRef``
arguments, resolved by Ray on the worker (see :mod:`flowc.runtime.runners.remote`).

No engine thread ever blocks in ``ray.get``: one waiter thread of the runner's
(:class:`_Waiter`) watches the placed refs with ``ray.wait``, fetches whatever has finished
with one ``ray.get`` per batch, and hands the outcomes to the engine, in order, on that
thread. A ``ref.future()`` per call, with its done-callback on a Ray core thread and a hand-off
to a delivery thread, cost the driver more CPU per call. The waiter blocks on a condition when
nothing is in flight.

The runner shuts Ray down on exit only if it started it. Its own Ray has no dashboard,
``num_cpus`` from ``init_kwargs`` or the CPU count, and shows task output on the driver.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Any

import ray

from flowc.runtime.calls import Outcome
from flowc.runtime.runners import wire
from flowc.runtime.runners.remote import (
    ClusterRunner,
    ClusterUnreachable,
    Deliver,
    Shipments,
    check_reachable,
    run_shipped_positional,
)

if TYPE_CHECKING:
    from flowc.runtime.taskrun import TaskRun

__all__ = ["ClusterUnreachable", "RayTaskRunner"]

logger = logging.getLogger("flowc.runtime")

CONNECT_TIMEOUT = 10.0  # seconds for the head node at ``address=`` to accept a connection
_STOP_TIMEOUT = 3.0
# Ray forwards task output to the driver by polling the workers' log files: without a moment
# before shutdown, what the last tasks printed would be lost.
_LOG_GRACE = 0.5

# Made once per process, not per runner: Ray registers a remote function with the cluster
# under an id of its own on first use, and every worker then loads it; one per flow run would
# be exported and loaded again on each run. Ray exports it again itself for a new cluster.
_REMOTE = ray.remote(max_retries=0)(run_shipped_positional)


@functools.cache
def _remote_named(task_name: str) -> Any:
    """The remote function, named after a task (``options()`` builds a class: once per name)."""
    return _REMOTE.options(name=task_name)


class RayTaskRunner(ClusterRunner):
    """Task runs as Ray tasks; Prefect's arguments (``address``, ``init_kwargs``)."""

    def __init__(self, address: str | None = None, init_kwargs: dict[str, Any] | None = None):
        super().__init__()
        self.address = address
        self.init_kwargs = dict(init_kwargs or {})
        self._owns_ray = False
        self._waiter: _Waiter | None = None
        self._unsettled: set[Any] = set()  # refs placed and not yet delivered

    @property
    def max_workers(self) -> int | None:
        """The CPUs asked of a Ray this runner starts (``init_kwargs['num_cpus']``)."""
        cpus = self.init_kwargs.get("num_cpus")
        return cpus if isinstance(cpus, int) else None

    def duplicate(self) -> RayTaskRunner:
        return type(self)(address=self.address, init_kwargs=self.init_kwargs)

    def _start(self) -> None:
        self._shipments = Shipments()
        self._owns_ray = False
        if not ray.is_initialized():
            _init_ray(self.address, self.init_kwargs)
            self._owns_ray = True
        self._waiter = _Waiter("flowc-ray-results")

    def _shutdown(self, abandon_running: bool) -> None:
        """Stop delivering, cancel what Ray still runs for us, stop Ray if we started it."""
        waiter, self._waiter = self._waiter, None
        if waiter is not None:
            waiter.stop()
            waiter.join(_STOP_TIMEOUT)
        unsettled, self._unsettled = list(self._unsettled), set()
        for ref in unsettled:
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=True)
        self._shipments.clear()
        del unsettled
        if self._owns_ray:
            self._owns_ray = False
            if not abandon_running and self.init_kwargs.get("log_to_driver", True):
                time.sleep(_LOG_GRACE)
            ray.shutdown()

    def _submit(self, run: TaskRun, payload: bytes, upstreams: dict[str, Any]) -> Any:
        # The keys go as a list: Ray packs a list as it is, but pickles a tuple (~20 us a call).
        return _remote_named(run.task.name).remote(payload, list(upstreams), *upstreams.values())

    def _watch(self, native: Any, deliver: Deliver) -> None:
        waiter = self._waiter
        if waiter is None:
            raise RuntimeError("the Ray task runner is shutting down; the call was not sent")
        self._unsettled.add(native)

        def settled(outcome: Outcome | BaseException) -> None:
            self._unsettled.discard(native)
            deliver(outcome)

        waiter.watch(native, settled)

    @property
    def worker_count(self) -> int:
        """The cluster's CPUs (what runs at once), for sizing batches."""
        try:
            return max(1, int(ray.cluster_resources().get("CPU", 1)))
        except Exception:
            return super().worker_count

    def __repr__(self) -> str:
        return f"RayTaskRunner(address={self.address!r}, init_kwargs={self.init_kwargs!r})"


class _Waiter:
    """The runner's thread that turns finished refs into outcomes and delivers them.

    A ``ray.wait`` over the refs in flight, then one ``ray.get`` for all that finished,
    costs the driver less than a ``future()`` per ref, and keeps engine code (hooks, the
    placement of downstream calls) off Ray's core threads. Refs placed meanwhile, from any
    thread and from inside a delivery too, queue under a lock that no delivery holds, and join
    the next ``ray.wait``.

    Each wait is for *all* the refs placed since the previous one (``young``), for at most
    ``_WINDOW``: a fan-out then comes back in batches, and a chain link as soon as it is done.
    Refs that outlived one wait (``old``: long calls, or a backlog Ray has queued) are only
    checked alongside, without waiting; waiting for them too would hold every short call
    behind a long one for the whole window. With only old refs in flight, the wait is for the
    first of them to finish, or, past ``_FEW`` of them, for all within the window: a wait costs
    the driver in proportion to its refs, and a backlog woken once per finished call would
    cost more than it saves. That timeout doubles while nothing finishes, up to
    ``_LONGEST_WAIT``: ``ray.wait`` cannot be woken early, so that is how late a ref placed
    meanwhile is first looked at, and the most a stop waits. With nothing in flight the thread
    sleeps on the condition, not in a poll.
    """

    _WINDOW = 0.005  # seconds; Ray counts whole milliseconds (less than 0.001 is no wait)
    _LONGEST_WAIT = 0.05
    _FEW = 16

    def __init__(self, name: str) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._incoming: dict[Any, Deliver] = {}
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def watch(self, ref: Any, deliver: Deliver) -> None:
        """Deliver ``ref``'s outcome on this thread once Ray has it."""
        with self._changed:
            self._incoming[ref] = deliver
            self._changed.notify()

    def stop(self) -> None:
        """Deliver nothing more; the thread ends at its current wait's timeout at the latest,
        or once the delivery in hand returns."""
        with self._changed:
            self._stopped = True
            self._changed.notify()

    def join(self, timeout: float) -> None:
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        young: dict[Any, Deliver] = {}  # placed since the last wait
        old: dict[Any, Deliver] = {}  # outlived a wait
        idle_wait = self._WINDOW
        while self._take_incoming(young, old):
            finished = self._finished(young, old, idle_wait)
            old.update(young)
            young.clear()
            if not finished:
                idle_wait = min(idle_wait * 2, self._LONGEST_WAIT)
                continue
            idle_wait = self._WINDOW
            delivers = [old.pop(ref) for ref in finished]
            if not self._deliver(delivers, _outcomes(finished)):
                return

    def _finished(
        self, young: dict[Any, Deliver], old: dict[Any, Deliver], idle_wait: float
    ) -> list[Any]:
        """The refs that are done: old ones first, as they were placed first."""
        if young:
            arrived = _ready(young, len(young), self._WINDOW)
            return _ready(old, len(old), 0) + arrived
        if len(old) > self._FEW:  # a wait costs the driver in proportion to its refs
            return _ready(old, len(old), idle_wait)
        if not _ready(old, 1, idle_wait):  # wakes as soon as one is done ...
            return []
        return _ready(old, len(old), 0)  # ... and then takes all that are

    def _take_incoming(self, young: dict[Any, Deliver], old: dict[Any, Deliver]) -> bool:
        """Move newly placed refs into ``young``; block while there is nothing to watch.

        False once stopped: the thread ends without looking at what is in flight.
        """
        with self._changed:
            while not (self._incoming or old or self._stopped):
                self._changed.wait()
            if self._stopped:
                return False
            young.update(self._incoming)
            self._incoming.clear()
            return True

    def _deliver(self, delivers: list[Deliver], outcomes: list[Outcome | BaseException]) -> bool:
        """Hand each outcome to the engine, in order; False if stopped meanwhile."""
        for deliver, outcome in zip(delivers, outcomes, strict=True):
            if self._stopped:
                return False
            try:
                deliver(outcome)
            except Exception:
                logger.exception("flowc could not deliver the outcome of a task call")
        return True


def _ready(refs: dict[Any, Any], wanted: int, timeout: float) -> list[Any]:
    """Those of ``refs`` that are ready once ``wanted`` are, or after ``timeout`` seconds.

    ``fetch_local=False``: the ``ray.get`` that follows fetches anyway. Should ``ray.wait``
    itself fail (Ray is gone), every ref counts as ready, so that its ``ray.get`` fails and its
    run crashes instead of waiting forever.
    """
    if not refs:
        return []
    listed = list(refs)
    try:
        ready, _ = ray.wait(listed, num_returns=wanted, timeout=timeout, fetch_local=False)
    except Exception:
        logger.exception("flowc could not wait for its Ray tasks; their runs crash")
        return listed
    return list(ready)


def _outcomes(refs: list[Any]) -> list[Outcome | BaseException]:
    """The outcome of each finished ref: one ``ray.get`` for all, or one per ref on failure.

    A failed ref (its worker died, it was cancelled) makes the batched ``get`` raise; getting
    the refs one by one then gives that error to its own run only.
    """
    try:
        values = ray.get(refs)
    except Exception:
        return [_outcome_of(ref) for ref in refs]
    return [_checked(value) for value in values]


def _outcome_of(ref: Any) -> Outcome | BaseException:
    try:
        value = ray.get(ref)
    except Exception as exc:  # e.g. WorkerCrashedError: the worker died running the call
        return exc
    return _checked(value)


def _checked(value: Any) -> Outcome | BaseException:
    return wire.outcome_of(value)


def _init_ray(address: str | None, init_kwargs: dict[str, Any]) -> None:
    """Start a local Ray sized for this machine, or connect to the one at ``address``."""
    kwargs = dict(init_kwargs)
    target = address or os.environ.get("RAY_ADDRESS")
    if target in (None, "local"):
        kwargs.setdefault("include_dashboard", False)
        kwargs.setdefault("num_cpus", os.cpu_count() or 1)
    elif target != "auto":
        check_reachable(target, CONNECT_TIMEOUT, "Ray cluster")
    try:
        ray.init(address=address, **kwargs)
    except ConnectionError as exc:
        raise ClusterUnreachable(
            f"cannot connect to the Ray cluster at {target!r} ({exc}): check that it is "
            "running (`ray status`) and that the address is right"
        ) from None
