"""The run context a cache key function receives (``prefect.context.TaskRunContext``).

Prefect hands ``cache_key_fn(context, parameters)`` its ``TaskRunContext``; documented key
functions read ``context.task``, ``context.task_run.flow_run_id``, ``context.task_run_id`` or
``context.parameters``. This is that object, made from flowc's task run, plus the fields a
``result_storage_key`` template may name (``{flow_run.name}``, ``{task_run.task_name}``...).
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flowc.runtime.context import flow_run_var, task_run_var

if TYPE_CHECKING:
    from flowc.runtime.taskrun import TaskRun

__all__ = ["FlowRunContext", "TaskRunContext", "runtime_fields"]


@dataclass
class TaskRunContext:
    """The task, its run (``id``, ``name``, ``flow_run_id``) and its arguments."""

    task: Any
    task_run: Any
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def task_run_id(self) -> Any:
        return self.task_run.id

    @property
    def flow_run_id(self) -> Any:
        return self.task_run.flow_run_id

    @classmethod
    def of(cls, run: TaskRun) -> TaskRunContext:
        flow_run = run.flow_run
        view = types.SimpleNamespace(
            id=run.id,
            name=run.name,
            task_name=run.task.name,
            flow_run_id=flow_run.id if flow_run is not None else None,
            run_count=run.run_count,
            parameters=run.parameters,
        )
        return cls(task=run.task, task_run=view, parameters=run.parameters)

    @classmethod
    def get(cls) -> TaskRunContext | None:
        """The context of the task run the calling code runs in, if any."""
        run = task_run_var.get()
        return cls.of(run) if run is not None else None


@dataclass
class FlowRunContext:
    """The flow, its run and its parameters."""

    flow: Any
    flow_run: Any
    parameters: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def get(cls) -> FlowRunContext | None:
        run = flow_run_var.get()
        if run is None:
            return None
        view = types.SimpleNamespace(id=run.id, name=run.run_name, flow_name=run.flow.name)
        return cls(flow=run.flow, flow_run=view, parameters=run.parameters)


def runtime_fields(run: TaskRun) -> dict[str, Any]:
    """``flow_run``, ``task_run`` and ``deployment`` as ``prefect.runtime`` names them."""
    flow_run = run.flow_run
    return {
        "flow_run": types.SimpleNamespace(
            id=flow_run.id if flow_run is not None else None,
            name=flow_run.run_name if flow_run is not None else None,
            flow_name=flow_run.flow.name if flow_run is not None else None,
            parameters=flow_run.parameters if flow_run is not None else {},
        ),
        "task_run": types.SimpleNamespace(
            id=run.id, name=run.name, task_name=run.task.name, parameters=run.parameters
        ),
        "deployment": types.SimpleNamespace(id=None, name=None, parameters={}),
    }
