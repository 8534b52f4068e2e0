"""``flowc explain --optimized``: what plan mode's passes would do with a flow's task runs.

The passes (:mod:`flowc.optimize`) run here on the *expanded* plan — one node per task run —
exactly as the plan executor runs them on the runs a flush holds. A task whose decorator (or
``with_options``) gives retries, a timeout or a cache key is left out of fusion and batching,
as at run time; what only the run can know is assumed: no ``allow_failure`` inputs, and a
runner where a call is expensive (processes, Dask, Ray; threads get the priority pass only).
Subflow records are never fused: a subflow runs in the flow's process.
"""

from __future__ import annotations

import os

import networkx as nx
from pydantic import BaseModel, Field

from flowc.optimize import PASSES, optimize, units
from flowc.plan import FlowPlan

__all__ = ["OptimizedFlow", "explain_optimized"]

_SHOWN = 10


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
    note: str | None = None


def explain_optimized(flow_plan: FlowPlan, workers: int | None = None) -> OptimizedFlow:
    """Run the passes on ``flow_plan`` (expanded) and say what each did."""
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
        note=note,
    )


def _run_graph(flow_plan: FlowPlan) -> nx.DiGraph:
    graph = nx.DiGraph()
    for node in flow_plan.nodes:
        if node.count != 1:
            continue
        site = node.site or node.id
        fusible = node.kind in ("submit", "map") and not node.options
        graph.add_node(node.id, cost=1.0, fusible=fusible, group=site if fusible else None)
        graph.nodes[node.id]["site"] = site
    for edge in flow_plan.edges:
        if edge.source in graph and edge.target in graph and edge.source != edge.target:
            graph.add_edge(edge.source, edge.target)
    return graph
