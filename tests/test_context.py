"""``flowc.context``: Prefect's run-context objects, as views of the current runs."""

from __future__ import annotations

from typing import Any

import pytest

import flowc
from flowc import flow, task
from flowc.context import FlowRunContext, TaskRunContext, get_run_context, tags
from flowc.exceptions import MissingContextError


def test_outside_a_run() -> None:
    assert FlowRunContext.get() is None and TaskRunContext.get() is None
    with pytest.raises(MissingContextError, match="No run context available"):
        get_run_context()


def test_flow_body_task_and_subflow_in_a_task() -> None:
    seen: dict[str, Any] = {}

    @flow
    def inner() -> None:
        seen["inner"] = get_run_context()

    @task
    def work(x: int) -> None:
        seen["task"] = get_run_context()
        seen["task_flow"] = FlowRunContext.get()
        inner()

    @flow(name="ctx-flow")
    def outer(n: int = 1) -> None:
        seen["flow"] = get_run_context()
        with tags("t"):
            work(n + 1)

    with flowc.capture() as runs:
        outer(n=3)
    root = runs.last
    flow_ctx, task_ctx = seen["flow"], seen["task"]
    assert isinstance(flow_ctx, FlowRunContext)
    assert (flow_ctx.flow_run.id, flow_ctx.flow_run.name) == (root.id, root.run_name)
    assert (flow_ctx.flow.name, flow_ctx.parameters) == ("ctx-flow", {"n": 3})
    assert isinstance(task_ctx, TaskRunContext)
    record = root.records[0]
    assert (task_ctx.task_run.id, task_ctx.task_run.name) == (record.id, record.name)
    assert (task_ctx.task_run.flow_run_id, task_ctx.task.name) == (root.id, "work")
    assert (task_ctx.parameters, task_ctx.task_run.tags) == ({"x": 4}, ["t"])
    assert seen["task_flow"].flow_run.id == root.id
    assert isinstance(seen["inner"], FlowRunContext)
    assert seen["inner"].flow_run.parent_task_run_id is not None
