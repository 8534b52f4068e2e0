"""The HTML view of a 2,000-call-site flow against the plain SVG drawing of the same plan.

Both run Graphviz's ``dot`` on the same graph, so the baseline is the layout itself: the ratio
is what the page adds (ids on the drawing, the plan's facts as JSON, the inlined script).
Target: at most 1.5x the SVG. Skipped without Graphviz.
"""

from __future__ import annotations

import shutil

from bench.harness import Benchmark, Skip, Target, Workload, timed_pair

SITES = 2_000


def generate(sites: int = SITES) -> str:
    """A tree of ``sites`` call sites with a chain through it and a map every 50 sites."""
    out = ["from flowc import flow, task", "", "@task", "def step(*xs):", "    return 1", ""]
    out += ["@task", "def wide(x):", "    return x", "", "@flow", "def big():"]
    out.append("    s0 = step.submit()")
    for i in range(1, sites):
        if i % 50 == 0:
            out.append(f"    s{i} = wide.map([s{i - 1}, s{(i - 1) // 2}])")
        else:
            extra = f", s{i - 1}" if i % 5 == 0 else ""
            out.append(f"    s{i} = step.submit(s{(i - 1) // 3}{extra})")
    return "\n".join(out) + "\n"


def _prepare() -> Workload:
    from flowc.compiler import compile_source
    from flowc.compiler.render import render

    if shutil.which("dot") is None:
        raise Skip("Graphviz's dot is not installed")
    plan = compile_source(generate(), "big.py").plan
    return timed_pair(
        lambda: render(plan, "html") and None,
        lambda: render(plan, "svg", legend=False) and None,
    )


BENCHMARKS = [
    Benchmark(
        "H1-html",
        f"flowc graph --format html of {SITES:,} call sites; vs the same plan as SVG",
        _prepare,
        Target("ratio", 1.5),
        repeats=3,
        quick_repeats=1,
        time_limit=600.0,
    ),
]
