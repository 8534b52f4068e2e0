"""``prefect_dask.task_runners``: flowc's ``DaskTaskRunner`` at Prefect's import path."""

from __future__ import annotations

from typing import Any

__all__ = ["DaskTaskRunner"]  # noqa: F822


def __getattr__(name: str) -> Any:
    if name == "DaskTaskRunner":
        import flowc.task_runners

        return flowc.task_runners.DaskTaskRunner
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
