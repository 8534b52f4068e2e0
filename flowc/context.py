"""``prefect.context``: the current flow run and task run, as Prefect's context objects.

Prefect's ``FlowRunContext.get()`` / ``TaskRunContext.get()`` / ``get_run_context()`` give
its engine's context models; flow code reads a few fields of them (``ctx.flow_run.name``,
``ctx.task_run.id``, ``ctx.flow.name``, ``ctx.parameters``). These are read-only views of
flowc's current runs with those fields, made from :mod:`flowc.runtime.context` on each call.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from flowc.exceptions import MissingContextError
from flowc.runtime.context import current_flow_run, current_task_run
from flowc.runtime.tags import tags

__all__ = ["FlowRunContext", "TaskRunContext", "get_run_context", "tags"]


def _utc(timestamp: float | None) -> datetime.datetime | None:
    if timestamp is None:
        return None
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc)


class FlowRunInfo:
    """The fields of Prefect's ``FlowRun`` that a local run has."""

    def __init__(self, run: Any) -> None:
        self.id: uuid.UUID = run.id
        self.name: str = run.run_name
        self.flow_name: str = run.name
        self.parameters: dict[str, Any] = run.parameters
        self.run_count: int = run.run_count
        self.tags: list[str] = sorted(run.tags)
        self.parent_task_run_id: uuid.UUID | None = (
            run.record.id if run.record is not None else None
        )
        self.start_time = self.expected_start_time = _utc(run.start)
        self.state = run.state
        self.deployment_id = None
        self.job_variables: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"FlowRun(id={self.id!r}, name={self.name!r})"


class TaskRunInfo:
    """The fields of Prefect's ``TaskRun`` that a local run has."""

    def __init__(self, run: Any) -> None:
        self.id: uuid.UUID = run.id
        self.name: str = run.name
        self.flow_run_id: uuid.UUID | None = run.flow_run.id if run.flow_run is not None else None
        self.run_count: int = run.run_count
        self.tags: list[str] = sorted(run.tags)
        self.start_time = self.expected_start_time = _utc(run.start)
        self.state = run.state

    def __repr__(self) -> str:
        return f"TaskRun(id={self.id!r}, name={self.name!r})"


class FlowRunContext:
    """The flow run the calling code is in: ``flow_run``, ``flow``, ``parameters``."""

    def __init__(self, run: Any) -> None:
        self.flow_run = FlowRunInfo(run)
        self.flow = run.flow
        self.parameters: dict[str, Any] = run.parameters
        self.task_runner = run.runner

    @classmethod
    def get(cls) -> FlowRunContext | None:
        run = current_flow_run()
        return cls(run) if run is not None else None


class TaskRunContext:
    """The task run the calling code is in: ``task_run``, ``task``, ``parameters``."""

    def __init__(self, run: Any) -> None:
        from flowc.runtime.task_run import get_parameters

        self.task_run = TaskRunInfo(run)
        self.task = run.task
        self.parameters: dict[str, Any] = get_parameters()

    @classmethod
    def get(cls) -> TaskRunContext | None:
        run = current_task_run()
        return cls(run) if run is not None else None


def get_run_context() -> FlowRunContext | TaskRunContext:
    """The task run's context inside a task, else the flow run's; an error outside both."""
    task_run_ctx = TaskRunContext.get()
    flow_run_ctx = FlowRunContext.get()
    if task_run_ctx is not None and flow_run_ctx is not None:
        # a subflow called inside a task: the flow run is the code now running
        if flow_run_ctx.flow_run.id != task_run_ctx.task_run.flow_run_id:
            return flow_run_ctx
        return task_run_ctx
    if task_run_ctx is not None:
        return task_run_ctx
    if flow_run_ctx is not None:
        return flow_run_ctx
    raise MissingContextError(
        "No run context available. You are not in a flow or task run context."
    )
