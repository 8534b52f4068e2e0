"""Task call sites: a ``.map`` over an empty iterable makes no run, and no graph break."""

from __future__ import annotations

from pathlib import Path

from flowc.compiler import compile_file

REPORT = (
    "from prefect import flow, task\n\n\n@task(retries=2)\ndef fetch(page: int) -> list[int]:\n"
    "    return list(range(page * 10, page * 10 + 10))\n\n\n@task\ndef total(rows):\n"
    "    return sum(rows)\n\n\n@flow\ndef report(pages: int = 3) -> int:\n"
    "    rows = fetch.map(range(pages))\n    sums = total.map(rows)\n"
    "    return sum(s.result() for s in sums)\n"
)


def test_an_empty_map_has_zero_runs(tmp_path: Path) -> None:
    file = tmp_path / "report.py"
    file.write_text(REPORT)
    expanded = compile_file(file, expand=True, parameters={"pages": 0}).flow("report")
    assert expanded.breaks == [] and expanded.nodes == []
    flow = compile_file(file, parameters={"pages": 0}).flow("report")
    assert flow.breaks == []
    assert [(n.id, n.count, n.dynamic) for n in flow.nodes] == [
        ("fetch@16", 0, None),
        ("total@17", 0, None),
    ]


def test_a_map_over_a_huge_range_is_counted_not_listed() -> None:
    from flowc.compiler import compile_source

    source = REPORT.replace("range(pages)", "range(10**12)")
    flow = compile_source(source, "huge.py", expand=True).flow("report")
    fetch, total = flow.nodes  # too many runs to list even when asked: one node each
    assert (fetch.id, fetch.count, fetch.dynamic) == ("fetch@16", 10**12, None)
    assert (total.id, total.count, total.dynamic) == ("total@17", 10**12, None)
    assert [(e.source, e.target) for e in flow.edges] == [("fetch@16", "total@17")]


TWO_STAGE = (
    "from prefect import flow, task\n\n\n@task\ndef inc(x):\n    return x + 1\n\n\n"
    "@task\ndef add(x, y):\n    return x + y\n\n\n@flow\ndef two(n: int = 3):\n"
    "    a = inc.map(range(n))\n    b = add.map(a, range(n))\n    return sum(b.result())\n"
)


def test_a_large_map_is_one_node_whose_count_follows_into_the_next_map() -> None:
    from flowc.compiler import compile_source

    flow = compile_source(TWO_STAGE, "two.py", parameters={"n": 10**6}).flow("two")
    assert [(n.id, n.count, n.dynamic) for n in flow.nodes] == [
        ("inc@16", 10**6, None),
        ("add@17", 10**6, None),
    ]
    assert [(e.source, e.target, e.kind) for e in flow.edges] == [("inc@16", "add@17", "future")]
    assert flow.breaks == []


def test_an_expanded_large_map_pairs_run_i_with_run_i() -> None:
    from flowc.compiler import compile_source

    n = 5000  # past the size followed run by run: the runs are listed from the site
    flow = compile_source(TWO_STAGE, "two.py", expand=True, parameters={"n": n}).flow("two")
    assert len(flow.nodes) == 2 * n
    assert flow.nodes[n + 7].id == "add@17#7" and flow.nodes[n + 7].site == "add@17"
    pairs = {(e.source, e.target) for e in flow.edges}
    assert len(pairs) == n and ("inc@16#4999", "add@17#4999") in pairs
    # the same shape as a small map, which is followed run by run
    small = compile_source(TWO_STAGE, "two.py", expand=True, parameters={"n": 3}).flow("two")
    assert {(e.source, e.target) for e in small.edges} == {
        (f"inc@16#{i}", f"add@17#{i}") for i in range(3)
    }


def test_a_task_after_a_large_map_depends_on_every_run_of_it() -> None:
    from flowc.compiler import compile_source

    source = TWO_STAGE.replace(
        "    return sum(b.result())\n", "    return add.submit(a, 1).result()\n"
    )
    flow = compile_source(source, "two.py", expand=True, parameters={"n": 2000}).flow("two")
    into_total = [e.source for e in flow.edges if e.target == "add@18#0"]
    assert len(into_total) == 2000 and "inc@16#1999" in into_total


def test_resolving_a_large_map_s_futures_in_a_loop_or_comprehension_is_seen_by_lint() -> None:
    from flowc.lint import lint_source

    for resolve in (
        "    return [f.result() for f in b]\n",
        "    total = 0\n    for f in b:\n        total += f.result()\n    return total\n",
    ):
        source = TWO_STAGE.replace("    return sum(b.result())\n", resolve)
        source = source.replace("n: int = 3", "n: int = 50_000")
        assert lint_source(source, "two.py").findings == [], resolve
    unresolved = TWO_STAGE.replace("    return sum(b.result())\n", "    return 0\n")
    unresolved = unresolved.replace("n: int = 3", "n: int = 50_000")
    assert {f.code for f in lint_source(unresolved, "two.py").findings} == {"FC001"}


def test_a_short_loop_chaining_one_site_is_no_graph_break_by_call_site() -> None:
    """Followed run by run, the chain is known (expanded, it is listed), so the plan by call
    site, which ``flowc run`` reads, has no graph break for it."""
    from flowc.compiler import compile_source

    source = TWO_STAGE.replace(
        "    a = inc.map(range(n))\n    b = add.map(a, range(n))\n    return sum(b.result())\n",
        "    x = inc.submit(0)\n    for _ in range(3):\n        x = inc.submit(x)\n"
        "    return x.result()\n",
    )
    collapsed = compile_source(source, "loop.py").flow("two")
    assert collapsed.breaks == [] and [n.count for n in collapsed.nodes] == [1, 3]
    expanded = compile_source(source, "loop.py", expand=True).flow("two")
    assert ("inc@18#1", "inc@18#2") in {(e.source, e.target) for e in expanded.edges}
