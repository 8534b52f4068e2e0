"""The passes decided once per call site, where a site's runs are alike.

A flush of a two-stage ``.map`` of a million items holds two million runs but two call
sites, and every run of a site looks the same to the passes: the same number of upstreams
and downstreams, downstreams at the same sites, the same "may share a call". Where that
holds, each pass has one answer per site — the critical path of the graph of sites is every
run's priority, a link between two sites fuses all its run pairs or none, a site's items are
batched or not — and only the last step, cutting the chains and batches, touches runs.

:class:`SiteRuns` takes the runs as plain integer arrays, filled in one walk by the caller;
:func:`plan_sites` gives the same units and priorities as :func:`flowc.optimize.optimize`
followed by :func:`flowc.optimize.units` on the graph of runs, or None where the runs of a
site differ in something a pass reads (a loop chaining one site's submits, a consumer of one
item of a map): then the caller builds that graph, and the passes decide run by run.
"""

from __future__ import annotations

import collections
from collections.abc import Hashable
from dataclasses import dataclass, field

from flowc.optimize.passes import Unit, chunks

__all__ = ["SitePlan", "SiteRuns", "plan_sites"]


class SiteRuns:
    """Runs ``0..n-1`` in submission order, each at a site, with their "finish before" edges.

    Per run it keeps five integers and a flag, no object: what a pass reads of a run is how
    many upstreams and downstreams it has, at which sites the downstreams are, and whether it
    may share a call.
    """

    __slots__ = (
        "first_pred",
        "fusible",
        "groups",
        "preds",
        "same_site_edge",
        "site",
        "succ_sites",
        "succs",
    )

    def __init__(self, site: list[int], fusible: list[bool], groups: list[Hashable | None]) -> None:
        n = len(site)
        #: per run: its site, and whether it may share a call
        self.site = site
        self.fusible = fusible
        #: per site: the batching group of its runs (None: never batched)
        self.groups = groups
        #: per run: upstreams in the graph; the first of them (-1: none)
        self.preds = [0] * n
        self.first_pred = [-1] * n
        #: per run: downstreams in the graph; a bit per site they are at
        self.succs = [0] * n
        self.succ_sites = [0] * n
        self.same_site_edge = False

    def add_edge(self, source: int, target: int) -> None:
        """``source`` finishes before ``target``; each edge once."""
        site = self.site[target]
        if self.site[source] == site:
            self.same_site_edge = True  # runs of one site wait on each other: they differ
        if self.preds[target] == 0:
            self.first_pred[target] = source
        self.preds[target] += 1
        self.succs[source] += 1
        self.succ_sites[source] |= 1 << site

    def __len__(self) -> int:
        return len(self.site)


@dataclass
class SitePlan:
    """What the passes decided: the calls to place and each site's priority."""

    units: list[Unit]
    #: per site: the longest remaining path from any of its runs (every run has it)
    priority: list[float]
    #: per site: its rank in an order of the graph of sites (upstream sites first)
    rank: list[int]
    applied: list[tuple[str, str]] = field(default_factory=list)


def plan_sites(runs: SiteRuns, *, fuse: bool, batch: bool, workers: int = 1) -> SitePlan | None:
    """The passes on the graph of sites; None where the runs of a site differ for them."""
    if runs.same_site_edge:
        return None
    n_sites = len(runs.groups)
    first = _alike(runs, n_sites, check_counts=fuse or batch)
    if first is None:
        return None
    out_sites = [_bits(runs.succ_sites[first[s]]) for s in range(n_sites)]
    order = _order(out_sites, n_sites)
    if order is None:
        return None
    in_sites: list[list[int]] = [[] for _ in range(n_sites)]
    for s in order:
        for t in out_sites[s]:
            in_sites[t].append(s)
    priority = [0.0] * n_sites
    for s in reversed(order):
        priority[s] = 1.0 + max((priority[t] for t in out_sites[s]), default=0.0)
    rank = [0] * n_sites
    for position, s in enumerate(order):
        rank[s] = position
    applied = [("priority", f"{len(runs)} runs ordered by critical path over {n_sites} sites")]
    next_site = [-1] * n_sites  # the site each site's runs are fused with, downstream
    if fuse:
        if any(runs.preds[first[s]] == 1 and len(in_sites[s]) > 1 for s in range(n_sites)):
            return None  # each run has one upstream, at one of several sites: links differ
        for s in order:
            for t in out_sites[s]:
                if _fusible_link(runs, first[s], first[t]):
                    next_site[s] = t
    members: list[list[int]] = [[] for _ in range(n_sites)]
    for run, s in enumerate(runs.site):
        members[s].append(run)
    items = _items(runs, next_site, members)
    if fuse:
        chains = [chain for site_items in items.values() for chain in site_items if len(chain) > 1]
        applied.append(("fuse", f"{sum(map(len, chains))} runs in {len(chains)} chains"))
    placed: list[tuple[int, Unit]] = []  # (first run, unit)
    batched = n_batches = 0
    for s, site_items in items.items():
        parts: list[tuple[tuple[int, ...], ...]] = []
        if batch and _batchable(runs, s, next_site, first):
            parts = chunks(site_items, workers)
        for part in parts:
            placed.append((min(min(chain) for chain in part), Unit(part, priority[s])))
            batched += sum(len(chain) for chain in part)
        n_batches += len(parts)
        for chain in site_items if not parts else ():
            placed.append((min(chain), Unit((chain,), priority[s])))
    if batch:
        applied.append(("batch", f"{batched} runs in {n_batches} batches"))
    placed.sort(key=lambda entry: (-entry[1].priority, entry[0]))
    return SitePlan([unit for _first, unit in placed], priority, rank, applied)


def _fusible_link(runs: SiteRuns, a: int, b: int) -> bool:
    """Whether run ``a``'s one downstream ``b`` joins it in a chain (so do their sites')."""
    return runs.fusible[a] and runs.fusible[b] and runs.succs[a] == 1 and runs.preds[b] == 1


def _items(
    runs: SiteRuns, next_site: list[int], members: list[list[int]]
) -> dict[int, list[tuple[int, ...]]]:
    """Per site not fused into an upstream one: its runs, or the chains they head, in run
    order."""
    fused_into = {t for t in next_site if t >= 0}
    items: dict[int, list[tuple[int, ...]]] = {}
    for head in range(len(members)):
        if head in fused_into:
            continue  # its runs are in the chains of its head site
        path = [head]
        while next_site[path[-1]] >= 0:
            path.append(next_site[path[-1]])
        if len(path) == 1:
            items[head] = [(run,) for run in members[head]]
            continue
        chains = [_chain_to(tail, len(path), runs.first_pred) for tail in members[path[-1]]]
        chains.sort(key=lambda chain: chain[0])
        items[head] = chains
    return items


def _alike(runs: SiteRuns, n_sites: int, check_counts: bool) -> list[int] | None:
    """Each site's first run, if every run of the site reads the same to the passes."""
    first = [-1] * n_sites
    site, preds, fusible = runs.site, runs.preds, runs.fusible
    succs, succ_sites = runs.succs, runs.succ_sites
    for run, s in enumerate(site):
        rep = first[s]
        if rep < 0:
            first[s] = run
            continue
        if succ_sites[run] != succ_sites[rep]:
            return None
        if check_counts and (
            succs[run] != succs[rep] or preds[run] != preds[rep] or fusible[run] != fusible[rep]
        ):
            return None
    return first


def _bits(mask: int) -> list[int]:
    out = []
    index = 0
    while mask:
        if mask & 1:
            out.append(index)
        mask >>= 1
        index += 1
    return out


def _order(out_sites: list[list[int]], n_sites: int) -> list[int] | None:
    """A topological order of the sites (Kahn's, sources in site order); None on a cycle."""
    waiting = [0] * n_sites
    for targets in out_sites:
        for t in targets:
            waiting[t] += 1
    ready = collections.deque(s for s in range(n_sites) if waiting[s] == 0)
    order = []
    while ready:
        s = ready.popleft()
        order.append(s)
        for t in out_sites[s]:
            waiting[t] -= 1
            if waiting[t] == 0:
                ready.append(t)
    return order if len(order) == n_sites else None


def _chain_to(tail: int, length: int, first_pred: list[int]) -> tuple[int, ...]:
    chain = [tail]
    for _ in range(length - 1):
        chain.append(first_pred[chain[-1]])
    chain.reverse()
    return tuple(chain)


def _batchable(runs: SiteRuns, head: int, next_site: list[int], first: list[int]) -> bool:
    """Whether the items starting at site ``head`` may be batched: no upstream in the graph,
    every run of them fusible and of a batching group."""
    if runs.preds[first[head]] != 0:
        return False
    s = head
    while s >= 0:
        if not runs.fusible[first[s]] or runs.groups[s] is None:
            return False
        s = next_site[s]
    return True
