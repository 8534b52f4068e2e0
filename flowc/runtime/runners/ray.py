"""Runs task runs as Ray tasks: on a Ray that is already running, or on one it starts.

Each task run is one Ray task — the whole run, its attempts executed by the engine on the
worker (see :mod:`flowc.runtime.worker`) — of a single remote function made once per process
(Ray registers a remote function with the cluster, and each worker loads it, once: one per
call, or per flow run, would be exported and loaded again every time), with ``max_retries=0``
because flowc's engine does the retries. Upstream results reach their downstream as
``ObjectRef`` arguments, resolved by Ray on the worker (see
:mod:`flowc.runtime.runners.remote`); outcomes come back through one waiter thread
(:mod:`flowc.runtime.runners.ray_waiter`).

The runner shuts Ray down on exit only if it started it. Its own Ray has no dashboard,
``num_cpus`` from ``init_kwargs`` or the CPU count, and shows task output on the driver.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import time
from typing import TYPE_CHECKING, Any

import ray

from flowc.runtime.calls import Outcome
from flowc.runtime.runners.ray_waiter import Waiter
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
        self._waiter: Waiter | None = None
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
        self._waiter = Waiter("flowc-ray-results")

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

    def _cancel(self, native: Any) -> None:
        """Kills the worker running the call (Ray starts another when one is needed)."""
        ray.cancel(native, force=True)

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
