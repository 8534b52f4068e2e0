"""Comprehensions too large to unroll are counted by arithmetic, as loops are."""

from __future__ import annotations

from flowc.compiler import compile_source

SOURCE = (
    "from prefect import flow, task\n\n\n@task\ndef t(*xs):\n    return xs\n\n\n"
    "def helper(n):\n    return [t.submit(i) for i in range(n)]\n\n\n"
    "@flow\ndef f():\n"
    "    a = [t.submit(i, j, k) for i in range(300) for j in range(300) for k in range(300)]\n"
    "    b = [helper(300) for _ in range(300)]\n    return a, b\n"
)


def test_nested_comprehensions_are_counted_by_arithmetic() -> None:
    flow = compile_source(SOURCE, "comp.py").flow("f")
    assert sorted((n.id, n.count, n.dynamic) for n in flow.nodes) == [
        ("t@10", 90_000, None),
        ("t@15", 27_000_000, None),
    ]
    assert flow.breaks == []


def test_a_comprehension_over_a_huge_range_is_counted() -> None:
    source = SOURCE.replace("for _ in range(300)]", "for _ in range(10**15)]")
    flow = compile_source(source, "huge.py").flow("f")
    assert ("t@10", 300 * 10**15) in [(n.id, n.count) for n in flow.nodes]
