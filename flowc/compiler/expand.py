"""From the interpreter's runs to a FlowPlan: collapsed onto call sites, or expanded to runs.

Node ids: ``<task>@<line>`` per call site, ``@<line>:<col>`` when one task has several call
sites on a line; a subflow's call site is ``<flow name>@<line>`` and the sites inside it are
prefixed with it (``child@12/load@5``), as are task calls made inside a task's body
(``outer@7/inner@3``); a call site in another module of the project is prefixed with that
module's import name (``helpers::load@5``). Expanded runs are ``<site id>#<i>`` in the order
the flow creates them, ``i`` from 0.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from flowc.plan import Edge, FlowPlan, GraphBreak, Node

if TYPE_CHECKING:
    from flowc.compiler.interpret import Interpreter, Site
    from flowc.compiler.values import RunRef

__all__ = ["MAX_EXPANDED_RUNS", "build_plan", "site_ids"]

#: Runs of uniform maps (:class:`flowc.compiler.values.Sized`) listed one by one in an
#: expanded plan, at most; a larger map stays one node with its count.
MAX_EXPANDED_RUNS = 5_000_000


def site_ids(sites: list[Site]) -> dict[int, str]:
    """Each site's node id (see the module docstring)."""
    columns: dict[tuple[object, ...], set[int]] = defaultdict(set)
    for site in sites:
        columns[(site.parent, site.path, site.name, site.line)].add(site.col)
    ids: dict[int, str] = {}
    for site in sites:  # parents are always created before their children
        where = f"{site.line}"
        if len(columns[(site.parent, site.path, site.name, site.line)]) > 1:
            where = f"{site.line}:{site.col}"
        local = f"{site.label}::" if site.label else ""
        local += f"{site.name}@{where}"
        ids[site.key] = f"{ids[site.parent]}/{local}" if site.parent is not None else local
    return ids


def _count(site: Site) -> int | None:
    return None if site.dynamic is not None else site.runs


def build_plan(interp: Interpreter, plan: FlowPlan, expand: bool) -> FlowPlan:
    """The plan of one flow walk; expanded, the runs of uniform maps are left unlisted
    (:meth:`flowc.plan.FlowPlan.defer_runs`) for the caller to write or materialize."""
    ids = site_ids(interp.by_key)
    expanded = {s.key for s in interp.by_key if expand and s.exact and s.dynamic is None}
    unlisted: dict[int, int] = {}
    listed = 0
    for site in interp.by_key:
        if site.key in expanded and site.uniform:
            listed += site.runs
            if listed > MAX_EXPANDED_RUNS:  # one node with its count: too many to list
                expanded.discard(site.key)
            else:
                unlisted[site.key] = site.runs

    def run_id(run: RunRef) -> str:
        key, index = run
        if key in expanded and index is not None:
            return f"{ids[key]}#{index}"
        return ids[key]

    nodes: list[Node] = []
    for site in interp.by_key:
        common: dict[str, Any] = dict(
            task=site.task,
            kind=site.kind,
            flow=site.flow,
            line=site.line,
            col=site.col,
            conditional=site.conditional,
            options=list(site.options),
        )
        if site.key in unlisted:
            nodes.append(Node.model_construct(id=ids[site.key], count=site.runs, **common))
            plan.defer_runs(ids[site.key], site.runs)
        elif site.key in expanded:
            nodes.extend(
                Node.model_construct(
                    id=f"{ids[site.key]}#{i}", count=1, site=ids[site.key], index=i, **common
                )
                for i in range(site.runs)
            )
        else:
            nodes.append(Node(id=ids[site.key], count=_count(site), dynamic=site.dynamic, **common))
    edges: dict[tuple[str, str, str], None] = {}
    chained: dict[int, None] = {}
    for source, target, kind in interp.edges:
        if source[0] == target[0] and source[0] in unlisted:
            chained[source[0]] = None
            continue
        if run_id(source) == run_id(target):  # runs of one node chained by a loop walked once
            chained[source[0]] = None
            continue
        edges.setdefault((run_id(source), run_id(target), kind), None)
        if (source[0], target[0]) in interp.aligned:
            plan.align(ids[source[0]], ids[target[0]])
    plan.nodes = nodes
    plan.edges = [Edge.model_construct(source=s, target=t, kind=k) for s, t, k in edges]
    plan.breaks = [
        GraphBreak(
            line=line, col=col, reason=reason if path == plan.file else f"{reason} (in {path})"
        )
        for path, line, col, reason in interp.breaks
    ]
    for key in chained:  # the plan cannot say which of the node's runs waits for which
        site = interp.by_key[key]
        if site.dynamic is None and not site.exact:  # followed run by run: it can, expanded
            where = "" if site.path == plan.file else f" (in {site.path})"
            reason = (
                "its runs depend on each other through a loop too long to unroll: "
                f"which run waits for which is not listed{where}"
            )
            plan.breaks.append(GraphBreak(line=site.line, col=site.col, reason=reason))
    plan.record_sites(
        chained=[ids[key] for key in chained],
        repeated=[ids[site.key] for site in interp.by_key if site.visits > 1],
    )
    plan.expanded = expand
    return plan
