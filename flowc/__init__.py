"""flowc: compile, check and run Prefect-style flows.

Replacing ``prefect`` by ``flowc`` in a flow's imports is all a Prefect 3 user needs::

    from flowc import flow, task
    from flowc.futures import wait
    from flowc.task_runners import ThreadPoolTaskRunner

Everything here is importable without pulling in libcst, Dask or Ray.
"""

from __future__ import annotations

from flowc.logging import get_run_logger
from flowc.runtime.annotations import allow_failure, quote, unmapped
from flowc.runtime.flows import Flow, flow
from flowc.runtime.futures import PrefectFuture, PrefectFutureList, as_completed, wait
from flowc.runtime.report import capture
from flowc.runtime.states import State, StateType
from flowc.runtime.tags import tags
from flowc.runtime.tasks import Task, task
from flowc.server import deploy, serve

__version__ = "0.1.0"

__all__ = [
    "Flow",
    "PrefectFuture",
    "PrefectFutureList",
    "State",
    "StateType",
    "Task",
    "__version__",
    "allow_failure",
    "as_completed",
    "capture",
    "deploy",
    "flow",
    "get_run_logger",
    "quote",
    "serve",
    "tags",
    "task",
    "unmapped",
    "wait",
]
