"""``get_run_logger`` at Prefect's import path: a logger that names the current run."""

from __future__ import annotations

import logging
from typing import Any

from flowc.runtime.context import current_flow_run, current_task_run

__all__ = ["get_logger", "get_run_logger"]


def get_logger(name: str | None = None) -> logging.Logger:
    return logging.getLogger("flowc" if name is None else f"flowc.{name}")


def get_run_logger(**extra: Any) -> logging.LoggerAdapter[logging.Logger]:
    """A logger whose records carry the flow run and task run they come from."""
    task_run = current_task_run()
    flow_run = current_flow_run()
    context: dict[str, Any] = dict(extra)
    if flow_run is not None:
        context.update(flow_run_name=flow_run.run_name, flow_name=flow_run.name)
    if task_run is not None:
        context.update(task_run_name=task_run.name, task_name=task_run.task.name)
        return logging.LoggerAdapter(logging.getLogger("flowc.task_runs"), context)
    return logging.LoggerAdapter(logging.getLogger("flowc.flow_runs"), context)
