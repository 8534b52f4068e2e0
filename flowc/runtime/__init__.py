"""The runtime half of flowc: runs flows and tasks with futures and states.

It never imports libcst or the compiler; a Dask or Ray worker needs only this half.

It is also Prefect's ``prefect.runtime``: ``flow_run``, ``task_run`` and ``deployment`` are
its submodules, loaded on first use, so that ``from flowc import runtime`` (and, under
``flowc run``, ``from prefect import runtime``) gives ``runtime.flow_run.name`` without
importing them with every ``import flowc``. They only read the current run; the engine's
records of runs are ``flowrun.FlowRun`` and ``taskrun.TaskRun`` (no underscore).
"""

from __future__ import annotations

import importlib
from typing import Any

_RUN_INFO = ("deployment", "flow_run", "task_run")


def __getattr__(name: str) -> Any:
    if name in _RUN_INFO:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
