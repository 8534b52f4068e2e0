"""The passes: priority by critical path, fusion of linear chains, batching of mapped items.

Each pass takes a :class:`~flowc.optimize.graph.RunGraph` whose nodes are task runs and whose
edges say "must finish before", annotates it and returns it. Every pass is linear in runs and
edges, a graph without edges included (a ``.map``): the plan executor runs them on every flush,
however large. Nodes carry what the passes read:

``cost`` (float, default 1)
    expected time of the run, in any unit; only relative sizes matter.
``fusible`` (bool, default False)
    the run may share a call with others: no retries, no timeout, no cache key function and no
    ``allow_failure`` input — a run whose attempts the engine must watch one by one is never
    merged into someone else's call.
``group`` (hashable or None)
    runs with the same group come from one call site (a ``.map`` or a loop's submit), so they
    run the same function on different inputs and can be batched.

and what they write: ``priority`` (the longest remaining path from the run, its own cost
included), ``chain`` (index into ``graph.graph["chains"]``) and ``batch`` (index into
``graph.graph["batches"]``). :func:`units` turns the annotations into what a runner places:
one call per :class:`Unit`.

Why these and only these: a dynamic engine sees a run only when it is submitted, so it can
neither know which ready run lies on the longest path nor that a run's only consumer is the
next one. Priority orders ready work so the critical path never waits behind side branches;
fusion saves one round trip per link where a call costs far more than running the function
(processes, Dask, Ray); batching amortises that cost over many small mapped items.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from flowc.optimize.graph import RunGraph

__all__ = [
    "PASSES",
    "Unit",
    "batch_groups",
    "chunks",
    "fuse_chains",
    "optimize",
    "prioritize",
    "units",
]

#: The passes in the order :func:`optimize` applies them, with what each does (for explain).
PASSES: tuple[tuple[str, str], ...] = (
    ("priority", "order ready runs by their longest remaining path (critical path first)"),
    ("fuse", "run linear chains of fusible runs as one call (one consumer, one producer)"),
    ("batch", "run many small items of one call site as a few calls"),
)

_Item = TypeVar("_Item")

#: Groups smaller than this are not batched: too few items to repay the lost parallelism.
MIN_BATCH_GROUP = 64
#: Batches per worker: more than one, so a slow batch does not leave the other workers idle.
BATCHES_PER_WORKER = 4


@dataclass(frozen=True)
class Unit:
    """What is placed as one call: independent chains, each of runs executed in order."""

    chains: tuple[tuple[Hashable, ...], ...]
    priority: float = 0.0

    @property
    def kind(self) -> str:
        if len(self.chains) > 1:
            return "batch"
        return "chain" if len(self.chains[0]) > 1 else "single"

    @property
    def runs(self) -> list[Hashable]:
        return [run for chain in self.chains for run in chain]


def prioritize(graph: RunGraph) -> RunGraph:
    """Annotate each run with the cost of the longest path from it to the end of the graph."""
    attrs, succ = graph.nodes, graph.succ
    for node in reversed(graph.order()):
        after = max((attrs[s]["priority"] for s in succ[node]), default=0.0)
        attrs[node]["priority"] = attrs[node].get("cost", 1.0) + after
    return graph


def fuse_chains(graph: RunGraph) -> RunGraph:
    """Find maximal chains ``a -> b -> c`` where each link's producer has that one consumer
    and its consumer that one producer, both fusible; record those of two runs or more."""
    attrs, succ, pred = graph.nodes, graph.succ, graph.pred
    chains: list[tuple[Hashable, ...]] = []

    def linked(a: Hashable, b: Hashable) -> bool:
        return (
            attrs[a].get("fusible", False)
            and attrs[b].get("fusible", False)
            and len(succ[a]) == 1
            and len(pred[b]) == 1
        )

    for node in graph.order():
        if "chain" in attrs[node] or not attrs[node].get("fusible", False):
            continue
        preds = pred[node]
        if len(preds) == 1 and linked(preds[0], node):
            continue  # not a head: the chain is found from its head
        chain = [node]
        while len(succ[chain[-1]]) == 1:
            nxt = succ[chain[-1]][0]
            if not linked(chain[-1], nxt):
                break
            chain.append(nxt)
        if len(chain) > 1:
            for run in chain:
                attrs[run]["chain"] = len(chains)
            chains.append(tuple(chain))
    graph.graph["chains"] = chains
    return graph


def batch_groups(graph: RunGraph, workers: int) -> RunGraph:
    """Split each large group of independent, fusible items into a few batches per worker.

    An item is a chain (or a single run) whose head has no upstream in the graph, so a batch
    never waits on another batch and batches cannot form a cycle. Items are grouped by their
    runs' groups (a ``.map`` whose items are fused with their downstream ``.map`` items
    batches as pairs).
    """
    chains = graph.graph.get("chains")
    if chains is None:
        chains = fuse_chains(graph).graph["chains"]
    nodes, pred = graph.nodes, graph.pred
    items: dict[tuple[Hashable, ...], list[tuple[Hashable, ...]]] = {}
    for node in graph:
        attrs = nodes[node]
        if pred[node] or not attrs.get("fusible", False):
            continue
        chain = chains[attrs["chain"]] if "chain" in attrs else (node,)
        signature = tuple(nodes[run].get("group") for run in chain)
        if any(group is None for group in signature):
            continue
        items.setdefault(signature, []).append(chain)
    batches: list[tuple[tuple[Hashable, ...], ...]] = []
    for members in items.values():
        for batch in chunks(members, workers):
            for chain in batch:
                for run in chain:
                    nodes[run]["batch"] = len(batches)
            batches.append(batch)
    graph.graph["batches"] = batches
    return graph


def chunks(members: Sequence[_Item], workers: int) -> list[tuple[_Item, ...]]:
    """A group's items in a few batches per worker; none for a group too small to repay it."""
    if len(members) < MIN_BATCH_GROUP:
        return []
    size = math.ceil(len(members) / max(1, workers * BATCHES_PER_WORKER))
    return [tuple(members[start : start + size]) for start in range(0, len(members), size)]


def optimize(graph: RunGraph, *, fuse: bool, batch: bool, workers: int = 1) -> RunGraph:
    """Apply the passes this runner profits from; ``graph.graph["applied"]`` says what each did."""
    applied: list[tuple[str, str]] = []
    prioritize(graph)
    applied.append(("priority", f"{graph.number_of_nodes()} runs ordered by critical path"))
    if fuse:
        chains = fuse_chains(graph).graph["chains"]
        fused = sum(len(c) for c in chains)
        applied.append(("fuse", f"{fused} runs in {len(chains)} chains"))
    else:
        graph.graph["chains"] = []
    if batch:
        batches = batch_groups(graph, workers).graph["batches"]
        batched = sum(len(chain) for b in batches for chain in b)
        applied.append(("batch", f"{batched} runs in {len(batches)} batches"))
    else:
        graph.graph["batches"] = []
    graph.graph["applied"] = applied
    return graph


def units(graph: RunGraph) -> list[Unit]:
    """The calls to place, highest priority first (ties keep the graph's node order)."""
    nodes = graph.nodes
    chains = graph.graph.get("chains", [])
    batches = graph.graph.get("batches", [])
    seen_chains: set[int] = set()
    seen_batches: set[int] = set()
    out: list[Unit] = []

    def priority(runs: Iterable[Hashable]) -> float:
        return max(nodes[run].get("priority", 0.0) for run in runs)

    for node in graph:
        attrs = nodes[node]
        if "batch" in attrs:
            index = attrs["batch"]
            if index not in seen_batches:
                seen_batches.add(index)
                members = batches[index]
                out.append(Unit(members, priority(r for c in members for r in c)))
            continue
        if "chain" in attrs:
            index = attrs["chain"]
            if index not in seen_chains:
                seen_chains.add(index)
                out.append(Unit((chains[index],), priority(chains[index])))
            continue
        out.append(Unit(((node,),), attrs.get("priority", 0.0)))
    out.sort(key=lambda unit: -unit.priority)  # stable: equal priorities keep graph order
    return out
