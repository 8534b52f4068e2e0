"""The graph the passes work on: task runs and their "finish before" edges, in plain dicts.

A flush in plan mode hands the optimizer every run the flow body submitted: a two-stage map
of a million items is two million nodes. NetworkX allocates a view object on each lookup and
several dicts per node, which costs more than the passes' own work and more memory than the
runs themselves; this keeps one attribute dict per node and one successor and predecessor
list, and offers the few NetworkX-like methods the passes and their callers use.
"""

from __future__ import annotations

import collections
from collections.abc import Hashable, Iterable, Iterator
from typing import Any

__all__ = ["RunGraph"]


class RunGraph:
    """A DAG of runs: ``nodes[n]`` is run ``n``'s attribute dict; ``graph`` what passes found."""

    __slots__ = ("graph", "nodes", "pred", "succ")

    def __init__(self) -> None:
        self.nodes: dict[Hashable, dict[str, Any]] = {}
        self.succ: dict[Hashable, list[Hashable]] = {}
        self.pred: dict[Hashable, list[Hashable]] = {}
        #: what the passes record for the whole graph: ``chains``, ``batches``, ``applied``
        self.graph: dict[str, Any] = {}

    def add_node(self, node: Hashable, **attrs: Any) -> None:
        if node in self.nodes:
            self.nodes[node].update(attrs)
            return
        self.nodes[node] = attrs
        self.succ[node] = []
        self.pred[node] = []

    def add_edge(self, source: Hashable, target: Hashable) -> None:
        """``source`` finishes before ``target``; the caller gives each edge once (a set of
        edges per node would cost more than the graph: use :meth:`add_edges_from`)."""
        for node in (source, target):
            if node not in self.nodes:
                self.add_node(node)
        self.succ[source].append(target)
        self.pred[target].append(source)

    def add_edges_from(self, edges: Iterable[tuple[Hashable, Hashable]]) -> None:
        """Add edges that may repeat (an edge per kind between two runs, say), each once."""
        seen: set[tuple[Hashable, Hashable]] = set()
        for edge in edges:
            if edge not in seen:
                seen.add(edge)
                self.add_edge(*edge)

    def successors(self, node: Hashable) -> list[Hashable]:
        return self.succ[node]

    def predecessors(self, node: Hashable) -> list[Hashable]:
        return self.pred[node]

    def order(self) -> list[Hashable]:
        """A topological order (Kahn's, sources in node order): each pass needs one."""
        waiting = {node: len(before) for node, before in self.pred.items()}
        ready = collections.deque(node for node, count in waiting.items() if count == 0)
        order: list[Hashable] = []
        while ready:
            node = ready.popleft()
            order.append(node)
            for after in self.succ[node]:
                waiting[after] -= 1
                if waiting[after] == 0:
                    ready.append(after)
        if len(order) != len(self.nodes):
            raise ValueError("the graph has a cycle: its runs have no order")
        return order

    def number_of_nodes(self) -> int:
        return len(self.nodes)

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self.nodes)

    def __contains__(self, node: object) -> bool:
        return node in self.nodes

    def __len__(self) -> int:
        return len(self.nodes)
