"""flowc's default thread runner against ``concurrent.futures.ThreadPoolExecutor``.

The raw executor is the fair baseline because it is what the thread runner replaces: the same
threads in the same process running the same function, with none of flowc's task-run
records, states, dependency tracking or futures-in-arguments. The ratio is therefore flowc's
per-call overhead on a trivial task, the worst case for it. Both use their default number of
workers (``min(32, cpus + 4)``).
"""

from __future__ import annotations

import concurrent.futures as cf

from bench import workloads
from bench.harness import Benchmark, Target, Workload

FAN_OUT = 1_000
CHAIN = 200
MAP_ITEMS = 10_000

TARGET = Target("ratio", 2.0)


def _w1() -> Workload:
    return workloads.fan_out(workloads.thread_runner(), cf.ThreadPoolExecutor, FAN_OUT)


def _w2() -> Workload:
    return workloads.chain(workloads.thread_runner(), cf.ThreadPoolExecutor, CHAIN)


def _w3() -> Workload:
    return workloads.map_over(workloads.thread_runner(), cf.ThreadPoolExecutor, MAP_ITEMS)


BENCHMARKS = [
    Benchmark(
        "W1-threads",
        f"{FAN_OUT:,} independent .submit calls, then wait(); vs ThreadPoolExecutor.submit",
        _w1,
        TARGET,
        repeats=21,
        quick_repeats=5,
    ),
    Benchmark(
        "W2-threads",
        f"a chain of {CHAIN} dependent submits, then .result(); vs submit(...).result() x{CHAIN}",
        _w2,
        TARGET,
        repeats=21,
        quick_repeats=5,
    ),
    Benchmark(
        "W3-threads",
        f".map over {MAP_ITEMS:,} items, then .result(); vs {MAP_ITEMS:,} submits + results",
        _w3,
        TARGET,
        repeats=11,
        quick_repeats=3,
    ),
]
