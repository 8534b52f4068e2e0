"""Loops, recursion and work the walk cannot afford: counts by arithmetic, or a graph break.

No test measures time: each asserts what the walk answers, and the default pytest timeout
catches a walk that would not end.
"""

from __future__ import annotations

from flowc.compiler import compile_source
from flowc.compiler.state import HARD_BUDGET, MAX_VALUE_WEIGHT

HEAD = "from prefect import flow, task\n\n\n@task\ndef t(*xs):\n    return xs\n\n\n"


def test_nested_loops_are_counted_by_arithmetic() -> None:
    source = HEAD + (
        "@flow\ndef f():\n    fs = []\n    for i in range(300):\n        for j in range(300):\n"
        "            for k in range(300):\n                fs.append(t.submit(i, j, k))\n"
        "    return fs\n"
    )
    flow = compile_source(source, "nested.py").flow("f")
    (node,) = flow.nodes
    assert node.count == 27_000_000 and node.dynamic is None
    assert flow.breaks == []


def test_a_loop_too_long_to_unroll_keeps_its_exact_count() -> None:
    source = HEAD + "@flow\ndef f():\n    for i in range(60_000):\n        t.submit(i)\n"
    (node,) = compile_source(source, "long.py").flow("f").nodes
    assert node.count == 60_000


def test_a_recursive_flow_is_a_graph_break_naming_the_line() -> None:
    source = HEAD + (
        "@flow\ndef rec(n: int = 150):\n    if n <= 0:\n        return 0\n"
        "    return t(n) + rec(n - 1)\n"
    )
    flow = compile_source(source, "rec.py").flow("rec")
    assert [(b.line, b.reason) for b in flow.breaks] == [
        (13, "recursive call of flow 'rec' is not followed")
    ]


def test_a_walk_past_its_budget_stops_with_a_graph_break() -> None:
    helpers = "".join(f"def h{i}(x):\n" + f"    h{i + 1}(x)\n" * 10 + "\n\n" for i in range(1, 7))
    source = HEAD + helpers + "def h7(x):\n    t.submit(x)\n\n\n@flow\ndef f():\n    h1(1)\n"
    flow = compile_source(source, "wide.py").flow("f")
    (brk,) = flow.breaks
    assert brk.reason.startswith(f"analysis stopped: more than {HARD_BUDGET:,} steps")
    assert 9 < brk.line < 100
    (node,) = flow.nodes
    assert node.count is None and node.dynamic


def test_values_too_large_to_follow_are_a_graph_break_and_keep_their_edges() -> None:
    source = HEAD + "@flow\ndef f():\n    v = t.submit(1)\n" + "    v = [v, v]\n" * 40
    source += "    return t.submit(v)\n"
    flow = compile_source(source, "vv.py").flow("f")
    assert flow.breaks and all("value too large to follow" in b.reason for b in flow.breaks)
    assert str(MAX_VALUE_WEIGHT // 1000) in flow.breaks[0].reason.replace(",", "")
    assert [(e.source, e.target) for e in flow.edges] == [("t@11", f"t@{12 + 40}")]


def test_a_loop_of_maps_is_counted_and_its_chain_is_a_graph_break() -> None:
    """1,000 maps of 1,000 in a loop: runs and edges are work, so the loop is counted by
    arithmetic; a chain through it cannot be listed run by run, and says so."""
    source = HEAD + (
        "@flow\ndef f():\n    xs = list(range(1000))\n    ys = xs\n"
        "    for i in range(1000):\n        ys = t.map(ys)\n    acc = []\n"
        "    for i in range(1000):\n        acc = acc + t.map(xs)\n    return ys, acc\n"
    )
    flow = compile_source(source, "maps.py").flow("f")
    assert [(n.id, n.count) for n in flow.nodes] == [("t@14", 1_000_000), ("t@17", 1_000_000)]
    assert [(b.line, b.reason.split(":")[0]) for b in flow.breaks] == [
        (14, "its runs depend on each other through a loop too long to unroll")
    ]
    assert all(e.source != e.target for e in flow.edges)


def test_what_a_counted_loop_leaves_in_a_name_is_not_one_iterations_value() -> None:
    """A list appended to 40,000 times, or a counter, is not what one walk of the body left:
    a map over it is dynamic, never given a count of 1 or 2."""
    source = HEAD + (
        "@flow\ndef f():\n    out = []\n    k = 0\n    for i in range(40_000):\n"
        "        out.append(t.submit(i))\n        k += 1\n"
        "    t.map(out)\n    return t.map(range(k))\n"
    )
    flow = compile_source(source, "counted.py").flow("f")
    counts = [(n.id, n.count) for n in flow.nodes]
    assert counts == [("t@14", 40_000), ("t@16", None), ("t@17", None)]


def test_a_loop_of_ten_thousand_submits_is_still_unrolled_run_by_run() -> None:
    source = HEAD + (
        "@flow\ndef f():\n    a = [t.submit(i) for i in range(10_000)]\n    out = []\n"
        "    for i in range(10_000):\n        out.append(t.submit(a[i]))\n    return t.map(out)\n"
    )
    flow = compile_source(source, "ten.py", expand=True).flow("f")
    assert len(flow.nodes) == 30_000 and flow.breaks == []
    assert {("t@11#5", "t@14#5"), ("t@14#5", "t@15#5")} <= {
        (e.source, e.target) for e in flow.edges
    }
