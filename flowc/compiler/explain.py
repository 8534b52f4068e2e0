"""``flowc explain``: the numbers of a flow's plan, computed on its NetworkX graph.

For each flow: its call sites and edges (by kind), how many task runs it makes (exact when
every count is known, a lower bound "≥ N, plus dynamic" otherwise), its **width** (the most
task runs that can run at once), its **depth** (the most runs on one dependency chain), a
**critical path** realising that depth, and what the analysis could not pin down: graph breaks,
dynamic nodes, conditional nodes. A direct call blocks the body that makes it, so what that
body creates afterwards is ordered after it (:func:`_order_direct_calls`).

Weights. A call site stands for ``count`` parallel runs (1 when unknown); a subflow call for
one flow run. Width is the maximum weighted antichain of the DAG, computed exactly as a minimum
flow (:func:`max_weight_antichain`); past :data:`EXACT_WIDTH_LIMIT` nodes it is the heaviest
level of a topological layering instead (``method: "approximate"``), a lower bound. On an
expanded plan the same is done run by run.
"""

from __future__ import annotations

from collections import Counter
from typing import Literal

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field

from flowc.compiler.render.view import site_view
from flowc.plan import FlowPlan, Node, Plan

__all__ = [
    "EXACT_WIDTH_LIMIT",
    "Explanation",
    "FlowExplanation",
    "explain",
    "explain_flow",
]

EXACT_WIDTH_LIMIT = 5_000


class BreakInfo(BaseModel):
    line: int
    col: int
    reason: str


class DynamicInfo(BaseModel):
    id: str
    line: int
    reason: str


class FlowExplanation(BaseModel):
    """The metrics of one flow (see the module docstring for what each one means)."""

    name: str
    file: str
    expanded: bool
    call_sites: int
    nodes: int = Field(description="Nodes of the plan as given (runs, when expanded).")
    edges: dict[str, int] = Field(description="Edges between call sites, by kind.")
    task_runs: int = Field(description="Task runs of the call sites whose count is known.")
    task_runs_exact: bool = Field(description="False when some call site's count is dynamic.")
    subflow_runs: int
    width: int
    width_method: Literal["exact", "approximate"]
    depth: int
    critical_path: list[str]
    breaks: list[BreakInfo]
    dynamic: list[DynamicInfo]
    conditional: list[str]

    def task_runs_text(self) -> str:
        if self.task_runs_exact:
            return str(self.task_runs)
        return f"≥ {self.task_runs}, plus dynamic"


class Explanation(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    schema_: Literal["flowc.explain/1"] = Field("flowc.explain/1", alias="schema")
    flows: list[FlowExplanation]

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(by_alias=True, indent=indent)


def _weight(node: Node) -> int:
    """The runs a node stands for: its count, one when unknown (or a single run)."""
    if node.site is not None or node.count is None:
        return 1
    return max(node.count, 0)


def _dag(flow: FlowPlan) -> nx.DiGraph:
    graph = nx.DiGraph()
    for node in flow.nodes:
        graph.add_node(node.id, weight=_weight(node))
    for edge in flow.edges:
        if edge.source in graph and edge.target in graph:
            graph.add_edge(edge.source, edge.target)
    _order_direct_calls(flow, graph)
    if not nx.is_directed_acyclic_graph(graph):
        cycle = " -> ".join(u for u, _ in nx.find_cycle(graph))
        raise ValueError(f"flow {flow.name!r}: the plan has a cycle ({cycle}), not a DAG")
    return graph


def _order_direct_calls(flow: FlowPlan, graph: nx.DiGraph) -> None:
    """A direct call blocks the body that makes it: what that body creates afterwards runs
    after the call's first run, and the call's runs run one after another.

    Nodes come in the order the walk created their call sites, so every run of a site created
    after a direct call's site starts after that call's first run has returned (loops may
    interleave the later runs: only the first is ordered). Only bodies that run once (the flow
    itself, or a subflow or task called once) are ordered; runs inside a call's own task body
    are part of it.
    """
    runs: dict[str, list[Node]] = {}
    for node in flow.nodes:
        runs.setdefault(node.site or node.id, []).append(node)
    sites = list(runs)
    count = {site: sum(n.count or 0 if n.site is None else 1 for n in runs[site]) for site in sites}
    for position, site in enumerate(sites):
        first = runs[site][0]
        scope = site.rpartition("/")[0]
        if first.kind != "call" or (scope and count.get(scope) != 1):
            continue
        mine = [n for n in runs[site]]
        for before, after in zip(mine, mine[1:], strict=False):  # expanded: one at a time
            graph.add_edge(before.id, after.id)
        if first.site is None:
            graph.nodes[first.id]["weight"] = min(graph.nodes[first.id]["weight"], 1)
            if first.count != 1:
                continue
        for later in sites[position + 1 :]:
            inside = later.startswith(site + "/")
            if inside or (scope and not later.startswith(scope + "/")):
                continue
            for node in runs[later]:
                graph.add_edge(first.id, node.id)


def max_weight_antichain(graph: nx.DiGraph) -> int:
    """The largest total weight of pairwise unordered nodes (weighted Dilworth, exact).

    By Dilworth's theorem (paths may share nodes, so no transitive closure is needed) this is
    the fewest source-to-sink paths that pass through every node ``v`` at least ``weight(v)``
    times: a minimum flow with lower bounds, solved as a min-cost circulation where only the
    return arc ``sink -> source`` costs 1. Each node ``v`` becomes ``(v, "in") -> (v, "out")``
    carrying at least ``weight(v)``; that lower bound is pre-pushed as node demands.
    """
    if graph.number_of_nodes() == 0:
        return 0
    network = nx.DiGraph()
    network.add_edge("sink", "source", weight=1)
    demand: Counter[object] = Counter()
    for node, weight in graph.nodes(data="weight"):
        head, tail = (node, "in"), (node, "out")
        network.add_edge(head, tail, weight=0)
        network.add_edge("source", head, weight=0)
        network.add_edge(tail, "sink", weight=0)
        demand[head] += weight  # ``weight`` units already leave ``head`` on the inner arc
        demand[tail] -= weight
    for u, v in graph.edges:
        network.add_edge((u, "out"), (v, "in"), weight=0)
    for node in network:
        network.nodes[node]["demand"] = demand[node]
    cost, _ = nx.network_simplex(network)
    return int(cost)


def level_width(graph: nx.DiGraph) -> int:
    """The heaviest level of a topological layering: a lower bound of the width."""
    weights = graph.nodes(data="weight")
    return max(
        (sum(weights[n] for n in level) for level in nx.topological_generations(graph)), default=0
    )


def longest_path(graph: nx.DiGraph) -> list[str]:
    """A path with the most nodes; ties go to the one with more runs, then to source order."""
    best: dict[str, tuple[int, int, list[str]]] = {}
    for node in nx.topological_sort(graph):
        weight = graph.nodes[node]["weight"]
        length, runs, path = 1, weight, [node]
        for pred in graph.predecessors(node):
            p_length, p_runs, p_path = best[pred]
            if (p_length + 1, p_runs + weight) > (length, runs):
                length, runs, path = p_length + 1, p_runs + weight, [*p_path, node]
        best[node] = (length, runs, path)
    if not best:
        return []
    return max(best.values(), key=lambda item: (item[0], item[1]))[2]


def explain_flow(flow: FlowPlan) -> FlowExplanation:
    """The metrics of one flow plan (expanded or not)."""
    sites = site_view(flow)
    graph = _dag(flow)
    if graph.number_of_nodes() <= EXACT_WIDTH_LIMIT:
        width, method = max_weight_antichain(graph), "exact"
    else:
        width, method = level_width(graph), "approximate"
    tasks = [node for node in sites.nodes if node.kind != "subflow"]
    known = [node for node in tasks if node.count is not None]
    edges = Counter(edge.kind for edge in sites.edges)
    # a call site with no run (a .map over an empty list) is on no chain of runs
    path = [n for n in longest_path(graph) if graph.nodes[n]["weight"] > 0]
    return FlowExplanation(
        name=flow.name,
        file=flow.file,
        expanded=flow.expanded,
        call_sites=len(sites.nodes),
        nodes=len(flow.nodes),
        edges={kind: edges.get(kind, 0) for kind in ("future", "wait_for", "value")},
        task_runs=sum(node.count or 0 for node in known),
        task_runs_exact=len(known) == len(tasks),
        subflow_runs=sum(_weight(node) for node in sites.nodes if node.kind == "subflow"),
        width=width,
        width_method=method,  # type: ignore[arg-type]
        depth=len(path),
        critical_path=path,
        breaks=[BreakInfo(line=b.line, col=b.col, reason=b.reason) for b in flow.breaks],
        dynamic=[
            DynamicInfo(id=n.id, line=n.line, reason=n.dynamic) for n in sites.nodes if n.dynamic
        ],
        conditional=[node.id for node in sites.nodes if node.conditional],
    )


def explain(target: Plan | FlowPlan) -> Explanation:
    """The metrics of every flow of a plan (or of one flow)."""
    flows = [target] if isinstance(target, FlowPlan) else target.flows
    return Explanation(schema="flowc.explain/1", flows=[explain_flow(flow) for flow in flows])
