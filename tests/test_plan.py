"""``FlowPlan.graph_problems``: what a plan file's schema cannot say about its graph."""

from __future__ import annotations

from pathlib import Path

from flowc.compiler import compile_file
from flowc.plan import Edge, FlowPlan, Node, NodeKind, Plan

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def node(node_id: str, kind: NodeKind = "submit", **fields: object) -> Node:
    task = node_id.partition("@")[0]
    return Node.model_validate(
        {"id": node_id, "task": task, "kind": kind, "flow": "f", "line": 1, "col": 1, **fields}
    )


def edges(*pairs: tuple[str, str]) -> list[Edge]:
    return [Edge(source=a, target=b, kind="future") for a, b in pairs]


def flow(nodes: list[Node], links: list[Edge]) -> FlowPlan:
    return FlowPlan(name="f", qualname="f", file="f.py", nodes=nodes, edges=links)


def test_a_sound_graph_has_no_problems() -> None:
    plan = flow([node("a@1"), node("b@2"), node("flow:g@3", "subflow")], edges(("a@1", "b@2")))
    assert plan.graph_problems() == []


def test_every_compiled_example_is_sound() -> None:
    files = sorted(EXAMPLES.rglob("*.py"))
    assert files
    for path in files:
        try:
            compiled = compile_file(path, expand=True).plan
        except Exception:  # not a flow file the compiler accepts: nothing to check
            continue
        assert compiled.graph_problems() == [], path


def test_duplicates_missing_ends_and_bad_fields_are_named() -> None:
    plan = flow(
        [
            node("a@1"),
            node("a@1"),
            node("b@2", count=-1, index=-2),
            node("c@0", line=0),
            node("flow:x@4"),
            node("s@5", "subflow"),
        ],
        edges(("a@1", "ghost@9"), ("nowhere@8", "b@2")),
    )
    assert plan.graph_problems() == [
        "node 'a@1': duplicate node id",
        "node 'b@2': negative count -1",
        "node 'b@2': negative index -2",
        "node 'c@0': line 0, column 1: both count from 1",
        "node 'flow:x@4': kind 'submit' with task 'flow:x': expected a task name, not 'flow:...'",
        "node 's@5': kind 'subflow' with task 's': expected 'flow:<name>'",
        "edge 'a@1' -> 'ghost@9': no node 'ghost@9' in the flow",
        "edge 'nowhere@8' -> 'b@2': no node 'nowhere@8' in the flow",
    ]


def test_each_cycle_is_named_once_with_its_path() -> None:
    plan = flow(
        [node(n) for n in ("a@1", "b@2", "c@3", "d@4", "e@5")],
        edges(("a@1", "b@2"), ("b@2", "c@3"), ("c@3", "a@1"), ("c@3", "d@4"), ("e@5", "e@5")),
    )
    assert plan.graph_problems() == [
        "node 'a@1': in a cycle: a@1 -> b@2 -> c@3 -> a@1",
        "node 'e@5': in a cycle: e@5 -> e@5",
    ]


def test_a_long_chain_is_checked_without_recursion() -> None:
    ids = [f"t@{i + 1}" for i in range(50_000)]
    chain = edges(*zip(ids, ids[1:], strict=False))
    assert flow([node(i) for i in ids], chain).graph_problems() == []
    looped = flow([node(i) for i in ids], chain + edges((ids[-1], ids[0])))
    (problem,) = looped.graph_problems()
    assert problem.startswith("node 't@1': in a cycle: t@1 -> t@2 -> ")


def test_plan_problems_name_their_flow() -> None:
    bad = flow([node("a@1"), node("a@1")], [])
    assert Plan(source_sha256="0" * 64, flows=[bad]).graph_problems() == [
        "flow 'f': node 'a@1': duplicate node id"
    ]


TWO_STAGE = (
    "from prefect import flow, task\n\n\n@task\ndef inc(x):\n    return x + 1\n\n\n"
    "@flow\ndef two(n: int = 3):\n    a = inc.map(range(n))\n    b = inc.map(a)\n"
    "    return sum(b.result())\n"
)


def test_unlisted_runs_are_written_as_the_listed_plan_would_be(tmp_path: Path) -> None:
    import io

    path = tmp_path / "two.py"
    path.write_text(TWO_STAGE)
    listed = compile_file(path, expand=True, parameters={"n": 1500}).plan
    unlisted = compile_file(path, expand=True, parameters={"n": 1500}, unlisted=True).plan
    (flow_plan,) = unlisted.flows
    assert [n.id for n in flow_plan.nodes] == ["inc@11", "inc@12"]  # one node per site held
    assert len(listed.flows[0].nodes) == 3000 and len(listed.flows[0].edges) == 1500
    out = io.StringIO()
    unlisted.write_json(out)
    assert out.getvalue() == listed.to_json() == unlisted.to_json()
    flow_plan.materialize()
    assert flow_plan.nodes == listed.flows[0].nodes and flow_plan.edges == listed.flows[0].edges
    assert unlisted.model_dump_json() == listed.model_dump_json()


def test_a_plan_without_unlisted_runs_is_written_as_pydantic_writes_it() -> None:
    import io

    seed = sorted((EXAMPLES / "seed").glob("*.py"))[0]
    for plan in (
        Plan(),
        Plan(flows=[flow([node("a@1"), node("b@2")], edges(("a@1", "b@2")))]),
        compile_file(seed, expand=True).plan,
    ):
        out = io.StringIO()
        plan.write_json(out)
        assert out.getvalue() == plan.model_dump_json(by_alias=True, indent=2)
