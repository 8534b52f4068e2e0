"""``prefect.context``: the current flow run and task run, as Prefect's context objects.

Prefect's ``FlowRunContext.get()`` / ``TaskRunContext.get()`` / ``get_run_context()`` give its
engine's context models. Flow code reads a few fields of them (``ctx.flow_run.name``,
``ctx.task_run.id``, ``ctx.flow.name``, ``ctx.parameters``), and a ``cache_key_fn(context,
parameters)`` receives a ``TaskRunContext`` (``context.task``, ``context.task_run.flow_run_id``,
``context.task_run_id``). These are read-only views of flowc's runs with those fields, made
from :mod:`flowc.runtime.context` on each call; :func:`runtime_fields` gives the names a
``result_storage_key`` template may use (``{flow_run.name}``, ``{task_run.task_name}``...).
"""

from __future__ import annotations

import datetime
import types
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flowc.exceptions import MissingContextError
from flowc.runtime.context import flow_run_var, task_run_var
from flowc.runtime.tags import tags

if TYPE_CHECKING:
    from flowc.runtime.flowrun import FlowRun
    from flowc.runtime.taskrun import TaskRun

__all__ = ["FlowRunContext", "TaskRunContext", "get_run_context", "runtime_fields", "tags"]


def _utc(timestamp: float | None) -> datetime.datetime | None:
    if timestamp is None:
        return None
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc)


def _task_run_view(run: TaskRun) -> types.SimpleNamespace:
    """The fields of Prefect's ``TaskRun`` that a local run has."""
    flow_run = run.flow_run
    return types.SimpleNamespace(
        id=run.id,
        name=run.name,
        task_name=run.task.name,
        flow_run_id=flow_run.id if flow_run is not None else None,
        run_count=run.run_count,
        parameters=run.parameters,
        tags=sorted(run.tags),
        start_time=_utc(run.start),
        expected_start_time=_utc(run.start),
        state=run.state,
    )


def _flow_run_view(run: FlowRun) -> types.SimpleNamespace:
    """The fields of Prefect's ``FlowRun`` that a local run has."""
    record = run.record
    return types.SimpleNamespace(
        id=run.id,
        name=run.run_name,
        flow_name=run.flow.name,
        parameters=run.parameters,
        run_count=run.run_count,
        tags=sorted(getattr(run, "tags", ())),  # a worker's stand-in flow run has none
        parent_task_run_id=record.id if record is not None else None,
        start_time=_utc(run.start),
        expected_start_time=_utc(run.start),
        state=run.state,
        deployment_id=None,
        job_variables={},
    )


@dataclass
class TaskRunContext:
    """The task, its run (``id``, ``name``, ``flow_run_id``, ...) and its arguments."""

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
    def of(cls, run: TaskRun, parameters: dict[str, Any] | None = None) -> TaskRunContext:
        """The context of ``run``; ``parameters`` default to the arguments as recorded."""
        view = _task_run_view(run)
        return cls(
            task=run.task,
            task_run=view,
            parameters=run.parameters if parameters is None else parameters,
        )

    @classmethod
    def get(cls) -> TaskRunContext | None:
        """The context of the task run the calling code runs in (arguments resolved), if any."""
        run = task_run_var.get()
        if run is None:
            return None
        from flowc.runtime.task_run import get_parameters

        return cls.of(run, get_parameters())


@dataclass
class FlowRunContext:
    """The flow, its run and its parameters; ``task_runner`` is read only when asked for."""

    flow: Any
    flow_run: Any
    parameters: dict[str, Any] = field(default_factory=dict)
    _run: Any = field(default=None, repr=False, compare=False)

    @property
    def task_runner(self) -> Any:
        # read on demand: a worker's flow run starts its nested pool when first asked
        return self._run.runner if self._run is not None else None

    @classmethod
    def get(cls) -> FlowRunContext | None:
        run = flow_run_var.get()
        if run is None:
            return None
        return cls(flow=run.flow, flow_run=_flow_run_view(run), parameters=run.parameters, _run=run)


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
