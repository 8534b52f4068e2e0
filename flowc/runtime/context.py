"""Which flow run and task run the current code is running in.

Context variables, not thread-locals, so that async flows see their own run; worker threads
set them explicitly for the task they execute (executors do not carry context across).
"""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flowc.runtime.flowrun import FlowRun
    from flowc.runtime.taskrun import TaskRun

__all__ = ["current_flow_run", "current_task_run", "flow_run_var", "task_run_var"]

flow_run_var: contextvars.ContextVar[FlowRun | None] = contextvars.ContextVar(
    "flowc_flow_run", default=None
)
task_run_var: contextvars.ContextVar[TaskRun | None] = contextvars.ContextVar(
    "flowc_task_run", default=None
)


def current_flow_run() -> FlowRun | None:
    return flow_run_var.get()


def current_task_run() -> TaskRun | None:
    return task_run_var.get()
