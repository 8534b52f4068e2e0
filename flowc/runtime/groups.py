"""A group: several task runs the engine places as one call — a fused chain or a batch.

In plan mode the optimizer may join runs (:mod:`flowc.runtime.planexec`): a chain whose every
link has one producer and one consumer runs as one call, and many items of one ``.map`` run as
a few. To the engine a group is one more kind of unit: it waits on the upstreams from outside
it through the engine's own countdown (:func:`flowc.runtime.engine.when_final`), is placed
once, and each member is then settled as an :class:`~flowc.runtime.engine.Attempt` of its own
— states, times, result and record as if it had run alone. A member the group cannot run (an
upstream outside it failed, an earlier link failed, the call itself failed) goes back to the
engine's ordinary rules (:func:`flowc.runtime.engine.reschedule`): NotReady, or run alone.

Only runs the engine need not watch attempt by attempt are grouped (:func:`groupable`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowc.runtime import caching, engine
from flowc.runtime.calls import Outcome
from flowc.runtime.groupcall import PREVIOUS, GroupCall, Step, count_previous, make_step
from flowc.runtime.inputs import replace_runs

if TYPE_CHECKING:
    from flowc.runtime.runners.base import TaskRunner
    from flowc.runtime.taskrun import TaskRun

__all__ = ["groupable", "groupable_task", "schedule_group"]


def groupable(run: TaskRun, task_checked: bool = False) -> bool:
    """Whether the run may share a call: nothing the engine must watch attempt by attempt
    (retries, a timeout, a cache key or transaction to consult, an ``allow_failure`` input).

    The compiler says the same of a call site from its options
    (:data:`flowc.plan.WATCHED_OPTIONS`); this is the engine's answer for one run, which
    also knows the values (``retries=0``) and the settings (whether results persist).
    ``task_checked``: :func:`groupable_task` said yes for a run of the same task and kind in
    the same flow run, so only what differs from run to run is left to check.
    """
    if not task_checked and not groupable_task(run):
        return False
    return run.transaction is None and not run.upstreams.allowed


def groupable_task(run: TaskRun) -> bool:
    """The part of :func:`groupable` that every run of one call site shares."""
    task = run.task
    return (
        run.kind in ("submit", "map")
        and task.retries == 0
        and task.timeout_seconds is None
        and not caching.wanted_by_task(run)
    )


def schedule_group(chains: list[list[TaskRun]], runner: TaskRunner) -> None:
    """Place the chains as one call once every upstream from outside the group is final."""
    inside = {id(run) for chain in chains for run in chain}
    outside: dict[int, TaskRun] = {}
    for chain in chains:
        for run in chain:
            if run.upstreams.runs or run.wait_for:
                for upstream in engine.upstreams_of(run):
                    if id(upstream) not in inside:
                        outside[id(upstream)] = upstream
    waited = bool(outside)
    engine.when_final(outside.values(), lambda _signal: _dispatch(chains, runner, waited))


def _dispatch(chains: list[list[TaskRun]], runner: TaskRunner, waited: bool) -> None:
    """``waited``: the group had upstreams outside it. Only those can keep a chain from
    running (the chains of a group do not depend on each other, and a chain's own links run
    in order), so without any, every chain is placed unchecked."""
    placed: list[list[TaskRun]] = chains if not waited else []
    for chain in chains if waited else ():
        inside = {id(run) for run in chain}
        if any(engine.first_blocking_upstream(run, inside) for run in chain):
            for run in chain:
                engine.reschedule(run, runner)  # NotReady, one by one
        else:
            placed.append(chain)
    if not placed:
        return
    members = [run for chain in placed for run in chain]
    try:
        call = _group_call(placed)
    except Exception:  # building a step failed (an argument that will not pickle)
        for run in members:
            engine.reschedule(run, runner)
        return
    attempts = [[engine.Attempt(run, runner, {}, 1) for run in chain] for chain in placed]
    for run in members:
        run.run_count = 1

    def on_start() -> None:
        for chain in attempts:
            for attempt in chain:
                attempt.on_start()

    def on_done(outcome: Outcome | BaseException) -> None:
        if not isinstance(outcome, Outcome) or not outcome.ok:
            # The group failed as a whole: an argument that does not pickle, a result that
            # could not come back, a worker that died. Which member caused it is unknown, so
            # each runs again on its own, as it would have without the plan: the culprit fails
            # or crashes alone and its downstream runs are NotReady. (Members that had run
            # before a worker died run twice.)
            for run in members:
                engine.reschedule(run, runner)
            return
        for chain, outcomes in zip(attempts, outcome.value, strict=True):
            for attempt, own in zip(chain, outcomes, strict=False):  # stops at a failure
                attempt.on_done(own)
            for attempt in chain[len(outcomes) :]:
                engine.reschedule(attempt.run, runner)

    call.on_start = on_start
    try:
        placement = runner.place(members[0], call)
    except Exception as exc:
        on_done(exc)
        return
    placement.add_done_callback(on_done)


def _group_call(placed: list[list[TaskRun]]) -> GroupCall:
    """One call for the group: items of one task sent as rows of arguments, else steps."""
    task = placed[0][0].task if placed and len(placed[0]) == 1 else None
    if task is not None and all(
        len(chain) == 1 and chain[0].task is task and not chain[0].upstreams.need_resolution
        for chain in placed
    ):
        rows = [task.call_arguments(chain[0].parameters) for chain in placed]
        return GroupCall.rows(task.fn, task.isasync, rows)
    return GroupCall([_steps(chain) for chain in placed])


def _steps(chain: list[TaskRun]) -> list[Step]:
    steps = []
    previous: TaskRun | None = None
    for run in chain:
        task = run.task
        parameters, markers = run.parameters, 0
        if run.upstreams.need_resolution:
            parameters, markers = _inside_chain(parameters, previous)
        args, kwargs = task.call_arguments(parameters)
        how = None
        if markers:
            # Markers given as arguments themselves (``add.map(a, ...)``) are found by fill;
            # deeper ones only if every container on the way is a plain one.
            on_top = sum(1 for value in parameters.values() if value is PREVIOUS)
            if on_top != markers:
                on_top = count_previous(args) + count_previous(kwargs)
            how = "fill" if on_top == markers else "packed"
        steps.append(make_step(task.fn, args, kwargs, task.isasync, how))
        previous = run
    return steps


def _inside_chain(parameters: dict[str, Any], previous: TaskRun | None) -> tuple[Any, int]:
    """Upstreams -> arguments: the previous step's result as PREVIOUS (counted), others by
    value (they are final: the group waited for them)."""
    markers = 0

    def replace(upstream: TaskRun) -> Any:
        nonlocal markers
        if upstream is previous:
            markers += 1
            return PREVIOUS
        return upstream.state.data

    return replace_runs(parameters, replace), markers
