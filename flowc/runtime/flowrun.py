"""Running a flow: one flow run, its runner, its task runs, and its final state.

The final state follows Prefect's rule, from the return value only: futures in it are waited
for; a returned future or state, or a flat list/tuple/set of them, is aggregated (all
completed → Completed, any cancelled → Cancelled, else Failed); any other value → Completed,
even if tasks failed; an exception escaping the body → Failed.

flowc differs from Prefect in one deliberate way: at flow exit it waits for every task run
the flow created, so no submitted work is lost, and warns naming the call sites of futures
that were never resolved.
"""

from __future__ import annotations

import collections
import types
import uuid
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flowc.runtime import states
from flowc.runtime.context import flow_run_var, task_run_var
from flowc.runtime.futures import TaskRunFuture, TaskRunFutureList
from flowc.runtime.inputs import replace_runs
from flowc.runtime.lineage import ResultLinks
from flowc.runtime.states import State
from flowc.runtime.tags import current_tags

if TYPE_CHECKING:
    from flowc.runtime.flows import Flow
    from flowc.runtime.runners.base import TaskRunner
    from flowc.runtime.taskrun import TaskRun

__all__ = ["FlowRun", "UnresolvedFuturesWarning", "final_state_of"]


class UnresolvedFuturesWarning(UserWarning):
    """A flow finished without resolving some terminal futures (lint rule FC001)."""


class FlowRun:
    """One run of a flow: its parameters, runner, task runs and state."""

    #: told of each task run created and each state set in this tree of flow runs; only a
    #: worker's stand-in for the driver's flow run has one (see flowc.runtime.worker).
    observer: Any = None
    #: what a worker is told of this flow run, made on first use (see flowc.runtime.placed).
    worker_info: bytes | None = None

    def __init__(
        self,
        flow: Flow[Any],
        parameters: dict[str, Any],
        parent: FlowRun | None,
        record: TaskRun | None,
        render_name: bool = True,
    ) -> None:
        self.id = uuid.uuid4()
        self.flow = flow
        self.name = flow.name
        self.parameters = parameters
        self.parent = parent
        self.root: FlowRun = parent.root if parent is not None else self
        #: the task run that stands for this subflow in its parent, if it is one.
        self.record = record
        rendered = flow.render_run_name(parameters) if render_name else None
        self.run_name = rendered or f"{flow.name}-{self.id.hex[:6]}"
        self.runner: TaskRunner = None  # type: ignore[assignment]  # set when entered
        self.runs: list[TaskRun] = []
        #: results of this flow run's task runs by identity, for value edges (lineage).
        self.links = ResultLinks()
        self.state: State = states.Pending()
        self.start: float | None = None
        self.end: float | None = None
        self.run_count = 0
        #: the tags of the ``tags(...)`` blocks around the call of the flow.
        self.tags: frozenset[str] = current_tags()
        #: a generator the body returned (consumed into the state's data), given back as is.
        self.returned_generator: Any = None
        if parent is None:
            #: every task run of the whole tree of flow runs, in creation order.
            self.records: list[TaskRun] = []
            self.flow_runs: list[FlowRun] = []
            #: runs per call site so far, for node ids (see flowc.runtime.nodeids).
            self.node_counters: dict[str, Any] = {}
            code = getattr(getattr(flow, "fn", None), "__code__", None)
            self.source_file: str | None = code.co_filename if code is not None else None
            from flowc.runtime.planmode import active_plan

            #: how this run executes in plan mode (None: dynamically), for the whole tree.
            self.plan = active_plan()
            #: ``PREFECT_RESULTS_PERSIST_BY_DEFAULT`` as it was when this tree started (read
            #: once: every task run asks, see flowc.runtime.caching).
            self.persist_by_default: bool | None = None
        #: plan mode: runs the body submitted that wait for the next flush (see planexec);
        #: a run for another runner than the flow's is held with it, as ``(run, runner)``
        #: (the common run is held alone: a million held runs, no million pairs).
        self.deferred: list[TaskRun | tuple[TaskRun, TaskRunner]] | None = (
            [] if self.root.plan is not None and self.root.plan.defer else None
        )
        self.root.flow_runs.append(self)
        if parent is None:
            from flowc.runtime.report import notify_started

            notify_started(self)

    def add(self, run: TaskRun) -> None:
        self.runs.append(run)
        self.root.records.append(run)

    def flush(self) -> None:
        """Plan mode: dispatch what the body has submitted so far, as one optimised graph."""
        from flowc.runtime.planexec import flush

        flush(self)

    def wait_for_task_runs(self) -> None:
        """Wait for every task run of this flow run, including those created while waiting."""
        if self.deferred:
            self.flush()
        index = 0
        while index < len(self.runs):
            self.runs[index].wait()
            index += 1

    def unresolved_runs(self) -> list[TaskRun]:
        """Submitted or mapped runs nobody waited on, read or passed downstream."""
        return [
            run
            for run in self.runs
            if run.kind in ("submit", "map") and not run.observed and not run.has_downstream
        ]

    def __repr__(self) -> str:
        return f"<FlowRun {self.run_name!r} {self.state}>"


def warn_unresolved(flow_run: FlowRun) -> None:
    unresolved = flow_run.unresolved_runs()
    if not unresolved:
        return
    sites: collections.Counter[str] = collections.Counter()
    for run in unresolved:
        where = f"{run.site[0]}:{run.site[1]}" if run.site else "<unknown>"
        sites[f"{where} ({run.task.name})"] += 1
    listed = ", ".join(f"{site} x{count}" if count > 1 else site for site, count in sites.items())
    warnings.warn(
        f"Flow run '{flow_run.run_name}' finished with {len(unresolved)} unresolved future(s); "
        f"flowc waited for them so no work was lost. Resolve terminal futures by returning "
        f"them, calling .result() or .wait(), or passing them to wait() (lint rule FC001). "
        f"Created at: {listed}",
        UnresolvedFuturesWarning,
        stacklevel=4,
    )


# --------------------------------------------------------------------------- final state


def final_state_of(value: Any) -> tuple[State, Any]:
    """The flow state its return value implies, and the value with futures made states.

    A returned generator is consumed into a list, as Prefect does ("generators aren't
    portable"): its code runs inside the flow run and the state holds the items.
    """
    if isinstance(value, types.GeneratorType):
        value = list(value)
    returned_runs: list[TaskRun] = []

    def to_state(run: TaskRun) -> State:
        run.observed = True
        returned_runs.append(run)
        return run.wait()

    converted = replace_runs(value, to_state)
    if isinstance(value, State) and value._run is None:
        return value, value.data if value.is_completed() else value
    if isinstance(converted, TaskRunFutureList):
        converted = list(converted)  # its states are no futures: a plain list, as Prefect's
    if isinstance(value, (TaskRunFuture, State)):
        group: list[State] | None = [converted]
    elif (
        isinstance(value, (list, tuple, set))  # subclasses too: .map's list, named tuples
        and value
        and all(isinstance(item, (TaskRunFuture, State)) for item in value)
    ):
        group = list(converted)
    else:
        group = None
    if group is None:
        return states.Completed(data=converted), converted
    return _aggregate(group, converted), converted


def _aggregate(group: list[State], converted: Any) -> State:
    total = len(group)
    if all(state.is_completed() for state in group):
        return states.Completed("All states completed.", data=converted)
    cancelled = sum(state.is_cancelled() for state in group)
    if cancelled:
        return states.Cancelled(f"{cancelled}/{total} states cancelled.", data=group)
    failed = sum(state.is_failed() or state.is_crashed() for state in group)
    if failed:
        return states.Failed(f"{failed}/{total} states failed.", data=group)
    not_final = sum(not state.is_final() for state in group)
    return states.Failed(f"{not_final}/{total} states are not final.", data=group)


# --------------------------------------------------------------------------- running bodies


def run_body(flow_run: FlowRun, call: Callable[[], Any]) -> State:
    """Run the flow body once; turn its return value or exception into the flow's state."""
    try:
        value = call()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        if flow_run.deferred:
            flow_run.flush()  # what the body submitted runs, as it would have dynamically
        return _exception_state(exc)
    if flow_run.deferred:
        flow_run.flush()
    if isinstance(value, types.GeneratorType):
        flow_run.returned_generator = value
    return final_state_of(value)[0]


def _exception_state(exc: BaseException) -> State:
    text = str(exc)
    described = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    from flowc.exceptions import TaskRunTimeoutError

    if isinstance(exc, TaskRunTimeoutError):
        return states.TimedOut(str(exc), data=exc)
    return states.Failed(f"Flow run encountered an exception: {described}", data=exc)


def returned_value(state: State, return_state: bool, flow_run: FlowRun | None = None) -> Any:
    """What calling the flow gives back: the state, the value, or the raised exception.

    A flow that returned a generator gives back that generator, consumed (as Prefect does);
    its state holds the items.
    """
    if return_state:
        return state
    if state.is_completed():
        generator = getattr(flow_run, "returned_generator", None)
        return generator if generator is not None else state.data
    raise state.exception()


def enter_context(flow_run: FlowRun) -> tuple[Any, Any]:
    return flow_run_var.set(flow_run), task_run_var.set(None)


def exit_context(tokens: tuple[Any, Any]) -> None:
    flow_token, task_token = tokens
    task_run_var.reset(task_token)
    flow_run_var.reset(flow_token)
