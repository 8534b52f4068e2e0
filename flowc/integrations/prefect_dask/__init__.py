"""``prefect_dask``: flowc's ``DaskTaskRunner`` and Prefect's Dask client helpers."""

from __future__ import annotations

from typing import Any

from flowc.integrations.prefect_dask.utils import get_async_dask_client, get_dask_client

__all__ = ["DaskTaskRunner", "get_async_dask_client", "get_dask_client"]  # noqa: F822


def __getattr__(name: str) -> Any:
    if name == "DaskTaskRunner":
        import flowc.task_runners

        return flowc.task_runners.DaskTaskRunner
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
