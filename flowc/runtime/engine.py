"""The engine: creates task runs, dispatches them when ready, and moves them through states.

Design note
-----------
A run is created with the upstream runs found in its arguments and ``wait_for``. It is
*dispatched* — its inputs resolved and its call placed on the runner — only when every
upstream is final (``schedule`` counts them down with done-callbacks). So a worker never blocks
on another task, a bounded pool cannot deadlock, and the rules are the same on every runner:

* an upstream that did not complete (and is not wrapped in ``allow_failure``) makes the run
  ``NotReady`` without placing it — and its own downstreams ``NotReady`` in turn;
* on a runner of this process (threads, a direct call) each placement is one *attempt*; its
  ``Outcome`` decides Completed, a retry (after ``AwaitingRetry``), ``Failed``/``TimedOut`` or
  ``Crashed``;
* a timeout is a timer on the engine side: when it fires first, the attempt is settled as
  timed out and its placement is cancelled (its thread asked to stop); the late outcome is ignored.

Runners of other processes (processes, Dask, Ray) take the whole task run instead
(:mod:`flowc.runtime.placed`): the worker runs this same engine on it (:mod:`flowc.runtime.
worker`), attempts, retries, timeouts and hooks included, and tells the driver each state as
it happens. Dask and Ray can also take a run whose arguments are futures of runs still running
there: a run submitted to them is placed at once (:func:`dispatch_pipelined`), and if an
upstream fails the worker returns ``UpstreamNotCompleted`` instead of running it, so the
engine takes the run back into the ordinary rules above. In plan mode
(:mod:`flowc.runtime.planexec`) runs the flow body submits are held and dispatched together,
some of them fused or batched into one call.

Attempts are settled exactly once (``_claim``): the outcome callback and the timeout timer
race, and whichever claims the attempt first decides it. Finalising a run sets its completion
signal, whose callbacks dispatch downstream runs; ``finalize`` drains those in a loop rather
than recursing, so a failure at the head of a long chain does not exhaust the stack.
"""

from __future__ import annotations

import collections
import concurrent.futures
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from flowc.exceptions import MissingContextError, TaskRunTimeoutError
from flowc.runtime import caching, states
from flowc.runtime.calls import Call, Outcome, RemoteTraceback, UpstreamNotCompleted
from flowc.runtime.callsites import Site
from flowc.runtime.callsites import caller_site as _caller_site
from flowc.runtime.context import flow_run_var, task_run_var
from flowc.runtime.futures import TaskRunFuture
from flowc.runtime.inputs import NO_UPSTREAMS, Upstreams, collect_upstreams
from flowc.runtime.nodeids import assign_node_id
from flowc.runtime.states import State
from flowc.runtime.taskrun import TaskRun
from flowc.runtime.timers import call_later

if TYPE_CHECKING:
    from flowc.runtime.flowrun import FlowRun
    from flowc.runtime.runners.base import Placement, TaskRunner
    from flowc.runtime.tasks import Task

__all__ = ["call_task", "create_run", "schedule", "submit_parameters", "submit_task"]

logger = logging.getLogger("flowc.runtime")

_lock = threading.Lock()
_local = threading.local()
#: ``wait_for`` of a run given none: one shared, never-mutated empty list (a finished run's
#: record is kept for the flow's report; an empty list each would be 56 bytes of it).
_NO_RUNS: list[TaskRun] = []


# --------------------------------------------------------------------------- creating runs


def current_run_context(task: Task[Any], verb: str) -> tuple[FlowRun, TaskRun | None]:
    flow_run = flow_run_var.get()
    if flow_run is None:
        raise MissingContextError(
            f"Cannot {verb} task {task.name!r} outside of a flow run: call it inside a "
            f"function decorated with @flow, or call the task directly to run it now."
        )
    return flow_run, task_run_var.get()


def caller_site(depth: int) -> Site | None:
    """The site (file, line[, column]) of user code ``depth`` frames up (see callsites)."""
    return _caller_site(depth + 1)


def create_run(
    task: Task[Any],
    kind: str,
    flow_run: FlowRun,
    parameters: dict[str, Any],
    wait_for: Iterable[Any] | None,
    parent: TaskRun | None,
    site: Site | None,
    dependencies: Upstreams | None = None,
) -> TaskRun:
    """A new pending run, with its upstream edges found and recorded in its flow run."""
    upstreams = collect_upstreams(parameters, dependencies.copy() if dependencies else None)
    links = flow_run.links
    if links:
        # Values only: a parameter's *name* may be a linked string too (a result's dict key).
        upstreams.add_values(links.producers(list(parameters.values())))
    wait_runs = collect_upstreams(as_list(wait_for)) if wait_for is not None else None
    wait_list = list(wait_runs.runs.values()) if wait_runs is not None else _NO_RUNS
    if wait_runs is not None:
        upstreams.allow(wait_runs.allowed)
    if upstreams.empty():  # the common leaf run: share one empty record instead of its own
        upstreams = NO_UPSTREAMS
    run = TaskRun(task, kind, flow_run, parameters, upstreams, wait_list, site, parent)
    if wait_for is not None and links:
        # Results (or the exception of ``.result(raise_on_failure=False)``) in ``wait_for``:
        # recorded as Prefect records them, never waited on — they are final already.
        produced = [up for up in links.producers(as_list(wait_for)) if up not in wait_list]
        if produced:
            run.wait_values = produced
            for upstream in produced:
                upstream.has_downstream = True
    for upstream in upstreams.runs.values():
        upstream.has_downstream = True
    for upstream in run.wait_for:
        upstream.has_downstream = True
    if task.task_run_name is not None:
        run._name = task.render_run_name(parameters)
    caching.capture(run)
    assign_node_id(run, flow_run)
    flow_run.add(run)
    observer = flow_run.root.observer
    if observer is not None:
        observer.created(run)
    return run


def as_list(wait_for: Any) -> list[Any]:
    """``wait_for`` as Prefect takes it: one future (or state) or an iterable of them."""
    if isinstance(wait_for, (TaskRunFuture, State)) or not hasattr(wait_for, "__iter__"):
        return [wait_for]
    return list(wait_for)


def submit_task(
    task: Task[Any], args: tuple[Any, ...], kwargs: dict[str, Any], wait_for: Any
) -> TaskRunFuture[Any]:
    """``task.submit(...)``: bind, create, schedule; returns at once."""
    flow_run, parent = current_run_context(task, "submit")
    parameters = task.bind(args, kwargs)
    run = create_run(task, "submit", flow_run, parameters, wait_for, parent, caller_site(2))
    _schedule_or_defer(run, flow_run.runner, flow_run, parent)
    return TaskRunFuture(run)


def submit_parameters(
    runner: TaskRunner,
    task: Task[Any],
    parameters: dict[str, Any],
    wait_for: Iterable[Any] | None = None,
    dependencies: Any = None,
    kind: str = "submit",
    site: Site | None = None,
) -> TaskRunFuture[Any]:
    """Submit already-bound ``parameters`` to ``runner`` (the runner-level API and ``.map``)."""
    flow_run, parent = current_run_context(task, "submit")
    run = create_run(task, kind, flow_run, parameters, wait_for, parent, site, dependencies)
    _schedule_or_defer(run, runner, flow_run, parent)
    return TaskRunFuture(run)


def _schedule_or_defer(
    run: TaskRun, runner: TaskRunner, flow_run: FlowRun, parent: TaskRun | None
) -> None:
    """Plan mode holds what a flow body submits until it needs a result (see planexec); on
    Dask and Ray a run is placed at once, its upstreams' native futures as arguments, so the
    cluster waits for them instead of the driver (see :func:`dispatch_pipelined`)."""
    deferred = flow_run.deferred
    if deferred is not None and parent is None:
        if not runner.supports_groups and not runner.supports_pipelining:
            options = flow_run.root.plan
            if options is not None and not options.reorders:  # nothing to group or order
                dispatch_submitted(run, runner)
                return
            priority = options.priority_of(run.node) if options is not None else None
            if priority is not None:  # nothing to group: the plan's priority is all there is
                run.priority = priority
                dispatch_submitted(run, runner)
                return
        deferred.append(run if runner is flow_run.runner else (run, runner))
    else:
        dispatch_submitted(run, runner)


def dispatch_submitted(run: TaskRun, runner: TaskRunner) -> None:
    """A submitted run: placed at once where the cluster can wait for its upstreams (Dask,
    Ray), else scheduled to be placed once they are final."""
    if not (runner.supports_pipelining and pipelinable(run) and dispatch_pipelined(run, runner)):
        schedule(run, runner)


# --------------------------------------------------------------------------- dispatching


def upstreams_of(run: TaskRun) -> list[TaskRun]:
    if not run.wait_for:
        return list(run.upstreams.runs.values())
    ups = list(run.upstreams.runs.values())
    for extra in run.wait_for:
        if extra not in ups:
            ups.append(extra)
    return ups


def schedule(run: TaskRun, runner: TaskRunner) -> None:
    """Dispatch ``run`` now if its upstreams are final, else when the last one becomes so."""
    when_final(upstreams_of(run), functools.partial(_dispatch_released, run, runner))


def _dispatch_released(run: TaskRun, runner: TaskRunner, _signal: object = None) -> None:
    _dispatch(run, runner)


def when_final(upstreams: Iterable[TaskRun], then: Callable[[object], object]) -> None:
    """Call ``then(signal)`` once every one of ``upstreams`` is final: at once if they all are.

    The one countdown of the engine: a run waits on its upstreams through it, and so does a
    group of runs placed as one call (:mod:`flowc.runtime.groups`) on those outside it. A
    wait on one upstream (the common case: a map over a map) is that upstream's callback
    itself, with nothing to count: a million waiting runs hold no counter each.
    """
    waiting = [up for up in upstreams if not up.is_final()]
    if not waiting:
        then(None)
    elif len(waiting) == 1:
        waiting[0].add_done_callback(then)
    else:
        countdown = _Countdown(len(waiting), then)
        for upstream in waiting:
            upstream.add_done_callback(countdown.one_done)


class _Countdown:
    __slots__ = ("left", "then")

    def __init__(self, left: int, then: Callable[[object], object]) -> None:
        self.left = left
        self.then = then

    def one_done(self, signal: object) -> None:
        with _lock:
            self.left -= 1
            ready = self.left == 0
        if ready:
            self.then(signal)


def reschedule(run: TaskRun, runner: TaskRunner) -> None:
    """Back to Pending, and scheduled on its own: a run a group call did not settle."""
    if run.is_final():
        return
    run.run_count = 0
    run.start = None
    set_state(run, states.Pending())
    schedule(run, runner)


def _dispatch(run: TaskRun, runner: TaskRunner) -> None:
    if run.is_final():  # settled while it waited (its flow could not dispatch it: Crashed)
        return
    try:
        blocker = first_blocking_upstream(run)
        if blocker is not None:
            run.blocked_by = blocker
            finalize(
                run,
                states.NotReady(
                    f"Upstream task run '{blocker.id}' did not reach a 'COMPLETED' state."
                ),
            )
            return
        found = caching.resume(run)
        if found is None:
            resolved = runner.resolve_inputs(run)
            found = caching.lookup(run, resolved)
        if found is not None:
            finalize(run, found)
            return
        _attempt(run, runner, resolved)
    except BaseException as exc:  # an engine-side error must still leave the run final
        if isinstance(exc, Exception):
            logger.exception("flowc could not dispatch task run %s", run.name)
        finalize(run, states.Crashed(f"Execution was interrupted by flowc: {exc!r}", data=exc))
        if not isinstance(exc, Exception):
            raise  # Ctrl-C (or a system exit) while placing: it stops the flow, not this run


def first_blocking_upstream(run: TaskRun, inside: set[int] | None = None) -> TaskRun | None:
    """The first upstream that ended without completing (and may not: ``allow_failure``),
    ignoring those whose ids are ``inside`` (a group's own runs, which it runs in order)."""
    if not run.upstreams.runs and not run.wait_for:
        return None
    allowed = run.upstreams.allowed
    for upstream in upstreams_of(run):
        if inside is not None and id(upstream) in inside:
            continue
        if not upstream.state.is_completed() and id(upstream) not in allowed:
            return upstream
    return None


# --------------------------------------------------------------------------- attempts


def _attempt(run: TaskRun, runner: TaskRunner, resolved: dict[str, Any]) -> None:
    if not runner.in_process:
        from flowc.runtime.placed import PlacedRun

        PlacedRun(run, runner, resolved).place()
        return
    run.run_count += 1
    Attempt(run, runner, resolved, run.run_count).place()


def run_placed(run: TaskRun, runner: TaskRunner) -> None:
    """Worker side: run a task run the driver placed here, its inputs final and resolved,
    its cache and checkpoint already consulted (see flowc.runtime.worker)."""
    _attempt(run, runner, run.parameters)


class Attempt:
    """One attempt of a run on a runner of this process (threads, a direct call, a worker's
    own engine); settled once, by its outcome or by its timeout. Runners of other processes
    take the whole run instead (:class:`flowc.runtime.placed.PlacedRun`).
    """

    __slots__ = (
        "run",
        "runner",
        "resolved",
        "number",
        "handle",
        "timer",
    )

    def __init__(
        self,
        run: TaskRun,
        runner: TaskRunner,
        resolved: dict[str, Any],
        number: int,
    ) -> None:
        self.run = run
        self.runner = runner
        self.resolved = resolved
        self.number = number
        self.handle: Placement | None = None
        self.timer: Any = None

    def place(self) -> None:
        task = self.run.task
        args, kwargs = task.call_arguments(self.resolved)
        call = Call(task.fn, args, kwargs, task.timeout_seconds, task.isasync, self.on_start)
        if task.timeout_seconds is not None:
            self.timer = call_later(task.timeout_seconds, self.on_timeout)
        try:
            self.handle = self.runner.place(self.run, call)
        except BaseException as exc:  # e.g. an argument that cannot be pickled
            self.on_done(exc)
            if not isinstance(exc, Exception):
                raise  # Ctrl-C while placing: the flow stops, the run is settled
            return
        self.handle.add_done_callback(self.on_done)

    def on_start(self) -> None:
        run = self.run
        if run.start is None:
            run.start = time.time()
        set_state(run, states.Running() if self.number == 1 else states.Retrying())
        _call_hooks(run, run.task.on_running)

    def claim(self) -> bool:
        """True for the first of (outcome, timeout) to settle this attempt."""
        run = self.run
        if self.timer is None:  # no timeout: the outcome is the only contender
            run.settled = self.number
            return True
        with _lock:
            if run.settled >= self.number:
                return False
            run.settled = self.number
            return True

    def on_timeout(self) -> None:
        if not self.claim():
            return
        seconds = self.run.task.timeout_seconds
        exc = TaskRunTimeoutError(f"Task run exceeded timeout of {seconds} second(s)")
        self.runner.note_abandoned()
        if self.handle is not None:
            self.handle.cancel()
        _settle_failure(self, exc, timed_out=True)

    def on_done(self, outcome: Outcome | BaseException) -> None:
        if not self.claim():
            return
        if self.timer is not None:
            self.timer.cancel()
        run = self.run
        if not isinstance(outcome, Outcome):
            if isinstance(outcome, concurrent.futures.CancelledError):
                finalize(run, states.Cancelled("The task run was cancelled before it started."))
            else:
                _settle_infrastructure_error(run, outcome)
            return
        if run.start is None:
            run.start = outcome.start
        if outcome.ok:
            finalize(run, states.Completed(data=outcome.value), outcome.end)
            return
        exc = outcome.value
        if outcome.traceback and exc.__cause__ is None:
            exc.__cause__ = RemoteTraceback(outcome.traceback, run.task.fn)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            cause = (
                "an interrupt signal"
                if isinstance(exc, KeyboardInterrupt)
                else "Python system exit call"
            )
            finalize(
                run, states.Crashed(f"Execution was aborted by {cause}.", data=exc), outcome.end
            )
            return
        if run.task.isasync and run.task.timeout_seconds is not None and _is_timeout(exc):
            seconds = run.task.timeout_seconds
            exc = TaskRunTimeoutError(f"Task run exceeded timeout of {seconds} second(s)")
            _settle_failure(self, exc, timed_out=True, end=outcome.end)
            return
        _settle_failure(self, exc, timed_out=False, end=outcome.end)


def upstream_missing(run: TaskRun, outcome: Outcome | BaseException) -> bool:
    """Whether a pipelined attempt failed for want of an upstream, not on its own."""
    if isinstance(outcome, Outcome):
        return not outcome.ok and isinstance(outcome.value, UpstreamNotCompleted)
    # The cluster failed the call itself (a dependency's worker died, say): an upstream
    # not yet completed is the cause; ordinary scheduling will see how it ends.
    return any(not upstream.state.is_completed() for upstream in upstreams_of(run))


def pipelinable(run: TaskRun) -> bool:
    """Whether the run may be placed before its upstreams finish: nothing it needs from the
    driver first (a cache key of its inputs, a checkpoint lookup), and no ``allow_failure``
    input, which must see its upstream's final state. (A timeout's clock starts in the
    worker, with the attempt.)"""
    options = run.flow_run.root.plan if run.flow_run is not None else None
    return (
        run.kind in ("submit", "map")
        and not caching.wanted(run)
        and not run.upstreams.allowed
        and (options is None or options.checkpoint is None)  # looked up with final inputs
    )


def dispatch_pipelined(run: TaskRun, runner: TaskRunner) -> bool:
    """Place ``run`` now, its unfinished upstreams passed as the runner's native futures.

    False (nothing done) when it cannot be: an upstream already failed (ordinary scheduling
    makes the run NotReady) or one was never placed on this runner.
    """
    from flowc.runtime.runners.remote import NotPlacedHere

    for upstream in run.wait_for:  # ordering only: the cluster never sees these
        if not upstream.is_final():
            return False
    for upstream in upstreams_of(run):
        if upstream.is_final() and not upstream.state.is_completed():
            return False
    try:
        resolved = runner.resolve_inputs(run)
    except NotPlacedHere:
        return False
    from flowc.runtime.placed import PlacedRun

    PlacedRun(run, runner, resolved, pipelined=True).place()
    return True


def _is_timeout(exc: BaseException) -> bool:
    """What an async task's own ``asyncio.wait_for`` raised (a distinct class on Python 3.10)."""
    import asyncio

    return isinstance(exc, (TimeoutError, asyncio.TimeoutError))


def _settle_infrastructure_error(run: TaskRun, exc: BaseException) -> None:
    from flowc.runtime.runners.errors import CallNotSent

    if isinstance(exc, CallNotSent):
        finalize(run, states.Failed(f"Task run encountered an exception {describe(exc)}", data=exc))
    else:
        finalize(run, states.Crashed(f"Execution was interrupted: {describe(exc)}", data=exc))


def _settle_failure(
    attempt: Attempt, exc: BaseException, timed_out: bool, end: float | None = None
) -> None:
    run = attempt.run
    task = run.task
    if timed_out:
        failed = states.TimedOut(str(exc), data=exc)
    else:
        failed = states.Failed(f"Task run encountered an exception {describe(exc)}", data=exc)
    if run.run_count <= task.retries and _should_retry(run, failed):
        delay = task.retry_delay_for(run.run_count)
        when = "immediately" if not delay else f"in {delay} second(s)"
        set_state(
            run, states.AwaitingRetry(f"Retry {run.run_count}/{task.retries} will start {when}")
        )
        if delay:
            call_later(delay, _retry, attempt)
        else:
            _retry(attempt)
        return
    finalize(run, failed, end)


def _retry(previous: Attempt) -> None:
    run = previous.run
    try:
        _attempt(run, previous.runner, previous.resolved)
    except BaseException as exc:
        finalize(run, states.Crashed(f"Execution was interrupted by flowc: {exc!r}", data=exc))
        if not isinstance(exc, Exception):
            raise


def _should_retry(run: TaskRun, failed: State) -> bool:
    condition = run.task.retry_condition_fn
    if condition is None:
        return True
    try:
        return bool(condition(run.task, run, failed))
    except Exception:
        logger.exception("retry_condition_fn of task %r failed; not retrying", run.task.name)
        return False


def describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --------------------------------------------------------------------------- states


def set_state(run: TaskRun, state: State) -> None:
    state._run = run
    run.state = state
    flow_run = run.flow_run
    if flow_run is not None and flow_run.root.observer is not None:
        flow_run.root.observer.state_set(run, state)


def finalize(run: TaskRun, state: State, end: float | None = None, hooks: bool = True) -> None:
    """Make ``state`` the run's final state, call hooks, then release its waiters.

    ``hooks`` is False where they already ran: in the worker that ran the whole task run.
    Releasing a run may dispatch — and so finalise — downstream runs from inside the
    completion callbacks; those are queued and drained here instead of recursing.
    """
    if run.is_final():
        return
    set_state(run, state)
    run.end = time.time() if end is None else end
    caching.settle(run, state)  # stored (or rolled back) before anything downstream starts
    if state.data is not None and state.is_final() and run.flow_run is not None:
        run.flow_run.links.link(state.data, run)
    if hooks and state.is_completed():
        _call_hooks(run, run.task.on_completion)
    elif hooks and state.is_failed():
        _call_hooks(run, run.task.on_failure)
    queue: collections.deque[TaskRun] | None = getattr(_local, "queue", None)
    if queue is not None:
        queue.append(run)
        return
    queue = _local.queue = collections.deque([run])
    try:
        while queue:
            released = queue.popleft()
            released.release()
    finally:
        _local.queue = None


def _call_hooks(run: TaskRun, hooks: list[Any]) -> None:
    for hook in hooks:
        try:
            hook(run.task, run, run.state)
        except Exception:
            logger.exception("hook %r of task %r raised; ignored", hook, run.task.name)


# --------------------------------------------------------------------------- direct calls


def call_task(
    task: Task[Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    wait_for: Any,
    return_state: bool,
) -> Any:
    """``task(...)`` inside a flow or task run: runs now, in this thread, and returns its value."""
    from flowc.runtime.runners.inline import InlineRunner

    flow_run, parent = current_run_context(task, "call")
    parameters = task.bind(args, kwargs)
    run = create_run(task, "call", flow_run, parameters, wait_for, parent, caller_site(2))
    run.observed = True
    for upstream in upstreams_of(run):
        upstream.wait()
    runner = InlineRunner()
    with runner:
        schedule(run, runner)
        state = run.wait()
    if return_state:
        return state
    return state.result()


async def call_task_async(
    task: Task[Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    wait_for: Any,
    return_state: bool,
    site: Site | None,
) -> Any:
    """``await task(...)`` of an async task in a flow: runs on the flow's own event loop."""
    import asyncio

    from flowc.runtime.runners.inline import LoopRunner

    flow_run, parent = current_run_context(task, "call")
    parameters = task.bind(args, kwargs)
    run = create_run(task, "call", flow_run, parameters, wait_for, parent, site)
    run.observed = True
    for upstream in upstreams_of(run):
        await asyncio.wrap_future(upstream.completion())
    runner = LoopRunner(asyncio.get_running_loop())
    with runner:
        schedule(run, runner)
        state = await asyncio.wrap_future(run.completion())
    if return_state:
        return state
    return state.result()
