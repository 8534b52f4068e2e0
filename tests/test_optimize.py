"""The optimizer passes, each on its own graph, and ``flowc explain --optimized``."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from flowc.cli import app
from flowc.optimize import (
    RunGraph,
    batch_groups,
    fuse_chains,
    optimize,
    prioritize,
    units,
)
from flowc.optimize.passes import BATCHES_PER_WORKER, MIN_BATCH_GROUP


def _graph(edges: list[tuple[int, int]], n: int, **attrs: object) -> RunGraph:
    graph = RunGraph()
    for i in range(n):
        graph.add_node(i, cost=1.0, fusible=True, group=None, **attrs)
    graph.add_edges_from(edges)
    return graph


def test_priority_is_the_longest_remaining_path() -> None:
    # 0 -> 1 -> 2 -> 3 and 0 -> 4: the long branch comes first
    graph = prioritize(_graph([(0, 1), (1, 2), (2, 3), (0, 4)], 5))
    assert [graph.nodes[i]["priority"] for i in range(5)] == [4, 3, 2, 1, 1]
    assert units(graph)[0].runs == [0]


def test_priority_weighs_costs() -> None:
    graph = _graph([(0, 1), (2, 3)], 4)
    graph.nodes[3]["cost"] = 10.0
    prioritize(graph)
    assert [u.runs[0] for u in units(graph)] == [2, 3, 0, 1]


def test_chains_stop_at_fan_out_fan_in_and_unfusible_runs() -> None:
    # 0->1->2 is a chain; 2 fans out to 3 and 4; 5->6 joins into 4; 7->8 with 8 unfusible
    graph = _graph([(0, 1), (1, 2), (2, 3), (2, 4), (5, 4), (7, 8)], 9)
    graph.nodes[8]["fusible"] = False
    fuse_chains(graph)
    assert graph.graph["chains"] == [(0, 1, 2)]


def test_batches_take_independent_items_of_one_site() -> None:
    n = MIN_BATCH_GROUP * 2
    graph = _graph([], n)
    for i in range(n):
        graph.nodes[i]["group"] = "inc@3"
    optimize(graph, fuse=True, batch=True, workers=2)
    batches = graph.graph["batches"]
    assert len(batches) == 8
    assert sorted(run for batch in batches for chain in batch for run in chain) == list(range(n))


def test_small_groups_and_runs_with_upstreams_are_not_batched() -> None:
    graph = _graph([(0, 1)], MIN_BATCH_GROUP - 1)
    for i in graph:
        graph.nodes[i]["group"] = "inc@3"
    fuse_chains(graph)
    batch_groups(graph, workers=2)
    assert graph.graph["batches"] == []


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 40), st.data())
def test_units_cover_every_run_once_and_respect_dependencies(n: int, data: st.DataObject) -> None:
    edges = data.draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n)
    )
    dag = [(a, b) for a, b in edges if a < b]
    graph = _graph(dag, n)
    for i in graph:
        graph.nodes[i]["group"] = data.draw(st.sampled_from(["a", "b", None]))
    optimize(graph, fuse=True, batch=True, workers=1)
    placed = units(graph)
    runs = [run for unit in placed for run in unit.runs]
    assert sorted(runs) == list(range(n))
    owner = {run: k for k, unit in enumerate(placed) for run in unit.runs}
    # The units form a DAG: grouping never creates a cycle between calls.
    contracted = nx.DiGraph()
    contracted.add_nodes_from(range(len(placed)))
    contracted.add_edges_from((owner[a], owner[b]) for a, b in dag if owner[a] != owner[b])
    assert nx.is_directed_acyclic_graph(contracted)
    # Within a chain, each run's only in-graph upstream is the run before it.
    for unit in placed:
        for chain in unit.chains:
            for before, after in zip(chain, chain[1:], strict=False):
                assert list(graph.predecessors(after)) == [before]


FLOW = """
from prefect import flow, task

@task
def inc(x):
    return x + 1

@task
def total(xs):
    return sum(xs)

@flow
def pipeline(n: int = 100):
    a = inc.submit(0)
    for _ in range(5):
        a = inc.submit(a)
    futs = inc.map(range(n))
    return total.submit([a, *futs]).result()
"""


def test_explain_optimized_lists_what_each_pass_does(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.py"
    path.write_text(FLOW)
    result = CliRunner().invoke(app, ["explain", str(path), "--optimized", "--format", "json"])
    assert result.exit_code == 0, result.output
    (flow,) = json.loads(result.stdout)
    assert flow["task_runs"] == 107
    assert [p["name"] for p in flow["passes"]] == ["priority", "fuse", "batch"]
    assert flow["chains"][0][:2] == ["inc@14#0", "inc@16#0"] and len(flow["chains"][0]) == 6
    assert list(flow["batches"]) == ["inc@17"]  # batches per worker: depends on the CPUs
    assert flow["calls"] < 20
    text = CliRunner().invoke(app, ["explain", str(path), "--optimized"])
    assert "fused (6)" in text.stdout and "batched: inc@17 in" in text.stdout


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b", None]), min_size=1, max_size=3 * MIN_BATCH_GROUP),
    st.integers(1, 4),
)
def test_a_graph_without_edges_places_each_run_once_batching_large_groups(
    groups: list[str | None], workers: int
) -> None:
    graph = RunGraph()
    for i, group in enumerate(groups):
        graph.add_node(i, cost=1.0, fusible=group is not None, group=group)
    placed = units(optimize(graph, fuse=True, batch=True, workers=workers))
    assert sorted(run for unit in placed for run in unit.runs) == list(range(len(groups)))
    assert graph.graph["chains"] == []
    for group in ("a", "b"):
        members = [i for i, g in enumerate(groups) if g == group]
        batches = [u for u in placed if u.kind == "batch" and groups[u.runs[0]] == group]
        if len(members) < MIN_BATCH_GROUP:
            assert batches == []
        else:
            assert 1 <= len(batches) <= workers * BATCHES_PER_WORKER
            assert sorted(r for u in batches for r in u.runs) == members
    for unit in placed:
        if unit.kind == "single":
            assert (
                groups[unit.runs[0]] is None
                or len([g for g in groups if g == groups[unit.runs[0]]]) < MIN_BATCH_GROUP
            )


WATCHED = """
from prefect import flow, task


@task
def inc(x):
    return x + 1


@task(retries=2)
def flaky(x):
    return x


@flow
def watched():
    a = inc.submit(0)
    b = inc.submit(a)
    c = flaky.submit(b)
    d = inc.with_options(timeout_seconds=5).submit(c)
    e = inc.submit(d)
    return inc.submit(e).result()
"""


def test_runs_with_watched_options_are_recorded_and_never_fused(tmp_path: Path) -> None:
    from flowc.compiler import compile_file
    from flowc.compiler.optimized import explain_optimized

    path = tmp_path / "watched.py"
    path.write_text(WATCHED)
    plan = compile_file(path, expand=True).flow(None)
    options = {node.id: node.options for node in plan.nodes}
    assert options["flaky@19#0"] == ["retries"]
    assert options["inc@20#0"] == ["timeout_seconds"]
    assert options["inc@17#0"] == []
    chains = explain_optimized(plan).chains
    assert sorted(chains) == [["inc@17#0", "inc@18#0"], ["inc@21#0", "inc@22#0"]]


# ----------------------------------------------------------------------------- by call site


def _site_structured(data: st.DataObject) -> tuple[list[int], list[tuple[int, int]]]:
    """Runs of a few call sites, created site by site, with edges as flows make them: item i
    to item i (a map over a map's futures), all items to one run (a reduce), one run to all
    items (an ``unmapped`` input). Returns each run's site and the edges."""
    width = data.draw(st.sampled_from([3, MIN_BATCH_GROUP + 6]))
    counts = data.draw(st.lists(st.sampled_from([1, width]), min_size=1, max_size=5))
    starts = [sum(counts[:k]) for k in range(len(counts))]
    site = [s for s, count in enumerate(counts) for _ in range(count)]
    edges: set[tuple[int, int]] = set()
    for target in range(1, len(counts)):
        for source in data.draw(st.sets(st.integers(0, target - 1), max_size=2)):
            a, b = counts[source], counts[target]
            if a == b:
                edges.update((starts[source] + i, starts[target] + i) for i in range(a))
            elif b == 1:
                edges.update((starts[source] + i, starts[target]) for i in range(a))
            elif a == 1:
                edges.update((starts[source], starts[target] + i) for i in range(b))
    # Number the runs in an order a flow could submit them in (a loop over items that
    # submits each item's stages, say): any order that puts upstreams first.
    shuffle = data.draw(st.randoms(use_true_random=False))
    waiting = {run: 0 for run in range(len(site))}
    downstream: dict[int, list[int]] = {}
    for a, b in edges:
        waiting[b] += 1
        downstream.setdefault(a, []).append(b)
    ready = [run for run, count in waiting.items() if count == 0]
    number: dict[int, int] = {}
    while ready:
        run = ready.pop(shuffle.randrange(len(ready)))
        number[run] = len(number)
        for b in downstream.get(run, []):
            waiting[b] -= 1
            if waiting[b] == 0:
                ready.append(b)
    renumbered = [0] * len(site)
    for run, s in enumerate(site):
        renumbered[number[run]] = s
    return renumbered, sorted((number[a], number[b]) for a, b in edges)


def _both_ways(
    site: list[int],
    edges: list[tuple[int, int]],
    fusible: list[bool],
    groups: list[str | None],
    grouping: bool,
) -> tuple[RunGraph, object]:
    from flowc.optimize.sites import SiteRuns, plan_sites

    graph = RunGraph()
    for run, s in enumerate(site):
        group = groups[s] if grouping and fusible[run] else None
        graph.add_node(run, cost=1.0, fusible=grouping and fusible[run], group=group)
    graph.add_edges_from(edges)
    optimize(graph, fuse=grouping, batch=grouping, workers=1)
    by_site = SiteRuns(site, [grouping and f for f in fusible], list(groups))
    for a, b in edges:
        by_site.add_edge(a, b)
    return graph, plan_sites(by_site, fuse=grouping, batch=grouping, workers=1)


@settings(max_examples=200, deadline=None)
@given(st.data(), st.sampled_from([True, True, False]))
def test_passes_by_site_decide_as_the_passes_by_run(data: st.DataObject, grouping: bool) -> None:
    """Where the runs of each site are alike, deciding once per site gives the units and
    priorities the passes give run by run; where they are not, it declines (None)."""
    site, edges = _site_structured(data)
    n_sites = max(site) + 1
    mostly = st.sampled_from([True, True, True, False])
    site_fusible = data.draw(st.lists(mostly, min_size=n_sites, max_size=n_sites))
    fusible = [site_fusible[s] for s in site]
    groups = data.draw(st.lists(st.sampled_from(["g", None]), min_size=n_sites, max_size=n_sites))
    groups = [f"{group}{s}" if group else None for s, group in enumerate(groups)]
    if not data.draw(mostly):  # make the runs of a site differ
        extra = data.draw(st.tuples(st.integers(0, len(site) - 1), st.integers(0, len(site) - 1)))
        if extra[0] < extra[1]:
            edges = sorted({*edges, extra})
        fusible[data.draw(st.integers(0, len(site) - 1))] = data.draw(st.booleans())
    graph, plan = _both_ways(site, edges, fusible, groups, grouping)
    if plan is None:
        return
    assert [unit.chains for unit in plan.units] == [unit.chains for unit in units(graph)]
    assert [unit.priority for unit in plan.units] == [unit.priority for unit in units(graph)]
    assert [plan.priority[s] for s in site] == [graph.nodes[run]["priority"] for run in graph]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_passes_by_site_answer_for_flows_as_written(data: st.DataObject) -> None:
    """Maps over maps, reduces and unmapped inputs, their runs unperturbed: decided by site."""
    site, edges = _site_structured(data)
    n_sites = max(site) + 1
    groups: list[str | None] = [f"g{s}" for s in range(n_sites)]
    graph, plan = _both_ways(site, edges, [True] * len(site), groups, grouping=True)
    in_sites: dict[int, set[int]] = {}
    for a, b in edges:
        in_sites.setdefault(site[b], set()).add(site[a])
    one_upstream_many_sites = any(
        len(sources) > 1 and sum(1 for _a, b in edges if b == run) == 1
        for s, sources in in_sites.items()
        for run in [site.index(s)]
    )
    assert (plan is None) == one_upstream_many_sites
    if plan is not None:
        assert [unit.chains for unit in plan.units] == [unit.chains for unit in units(graph)]


def test_a_two_stage_map_is_one_batch_decision_per_site() -> None:
    from flowc.optimize.sites import SiteRuns, plan_sites

    n = 1000
    runs = SiteRuns([0] * n + [1] * n, [True] * (2 * n), ["inc@5", "add@6"])
    for i in range(n):
        runs.add_edge(i, n + i)
    plan = plan_sites(runs, fuse=True, batch=True, workers=2)
    assert plan is not None
    assert [unit.kind for unit in plan.units] == ["batch"] * (2 * BATCHES_PER_WORKER)
    chains = [chain for unit in plan.units for chain in unit.chains]
    assert chains == [(i, n + i) for i in range(n)]
    assert plan.priority == [2.0, 1.0]
    assert plan.applied == [
        ("priority", f"{2 * n} runs ordered by critical path over 2 sites"),
        ("fuse", f"{2 * n} runs in {n} chains"),
        ("batch", f"{2 * n} runs in {2 * BATCHES_PER_WORKER} batches"),
    ]


def test_a_loop_chaining_one_site_is_left_to_the_passes_by_run() -> None:
    from flowc.optimize.sites import SiteRuns, plan_sites

    runs = SiteRuns([0] * 4, [True] * 4, ["step@4"])
    for i in range(1, 4):
        runs.add_edge(i - 1, i)
    assert plan_sites(runs, fuse=True, batch=True) is None
