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
