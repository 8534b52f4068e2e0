"""flowc's process runner against ``concurrent.futures.ProcessPoolExecutor``, 2 workers each.

The raw executor is the fair baseline: it is what a user would otherwise reach for to run the
same function in the same number of worker processes. Each timed call starts and stops its
pool, so worker start-up is in both figures. flowc's pool starts workers with ``spawn`` (safe
in a threaded parent) while the executor uses the platform default (``fork`` on Linux up to
Python 3.13), so on Linux a part of the gap is the start method; these benchmarks are
informational and have no target.

W3 maps over 2,000 items instead of 10,000: each call is a round trip to a worker process,
and 10,000 of them on 2 cores would dominate the suite's running time.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import multiprocessing
import statistics

from bench import workloads
from bench.harness import Benchmark, Skip, Target, Workload

WORKERS = 2
FAN_OUT = 1_000
CHAIN = 200
MAP_ITEMS = 2_000

INFO = Target("info")

_executor = functools.partial(cf.ProcessPoolExecutor, max_workers=WORKERS)


def _runner() -> object:
    """A ``ProcessPoolTaskRunner(max_workers=2)``, or :class:`Skip` if it cannot be imported."""
    try:
        from flowc.task_runners import ProcessPoolTaskRunner
    except Exception as exc:  # the runner's pool module may be mid-change
        raise Skip(f"cannot import ProcessPoolTaskRunner ({type(exc).__name__}: {exc})") from exc
    return ProcessPoolTaskRunner(max_workers=WORKERS)


def _w1() -> Workload:
    runner = _runner()
    work = workloads.fan_out(runner, _executor, FAN_OUT)
    warm = work.warmup

    def warmup() -> None:
        if warm is not None:
            warm()
        work.notes.append(_startup_note(runner))

    work.warmup = warmup
    return work


def _startup_note(runner: object, samples: int = 3) -> str:
    """Pool start-up and shut-down alone (a single call), to read the W ratios against."""
    single = workloads.fan_out(runner, _executor, 1)
    flowc, baseline = [], []
    for _ in range(samples):
        flowc.append(single.flowc())
        baseline.append(single.baseline())
    method = multiprocessing.get_start_method()
    return (
        f"pool start-up + 1 call: flowc {statistics.median(flowc) * 1e3:.0f} ms, "
        f"executor {statistics.median(baseline) * 1e3:.0f} ms (executor start method: {method})"
    )


def _w2() -> Workload:
    return workloads.chain(_runner(), _executor, CHAIN)


def _w3() -> Workload:
    return workloads.map_over(_runner(), _executor, MAP_ITEMS)


BENCHMARKS = [
    Benchmark(
        "W1-processes",
        f"{FAN_OUT:,} independent .submit calls on 2 processes; vs ProcessPoolExecutor(2)",
        _w1,
        INFO,
        repeats=7,
        quick_repeats=1,
        time_limit=60,
    ),
    Benchmark(
        "W2-processes",
        f"a chain of {CHAIN} dependent submits on 2 processes; vs ProcessPoolExecutor(2)",
        _w2,
        INFO,
        repeats=7,
        quick_repeats=1,
        time_limit=60,
    ),
    Benchmark(
        "W3-processes",
        f".map over {MAP_ITEMS:,} items on 2 processes; vs ProcessPoolExecutor(2)",
        _w3,
        INFO,
        repeats=7,
        quick_repeats=1,
        time_limit=60,
        note=f"{MAP_ITEMS:,} items, not 10,000, to keep the suite's running time sane",
    ),
]
