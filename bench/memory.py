"""Memory held per *finished* task run, measured with ``tracemalloc``.

A flow keeps a record of every task run it made (for its report, and for ``flowc.capture``),
so a flow with hundreds of thousands of tasks holds hundreds of thousands of records. This
benchmark runs a flow that submits 20,000 trivial tasks and returns nothing, keeps the
captured flow run alive, and divides the traced bytes it holds by 20,000.

The baseline is the least any future-based runtime holds per finished call: one
``concurrent.futures.Future`` with its result set, measured the same way (20,000 of them in a
list). flowc keeps such a future per run as its completion signal, so the ratio shows what
flowc's record adds around it. The target is absolute: at most 1,024 bytes per run, report
data included, whatever the flow's size.
"""

from __future__ import annotations

import concurrent.futures as cf
import gc
import tracemalloc
from collections.abc import Callable
from typing import Any

from bench.harness import Benchmark, Target, Workload
from bench.workloads import inc, thread_runner

N = 20_000
TOP_SITES = 3


def held_bytes(build: Callable[[], Any]) -> tuple[int, list[tracemalloc.StatisticDiff]]:
    """Traced bytes still allocated after ``build()``, while its result is referenced.

    Returns the byte count and the ``tracemalloc`` statistics by line (largest first).
    Allocations made by ``tracemalloc`` itself (the snapshots) are left out.
    """
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        held = build()
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    own = [tracemalloc.Filter(False, tracemalloc.__file__)]
    stats = after.filter_traces(own).compare_to(before.filter_traces(own), "lineno")
    del held
    return sum(stat.size_diff for stat in stats), stats


def _prepare() -> Workload:
    from flowc import capture, flow, task
    from flowc.futures import wait

    inc_task = task(inc)

    @flow(name="bench-memory", task_runner=thread_runner())
    def many(n: int) -> None:
        wait([inc_task.submit(i) for i in range(n)])

    def run_flow(n: int) -> Any:
        with capture() as runs:
            many(n)
        if len(runs.last.records) != n:
            raise RuntimeError(f"expected {n} task run records, found {len(runs.last.records)}")
        return runs  # everything the capture keeps: the flow run and all its records

    def futures(n: int) -> list[cf.Future[int]]:
        done = []
        for i in range(n):
            future: cf.Future[int] = cf.Future()
            future.set_result(inc(i))
            done.append(future)
        return done

    work = Workload(flowc=lambda: 0.0, baseline=lambda: 0.0)

    def flowc_sample() -> float:
        total, stats = held_bytes(lambda: run_flow(N))
        work.notes[:] = [_top_sites(stats)]
        return total / N

    def baseline_sample() -> float:
        return held_bytes(lambda: futures(N))[0] / N

    def warmup() -> None:
        run_flow(1_000)
        futures(1_000)

    work.flowc, work.baseline, work.warmup = flowc_sample, baseline_sample, warmup
    return work


def _top_sites(stats: list[tracemalloc.StatisticDiff]) -> str:
    """The lines that allocated most of flowc's bytes, per run: where to look to shrink it."""
    parts = []
    for stat in stats[:TOP_SITES]:
        frame = stat.traceback[0]
        where = "/".join(frame.filename.split("/")[-2:])
        parts.append(f"{where}:{frame.lineno} {stat.size_diff / N:,.0f} B")
    return "largest per run: " + ", ".join(parts)


BENCHMARKS = [
    Benchmark(
        "memory-per-task-run",
        f"bytes held per finished task run ({N:,} runs captured); vs one completed Future",
        _prepare,
        Target("flowc", 1024),
        unit="B",
        repeats=3,
        quick_repeats=1,
    ),
]
