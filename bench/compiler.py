"""``compile_source`` of a generated 5,000-line flow file against a bare ``libcst.parse_module``.

libcst's parse is the floor of any libcst-based compiler, so it is the fair baseline: the ratio
is what discovery, positions and abstract interpretation add on top of it. Target: compiling at
no less than half the speed of the parse (ratio at most 2.0x).
"""

from __future__ import annotations

from bench.harness import Benchmark, Target, Workload, timed_pair

LINES = 5_000


def generate(lines: int = LINES) -> str:
    out = ["from prefect import flow, task", ""]
    i = 0
    while len(out) < lines:
        out += ["@task", f"def t{i}(x, y=1):", "    return x + y", ""]
        out += [
            "@flow",
            f"def f{i}(n: int = 3):",
            f"    a = t{i}.submit(1)",
            f"    b = t{i}.map([1, 2, 3], y=a)",
            "    for k in range(n):",
            f"        c = t{i}.submit(b, wait_for=[a])",
            "    return c",
            "",
        ]
        i += 1
    return "\n".join(out) + "\n"


def _prepare() -> Workload:
    import libcst

    from flowc.compiler import compile_source

    source = generate()
    return timed_pair(
        lambda: compile_source(source, "gen.py") and None,
        lambda: libcst.parse_module(source) and None,
    )


BENCHMARKS = [
    Benchmark(
        "C1-compile",
        f"compile_source of a {LINES:,}-line flow file; vs libcst.parse_module",
        _prepare,
        Target("ratio", 2.0),
        repeats=7,
        quick_repeats=2,
    ),
]
