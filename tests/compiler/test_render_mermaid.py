"""The Mermaid renderer: every line matches Mermaid's grammar, ids are safe, the caps hold."""

from __future__ import annotations

import re

from flowc.compiler.render import render
from flowc.compiler.render.mermaid import MAX_EDGES, MAX_NODES, escape_label, to_mermaid
from flowc.plan import Edge, FlowPlan, GraphBreak, Node

ID = r"[A-Za-z0-9_]+"
LABEL = r'"[^"\n]*"'
LINE = re.compile(
    "|".join(
        [
            r"flowchart LR",
            r"%% .*",
            rf"{ID}(\[{LABEL}\]|\[\[{LABEL}\]\]|\({LABEL}\)|\{{\{{{LABEL}\}}\}}|>{LABEL}\])",
            rf"subgraph {ID} \[{LABEL}\]",
            r"end",
            rf"{ID} (-->|-\.->|==>) {ID}",
            rf"class {ID}(,{ID})* {ID}",
            rf"classDef {ID} .+",
        ]
    )
)


def check_syntax(text: str) -> list[str]:
    """Every line is one Mermaid flowchart statement; subgraphs balance. Returns the lines."""
    lines = [line.strip() for line in text.splitlines()]
    assert lines[0] == "flowchart LR"
    depth = 0
    for line in lines:
        assert LINE.fullmatch(line), f"not a Mermaid statement: {line!r}"
        depth += line.startswith("subgraph ") - (line == "end")
        assert depth >= 0
    assert depth == 0
    return lines


def node(node_id: str, kind: str = "submit", flow: str = "f", **fields: object) -> Node:
    task, _, line = node_id.partition("@")
    fields.setdefault("task", task)
    return Node(
        id=node_id,
        kind=kind,  # type: ignore[arg-type]
        flow=flow,
        line=int(re.match(r"\d+", line).group()),  # type: ignore[union-attr]
        col=0,
        **fields,  # type: ignore[arg-type]
    )


def flow_plan() -> FlowPlan:
    return FlowPlan(
        name="f",
        qualname="f",
        file="f.py",
        nodes=[
            node("load@3", count=1),
            node("square@4", "map", count=10),
            node("end@5", "call", count=1, conditional=True),
            node('we"ird <x> & #1@6:2', count=None, dynamic="loop over a result"),
            node("flow:sub@7", "subflow", task="flow:sub"),
            node("inner@2", flow="sub", count=1),
        ],
        edges=[
            Edge(source="load@3", target="square@4", kind="future"),
            Edge(source="square@4", target="end@5", kind="value"),
            Edge(source="load@3", target='we"ird <x> & #1@6:2', kind="wait_for"),
        ],
        breaks=[GraphBreak(line=9, col=4, reason="while loop")],
    )


def test_every_line_is_valid_and_ids_are_sanitised() -> None:
    text = render(flow_plan(), "mermaid")
    assert isinstance(text, str)
    lines = check_syntax(text)
    assert 'n_load_3["load · line 3"]' in lines
    assert 'n_square_4[["square ×10 · line 4"]]' in lines
    assert 'n_end_5("end (if) · line 5")' in lines
    assert 'n_flow_sub_7{{"subflow sub · line 7"}}' in lines
    assert 'break_break_9_4>"graph break · line 9: while loop"]' in lines
    assert "n_load_3 --> n_square_4" in lines
    assert "n_square_4 ==> n_end_5" in lines
    assert "n_load_3 -.-> n_we_ird__x_____1_6_2" in lines
    assert "class n_we_ird__x_____1_6_2 dynamic" in lines
    assert "class n_end_5 conditional" in lines


def test_subflows_are_subgraphs() -> None:
    lines = check_syntax(to_mermaid([flow_plan()]))
    start = lines.index('subgraph sg_subflow_sub ["subflow sub"]')
    assert lines[start + 1] == 'n_inner_2["inner · line 2"]'
    assert lines[start + 2] == "end"


def test_labels_are_escaped() -> None:
    assert escape_label('a "b" <c> & #d') == "a #quot;b#quot; #lt;c#gt; #amp; #35;d"
    text = to_mermaid([flow_plan()])
    assert "we#quot;ird #lt;x#gt; #amp; #35;1 ×? · line 6" in text


def test_colliding_ids_stay_distinct() -> None:
    plan = FlowPlan(
        name="f",
        qualname="f",
        file="f.py",
        nodes=[node("a@1:2", count=1), node("a_1@2", count=1), node("a@1#2", count=1)],
    )
    lines = check_syntax(to_mermaid([plan]))
    ids = [line.split("[")[0] for line in lines if '["' in line]
    assert len(ids) == len(set(ids)) == 3


def test_several_flows_each_in_a_subgraph() -> None:
    other = flow_plan().model_copy(update={"name": "g"})
    lines = check_syntax(to_mermaid([flow_plan(), other]))
    assert 'subgraph flow_flow_f ["flow f"]' in lines
    assert 'subgraph flow_flow_g ["flow g"]' in lines
    assert len([line for line in lines if line.endswith("-->  n_square_4")]) == 0
    assert sum(line.endswith('["load · line 3"]') for line in lines) == 2


def test_large_expanded_plans_are_folded_then_cut_with_a_note() -> None:
    runs = MAX_NODES + 50
    nodes = [node("src@1", count=1)]
    nodes += [node(f"w@2#{i}", "map", site="w@2", index=i) for i in range(runs)]
    edges = [Edge(source="src@1", target=f"w@2#{i}", kind="future") for i in range(runs)]
    plan = FlowPlan(name="f", qualname="f", file="f.py", nodes=nodes, edges=edges, expanded=True)
    # --max-runs above the size: the caps fold every site
    lines = check_syntax(to_mermaid([plan], max_runs=10_000))
    assert 'n_w_2[["w ×550 · line 2"]]' in lines
    assert any("every expanded call site drawn collapsed" in line for line in lines)

    many = FlowPlan(
        name="f",
        qualname="f",
        file="f.py",
        nodes=[node(f"t{i}@{i + 1}", count=1) for i in range(MAX_NODES + 10)],
        edges=[
            Edge(source=f"t{i}@{i + 1}", target=f"t{i + 1}@{i + 2}", kind="future")
            for i in range(MAX_NODES + 9)
        ],
    )
    lines = check_syntax(to_mermaid([many]))
    drawn = [line for line in lines if re.fullmatch(r'n_\w+\[".*"\]', line)]
    arrows = [line for line in lines if " --> " in line]
    assert len(drawn) == MAX_NODES
    assert len(arrows) <= MAX_EDGES
    assert any(line.startswith("flowc_note[") and "use -o out.svg" in line for line in lines)
