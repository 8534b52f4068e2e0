"""``prefect_dask.utils``: a Dask client for the cluster the current run executes on.

A task running on flowc's ``DaskTaskRunner`` runs inside a Dask worker; work it hands to Dask
collections would run serially in that worker unless it talks to the scheduler, so these give
it a client of the same scheduler, as Prefect's do. In the flow body they connect to the flow
run's runner's cluster; anywhere else, ``distributed.Client`` decides (a new local cluster).
Inside a worker the Dask worker itself says which scheduler it serves.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import AsyncIterator, Iterator
from typing import Any

from flowc.runtime.context import current_flow_run, current_task_run

__all__ = ["get_async_dask_client", "get_dask_client"]

Timeout = int | float | str | datetime.timedelta


def _client_kwargs(
    async_client: bool, timeout: Timeout | None, client_kwargs: dict[str, Any]
) -> dict[str, Any]:

    task_run = current_task_run()
    flow_run = current_flow_run()
    kwargs: dict[str, Any] = {}
    address = None
    asynchronous = async_client
    worker = _dask_worker()
    if worker is not None:  # a task running on a Dask worker: its scheduler
        address = worker.scheduler.address
        if task_run is not None:
            asynchronous = bool(getattr(task_run.task, "isasync", False))
    elif flow_run is not None and task_run is None:
        runner = flow_run.runner
        client = getattr(runner, "client", None)
        if client is None:
            raise RuntimeError(
                f"get_dask_client in flow run {flow_run.run_name!r} needs the flow to run on "
                f"DaskTaskRunner (it runs on {type(runner).__name__})"
            )
        kwargs.update(getattr(runner, "client_kwargs", {}) or {})
        address = client.scheduler.address
        asynchronous = bool(getattr(flow_run.flow, "isasync", False))
    kwargs["address"] = address
    kwargs["asynchronous"] = asynchronous
    if timeout is not None:
        kwargs["timeout"] = timeout
    kwargs.update(client_kwargs)
    return kwargs


def _dask_worker() -> Any:
    import distributed

    try:
        return distributed.get_worker()
    except ValueError:  # not inside a Dask worker
        return None


@contextlib.contextmanager
def get_dask_client(timeout: Timeout | None = None, **client_kwargs: Any) -> Iterator[Any]:
    """A temporary synchronous ``distributed.Client`` of the current run's cluster."""
    import distributed

    with distributed.Client(**_client_kwargs(False, timeout, client_kwargs)) as client:
        yield client


@contextlib.asynccontextmanager
async def get_async_dask_client(
    timeout: Timeout | None = None, **client_kwargs: Any
) -> AsyncIterator[Any]:
    """A temporary asynchronous ``distributed.Client`` of the current run's cluster."""
    import distributed

    async with distributed.Client(**_client_kwargs(True, timeout, client_kwargs)) as client:
        yield client
