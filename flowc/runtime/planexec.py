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
gets its own states, times, result and record, as if it had run alone: to the engine a group is
one more kind of unit (:mod:`flowc.runtime.groups`), waited on through the engine's countdown
and settled run by run. This module keeps one job: the graph of held runs, optimised, handed to
the engine as units.

The runs of one call site are usually alike — a ``.map`` of a million items is a million runs
with the same shape — so the passes decide once per site (:mod:`flowc.optimize.sites`): one
walk over the runs gathers a few integers each, and no graph of runs is built. Only where the
runs of a site differ (a loop chaining its own submits, a consumer of one item of a map) do the
passes run on the graph of runs (:func:`run_graph`); both give the same units.

A flow that needs results early (``x = a.result()`` then more submits) simply flushes more
than once; each flush optimises what it holds. Task runs created inside task bodies and on
other threads are never held.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, cast

from flowc.optimize import RunGraph, Unit, optimize, units
from flowc.optimize.sites import SiteRuns, plan_sites
from flowc.runtime import engine, states
from flowc.runtime.groups import groupable, groupable_task, schedule_group
from flowc.runtime.nodeids import site_of
from flowc.runtime.planmode import PlanOptions, active_plan, plan_mode

if TYPE_CHECKING:
    from flowc.runtime.flowrun import FlowRun
    from flowc.runtime.runners.base import TaskRunner
    from flowc.runtime.taskrun import TaskRun

__all__ = ["PlanOptions", "active_plan", "flush", "plan_mode", "run_graph", "site_runs"]


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
    own = flow_run.runner
    if not any(isinstance(held, tuple) for held in batch):  # the common case: no copy
        by_runner[id(own)] = (own, cast("list[TaskRun]", batch))
    for held in batch if not by_runner else ():
        run, runner = (held, own) if not isinstance(held, tuple) else held
        by_runner.setdefault(id(runner), (runner, []))[1].append(run)
    del batch
    try:
        for runner, runs in by_runner.values():
            if options is None or not options.optimize or len(runs) == 1:
                for run in runs:
                    engine.dispatch_submitted(run, runner)
                continue
            _dispatch_optimised(runs, runner, options)
    except BaseException as exc:
        # An error in flowc's own planning (or Ctrl-C) must not leave held runs pending
        # forever: the flow would wait on them. What was not dispatched ends Crashed.
        for _runner, runs in by_runner.values():
            for run in runs:
                if not run.is_final() and run.run_count == 0 and run.start is None:
                    engine.finalize(
                        run, states.Crashed(f"flowc could not dispatch the run: {exc!r}", data=exc)
                    )
        raise


def run_graph(runs: list[TaskRun], grouping: bool) -> RunGraph:
    """The runs as the optimizer's DAG: node ``i`` is ``runs[i]``, edges "finish before"."""
    graph = RunGraph()
    index = {id(run): i for i, run in enumerate(runs)}
    sites: dict[tuple[str, int], tuple[str, int]] = {}  # one group key per site and task
    for i, run in enumerate(runs):
        fusible = grouping and groupable(run)
        group = None
        if fusible and run.node:
            key = (site_of(run.node), id(run.task))
            group = sites.setdefault(key, key)
        graph.add_node(i, cost=1.0, fusible=fusible, group=group)
    for i, run in enumerate(runs):
        if run.upstreams.runs or run.wait_for:
            for upstream in engine.upstreams_of(run):
                j = index.get(id(upstream))
                if j is not None:
                    graph.add_edge(j, i)
    return graph


def site_runs(runs: list[TaskRun], grouping: bool) -> SiteRuns:
    """The runs as the site optimizer's arrays: run ``i`` is ``runs[i]``, at its call site."""
    sites: dict[tuple[str, int], int] = {}
    groups: list[tuple[str, int] | None] = []
    task_groupable: list[bool] = []  # per site
    site: list[int] = []
    fusible: list[bool] = []
    for run in runs:
        node = run.node
        key = (site_of(node) if node else run.name, id(run.task))
        s = sites.get(key)
        if s is None:
            s = sites[key] = len(groups)
            groups.append(key if node else None)
            task_groupable.append(grouping and groupable_task(run))
        site.append(s)
        fusible.append(task_groupable[s] and groupable(run, task_checked=True))
    graph = SiteRuns(site, fusible, list(groups))
    index = {id(run): i for i, run in enumerate(runs)}
    for i, run in enumerate(runs):
        if run.upstreams.runs or run.wait_for:
            for upstream in engine.upstreams_of(run):
                j = index.get(id(upstream))  # None: dispatched before this flush, or elsewhere
                if j is not None:
                    graph.add_edge(j, i)
    return graph


def _dispatch_optimised(runs: list[TaskRun], runner: TaskRunner, options: PlanOptions) -> None:
    # A checkpointed run is looked up and stored one by one by the engine: never grouped.
    grouping = runner.supports_groups and options.checkpoint is None
    pipelining = runner.supports_pipelining and options.checkpoint is None
    sites = site_runs(runs, grouping)
    plan = plan_sites(sites, fuse=grouping, batch=grouping, workers=runner.worker_count)
    if plan is None:  # the runs of a site differ: the passes decide run by run
        del sites
        placed, position = _optimise_runs(runs, grouping, pipelining, options, runner)
    else:
        options.applied.append(plan.applied)
        priority, site = plan.priority, sites.site
        for i, run in enumerate(runs):
            run.priority = priority[site[i]]
        if not grouping:  # priority is all there is: no unit per run
            del sites, plan
            runs.sort(key=lambda run: -run.priority)  # stable: submission order kept; in place
            for run in runs:
                engine.schedule(run, runner)
            return
        placed = plan.units
        rank = plan.rank
        position = [rank[s] for s in site] if pipelining else None
    if position is not None:
        # Upstreams before downstreams, so each run finds its upstreams' native futures.
        placed.sort(key=lambda unit: min(position[cast(int, run)] for run in unit.runs))
    for unit in placed:
        if unit.kind != "single":
            schedule_group([[runs[cast(int, i)] for i in chain] for chain in unit.chains], runner)
            continue
        run = runs[cast(int, unit.chains[0][0])]
        if pipelining:
            engine.dispatch_submitted(run, runner)
        else:
            engine.schedule(run, runner)


def _optimise_runs(
    runs: list[TaskRun],
    grouping: bool,
    pipelining: bool,
    options: PlanOptions,
    runner: TaskRunner,
) -> tuple[list[Unit], list[int] | None]:
    """The passes on the graph of runs: the units and, to pipeline them, each run's place in
    an order of the graph."""
    graph = run_graph(runs, grouping)
    optimize(graph, fuse=grouping, batch=grouping, workers=runner.worker_count)
    options.applied.append(graph.graph["applied"])
    for i, run in enumerate(runs):
        run.priority = graph.nodes[i]["priority"]
    if not pipelining:
        return units(graph), None
    position = [0] * len(runs)
    for rank, node in enumerate(graph.order()):
        position[cast(int, node)] = rank
    return units(graph), position
