"""Running one flow of a flow file: the runtime's work behind ``flowc run``.

The file is imported by :mod:`flowc.runtime.modules`; here the flow to run is chosen and run,
as functions with typed results, so that tests (and other front ends) call them directly. The
CLI (:mod:`flowc.cli`) parses the arguments into a :class:`RunRequest`, prints, and picks the
exit code.

* while the file loads and the flow runs, ``prefect`` and its modules resolve to flowc's;
* a flow the file already ran while it was imported (the seed examples end with a bare
  ``hello_world()``) is not run a second time: that run is the result;
* in a file of several flows, the one to run is the one its source points at (the rules are
  in :mod:`flowc.runtime.selection`), with its ``__main__`` call's literal arguments
  (checked by :mod:`flowc.runtime.parameters`).

Every problem with the input raises :class:`~flowc.runtime.modules.FlowcUsageError`, whose
message is the one line the CLI prints; an exception raised by the file's own top-level code
raises :class:`~flowc.runtime.modules.UserCodeError` carrying it.
"""

from __future__ import annotations

import collections
import contextlib
import inspect
import logging
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowc.exceptions import FlowcError
from flowc.messages import NO_FLOW, flow_listing, no_flow_named
from flowc.runtime import selection
from flowc.runtime.flows import Flow, use_task_runner
from flowc.runtime.modules import (
    FlowcUsageError,
    LoadedModule,
    UserCodeError,
    load_module,
    read_source,
)
from flowc.runtime.parameters import check_params
from flowc.runtime.report import RunCapture, capture

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from flowc.planfacts import FlowFacts
    from flowc.runtime.flowrun import FlowRun
    from flowc.runtime.runners.base import TaskRunner
    from flowc.runtime.states import State

__all__ = [
    "FoundFlow",
    "Observer",
    "RunInterrupted",
    "RunOutcome",
    "RunRequest",
    "Target",
    "choose_flow",
    "find_flows",
    "run_file",
    "select_flow",
    "static_entry",
]


class RunInterrupted(FlowcError):
    """Ctrl-C during the load or the run; carries the top-level flow run that was running."""

    def __init__(self, flow_run: FlowRun | None) -> None:
        self.flow_run = flow_run
        super().__init__("interrupted")


# --------------------------------------------------------------------------- the request


@dataclass(frozen=True)
class Target:
    """``FILE[:FLOW]``: the file as the user typed it and the flow name, if one was given."""

    path: Path
    flow: str | None = None


@dataclass(frozen=True)
class RunRequest:
    """Everything ``flowc run`` checked before touching the file."""

    target: Target
    params: dict[str, str] = field(default_factory=dict)
    runner: TaskRunner | None = None
    #: plan mode: the compiled flow to run from (see flowc.runtime.planexec), else dynamic.
    plan: FlowFacts | None = None
    #: ``--checkpoint DIR`` / ``--resume DIR``: where completed results are kept.
    checkpoint: Path | None = None
    resume: bool = False


# --------------------------------------------------------------------------- flows


@dataclass(frozen=True)
class FoundFlow:
    """A flow in the loaded module: the object, the name it is bound to, its line."""

    flow: Flow[Any]
    attribute: str
    line: int
    local: bool

    @property
    def function_name(self) -> str:
        return str(getattr(self.flow.fn, "__name__", self.attribute))

    @property
    def label(self) -> str:
        """The flow's ``name=`` if it has one, else its function's name."""
        default = self.function_name.replace("_", "-")
        return self.function_name if self.flow.name == default else self.flow.name


def find_flows(module: types.ModuleType) -> list[FoundFlow]:
    """Every distinct flow bound at the module's top level, in source order."""
    found: dict[int, FoundFlow] = {}
    filename = getattr(module, "__file__", None)
    for attribute, value in list(vars(module).items()):
        if isinstance(value, Flow) and id(value) not in found:
            code = getattr(value.fn, "__code__", None)
            line = code.co_firstlineno if code is not None else 0
            local = code is not None and code.co_filename == filename
            found[id(value)] = FoundFlow(value, attribute, line, local)
    return sorted(found.values(), key=lambda item: (not item.local, item.line))


def _names(flows: list[FoundFlow]) -> list[tuple[str, str]]:
    return [(item.flow.name, item.function_name) for item in flows]


def select_flow(path: Path, flows: list[FoundFlow], name: str | None) -> FoundFlow:
    """The flow ``FILE[:FLOW]`` names: by variable, flow name or function name."""
    if name is None:
        candidates = [item for item in flows if item.local] or flows
        if not candidates:
            raise FlowcUsageError(f"{path}: {NO_FLOW}")
        if len(candidates) > 1:
            raise FlowcUsageError(
                f"{path}: {len(candidates)} flows found, pick one with FILE:FLOW "
                f"(its flows: {flow_listing(_names(candidates))})"
            )
        return candidates[0]
    keys: list[Callable[[FoundFlow], str]] = [
        lambda item: item.attribute,
        lambda item: item.flow.name,
        lambda item: item.function_name,
    ]
    for key in keys:
        matches = [item for item in flows if key(item) == name]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise FlowcUsageError(
                f"{path}: {name!r} names several flows ({flow_listing(_names(matches))})"
            )
    raise FlowcUsageError(no_flow_named(path, name, _names(flows)))


# --------------------------------------------------------------------------- running


@dataclass(frozen=True)
class RunOutcome:
    """A finished top-level flow run of the selected flow."""

    flow: FoundFlow
    flow_run: FlowRun
    #: True when the file ran the flow itself while it was imported.
    at_import: bool

    @property
    def state(self) -> State:
        return self.flow_run.state


Observer = Callable[[RunCapture], "AbstractContextManager[object]"]


def run_file(
    request: RunRequest,
    observe: Observer | None = None,
    say: Callable[[str], None] | None = None,
) -> RunOutcome:
    """Load the file and run the selected flow (or take the run the file made at import).

    ``observe(capture)`` is entered around the load and the run (the CLI's live display);
    the runner override applies to runs the file starts at import too. ``say(line)`` hears
    which flow was chosen when the file has several, and why.
    """
    with capture() as runs, use_task_runner(request.runner):
        try:
            with observe(runs) if observe else contextlib.nullcontext():
                return _load_and_run(request, runs, say or (lambda line: None))
        except KeyboardInterrupt:
            raise RunInterrupted(runs.started[-1] if runs.started else None) from None


def _load_and_run(request: RunRequest, runs: RunCapture, say: Callable[[str], None]) -> RunOutcome:
    path = request.target.path
    _check_checkpoint_directory(request)
    with load_module(path) as loaded:
        found, entry = _selected(loaded, runs, request.target.flow)
        earlier = [run for run in runs.flow_runs if run.flow is found.flow]
        if earlier and not request.params and entry is None:
            if request.checkpoint is not None:
                logging.getLogger("flowc.runtime").warning(
                    f"{path}: the file's module-level code ran flow {found.flow.name!r} as it "
                    f"was imported, before --{'resume' if request.resume else 'checkpoint'} "
                    f"could apply: nothing was checkpointed or resumed. Put the call under "
                    f'`if __name__ == "__main__":` so that flowc run starts the flow itself.',
                )
            return RunOutcome(found, earlier[-1], at_import=True)
        values = check_params(found.flow, request.params, entry)
        flow = found.flow
        if entry is not None and entry.options:  # __main__ calls a.with_options(...)(...)
            flow = flow.with_options(**entry.options)
        if entry is not None:
            say(
                selection.choice_note(
                    path, found.label, found.flow.signature, entry, request.params
                )
            )
        with _run_options(request, flow):
            flow_run = _call(flow, values, runs)
        return RunOutcome(found, flow_run, at_import=False)


def _check_checkpoint_directory(request: RunRequest) -> None:
    """Refuse an unusable ``--checkpoint``/``--resume`` directory before importing the file
    (whose module-level code may start the flow)."""
    if request.checkpoint is None:
        return
    from flowc.runtime.checkpoint import CheckpointError, check_directory

    try:
        check_directory(request.checkpoint, resume=request.resume)
    except CheckpointError as exc:
        raise FlowcUsageError(str(exc)) from None


@contextlib.contextmanager
def _run_options(request: RunRequest, flow: Flow[Any]) -> Iterator[None]:
    """Plan mode and checkpoints, for the run ``flowc run`` starts (not runs at import)."""
    from flowc.runtime.planmode import PlanOptions, plan_mode

    facts = request.plan
    if facts is not None and flow.name != facts.name:
        facts = None  # the plan is of another flow of the file: run dynamically
    store = None
    if request.checkpoint is not None:
        from flowc.runtime.checkpoint import CheckpointError, CheckpointStore

        try:
            store = CheckpointStore.open(request.checkpoint, flow.name, create=not request.resume)
        except CheckpointError as exc:
            raise FlowcUsageError(str(exc)) from None
    if facts is None and store is None:
        yield
        return
    options = PlanOptions(
        facts=facts, defer=facts is not None, checkpoint=store, resume=request.resume
    )
    with plan_mode(options):
        yield


def _selected(
    loaded: LoadedModule, runs: RunCapture, name: str | None
) -> tuple[FoundFlow, selection.EntryCall | None]:
    """The selected flow and the ``__main__`` call of it whose arguments apply, if any.

    If the file's code raised, only when that was this flow failing: a file that ends with
    a bare ``my_flow()`` re-raises the flow's exception when the flow fails: that is the
    flow's outcome, not a broken file.
    """
    flows = find_flows(loaded.module)
    if loaded.error is None:
        return choose_flow(loaded, flows, runs, name)
    failed_run = _flow_run_failed_with(runs, loaded.error)
    try:
        found, entry = choose_flow(loaded, flows, runs, name)
    except FlowcUsageError:
        found, entry = None, None
    if failed_run is None or found is None or failed_run.flow is not found.flow:
        raise UserCodeError(loaded.path, loaded.error)
    return found, entry


def static_entry(path: Path) -> tuple[str, dict[str, Any]] | None:
    """The flow function a file of several flows runs, and its ``__main__`` arguments.

    Read from the source alone, before anything is imported, for compiling its plan.
    """
    try:
        return selection.static_choice(read_source(path))
    except FlowcUsageError:
        return None


def choose_flow(
    loaded: LoadedModule, flows: list[FoundFlow], runs: RunCapture, name: str | None
) -> tuple[FoundFlow, selection.EntryCall | None]:
    """``FILE:FLOW``'s flow, else the one the file's source points at (flowc.runtime.selection).

    Flows the file already ran at import narrow the choice when its ``__main__`` block calls
    none: the file says what it runs by running it.
    """
    shape = selection.read_shape(loaded.source, str(loaded.path)) if loaded.source else None
    bound = {attr: value for attr, value in vars(loaded.module).items() if isinstance(value, Flow)}
    body = {item.flow: item.function_name for item in flows}
    if name is not None:
        found = select_flow(loaded.path, flows, name)
        calls = shape.main_calls if shape is not None else ()
        return found, next((call for call in calls if bound.get(call.name) is found.flow), None)
    candidates = [item for item in flows if item.local] or flows
    ran = {id(run.flow) for run in runs.flow_runs}
    at_import = [item for item in flows if id(item.flow) in ran]
    if at_import and not (shape and any(n in bound for n in shape.main_names())):
        candidates = at_import
    choice = selection.choose(shape, [item.flow for item in candidates], bound, body)
    by_flow = {id(item.flow): item for item in flows}
    left = [by_flow[id(flow)] for flow in choice.flows if id(flow) in by_flow]
    try:
        return select_flow(loaded.path, left or candidates, None), choice.call
    except FlowcUsageError as exc:
        if shape is None or not shape.has_main:
            raise
        raise FlowcUsageError(f"{exc} (or run its __main__ block with --main)") from None


def _flow_run_failed_with(runs: RunCapture, error: BaseException | None) -> FlowRun | None:
    """The import-time flow run whose failure ``error`` is (a flow call re-raises it), if any."""
    if error is None:
        return None
    for run in reversed(runs.flow_runs):
        state = run.state
        if state.is_final() and not state.is_completed():
            raised = state.exception()
            if raised is error or (type(raised) is type(error) and str(raised) == str(error)):
                return run
    return None


def _call(flow: Flow[Any], values: dict[str, Any], runs: RunCapture) -> FlowRun:
    finished = len(runs.flow_runs)
    if flow.isgenerator:  # its run lasts while its items are taken: take them all
        result: Any = None
        with contextlib.suppress(Exception):  # the run's failure is its state
            collections.deque(flow(**values), maxlen=0)
    else:
        result = flow(**values, return_state=True)
    if inspect.iscoroutine(result):
        import asyncio

        result = asyncio.run(result)
    for run in runs.flow_runs[finished:]:
        if run.flow is flow:
            return run
    # Only a parameter rejected inside the call leaves no run; check_params should prevent it.
    raise FlowcUsageError(f"flow {flow.name!r} did not start: {result}")
