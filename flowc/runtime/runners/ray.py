"""Runs task calls as Ray tasks: on a Ray that is already running, or on one it starts.

Each call is one Ray task of a single remote function made when the runner starts (Ray
registers a function once; a remote function per call would re-export it every time), with
``max_retries=0`` because flowc's engine does the retries. Upstream results reach their
downstream as ``ObjectRef`` arguments, resolved by Ray on the worker (see
:mod:`flowc.runtime.runners.remote`). No engine thread ever blocks in ``ray.get``: each ref's
``future()`` hands its outcome to one delivery thread of the runner's, which calls the engine.

The runner shuts Ray down on exit only if it started it. Its own Ray has no dashboard,
``num_cpus`` from ``init_kwargs`` or the CPU count, and shows task output on the driver.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import os
import time
from typing import TYPE_CHECKING, Any

import ray

from flowc.runtime.calls import Call, Outcome
from flowc.runtime.runners.base import OnDone, OnStart, TaskRunner
from flowc.runtime.runners.remote import (
    ClusterUnreachable,
    Deliveries,
    Shipments,
    check_reachable,
    pickle_call,
    run_shipped_positional,
)

if TYPE_CHECKING:
    from flowc.runtime.taskrun import TaskRun

__all__ = ["ClusterUnreachable", "RayTaskRunner"]

CONNECT_TIMEOUT = 10.0  # seconds for the head node at ``address=`` to accept a connection
_STOP_TIMEOUT = 3.0
# Ray forwards task output to the driver by polling the workers' log files: without a moment
# before shutdown, what the last tasks printed would be lost.
_LOG_GRACE = 0.5


class RayTaskRunner(TaskRunner):
    """Task calls as Ray tasks; Prefect's arguments (``address``, ``init_kwargs``)."""

    in_process = False

    def __init__(self, address: str | None = None, init_kwargs: dict[str, Any] | None = None):
        super().__init__()
        self.address = address
        self.init_kwargs = dict(init_kwargs or {})
        self._owns_ray = False
        self._remote: Any = None
        self._deliveries: Deliveries | None = None
        self._shipments = Shipments()
        self._unsettled: set[Any] = set()  # refs placed and not yet delivered
        self._named: dict[str, Any] = {}  # the remote function, named after each task

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
        self._remote = ray.remote(max_retries=0)(run_shipped_positional)
        self._named = {}
        self._deliveries = Deliveries(
            "flowc-ray-results", lambda futures: [_outcome_of(f) for f in futures]
        )

    def _shutdown(self, abandon_running: bool) -> None:
        """Stop delivering, cancel what Ray still runs for us, stop Ray if we started it."""
        deliveries, self._deliveries = self._deliveries, None
        self._remote = None
        self._named = {}
        if deliveries is not None:
            deliveries.stop()
            deliveries.join(_STOP_TIMEOUT)
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

    def _place(self, run: TaskRun, call: Call, on_start: OnStart, on_done: OnDone) -> Any:
        remote, deliveries = self._remote, self._deliveries
        if remote is None or deliveries is None:
            raise RuntimeError("the Ray task runner is shutting down; the call was not sent")
        payload = pickle_call(run, call)
        upstreams = self._shipments.inputs_of(run)
        on_start()
        named = self._named.get(run.task.name)
        if named is None:  # ``options()`` builds a class: once per task name, not per call
            named = self._named[run.task.name] = remote.options(name=run.task.name)
        ref = named.remote(payload, tuple(upstreams), *upstreams.values())
        self._shipments.placed(run, ref)
        self._unsettled.add(ref)
        deliveries.watch(ref.future(), functools.partial(self._settle, run, ref, on_done))
        return ref

    def _settle(
        self, run: TaskRun, ref: Any, on_done: OnDone, outcome: Outcome | BaseException
    ) -> None:
        self._unsettled.discard(ref)
        on_done(outcome)
        self._shipments.settled(run)

    def resolve_inputs(self, run: TaskRun) -> dict[str, Any]:
        return self._shipments.resolve_inputs(run)

    def interrupt(self, handle: Any, exc: BaseException) -> None:
        """Kill the worker running the call (Ray starts another when one is needed)."""
        with contextlib.suppress(Exception):
            ray.cancel(handle, force=True)

    def __repr__(self) -> str:
        return f"RayTaskRunner(address={self.address!r}, init_kwargs={self.init_kwargs!r})"


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


def _outcome_of(future: concurrent.futures.Future[Any]) -> Outcome | BaseException:
    if future.cancelled():
        return concurrent.futures.CancelledError()
    error = future.exception()
    if error is not None:  # e.g. WorkerCrashedError: the worker died running the call
        return error
    outcome = future.result()
    if not isinstance(outcome, Outcome):
        return RuntimeError(f"a flowc Ray task returned {type(outcome).__name__}, not an Outcome")
    return outcome
