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
    fetch, total = flow.nodes
    assert (fetch.id, fetch.count, fetch.dynamic) == ("fetch@16", 10**12, None)
    assert (total.id, total.count) == ("total@17", None)  # not 1,000: not known run by run
    assert total.dynamic and "known only at run time" in total.dynamic
