"""Run reports: what happened in a flow run, as the ``flowc.run/1`` JSON document.

Task runs are recorded as the engine creates them; a finished top-level flow run is offered
to every active :func:`capture`, so both ``flowc run --report`` and Python callers get the
same records.
"""

from __future__ import annotations

import contextlib
import datetime
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from flowc.runtime.artifacts import ArtifactRecord, artifacts_of

if TYPE_CHECKING:
    from flowc.runtime.flowrun import FlowRun
    from flowc.runtime.states import State
    from flowc.runtime.taskrun import TaskRun

__all__ = ["SCHEMA", "RunCapture", "build_report", "capture", "notify_finished", "notify_started"]

SCHEMA = "flowc.run/1"

_captures: list[RunCapture] = []
_captures_lock = threading.Lock()


class RunCapture:
    """The top-level flow runs that started and finished while this capture was active."""

    def __init__(self) -> None:
        #: finished top-level flow runs, in the order they finished.
        self.flow_runs: list[FlowRun] = []
        #: top-level flow runs that started, in order (running ones included).
        self.started: list[FlowRun] = []

    @property
    def last(self) -> FlowRun:
        if not self.flow_runs:
            raise LookupError("no flow run finished while capturing")
        return self.flow_runs[-1]

    def report(self, flow_run: FlowRun | None = None) -> dict[str, Any]:
        return build_report(flow_run or self.last)


@contextlib.contextmanager
def capture() -> Iterator[RunCapture]:
    """Collect the flow runs that finish inside the ``with`` block (any thread)."""
    recorder = RunCapture()
    with _captures_lock:
        _captures.append(recorder)
    try:
        yield recorder
    finally:
        with _captures_lock:
            _captures.remove(recorder)


def notify_started(flow_run: FlowRun) -> None:
    with _captures_lock:
        recorders = list(_captures)
    for recorder in recorders:
        recorder.started.append(flow_run)


def notify_finished(flow_run: FlowRun) -> None:
    with _captures_lock:
        recorders = list(_captures)
    for recorder in recorders:
        recorder.flow_runs.append(flow_run)


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc).isoformat()


def state_record(state: State) -> dict[str, Any]:
    return {"type": state.type.value, "name": state.name, "message": state.message}


def task_run_record(run: TaskRun, subflow_runs: dict[int, FlowRun] | None = None) -> dict[str, Any]:
    record = {
        "id": str(run.id),
        "name": run.name,
        "task": run.task.name,
        "node": run.node,
        "flow": run.flow_name,
        "flow_run": str(run.flow_run.id) if run.flow_run is not None else None,
        "kind": run.kind,
        "state": state_record(run.state),
        "run_count": run.run_count,
        "tags": sorted(run.tags),
        "upstream": {
            "data": [str(up.id) for up in run.upstreams.edges()],
            "wait_for": [str(up.id) for up in (*run.wait_for, *(run.wait_values or ()))],
        },
        "parent": str(run.parent.id) if run.parent is not None else None,
        "start": _iso(run.start),
        "end": _iso(run.end),
    }
    if run.kind == "subflow":
        subflow = (subflow_runs or {}).get(id(run))
        record["subflow_run"] = str(subflow.id) if subflow is not None else None
    return record


def build_report(flow_run: FlowRun, result: Any = ...) -> dict[str, Any]:
    """The ``flowc.run/1`` report of a finished top-level flow run."""
    state = flow_run.state
    subflow_runs = {id(run.record): run for run in flow_run.flow_runs if run.record is not None}
    if result is ...:
        result = state.data if state.is_completed() else None
    return {
        "schema": SCHEMA,
        "flow": flow_run.name,
        "flow_run": flow_run.run_name,
        "state": state_record(state),
        "result": repr(result) if state.is_completed() else None,
        "start": _iso(flow_run.start),
        "end": _iso(flow_run.end),
        "flow_runs": [
            {
                "id": str(run.id),
                "flow": run.name,
                "name": run.run_name,
                "parent": str(run.parent.id) if run.parent is not None else None,
                "state": state_record(run.state),
                "tags": sorted(run.tags),
            }
            for run in flow_run.flow_runs
        ],
        "task_runs": [task_run_record(run, subflow_runs) for run in flow_run.records],
        "artifacts": [artifact_record(artifact) for artifact in artifacts_of(flow_run)],
    }


def artifact_record(artifact: ArtifactRecord) -> dict[str, Any]:
    return {
        "id": artifact.id,
        "key": artifact.key,
        "type": artifact.type,
        "description": artifact.description,
        "data": artifact.data,
        "flow_run": artifact.flow_run,
        "task_run": artifact.task_run,
        "created": _iso(artifact.created),
        "updated": _iso(artifact.updated),
    }
