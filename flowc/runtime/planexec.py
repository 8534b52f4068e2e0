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
the engine as units. Where nothing is grouped (threads) only priority is left, and it is found
on the graph of call sites, not of runs (:func:`_dispatch_by_site`): a flush of a million runs
of a few call sites costs a pass over the runs, no graph of them.

A flow that needs results early (``x = a.result()`` then more submits) simply flushes more
than once; each flush optimises what it holds. Task runs created inside task bodies and on
other threads are never held.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, cast

from flowc.optimize import RunGraph, optimize, prioritize, units
from flowc.runtime import engine, states
from flowc.runtime.groups import groupable, schedule_group
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


def _dispatch_optimised(runs: list[TaskRun], runner: TaskRunner, options: PlanOptions) -> None:
    # A checkpointed run is looked up and stored one by one by the engine: never grouped.
    grouping = runner.supports_groups and options.checkpoint is None
    pipelining = runner.supports_pipelining and options.checkpoint is None
    if not grouping and _dispatch_by_site(runs, runner, options):
        return
    graph = run_graph(runs, grouping)
    optimize(graph, fuse=grouping, batch=grouping, workers=runner.worker_count)
    options.applied.append(graph.graph["applied"])
    for i, run in enumerate(runs):
        run.priority = graph.nodes[i]["priority"]
    placed = units(graph)
    if pipelining:
        # Upstreams before downstreams, so each run finds its upstreams' native futures.
        position = {node: i for i, node in enumerate(graph.order())}
        placed.sort(key=lambda unit: min(position[run] for run in unit.runs))
    for unit in placed:
        if unit.kind != "single":
            schedule_group([[runs[cast(int, i)] for i in chain] for chain in unit.chains], runner)
            continue
        run = runs[cast(int, unit.chains[0][0])]
        if pipelining:
            engine.dispatch_submitted(run, runner)
        else:
            engine.schedule(run, runner)


def _dispatch_by_site(runs: list[TaskRun], runner: TaskRunner, options: PlanOptions) -> bool:
    """Where nothing is grouped only priority is left to do, and the runs of one call site are
    alike: the critical path is found on the graph of call sites (two nodes for a two-stage
    map of a million items), each run takes its site's priority, and the runs are scheduled
    in that order. False, having done nothing, where runs of one site wait on each other (a
    loop chaining its submits): their priorities differ, and the graph of runs says how.

    Nothing is kept per run but its site's number: a flush of a million runs adds a list.
    """
    site_index: dict[tuple[str, int], int] = {}

    def key(run: TaskRun) -> tuple[str, int]:
        return (site_of(run.node) if run.node else run.name, id(run.task))

    run_sites = [site_index.setdefault(key(run), len(site_index)) for run in runs]
    edges: set[tuple[int, int]] = set()
    for run, target in zip(runs, run_sites, strict=True):
        if run.upstreams.runs or run.wait_for:
            for upstream in engine.upstreams_of(run):
                source = site_index.get(key(upstream))
                if source is None:
                    continue  # dispatched before this flush, or elsewhere
                if source == target:
                    return False
                edges.add((source, target))
    sites = RunGraph()
    for index in range(len(site_index)):
        sites.add_node(index, cost=1.0)
    sites.add_edges_from(edges)
    try:
        prioritize(sites)
    except ValueError:  # the sites' graph has a cycle: runs of a site differ
        return False
    options.applied.append(
        [("priority", f"{len(runs)} runs ordered by critical path over {len(site_index)} sites")]
    )
    priority = [sites.nodes[index]["priority"] for index in range(len(site_index))]
    for run, index in zip(runs, run_sites, strict=True):
        run.priority = priority[index]
    del run_sites
    runs.sort(key=lambda run: -run.priority)  # stable: submission order kept; in place
    for run in runs:
        engine.schedule(run, runner)
    return True
