"""Legends list the symbols a drawing uses, and no others; static renderers' readability fixes."""

from __future__ import annotations

from flowc.compiler import compile_source
from flowc.compiler.render import render
from flowc.compiler.render.legend import symbols_of
from flowc.compiler.render.view import is_fanout
from flowc.plan import Node

HELLO = """\
from flowc import flow, task


@task
def hello(name):
    return name


@flow
def greet():
    hello.submit("a")
"""

LOOP = """\
from flowc import flow, task


@task
def stop_at_floor(floor):
    return floor


@flow
def elevator():
    floors = []
    for floor in range(10, 0, -1):
        floors.append(stop_at_floor.submit(floor))
    return floors
"""


def node(kind: str = "submit", **kw) -> Node:
    return Node(id="t@1", task="t", kind=kind, flow="f", line=1, col=1, **kw)  # type: ignore[arg-type]


def test_a_small_flow_gets_a_small_legend() -> None:
    flows = compile_source(HELLO, "hello.py").plan.flows
    symbols = symbols_of(flows)
    assert symbols.shapes == ["submit"] and symbols.edges == [] and symbols.states == []
    dot = render(flows[0], "dot")
    assert isinstance(dot, str)
    legend = dot[dot.index("subgraph cluster_legend") :]
    assert '"legend:submit"' in legend
    for absent in ("legend:map", "legend:call", "legend:subflow", "legend:break", "legend:future"):
        assert absent not in legend


def test_a_loop_of_submits_is_a_fan_out() -> None:
    (flow,) = compile_source(LOOP, "elevator.py").plan.flows
    (site,) = flow.nodes
    assert site.kind == "submit" and site.count == 10 and is_fanout(site)
    dot = render(flow, "dot")
    mermaid = render(flow, "mermaid")
    assert isinstance(dot, str) and isinstance(mermaid, str)
    assert 'shape="box3d"' in dot
    assert '[["stop_at_floor ×10 · line 13"]]' in mermaid


def test_fan_out_rules() -> None:
    assert is_fanout(node("map", count=1))
    assert is_fanout(node(count=3))
    assert is_fanout(node(count=None, dynamic="loop over a task result"))
    assert not is_fanout(node(count=1))
    assert not is_fanout(node("call", count=5))
    assert not is_fanout(node("map", count=3, site="t@1", index=0))


def test_expanded_runs_are_wrapped_into_rows() -> None:
    (flow,) = compile_source(LOOP, "elevator.py", expand=True).plan.flows
    dot = render(flow, "dot", max_runs=None)
    assert isinstance(dot, str)
    # ten runs: rows of four (the square root, rounded up)
    assert '"stop_at_floor@13#0" -> "stop_at_floor@13#4" [style=invis]' in dot
    assert '"stop_at_floor@13#5" -> "stop_at_floor@13#9" [style=invis]' in dot
    assert dot.count("[style=invis]") == 6 + dot[dot.index("cluster_legend") :].count("invis")


def test_a_dynamic_reason_is_written_under_the_name() -> None:
    source = HELLO.replace('hello.submit("a")', 'x = hello("a")\n    hello.map(x)')
    (flow,) = compile_source(source, "hello.py").plan.flows
    dot = render(flow, "dot")
    mermaid = render(flow, "mermaid")
    assert isinstance(dot, str) and isinstance(mermaid, str)
    assert "\\ndynamic: maps over" in dot
    assert "· dynamic: maps over" in mermaid
