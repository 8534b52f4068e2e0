"""``explain`` metrics on small DAGs with known answers (drawn in each docstring).

Notation: ``a×3`` is a call site of three runs (a map), ``a?`` one of unknown count.
"""

from __future__ import annotations

import itertools
import json
import random

import networkx as nx
import pytest

from flowc.compiler import explain as explain_module
from flowc.compiler.explain import explain, explain_flow, level_width, max_weight_antichain
from flowc.plan import Edge, FlowPlan, GraphBreak, Node, Plan


def plan(spec: dict[str, int | None], edges: str, **fields: object) -> FlowPlan:
    """``plan({"a": 1, "b": 3}, "a>b")``: nodes with counts, edges ``src>dst`` (``~`` wait_for)."""
    nodes = []
    for line, (name, count) in enumerate(spec.items(), start=1):
        dynamic = "maps over a task result" if count is None else None
        kind = "map" if count is None or count > 1 else "submit"
        nodes.append(
            Node(
                id=f"{name}@{line}",
                task=name,
                kind=kind,
                flow="f",
                line=line,
                col=0,
                count=count,
                dynamic=dynamic,
            )
        )
    ids = {node.task: node.id for node in nodes}
    parsed = []
    for item in edges.split():
        kind = "wait_for" if "~" in item else "future"
        source, target = item.replace("~", ">").split(">")
        parsed.append(Edge(source=ids[source], target=ids[target], kind=kind))
    return FlowPlan(name="f", qualname="f", file="f.py", nodes=nodes, edges=parsed, **fields)  # type: ignore[arg-type]


def test_chain() -> None:
    r"""
    a -> b -> c -> d

    Width 1, depth 4, 4 runs, the critical path is the chain.
    """
    result = explain_flow(plan({"a": 1, "b": 1, "c": 1, "d": 1}, "a>b b>c c>d"))
    assert (result.width, result.depth, result.task_runs) == (1, 4, 4)
    assert result.critical_path == ["a@1", "b@2", "c@3", "d@4"]
    assert result.task_runs_exact
    assert result.edges == {"future": 3, "wait_for": 0, "value": 0}
    assert result.width_method == "exact"


def test_diamond() -> None:
    r"""
        a
       / \
      b   c
       \ /
        d

    Width 2 (b and c), depth 3.
    """
    result = explain_flow(plan({"a": 1, "b": 1, "c": 1, "d": 1}, "a>b a>c b>d c~d"))
    assert (result.width, result.depth) == (2, 3)
    assert result.critical_path in (["a@1", "b@2", "d@4"], ["a@1", "c@3", "d@4"])
    assert result.edges == {"future": 3, "wait_for": 1, "value": 0}


def test_fan_out_counts_runs() -> None:
    r"""
    a -> b×10 -> c

    Ten runs of b can run at once: width 10, 12 runs, depth 3.
    """
    result = explain_flow(plan({"a": 1, "b": 10, "c": 1}, "a>b b>c"))
    assert (result.width, result.depth, result.task_runs) == (10, 3, 12)


def test_width_is_an_antichain_not_a_level() -> None:
    r"""
    a -> b -> c
    |         ^
    y×3  x×4 -'

    Topological levels are {a, x×4} = 5, {b, y×3} = 4, {c} = 1; but x×4, y×3 and b are
    pairwise unordered: the largest antichain weighs 8. The level approximation says 5.
    """
    flow = plan({"a": 1, "b": 1, "c": 1, "x": 4, "y": 3}, "a>b b>c x>c a>y")
    result = explain_flow(flow)
    assert result.width == 8
    assert level_width(nx_graph(flow)) == 5  # the approximation is a lower bound


def nx_graph(flow: FlowPlan) -> nx.DiGraph:
    graph = nx.DiGraph()
    for node in flow.nodes:
        graph.add_node(node.id, weight=node.count or 1)
    graph.add_edges_from((e.source, e.target) for e in flow.edges)
    return graph


def test_critical_path_prefers_more_runs_on_ties() -> None:
    r"""
    a -> b×5 -> d
    a -> c   -> d

    Both paths have 3 nodes; the one through b carries more runs.
    """
    result = explain_flow(plan({"a": 1, "b": 5, "c": 1, "d": 1}, "a>b b>d a>c c>d"))
    assert result.critical_path == ["a@1", "b@2", "d@4"]


def test_dynamic_counts_give_a_lower_bound() -> None:
    r"""
    a -> b? -> c

    b's count is only known at run time: "≥ 2, plus dynamic".
    """
    result = explain_flow(plan({"a": 1, "b": None, "c": 1}, "a>b b>c"))
    assert result.task_runs == 2
    assert not result.task_runs_exact
    assert result.task_runs_text() == "≥ 2, plus dynamic"
    assert [(d.id, d.reason) for d in result.dynamic] == [("b@2", "maps over a task result")]


def test_breaks_conditionals_and_subflows_are_listed() -> None:
    flow = plan({"a": 1, "b": 1}, "a>b", breaks=[GraphBreak(line=9, col=4, reason="while loop")])
    flow.nodes[1].conditional = True
    flow.nodes.append(
        Node(id="flow:s@3", task="flow:s", kind="subflow", flow="f", line=3, col=0, count=1)
    )
    result = explain_flow(flow)
    assert [(b.line, b.reason) for b in result.breaks] == [(9, "while loop")]
    assert result.conditional == ["b@2"]
    assert (result.task_runs, result.subflow_runs, result.call_sites) == (2, 1, 3)


def test_expanded_plans_count_sites_and_runs() -> None:
    r"""
    src -> w#0 -> sink
       \-> w#1 -/
       \-> w#2 -/
    """
    nodes = [
        Node(id="src@1", task="src", kind="submit", flow="f", line=1, col=0, count=1),
        Node(id="sink@3", task="sink", kind="submit", flow="f", line=3, col=0, count=1),
    ]
    edges = []
    for i in range(3):
        run = f"w@2#{i}"
        nodes.append(
            Node(id=run, task="w", kind="map", flow="f", line=2, col=0, site="w@2", index=i)
        )
        edges += [
            Edge(source="src@1", target=run, kind="future"),
            Edge(source=run, target="sink@3", kind="future"),
        ]
    flow = FlowPlan(name="f", qualname="f", file="f.py", nodes=nodes, edges=edges, expanded=True)
    result = explain_flow(flow)
    assert (result.call_sites, result.nodes, result.task_runs) == (3, 5, 5)
    assert (result.width, result.depth) == (3, 3)
    assert result.edges["future"] == 2


def test_large_graphs_use_the_level_approximation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(explain_module, "EXACT_WIDTH_LIMIT", 2)
    result = explain_flow(plan({"a": 1, "b": 1, "c": 1}, "a>b"))
    assert (result.width, result.width_method) == (2, "approximate")


def test_a_cycle_is_reported_not_looped_on() -> None:
    with pytest.raises(ValueError, match="cycle"):
        explain_flow(plan({"a": 1, "b": 1}, "a>b b>a"))


def test_antichain_on_the_empty_graph() -> None:
    assert max_weight_antichain(nx.DiGraph()) == 0
    assert explain_flow(plan({}, "")).critical_path == []


def test_explain_a_plan_serialises() -> None:
    explanation = explain(Plan(flows=[plan({"a": 1}, ""), plan({"b": 2}, "")]))
    data = json.loads(explanation.to_json())
    assert data["schema"] == "flowc.explain/1"
    assert [f["task_runs"] for f in data["flows"]] == [1, 2]


def brute_force_width(graph: nx.DiGraph) -> int:
    closure = nx.transitive_closure_dag(graph)
    best = 0
    for size in range(graph.number_of_nodes() + 1):
        for subset in itertools.combinations(graph.nodes, size):
            if not any(closure.has_edge(a, b) for a in subset for b in subset):
                best = max(best, sum(graph.nodes[n]["weight"] for n in subset))
    return best


@pytest.mark.parametrize("seed", range(40))
def test_width_matches_brute_force_on_random_dags(seed: int) -> None:
    """Every subset of a random weighted DAG of up to 8 nodes: the flow finds the best one."""
    rnd = random.Random(seed)
    graph = nx.DiGraph()
    n = rnd.randint(1, 8)
    for i in range(n):
        graph.add_node(i, weight=rnd.randint(0, 4))
    density = rnd.choice([0.15, 0.3, 0.6])
    graph.add_edges_from(
        (i, j) for i in range(n) for j in range(i + 1, n) if rnd.random() < density
    )
    assert max_weight_antichain(graph) == brute_force_width(graph)


def test_long_chains_are_measured_exactly() -> None:
    """A 3,000-node chain: width 1, depth 3,000 (no recursion limit; an exponential
    algorithm would meet the test's timeout; speed itself is for bench/)."""
    names = {f"t{i}": 1 for i in range(3000)}
    edges = " ".join(f"t{i}>t{i + 1}" for i in range(2999))
    result = explain_flow(plan(names, edges))  # type: ignore[arg-type]
    assert (result.width, result.depth, result.width_method) == (1, 3000, "exact")


DIRECT = (
    "from prefect import flow, task\n\n\n@task\ndef n():\n    return 2\n\n\n"
    "@task\ndef sq(x):\n    return x * x\n\n\n"
)


def _explained(body: str, expand: bool = False) -> tuple[int, int, list[str]]:
    from flowc.compiler import compile_source

    flow = compile_source(DIRECT + body, "direct.py", expand=expand).flow("f")
    found = explain_flow(flow)
    return found.width, found.depth, found.critical_path


def test_a_direct_call_blocks_what_its_body_makes_afterwards() -> None:
    consumer = "@flow\ndef f():\n    k = n()\n    return sq.map(range(k))\n"
    assert _explained(consumer) == (1, 2, ["n@16", "sq@17"])
    before = "@flow\ndef f():\n    a = sq.submit(1)\n    k = n()\n    return a, sq.map(range(3))\n"
    assert _explained(before)[:2] == (4, 2)  # sq@16 may run beside n() and the map after it
    assert _explained(before, expand=True)[:2] == (4, 2)


def test_direct_calls_in_a_loop_run_one_at_a_time() -> None:
    loop = "@flow\ndef f():\n    for i in range(4):\n        sq(i)\n"
    assert _explained(loop) == (1, 1, ["sq@17"])
    assert _explained(loop, expand=True) == (1, 4, [f"sq@17#{i}" for i in range(4)])
    submitted = loop.replace("sq(i)", "sq.submit(i)")
    assert _explained(submitted)[:2] == (4, 1)


def test_an_empty_map_is_on_no_path() -> None:
    from flowc.compiler import compile_source

    body = "@flow\ndef f(k: int = 0):\n    return sq.map(sq.map(range(k)))\n"
    found = explain_flow(compile_source(DIRECT + body, "empty.py").flow("f"))
    assert (found.task_runs, found.width, found.depth, found.critical_path) == (0, 0, 0, [])
    assert found.breaks == []
