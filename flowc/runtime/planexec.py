"""Plan mode: run a flow whose whole graph is known, as one optimised graph per flush.

Design note
-----------
``flowc run --plan`` runs a flow the compiler found free of graph breaks: no control flow
depends on a task's result. So nothing the body computes before it needs a result can change
which task runs exist, and the engine may hold every run the body submits instead of
dispatching it at once. The body's own Python still evaluates every argument — constants,
parameters, loop values, f-strings, results it took with ``.result()`` — exactly as Python
would, in the flow module's namespace; what it builds is a concrete DAG of task runs with
their bound arguments and upstreams.

That DAG is dispatched (*flushed*) when the body needs a result — ``.result()``, ``.wait()``,
``wait``/``as_completed``, a direct task call or a subflow on one of its futures — or
returns. Then the passes of :mod:`flowc.optimize` run on it: priority by critical path on
every runner; on runners where a call costs far more than a thread hop (processes, Dask,
Ray), linear chains are fused into one call and large groups of mapped items batched into a
few, so a 10,000-item ``.map`` costs a few dozen round trips instead of 10,000. On Dask and
Ray every other run is *pipelined*: placed at once, in dependency order, its unfinished
upstreams passed as the cluster's own futures, so the cluster schedules the whole graph
(:func:`flowc.runtime.engine.dispatch_pipelined`).
A group is one call to :func:`flowc.runtime.groupcall.run_group`; each of its runs still
gets its own states, times, result and record, as if it had run alone (:func:`_dispatch_unit`).

A flow that needs results early (``x = a.result()`` then more submits) simply flushes more
than once; each flush optimises what it holds. Task runs created inside task bodies and on
other threads are never held.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, cast

import networkx as nx

from flowc.optimize import Unit, independent_units, optimize, units
from flowc.runtime import caching, engine, states
from flowc.runtime.calls import Outcome
from flowc.runtime.groupcall import PREVIOUS, GroupCall, Step, count_previous, make_step
from flowc.runtime.inputs import replace_runs
from flowc.runtime.nodeids import site_of
from flowc.runtime.planmode import PlanOptions, active_plan, plan_mode

if TYPE_CHECKING:
    from flowc.runtime.flowrun import FlowRun
    from flowc.runtime.runners.base import TaskRunner
    from flowc.runtime.taskrun import TaskRun

__all__ = ["PlanOptions", "active_plan", "flush", "plan_mode", "run_graph"]


_flush_lock = threading.Lock()


def flush(flow_run: FlowRun) -> None:
    """Dispatch every run ``flow_run``'s body has submitted and not yet dispatched."""
    with _flush_lock:
        batch = flow_run.deferred
        if not batch:
            return
        flow_run.deferred = []
    options = flow_run.root.plan
    by_runner: dict[int, tuple[TaskRunner, list[TaskRun]]] = {}
    for run, runner in batch:
        by_runner.setdefault(id(runner), (runner, []))[1].append(run)
    for runner, runs in by_runner.values():
        if options is None or not options.optimize or len(runs) == 1:
            for run in runs:
                engine.dispatch_submitted(run, runner)
            continue
        _dispatch_optimised(runs, runner, options)


# --------------------------------------------------------------------------- the graph


def _fusible(run: TaskRun) -> bool:
    """Whether the run may share a call: nothing the engine must watch attempt by attempt."""
    task = run.task
    return (
        run.kind in ("submit", "map")
        and task.retries == 0
        and task.timeout_seconds is None
        and not caching.wanted(run)
        and not run.upstreams.allowed
    )


def run_graph(runs: list[TaskRun], grouping: bool) -> nx.DiGraph:
    """The runs as the optimizer's DAG: node ``i`` is ``runs[i]``, edges "finish before"."""
    graph = nx.DiGraph()
    index = {id(run): i for i, run in enumerate(runs)}
    for i, run in enumerate(runs):
        group = _group(run, grouping)
        graph.add_node(i, cost=1.0, fusible=grouping and _fusible(run), group=group)
    for i, run in enumerate(runs):
        for upstream in engine._upstreams_of(run):
            j = index.get(id(upstream))
            if j is not None:
                graph.add_edge(j, i)
    return graph


def _dispatch_optimised(runs: list[TaskRun], runner: TaskRunner, options: PlanOptions) -> None:
    # A checkpointed run is looked up and stored one by one by the engine: never grouped.
    grouping = runner.supports_groups and options.checkpoint is None
    pipelining = runner.supports_pipelining and options.checkpoint is None
    if not _has_edges(runs):  # a map or a loop of independent submits: no graph needed
        groups = [_group(run, grouping) for run in runs]
        placed, applied = independent_units(groups, batch=grouping, workers=runner.worker_count)
        options.applied.append(applied)
        for run in runs:
            run.priority = 1.0
        _place_units(placed, runs, runner, pipelining)
        return
    graph = run_graph(runs, grouping)
    optimize(graph, fuse=grouping, batch=grouping, workers=runner.worker_count)
    options.applied.append(graph.graph["applied"])
    for i, run in enumerate(runs):
        run.priority = graph.nodes[i]["priority"]
    placed = units(graph)
    if pipelining:
        # Upstreams before downstreams, so each run finds its upstreams' native futures.
        position = {node: i for i, node in enumerate(nx.topological_sort(graph))}
        placed.sort(key=lambda unit: min(position[run] for run in unit.runs))
    _place_units(placed, runs, runner, pipelining)


def _has_edges(runs: list[TaskRun]) -> bool:
    """Whether any run waits on another run of the same flush."""
    held = {id(run) for run in runs}
    return any(id(up) in held for run in runs for up in engine._upstreams_of(run))


def _group(run: TaskRun, grouping: bool) -> tuple[str, int] | None:
    """Runs of one call site and task may share a batch (None: this run may not)."""
    if grouping and run.node and _fusible(run):
        return (site_of(run.node), id(run.task))
    return None


def _place_units(
    placed: list[Unit], runs: list[TaskRun], runner: TaskRunner, pipelining: bool
) -> None:
    for unit in placed:
        if unit.kind != "single":
            chains = [[runs[cast(int, i)] for i in chain] for chain in unit.chains]
            _schedule_unit(chains, runner)
            continue
        run = runs[cast(int, unit.chains[0][0])]
        if pipelining:
            engine.dispatch_submitted(run, runner)
        else:
            engine.schedule(run, runner)


# --------------------------------------------------------------------------- groups


def _schedule_unit(chains: list[list[TaskRun]], runner: TaskRunner) -> None:
    """Dispatch the group once every upstream from outside it is final."""
    inside = {id(run) for chain in chains for run in chain}
    waiting: dict[int, TaskRun] = {}
    for chain in chains:
        for run in chain:
            if run.upstreams.runs or run.wait_for:
                for upstream in engine._upstreams_of(run):
                    if id(upstream) not in inside and not upstream.is_final():
                        waiting[id(upstream)] = upstream
    if not waiting:
        _dispatch_unit(chains, runner)
        return
    left = [len(waiting)]
    lock = threading.Lock()

    def one_done(_run: TaskRun) -> None:
        with lock:
            left[0] -= 1
            ready = left[0] == 0
        if ready:
            _dispatch_unit(chains, runner)

    for upstream in waiting.values():
        upstream.add_done_callback(one_done)


def _blocked_from_outside(chain: list[TaskRun]) -> bool:
    if len(chain) == 1 and not chain[0].upstreams.runs and not chain[0].wait_for:
        return False  # the common batch item: nothing upstream at all
    inside = {id(run) for run in chain}
    for run in chain:
        for upstream in engine._upstreams_of(run):
            if id(upstream) not in inside and not upstream.state.is_completed():
                return True
    return False


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
            found = count_previous(args) + count_previous(kwargs)
            how = "fill" if found == markers else "packed"
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


def _back_to_scheduling(runs: list[TaskRun], runner: TaskRunner) -> None:
    """Runs a group did not run go through ordinary dispatch (NotReady after a failure)."""
    for run in runs:
        if run.is_final():
            continue
        run.run_count = 0
        run.start = None
        engine._set_state(run, states.Pending())
        engine.schedule(run, runner)


def _dispatch_unit(chains: list[list[TaskRun]], runner: TaskRunner) -> None:
    """Place the group as one call; then settle each run from its own outcome."""
    placed: list[list[TaskRun]] = []
    for chain in chains:
        if _blocked_from_outside(chain):
            _back_to_scheduling(chain, runner)  # NotReady, one by one
        else:
            placed.append(chain)
    if not placed:
        return
    try:
        call = _group_call(placed)
    except Exception:  # building a step failed (an argument that will not pickle)
        _back_to_scheduling([run for chain in placed for run in chain], runner)
        return
    attempts = [[engine._Attempt(run, runner, {}, 1) for run in chain] for chain in placed]
    members = [run for chain in placed for run in chain]
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
            _back_to_scheduling(members, runner)
            return
        for chain, outcomes in zip(attempts, outcome.value, strict=True):
            for attempt, own in zip(chain, outcomes, strict=False):  # stops at a failure
                attempt.on_done(own)
            _back_to_scheduling([a.run for a in chain[len(outcomes) :]], runner)

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
