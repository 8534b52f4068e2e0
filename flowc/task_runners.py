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

_OPTIONAL = {
    "DaskTaskRunner": ("flowc.runtime.runners.dask", "dask", "distributed"),
    "RayTaskRunner": ("flowc.runtime.runners.ray", "ray", "ray"),
}


def __getattr__(name: str) -> Any:
    if name not in _OPTIONAL:
        raise AttributeError(f"module 'flowc.task_runners' has no attribute {name!r}")
    module_name, extra, library = _OPTIONAL[name]
    import importlib
    import importlib.util

    if importlib.util.find_spec(library) is None:
        raise ImportError(
            f"{name} needs the {library!r} package: install it with pip install 'flowc[{extra}]'"
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            raise ImportError(f"{name} is not available in this version of flowc") from None
        raise
    return getattr(module, name)
