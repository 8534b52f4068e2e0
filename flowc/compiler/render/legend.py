"""Which symbols a drawing uses, so every legend (DOT, HTML) lists those and no others.

A three-node flow with a legend of eleven samples reads as a legend with a graph attached; the
renderers ask :func:`symbols_of` what is actually drawn and show only that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flowc.compiler.render.view import is_fanout
from flowc.plan import FlowPlan, Node

if TYPE_CHECKING:
    from flowc.compiler.render.runs import RunOverlay

__all__ = ["EDGE_ORDER", "SHAPE_ORDER", "Symbols", "shape_key", "symbols_of"]

#: Legend order of node symbols and edge kinds.
SHAPE_ORDER = ("submit", "map", "call", "subflow", "dynamic", "conditional", "break")
EDGE_ORDER = ("future", "wait_for", "value")


@dataclass(frozen=True)
class Symbols:
    """The node symbols, edge kinds and run states present, each in legend order."""

    shapes: list[str] = field(default_factory=list)
    edges: list[str] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    subflow_cluster: bool = False


def shape_key(node: Node) -> str:
    """The legend entry of a node's shape: a fan-out (or a run of a map) is drawn as a map."""
    return "map" if is_fanout(node) or node.kind == "map" else node.kind


def symbols_of(flows: Sequence[FlowPlan], runs: RunOverlay | None = None) -> Symbols:
    """What ``flows`` (as drawn, after folding) use; ``runs`` adds the states they show."""
    shapes: set[str] = set()
    edges: set[str] = set()
    states: set[str] = set()
    cluster = False
    for flow in flows:
        for node in flow.nodes:
            shapes.add(shape_key(node))
            if node.dynamic:
                shapes.add("dynamic")
            if node.conditional:
                shapes.add("conditional")
            if node.flow != flow.name:
                cluster = True
            if runs is not None and runs.flow == flow.name:
                states.add(runs.look(node).state)
        if flow.breaks:
            shapes.add("break")
        edges.update(edge.kind for edge in flow.edges)
    from flowc.compiler.render.runs import STYLES

    return Symbols(
        shapes=[key for key in SHAPE_ORDER if key in shapes],
        edges=[kind for kind in EDGE_ORDER if kind in edges],
        states=[state for state in STYLES if state in states],
        subflow_cluster=cluster,
    )
