"""The Plan: what the compiler knows about a flow's task graph, and the one contract between halves.

The compiler (:mod:`flowc.compiler`) produces a Plan from source it never runs; renderers, the
linter and the runtime's plan executor consume it. It is plain pydantic data, JSON-serialisable
and versioned (``schema: "flowc.plan/1"``), so a plan written by ``flowc compile`` can be read
back, validated, and run later on a machine that has neither libcst nor graphviz.

Node ids are stable call-site ids: ``<task>@<line>`` (``say_hello@12``), with ``#<i>`` for
each run of an expanded node (``say_hello@12#3``). Two call sites of one task on one line get
``@<line>:<col>``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Literal, TextIO

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from flowc.planfacts import pick_flow

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "SCHEMA",
    "WATCHED_OPTIONS",
    "Edge",
    "EdgeKind",
    "FlowPlan",
    "GraphBreak",
    "Node",
    "NodeKind",
    "Parameter",
    "Plan",
]

SCHEMA = "flowc.plan/1"

#: Task options under which the engine watches each attempt of a run on its own, so plan mode
#: never fuses or batches its runs. The compiler records the ones a task is given on its nodes
#: (``Node.options``, from source: any value counts); the engine decides the same for a run
#: from the values (:func:`flowc.runtime.groups.groupable`: ``retries=0`` does not count, and
#: a cache policy counts where results are looked up or stored).
WATCHED_OPTIONS = ("retries", "timeout_seconds", "cache_key_fn", "cache_policy")

NodeKind = Literal["submit", "map", "call", "subflow"]
EdgeKind = Literal["future", "wait_for", "value"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, populate_by_name=True)


class Parameter(_Model):
    """A flow parameter, as written in its signature (source text, never evaluated)."""

    name: str
    annotation: str | None = None
    default: str | None = Field(None, description="Source text of the default, if any.")
    required: bool = True
    kind: Literal[
        "positional_only", "positional_or_keyword", "var_positional", "keyword_only", "var_keyword"
    ] = "positional_or_keyword"


class Node(_Model):
    """A task call site (or, expanded, one task run of it)."""

    id: str
    task: str = Field(
        description="The task's name as Prefect names it; 'flow:<name>' for a subflow."
    )
    kind: NodeKind
    flow: str = Field(description="The name of the flow whose run creates this node.")
    line: int = Field(description="1-based line of the call.")
    col: int = Field(description="1-based column of the call.")
    count: int | None = Field(
        None, description="Task runs this call site makes, when known before the run."
    )
    dynamic: str | None = Field(
        None, description="Why the count (or whether it runs) is only known at run time."
    )
    conditional: bool = Field(False, description="Runs only if a branch on a task result allows.")
    options: list[str] = Field(
        default_factory=list,
        description="Task options given that make the engine watch each attempt of a run "
        "(retries, timeout_seconds, cache_key_fn, cache_policy): such runs are never fused "
        "or batched in plan mode.",
    )
    site: str | None = Field(None, description="Expanded runs: the id of their call site.")
    index: int | None = Field(None, description="Expanded runs: the run's index at its site.")


class Edge(_Model):
    source: str
    target: str
    kind: EdgeKind


class GraphBreak(_Model):
    """A place the analysis could not follow: recorded, never guessed."""

    line: int = Field(description="1-based line.")
    col: int = Field(description="1-based column.")
    reason: str


class FlowPlan(_Model):
    name: str = Field(description="The flow's name: name= or the function name with _ as -.")
    qualname: str
    file: str
    line: int = 0
    parameters: list[Parameter] = Field(default_factory=list)
    nodes: list[Node] = Field(default_factory=list)
    edges: list[Edge] = Field(default_factory=list)
    breaks: list[GraphBreak] = Field(default_factory=list)
    expanded: bool = False
    #: Expanded call sites whose runs are not listed in ``nodes`` yet (the compiler's large
    #: ``.map``s): site node id -> run count. Their runs are listed as they are written
    #: (:meth:`Plan.write_json`) or all at once by :meth:`materialize`.
    _unlisted: dict[str, int] = PrivateAttr(default_factory=dict)
    #: Edges between an unlisted site and another whose run ``i`` waits on run ``i`` only.
    _aligned: set[tuple[str, str]] = PrivateAttr(default_factory=set)
    #: What the compiler saw of its call sites and the nodes do not say (see record_sites);
    #: None for a plan read back from JSON.
    _chained: frozenset[str] | None = PrivateAttr(default=None)
    _repeated: frozenset[str] | None = PrivateAttr(default=None)

    def record_sites(self, chained: Iterable[str], repeated: Iterable[str]) -> None:
        """The compiler's findings: sites whose runs wait on each other (a loop chaining one
        site's submits, collapsed into one node), and sites the body reaches more than once
        (a loop, a helper called twice), whose runs are then submitted between other
        sites' runs."""
        self._chained, self._repeated = frozenset(chained), frozenset(repeated)

    @property
    def chained_sites(self) -> frozenset[str] | None:
        """Call sites whose runs wait on each other; None where not known."""
        return self._chained

    @property
    def repeated_sites(self) -> frozenset[str] | None:
        """Call sites the body reaches more than once; None where not known."""
        return self._repeated

    def defer_runs(self, site_id: str, count: int) -> None:
        """Mark the node ``site_id`` as a site whose ``count`` runs are listed only on output."""
        self._unlisted[site_id] = count

    def align(self, source: str, target: str) -> None:
        """Run ``i`` of ``target`` waits on run ``i`` of ``source`` only (both unlisted sites)."""
        self._aligned.add((source, target))

    def iter_nodes(self) -> Iterator[Node]:
        """Every node, each run of an unlisted site made only when it is reached."""
        for node in self.nodes:
            count = self._unlisted.get(node.id)
            if count is None:
                yield node
                continue
            fields = node.model_dump(exclude={"id", "count", "dynamic", "site", "index"})
            for i in range(count):
                yield Node.model_construct(
                    id=f"{node.id}#{i}", count=1, dynamic=None, site=node.id, index=i, **fields
                )

    def iter_edges(self) -> Iterator[Edge]:
        """Every edge; one touching an unlisted site stands for its runs' edges."""
        for edge in self.edges:
            sources = self._run_ids(edge.source)
            targets = self._run_ids(edge.target)
            if len(sources) == 1 and len(targets) == 1:
                yield edge
                continue
            if (edge.source, edge.target) in self._aligned and len(sources) == len(targets):
                pairs: Iterator[tuple[str, str]] = zip(sources, targets, strict=True)
            else:
                pairs = ((a, b) for a in sources for b in targets)
            for a, b in pairs:
                yield Edge.model_construct(source=a, target=b, kind=edge.kind)

    def _run_ids(self, node_id: str) -> list[str]:
        count = self._unlisted.get(node_id)
        return [node_id] if count is None else [f"{node_id}#{i}" for i in range(count)]

    def materialize(self) -> None:
        """List every run in ``nodes`` and ``edges`` (what a drawing or an optimizer needs)."""
        if self._unlisted:
            nodes, edges = list(self.iter_nodes()), list(self.iter_edges())
            self.nodes, self.edges = nodes, edges
            self._unlisted, self._aligned = {}, set()

    def node(self, node_id: str) -> Node:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(f"flow {self.name!r} has no node {node_id!r}")

    def graph_problems(self) -> list[str]:
        """What makes the graph unusable, one message per problem, each naming its node.

        The schema cannot say these (a plan file may be edited by hand or by another tool):
        duplicate node ids, edges to nodes that do not exist, negative counts or indexes, a
        subflow node whose task is not ``flow:<name>`` (or the other way round), and cycles.
        """
        problems: list[str] = []
        ids: set[str] = set()
        for node in self.nodes:
            if node.id in ids:
                problems.append(f"node {node.id!r}: duplicate node id")
            ids.add(node.id)
            problems += [f"node {node.id!r}: {problem}" for problem in _node_problems(node)]
        for edge in self.edges:
            for end in (edge.source, edge.target):
                if end not in ids:
                    problems.append(
                        f"edge {edge.source!r} -> {edge.target!r}: no node {end!r} in the flow"
                    )
        problems += [
            f"node {cycle[0]!r}: in a cycle: {' -> '.join([*cycle, cycle[0]])}"
            for cycle in _cycles(self.edges, ids)
        ]
        return problems

    def graph(self) -> nx.MultiDiGraph:
        """The flow's nodes and edges as a NetworkX multigraph (an edge per kind)."""
        import networkx as nx

        graph = nx.MultiDiGraph(name=self.name, flow=self.name)
        for node in self.nodes:
            graph.add_node(node.id, **node.model_dump(exclude={"id"}))
        for edge in self.edges:
            graph.add_edge(edge.source, edge.target, key=edge.kind, kind=edge.kind)
        return graph


def _write_flow(flow: FlowPlan, out: TextIO) -> None:
    """One flow of :meth:`Plan.write_json`, formatted as pydantic formats it (indent 2)."""
    skeleton = flow.model_copy(update={"nodes": [], "edges": []})
    text = _indented(skeleton.model_dump_json(by_alias=True, indent=2), 4)
    head, rest = text.split('      "nodes": [],\n', 1)
    middle, tail = rest.split('      "edges": [],\n', 1)
    out.write(head)
    _write_list(out, "nodes", flow.iter_nodes())
    out.write(middle)
    _write_list(out, "edges", flow.iter_edges())
    out.write(tail)


def _write_list(out: TextIO, key: str, items: Iterator[BaseModel]) -> None:
    first = True
    for item in items:
        out.write(f'      "{key}": [\n' if first else ",\n")
        out.write(_indented(item.model_dump_json(indent=2), 8))
        first = False
    out.write(f'      "{key}": [],\n' if first else "\n      ],\n")


def _indented(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line for line in text.split("\n"))


def _node_problems(node: Node) -> list[str]:
    problems = []
    if node.count is not None and node.count < 0:
        problems.append(f"negative count {node.count}")
    if node.index is not None and node.index < 0:
        problems.append(f"negative index {node.index}")
    if node.line < 1 or node.col < 1:
        problems.append(f"line {node.line}, column {node.col}: both count from 1")
    is_subflow_task = node.task.startswith("flow:")
    if not node.task.strip() or node.task == "flow:":
        problems.append("empty task name")
    elif (node.kind == "subflow") != is_subflow_task:
        expected = "'flow:<name>'" if node.kind == "subflow" else "a task name, not 'flow:...'"
        problems.append(f"kind {node.kind!r} with task {node.task!r}: expected {expected}")
    return problems


def _cycles(edges: list[Edge], ids: set[str]) -> list[list[str]]:
    """One cycle (a list of node ids) per strongly connected part that has one.

    Tarjan's algorithm, iterative so a long chain cannot exhaust the recursion limit; kept
    here rather than NetworkX's so that reading a plan never imports NetworkX.
    """
    successors: dict[str, list[str]] = {node: [] for node in ids}
    for edge in edges:
        if edge.source in ids and edge.target in ids:
            successors[edge.source].append(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in sorted(ids):
        if root in index:
            continue
        work = [(root, iter(successors[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                part = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    part.append(member)
                    if member == node:
                        break
                if len(part) > 1 or node in successors[node]:
                    cycles.append(_cycle_in(sorted(part), successors))
    return cycles


def _cycle_in(part: list[str], successors: dict[str, list[str]]) -> list[str]:
    """The shortest cycle through ``part[0]`` inside the strongly connected ``part``."""
    members = set(part)
    start = part[0]
    parents: dict[str, str] = {start: start}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for child in successors[node]:
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return path[::-1]
                if child in members and child not in parents:
                    parents[child] = node
                    following.append(child)
        frontier = following
    return [start]  # not reached: every member of a strongly connected part is on a cycle


class Plan(_Model):
    schema_: Literal["flowc.plan/1"] = Field("flowc.plan/1", alias="schema")
    source_sha256: str | None = Field(
        None, description="Hash of the source compiled, so a stale plan is refused."
    )
    flows: list[FlowPlan] = Field(default_factory=list)

    def flow(self, name: str | None = None) -> FlowPlan:
        """The flow named ``name`` (its flow name or function name), or the only one."""
        return pick_flow(self.flows, name)

    def graph_problems(self) -> list[str]:
        """Every flow's :meth:`FlowPlan.graph_problems`, each prefixed with its flow."""
        return [
            f"flow {flow.name!r}: {problem}"
            for flow in self.flows
            for problem in flow.graph_problems()
        ]

    def to_json(self, indent: int | None = 2) -> str:
        if any(flow._unlisted for flow in self.flows):
            import io

            out = io.StringIO()
            self.write_json(out)
            return out.getvalue()
        return self.model_dump_json(by_alias=True, indent=indent)

    def write_json(self, out: TextIO) -> None:
        """Write :meth:`to_json`'s text to ``out``, listing unlisted runs as they are written:
        an expanded map of a million runs never holds a million nodes in memory."""
        out.write('{\n  "schema": ' + json.dumps(self.schema_))
        out.write(',\n  "source_sha256": ' + json.dumps(self.source_sha256))
        if not self.flows:
            out.write(',\n  "flows": []\n}')
            return
        out.write(',\n  "flows": [\n')
        for number, flow in enumerate(self.flows):
            _write_flow(flow, out)
            out.write(",\n" if number < len(self.flows) - 1 else "\n")
        out.write("  ]\n}")

    @classmethod
    def from_json(cls, text: str | bytes) -> Plan:
        return cls.model_validate_json(text)

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        return cls.model_json_schema(by_alias=True)
