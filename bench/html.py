"""The HTML view of a 1,500-call-site flow against Graphviz's SVG of the same drawing.

Both run ``dot`` on the same graph with the same layout settings, so the baseline is the
layout itself: the ratio is what the page adds (the plan's facts as JSON, the inlined script).
Target: at most 1.5x the SVG. Skipped without Graphviz.
"""

from __future__ import annotations

import shutil

from bench.harness import Benchmark, Skip, Target, Workload, timed_pair

SITES = 1_500


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
    from flowc.compiler.render.dot import pipe, to_dot
    from flowc.compiler.render.html import LARGE, fast_layout
    from flowc.compiler.render.view import site_view

    if shutil.which("dot") is None:
        raise Skip("Graphviz's dot is not installed")
    plan = compile_source(generate(), "big.py").plan
    drawn = [site_view(flow) for flow in plan.flows]
    attrs = fast_layout() if sum(len(f.nodes) for f in drawn) > LARGE else None
    source = to_dot(drawn, max_runs=None, legend=False, svg_ids=True, graph_attrs=attrs)
    return timed_pair(
        lambda: render(plan, "html") and None,
        lambda: pipe(source, "svg") and None,
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
