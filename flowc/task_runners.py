"""Task runners at Prefect's import path.

``DaskTaskRunner`` and ``RayTaskRunner`` load on first use, so ``import flowc`` never imports
Dask or Ray; asking for one without its extra says which extra to install.
"""

from __future__ import annotations

from typing import Any

from flowc.runtime.runners.base import TaskRunner
from flowc.runtime.runners.processes import ProcessPoolTaskRunner
from flowc.runtime.runners.threads import ThreadPoolTaskRunner

__all__ = [
    "DaskTaskRunner",  # noqa: F822 - loaded on first use by __getattr__
    "ProcessPoolTaskRunner",
    "RayTaskRunner",  # noqa: F822 - loaded on first use by __getattr__
    "TaskRunner",
    "ThreadPoolTaskRunner",
]


def __getattr__(name: str) -> Any:
    from flowc.runtime.runners.registry import runner_class

    if name not in ("DaskTaskRunner", "RayTaskRunner"):
        raise AttributeError(f"module 'flowc.task_runners' has no attribute {name!r}")
    return runner_class(name)
