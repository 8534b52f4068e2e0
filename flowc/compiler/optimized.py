"""``flowc explain --optimized``: what plan mode's passes would do with a flow's task runs.

The passes (:mod:`flowc.optimize`) run here on the *expanded* plan — one node per task run —
exactly as the plan executor runs them on the runs a flush holds. A task whose decorator (or
``with_options``) gives retries, a timeout or a cache key is left out of fusion and batching,
as at run time, and said to be why. What only the run can know is assumed: no
``allow_failure`` inputs, and a runner where a call is expensive (processes, Dask, Ray). On
threads (a flow's ``ThreadPoolTaskRunner``, or Prefect's default) plan mode runs the priority
pass only: the rest is shown as what ``--runner processes``, ``dask`` or ``ray`` would do.
Subflow records are never fused: a subflow runs in the flow's process.
"""

from __future__ import annotations

import os

from pydantic import BaseModel, Field

from flowc.optimize import PASSES, RunGraph, optimize, units
from flowc.optimize.passes import MIN_BATCH_GROUP
from flowc.plan import FlowPlan

__all__ = ["OptimizedFlow", "explain_optimized", "flow_runners", "runner_kind"]

_SHOWN = 10
#: Task runner classes by the kind of runner ``flowc run --runner`` names.
_KINDS = {
    "ThreadPoolTaskRunner": "threads",
    "ProcessPoolTaskRunner": "processes",
    "DaskTaskRunner": "dask",
    "RayTaskRunner": "ray",
}


def runner_kind(runner: str | None) -> str:
    """``threads``/``processes``/``dask``/``ray`` for a task runner class name (Prefect's
    default, None, is a thread pool); ``unknown`` for a runner flowc does not know."""
    return _KINDS.get(runner or "ThreadPoolTaskRunner", "unknown")


def flow_runners(path: str | os.PathLike[str]) -> dict[str, str | None]:
    """Each flow's ``task_runner=`` class name as its decorator gives it (None: the default)."""
    from flowc.compiler.discovery import Project, decode
    from flowc.reading import read_limited

    data = read_limited(path)
    main = Project().load_main(decode(data, os.fspath(path)), os.fspath(path), os.fspath(path))
    return {flow.name: flow.runner for flow in main.flows}


class PassResult(BaseModel):
    name: str
    does: str
    result: str


class OptimizedFlow(BaseModel):
    """The passes' effect on one flow's expanded plan."""

    name: str
    task_runs: int
    calls: int = Field(description="Calls placed on a process runner after fusion and batching.")
    passes: list[PassResult]
    critical_path: list[str] = Field(description="The first runs by priority (critical path).")
    chains: list[list[str]] = Field(description="Fused chains (the longest first, up to 10).")
    batches: dict[str, int] = Field(description="Batches per call site.")
    runner: str = Field(
        "threads", description="The flow's runner: threads, processes, dask, ray or unknown."
    )
    runner_class: str | None = Field(None, description="Its task_runner= class, if given.")
    held_back: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Call sites never fused or batched, with the task options that say so.",
    )
    why_not: list[str] = Field(
        default_factory=list, description="Why fusion or batching did nothing, when it did not."
    )
    note: str | None = None


def explain_optimized(
    flow_plan: FlowPlan, workers: int | None = None, runner: str | None = None
) -> OptimizedFlow:
    """Run the passes on ``flow_plan`` (expanded) and say what each did, and why not.

    ``runner``: the flow's ``task_runner=`` class name (None: Prefect's default thread pool).
    """
    workers = workers or os.cpu_count() or 1
    graph = _run_graph(flow_plan)
    optimize(graph, fuse=True, batch=True, workers=workers)
    does = dict(PASSES)
    applied = [PassResult(name=n, does=does[n], result=r) for n, r in graph.graph["applied"]]
    ordered = sorted(graph, key=lambda n: -graph.nodes[n]["priority"])
    chains = sorted(graph.graph["chains"], key=len, reverse=True)[:_SHOWN]
    batches: dict[str, int] = {}
    for batch in graph.graph["batches"]:
        site = graph.nodes[batch[0][0]]["site"]
        batches[site] = batches.get(site, 0) + 1
    held_back: dict[str, list[str]] = {}
    for node in flow_plan.nodes:
        if node.kind in ("submit", "map") and node.options and node.count == 1:
            held_back.setdefault(node.site or node.id, list(node.options))
    runs = graph.number_of_nodes()
    note = None
    if not flow_plan.expanded or any(node.count != 1 for node in flow_plan.nodes):
        note = "some call sites have no known count: their runs are not shown (use --param)"
    return OptimizedFlow(
        name=flow_plan.name,
        task_runs=graph.number_of_nodes(),
        calls=len(units(graph)),
        passes=applied,
        critical_path=[str(n) for n in ordered[:_SHOWN]],
        chains=[[str(n) for n in chain] for chain in chains],
        batches=batches,
        runner=runner_kind(runner),
        runner_class=runner,
        held_back=held_back,
        why_not=_why_not(graph, held_back, runs),
        note=note,
    )


def _why_not(graph: RunGraph, held_back: dict[str, list[str]], runs: int) -> list[str]:
    """Why fusion or batching left every run alone (empty when they did something)."""
    if graph.graph["chains"] and graph.graph["batches"]:
        return []
    out = []
    if held_back:
        sites = ", ".join(f"{site} ({', '.join(opts)})" for site, opts in held_back.items())
        out.append(
            f"never fused or batched: {sites}: each attempt of a run with retries, a timeout "
            "or a cache key is watched on its own"
        )
    if not graph.graph["chains"] and runs:
        out.append("fuse: no linear chain of fusible runs (one producer, one consumer)")
    if not graph.graph["batches"] and runs:
        out.append(
            f"batch: no call site has {MIN_BATCH_GROUP} or more fusible runs independent "
            "of each other"
        )
    return out


def _run_graph(flow_plan: FlowPlan) -> RunGraph:
    graph = RunGraph()
    for node in flow_plan.nodes:
        if node.count != 1:
            continue
        site = node.site or node.id
        fusible = node.kind in ("submit", "map") and not node.options
        graph.add_node(node.id, cost=1.0, fusible=fusible, group=site if fusible else None)
        graph.nodes[node.id]["site"] = site
    graph.add_edges_from(
        (edge.source, edge.target)
        for edge in flow_plan.edges
        if edge.source in graph and edge.target in graph and edge.source != edge.target
    )
    return graph
