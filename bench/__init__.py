"""flowc's benchmark suite: ``python -m bench`` (or ``make bench``); see docs/benchmarks.md.

Every benchmark runs flowc and a baseline doing the same work without flowc, interleaved in
one process, and reports both medians, their ratio and a verdict against its target. Groups:
:mod:`bench.threads`, :mod:`bench.processes`, :mod:`bench.memory`, :mod:`bench.imports`,
:mod:`bench.scale` (group S: plan against dynamic mode at scale, whole processes).
"""

from __future__ import annotations

from bench.harness import Benchmark

__all__ = ["all_benchmarks"]


def all_benchmarks() -> list[Benchmark]:
    """Every benchmark, in the order the suite runs them."""
    from bench import (
        compiler,
        distributed,
        html,
        imports,
        lint,
        memory,
        plan,
        processes,
        scale,
        threads,
    )

    return [
        *threads.BENCHMARKS,
        *processes.BENCHMARKS,
        *distributed.BENCHMARKS,
        *memory.BENCHMARKS,
        *imports.BENCHMARKS,
        *compiler.BENCHMARKS,
        *html.BENCHMARKS,
        *lint.BENCHMARKS,
        *plan.BENCHMARKS,
        *scale.BENCHMARKS,
    ]
