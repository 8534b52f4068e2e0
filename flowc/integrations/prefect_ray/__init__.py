"""``prefect_ray``: flowc's ``RayTaskRunner`` at Prefect's import path."""

from __future__ import annotations

from typing import Any

__all__ = ["RayTaskRunner"]  # noqa: F822


def __getattr__(name: str) -> Any:
    if name == "RayTaskRunner":
        import flowc.task_runners

        return flowc.task_runners.RayTaskRunner
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
