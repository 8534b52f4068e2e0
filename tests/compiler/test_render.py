"""Renderers on hand-built plans: DOT text, real SVG and PNG from Graphviz, JSON, notebooks."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from flowc.compiler.render import (
    DOT_MISSING,
    DotNotFound,
    PlanView,
    UnknownFormat,
    format_for,
    render,
)
from flowc.compiler.render.dot import quote, to_dot
from flowc.compiler.render.view import collapse_runs, node_label, subflow_parents
from flowc.plan import Edge, FlowPlan, GraphBreak, Node, Plan

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def node(node_id: str, kind: str = "submit", flow: str = "pipe", **fields: object) -> Node:
    """``node("square@14", "map", count=3)``: task and line read off the id."""
    task, _, rest = node_id.partition("@")
    line = int(re.match(r"\d+", rest).group())  # type: ignore[union-attr]
    fields.setdefault("task", task)
    return Node(id=node_id, kind=kind, flow=flow, line=line, col=4, **fields)  # type: ignore[arg-type]


def edge(source: str, target: str, kind: str = "future") -> Edge:
    return Edge(source=source, target=target, kind=kind)  # type: ignore[arg-type]


def pipeline() -> FlowPlan:
    """announce@10 ..> source@11 -> square@12 (×?) -> total@13 (if); square ==> flow:inner@14."""
    return FlowPlan(
        name="pipe",
        qualname="pipe",
        file="pipe.py",
        nodes=[
            node("announce@10", count=1),
            node("source@11", count=1),
            node("square@12", "map", dynamic="maps over the result of source@11"),
            node("total@13", count=1, conditional=True),
            node("flow:inner@14", "subflow", task="flow:inner", count=1),
            node("total@5", flow="inner", count=1),
            node("fan@15", "map", count=10),
        ],
        edges=[
            edge("announce@10", "source@11", "wait_for"),
            edge("source@11", "square@12"),
            edge("square@12", "total@13"),
            edge("square@12", "flow:inner@14", "value"),
        ],
        breaks=[GraphBreak(line=20, col=4, reason='while loop on "x"')],
    )


def expanded(runs: int) -> FlowPlan:
    """src@1 -> work@2#0..#runs-1 -> sink@3, expanded."""
    nodes = [node("src@1", count=1), node("sink@3", count=1)]
    edges = []
    for i in range(runs):
        run = f"work@2#{i}"
        nodes.append(node(run, "map", site="work@2", index=i))
        edges += [edge("src@1", run), edge(run, "sink@3")]
    return FlowPlan(
        name="pipe", qualname="pipe", file="p.py", nodes=nodes, edges=edges, expanded=True
    )


def dot_statements(source: str) -> dict[str, str]:
    """Each quoted node statement of a DOT source: ``{id: attributes}``."""
    found = re.findall(r'^\s*"((?:[^"\\]|\\.)*)" \[(.*)\]$', source, flags=re.M)
    return {name: attrs for name, attrs in found}


# --------------------------------------------------------------------------- DOT


def test_dot_nodes_show_task_line_and_kind_shape() -> None:
    source = render(pipeline(), "dot")
    assert isinstance(source, str)
    nodes = dot_statements(source)
    assert 'label="announce  ·  line 10"' in nodes["announce@10"]
    assert 'shape="box"' in nodes["announce@10"]
    assert 'shape="box3d"' in nodes["square@12"]
    assert (
        'label="square ×?  ·  line 12\\ndynamic: maps over the result of source@11"'
        in (nodes["square@12"])
    )
    assert 'label="fan ×10  ·  line 15"' in nodes["fan@15"]
    assert 'shape="doubleoctagon"' in nodes["flow:inner@14"]


def test_dot_dynamic_is_dashed_with_reason_and_conditional_coloured() -> None:
    nodes = dot_statements(render(pipeline(), "dot"))  # type: ignore[arg-type]
    assert "dashed" in nodes["square@12"]
    assert "maps over the result of source@11" in nodes["square@12"]
    assert 'color="#d97706"' in nodes["total@13"]
    assert "dashed" not in nodes["announce@10"]


def test_dot_edge_kinds_have_their_styles() -> None:
    source = render(pipeline(), "dot")
    assert re.search(r'"announce@10" -> "source@11" \[style="dotted"', source)  # type: ignore[arg-type]
    assert re.search(r'"source@11" -> "square@12" \[style="solid"', source)  # type: ignore[arg-type]
    assert re.search(r'"square@12" -> "flow:inner@14" \[style="dashed" color="#888888"', source)  # type: ignore[arg-type]
    # an edge into a conditional node is drawn in the conditional colour
    assert re.search(r'"square@12" -> "total@13" \[style="solid" color="#d97706"', source)  # type: ignore[arg-type]


def test_dot_subflow_cluster_break_node_and_legend() -> None:
    source = render(pipeline(), "dot")
    assert isinstance(source, str)
    cluster = source[source.index('subgraph "cluster_inner"') :]
    assert cluster.index('"total@5"') < cluster.index("}")  # the subflow's node is inside
    assert re.search(r'"flow:inner@14" -> "total@5" \[lhead="cluster_inner" style="dotted"', source)
    nodes = dot_statements(source)
    brk = nodes["break@20:4"]
    assert 'shape="octagon"' in brk and 'color="#dc2626"' in brk
    assert 'label="graph break · line 20: while loop on \\"x\\""' in brk
    assert "subgraph cluster_legend" in source
    assert "cluster_legend" not in render(pipeline(), "dot", legend=False)


def test_dot_quotes_hostile_ids_and_labels() -> None:
    weird = 'ta"sk\\x <b>'
    plan = FlowPlan(
        name="f",
        qualname="f",
        file="f.py",
        nodes=[
            node(f"{weird}@1:4", flow="f", task=weird, count=1),
            node("b/c@1#2", flow="f", count=1),
        ],
        edges=[edge(f"{weird}@1:4", "b/c@1#2")],
    )
    source = render(plan, "dot")
    assert quote(f"{weird}@1:4") == '"ta\\"sk\\\\x <b>@1:4"'
    assert f"{quote(f'{weird}@1:4')} -> {quote('b/c@1#2')}" in source  # type: ignore[operator]


@needs_dot
def test_dot_source_is_accepted_by_graphviz() -> None:
    """``dot -Tcanon`` parses what we write, hostile ids and all."""
    weird = 'a"b:c#d@1'
    plan = pipeline()
    plan.nodes.append(node(f"{weird}:2", task='a"b:c#d', count=1))
    plan.edges.append(edge("total@13", f"{weird}:2"))
    done = subprocess.run(
        ["dot", "-Tcanon"], input=render(plan, "dot"), capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_layout_left_to_right_for_chains_top_down_for_wide() -> None:
    assert 'rankdir="LR"' in render(pipeline(), "dot")  # type: ignore[operator]
    wide = FlowPlan(
        name="w",
        qualname="w",
        file="w.py",
        nodes=[node(f"t{i}@{i + 1}", flow="w") for i in range(6)],
    )
    assert 'rankdir="TB"' in render(wide, "dot")  # type: ignore[operator]
    assert 'rankdir="LR"' in render(wide, "dot", rankdir="LR")  # type: ignore[operator]


def test_several_flows_are_clusters_with_scoped_ids() -> None:
    other = pipeline().model_copy(update={"name": "other"})
    source = to_dot([pipeline(), other])
    assert 'subgraph "cluster_flow:pipe"' in source
    assert 'subgraph "cluster_flow:other"' in source
    assert '"pipe/source@11" -> "pipe/square@12"' in source
    assert '"other/source@11" -> "other/square@12"' in source


# --------------------------------------------------------------------------- collapse


def test_expanded_sites_over_max_runs_are_collapsed_with_a_label() -> None:
    source = render(expanded(25), "dot")
    assert isinstance(source, str)
    nodes = dot_statements(source)
    assert "work@2#0" not in nodes
    assert 'label="work ×25  ·  line 2"' in nodes["work@2"]
    assert source.count('"src@1" -> "work@2"') == 1
    assert "1 call site(s) with more than 20 runs drawn collapsed" in source


def test_expanded_sites_within_max_runs_stay_expanded() -> None:
    nodes = dot_statements(render(expanded(5), "dot", max_runs=5))  # type: ignore[arg-type]
    assert 'label="work #3  ·  line 2"' in nodes["work@2#3"]
    assert "work@2" not in nodes


def test_collapse_does_not_mutate_its_input() -> None:
    plan = expanded(3)
    before = plan.model_dump()
    collapsed, folded = collapse_runs(plan, 0)
    assert folded == ["work@2"]
    assert plan.model_dump() == before
    assert {n.id for n in collapsed.nodes} == {"src@1", "sink@3", "work@2"}
    assert not collapsed.expanded
    assert {(e.source, e.target) for e in collapsed.edges} == {
        ("src@1", "work@2"),
        ("work@2", "sink@3"),
    }


def test_node_labels() -> None:
    assert node_label(node("a@3", "call", count=1)) == "a  ·  line 3"
    assert node_label(node("m@4", "map", count=1)) == "m ×1  ·  line 4"
    assert node_label(node("s@5", count=None, dynamic="loop over a result")) == "s ×?  ·  line 5"
    assert node_label(node("f@6", "subflow", task="flow:inner")) == "subflow inner  ·  line 6"


def test_nested_subflows_nest_their_clusters() -> None:
    plan = pipeline()
    plan.nodes += [
        node("flow:deep@6", "subflow", flow="inner", task="flow:deep"),
        node("leaf@2", flow="deep", count=1),
    ]
    assert subflow_parents(plan) == {"inner": "pipe", "deep": "inner"}
    source = render(plan, "dot")
    assert isinstance(source, str)
    inner = source.index('subgraph "cluster_inner"')
    deep = source.index('subgraph "cluster_deep"')
    assert inner < deep < source.index('"leaf@2"')


# --------------------------------------------------------------------------- SVG, PNG


@needs_dot
def test_svg_is_well_formed_xml_with_every_node() -> None:
    svg = render(pipeline(), "svg")
    assert isinstance(svg, str)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    titles = {el.text for el in root.iter() if el.tag.endswith("title")}
    assert {"announce@10", "square@12", "break@20:4", "flow:inner@14"} <= titles


@needs_dot
def test_png_has_the_png_signature() -> None:
    png = render(pipeline(), "png")
    assert isinstance(png, bytes)
    assert png.startswith(PNG_SIGNATURE)


@needs_dot
def test_plan_view_draws_itself_in_notebooks() -> None:
    view = PlanView(pipeline())
    svg = view._repr_svg_()
    assert svg is not None
    ET.fromstring(svg)
    bundle = view._repr_mimebundle_()
    assert bundle["image/svg+xml"] == svg
    assert bundle["text/markdown"].startswith("```mermaid\nflowchart LR\n")
    assert repr(view) == "PlanView(pipe)"


def test_plan_view_without_dot_falls_back_to_mermaid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    bundle = PlanView(Plan(flows=[pipeline()]))._repr_mimebundle_()
    assert "image/svg+xml" not in bundle
    assert "flowchart LR" in bundle["text/markdown"]


def test_missing_dot_is_a_clear_error_and_text_formats_still_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    for fmt in ("svg", "png"):
        with pytest.raises(DotNotFound) as raised:
            render(pipeline(), fmt)
        assert str(raised.value) == DOT_MISSING
    for fmt in ("dot", "mermaid", "json"):
        assert render(pipeline(), fmt)


def test_graphviz_executable_not_found_is_translated(monkeypatch: pytest.MonkeyPatch) -> None:
    import graphviz

    def missing(*args: object, **kwargs: object) -> bytes:
        raise graphviz.ExecutableNotFound(("dot",))

    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: "/usr/bin/dot")
    monkeypatch.setattr(graphviz.Source, "pipe", missing)
    with pytest.raises(DotNotFound, match="need Graphviz's 'dot' program"):
        render(pipeline(), "svg")


@pytest.mark.timeout(300)  # the subprocess's own, generous timeout fires first
def test_missing_dot_on_path_in_a_real_process(tmp_path: Path) -> None:
    """An empty directory as the whole PATH: no ``dot`` anywhere, the real graphviz package."""
    empty = tmp_path / "bin"
    empty.mkdir()
    script = (
        "from flowc.compiler.render import render, DotNotFound\n"
        "from flowc.plan import FlowPlan, Node\n"
        "p = FlowPlan(name='f', qualname='f', file='f.py', nodes=[Node(id='a@1', task='a', "
        "kind='submit', flow='f', line=1, col=0)])\n"
        "assert render(p, 'dot').startswith('digraph')\n"
        "try:\n    render(p, 'svg')\nexcept DotNotFound as e:\n    print(e)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": str(empty)},
        timeout=150,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == DOT_MISSING


# --------------------------------------------------------------------------- JSON, formats


def test_json_is_the_plan_and_a_flow_is_wrapped_in_one() -> None:
    plan = Plan(source_sha256="abc", flows=[pipeline()])
    assert Plan.from_json(render(plan, "json")) == plan
    wrapped = Plan.from_json(render(pipeline(), "json"))
    assert wrapped.flows == [pipeline()]


def test_format_from_suffix_or_option() -> None:
    assert format_for(Path("g.svg"), None) == "svg"
    assert format_for(Path("g.MMD"), None) == "mermaid"
    assert format_for(Path("g.gv"), None) == "dot"
    assert format_for(Path("g.txt"), "json") == "json"
    assert format_for(None, None) == "dot"
    with pytest.raises(UnknownFormat, match=r"suffix '\.txt'.*--format"):
        format_for(Path("g.txt"), None)
    with pytest.raises(UnknownFormat, match="expected one of svg, png, dot, mermaid, json"):
        format_for(None, "jpeg")


def test_an_empty_plan_has_nothing_to_draw() -> None:
    with pytest.raises(ValueError, match="no flow"):
        render(Plan(), "dot")
