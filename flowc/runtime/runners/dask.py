"""Runs task calls on a Dask cluster: a ``LocalCluster`` it starts, or one it is given.

The engine decides everything (states, retries, timeouts, when a run is ready); Dask
only runs calls. A task run is one Dask task — the whole run, its attempts executed by the
engine on the worker (see :mod:`flowc.runtime.worker`) — keyed by its task name, run id and
placement, and
an upstream's result reaches its downstream as a Dask dependency, worker to worker (see
:mod:`flowc.runtime.runners.remote`). Outcomes come back on one thread that gathers finished
results in batches and hands them to the engine, so no engine code runs on Dask's threads and
no thread blocks per call.

The runner closes only what it started: a cluster given by ``cluster=`` or reached at
``address=`` keeps running. Its own cluster listens on loopback only (its HTTP server, the
dashboard when bokeh is installed, on a free port: ``runner.client.dashboard_link``), and a
task may kill at most two of its workers (``distributed.scheduler.allowed-failures`` = 1)
before its run is Crashed: the second try is for innocent calls that shared the dead worker.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import distributed
from distributed.utils import import_term

from flowc.runtime.calls import Outcome
from flowc.runtime.runners import dask_cluster, wire
from flowc.runtime.runners.remote import (
    ClusterRunner,
    ClusterUnreachable,
    Deliver,
    Deliveries,
    Shipments,
    run_shipped,
)

if TYPE_CHECKING:
    from flowc.runtime.taskrun import TaskRun

__all__ = ["ClusterUnreachable", "DaskTaskRunner"]

_CLOSE_TIMEOUT = 10.0
_ABANDON_TIMEOUT = 3.0  # Ctrl-C: close fast, the nannies kill what does not stop


class DaskTaskRunner(ClusterRunner):
    """Task runs on Dask workers; Prefect's arguments, with ``duplicate()`` keeping ``cluster``."""

    def __init__(
        self,
        cluster: Any = None,
        address: str | None = None,
        cluster_class: str | Callable[..., Any] | None = None,
        cluster_kwargs: dict[str, Any] | None = None,
        adapt_kwargs: dict[str, Any] | None = None,
        client_kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        dask_cluster.check_arguments(cluster, address, cluster_class, cluster_kwargs, adapt_kwargs)
        if isinstance(cluster_class, str):
            try:
                cluster_class = import_term(cluster_class)
            except (ImportError, AttributeError) as exc:
                raise ValueError(
                    f"cluster_class {cluster_class!r} cannot be imported ({exc}): give a class "
                    "or its full import path, e.g. 'distributed.LocalCluster'"
                ) from None
        self.cluster = cluster
        self.address = address
        self.cluster_class = cluster_class
        self.cluster_kwargs = dict(cluster_kwargs or {})
        self.adapt_kwargs = dict(adapt_kwargs or {})
        self.client_kwargs = dict(client_kwargs or {})
        self._client: distributed.Client | None = None
        self._own_cluster: Any = None
        self._deliveries: Deliveries | None = None
        self._placements = itertools.count()

    @property
    def max_workers(self) -> int | None:
        """The worker count asked of the runner's own cluster (``cluster_kwargs['n_workers']``)."""
        workers = self.cluster_kwargs.get("n_workers")
        return workers if isinstance(workers, int) else None

    @property
    def client(self) -> distributed.Client | None:
        """The Dask client while the runner is entered (for ``who_has``, dashboards, ...)."""
        return self._client

    def duplicate(self) -> DaskTaskRunner:
        return type(self)(
            cluster=self.cluster,
            address=self.address,
            cluster_class=self.cluster_class,
            cluster_kwargs=self.cluster_kwargs,
            adapt_kwargs=self.adapt_kwargs,
            client_kwargs=self.client_kwargs,
        )

    def _start(self) -> None:
        self._shipments = Shipments()
        if self.address is not None:
            self._client = dask_cluster.connect(self.address, self.client_kwargs)
        else:
            cluster = self.cluster
            if cluster is None:
                cluster = self._own_cluster = dask_cluster.start_cluster(
                    self.cluster_class, self.cluster_kwargs
                )
            try:
                if self.adapt_kwargs:
                    cluster.adapt(**self.adapt_kwargs)
                self._client = distributed.Client(cluster, **self.client_kwargs)
            except BaseException:
                self._close_own_cluster(_ABANDON_TIMEOUT)
                raise
        dask_cluster.tune(self._client)
        self._deliveries = Deliveries(
            "flowc-dask-results", functools.partial(_gathered, self._client)
        )

    def _shutdown(self, abandon_running: bool) -> None:
        """Stop delivering, cancel what is still on the cluster, close what this runner made.

        Abandoning (Ctrl-C, or calls left behind by timeouts) kills the worker processes of
        the runner's own cluster first: a worker busy in a task holds a graceful close for
        seconds, and Dask would try again at interpreter exit.
        """
        client, self._client = self._client, None
        deliveries, self._deliveries = self._deliveries, None
        natives = self._shipments.natives()
        self._shipments.clear()
        timeout = _ABANDON_TIMEOUT if abandon_running else _CLOSE_TIMEOUT
        try:
            if deliveries is not None:
                deliveries.stop()
            if client is not None:
                pending = [future for future in natives if not future.done()]
                del natives
                if pending:
                    with contextlib.suppress(Exception):
                        client.cancel(pending, force=True)
                with contextlib.suppress(Exception):
                    client.close(timeout=timeout)
        finally:
            self._close_own_cluster(timeout, kill_workers=abandon_running)
            if deliveries is not None:
                deliveries.join(_ABANDON_TIMEOUT)

    def _close_own_cluster(self, timeout: float, kill_workers: bool = False) -> None:
        cluster, self._own_cluster = self._own_cluster, None
        if cluster is None:
            return
        if kill_workers:
            dask_cluster.kill_worker_processes(cluster)
        with contextlib.suppress(Exception):
            cluster.close(timeout=timeout)

    def _submit(self, run: TaskRun, payload: bytes, upstreams: dict[str, Any]) -> Any:
        client = self._client
        if client is None:
            raise RuntimeError("the Dask task runner is shutting down; the call was not sent")
        # Unique per placement: a pipelined run that gave way is placed again, and Dask would
        # hand back the old future for a key it knows.
        key = f"{run.task.name}-{run.id.hex}-{next(self._placements)}"
        return client.submit(run_shipped, payload, upstreams, key=key, pure=False)

    def _watch(self, native: Any, deliver: Deliver) -> None:
        if self._deliveries is None:
            raise RuntimeError("the Dask task runner is shutting down; the call was not sent")
        self._deliveries.watch(native, deliver)

    @property
    def worker_count(self) -> int:
        """Threads across the cluster's workers (what runs at once), for sizing batches."""
        client = self._client
        if client is None:
            return super().worker_count
        try:
            workers = client.scheduler_info().get("workers", {}).values()
            return max(1, sum(int(w.get("nthreads", 1)) for w in workers))
        except Exception:
            return super().worker_count

    def _cancel(self, native: Any) -> None:
        native.cancel()

    def __repr__(self) -> str:
        names = ("cluster", "address", "cluster_class", "cluster_kwargs", "adapt_kwargs")
        given = {name: getattr(self, name) for name in (*names, "client_kwargs")}
        shown = ", ".join(f"{name}={value!r}" for name, value in given.items() if value)
        return f"DaskTaskRunner({shown})"


def _gathered(client: distributed.Client, futures: list[Any]) -> list[Outcome | BaseException]:
    """The outcomes of done futures: every finished result of the batch in one ``gather``."""
    finished = {future.key: future for future in futures if future.status == "finished"}
    values: dict[Any, Any] = {}
    if finished:
        try:
            values = client.gather(finished, errors="skip")
        except Exception:  # one result that does not pickle spoils the batch: fetch each
            values = {key: _result_or_error(future) for key, future in finished.items()}
    return [_outcome_of(future, values.get(future.key)) for future in futures]


def _result_or_error(future: distributed.Future) -> Any:
    try:
        return future.result()
    except Exception as exc:
        return exc


def _outcome_of(future: distributed.Future, value: Any) -> Outcome | BaseException:
    if isinstance(value, bytes):
        return wire.outcome_of(value)
    if isinstance(value, BaseException):
        return value
    if future.cancelled():
        return RuntimeError(
            "Dask cancelled the call (its scheduler restarted or closed, or another client "
            "cancelled it)"
        )
    try:
        error = future.exception()  # e.g. KilledWorker: the worker died running it
    except Exception as exc:
        error = exc
    if error is None:
        return RuntimeError(f"the result of Dask task {future.key!r} was lost")
    return error if isinstance(error, BaseException) else RuntimeError(str(error))
