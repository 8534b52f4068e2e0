"""flowc's process runner against ``concurrent.futures.ProcessPoolExecutor``, 2 workers each.

The raw executor is the fair baseline: it is what a user would otherwise reach for to run the
same function in the same number of worker processes. Each timed call starts and stops its
pool, so worker start-up is in both figures. flowc's pool forks its workers from a fork
server (safe in a threaded parent; the server starts with the first pool of the process, in
the warm-up) while the executor uses the platform default (``fork`` on Linux up to Python
3.13). Each flowc call is a whole task run, which its worker runs with flowc's engine.

W3 maps over 2,000 items instead of 10,000: each call is a round trip to a worker process,
and 10,000 of them on 2 cores would dominate the suite's running time.

R1 is retries: 200 runs of a task with ``retries=3`` that fails twice, then succeeds. flowc
runs each task run whole in its worker, attempts included; the baseline is the same retries
written by hand around ``ProcessPoolExecutor.submit`` (resubmit on failure), each attempt a
round trip.

The target for W1-W3 and R1 is 2x the raw executor, start-up included.
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

TARGET = Target("ratio", 2.0)

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


RETRIED_RUNS = 200


def flaky_attempt(item: int, attempt: int) -> int:
    """Fails on its first two attempts; the third returns the item."""
    if attempt < 3:
        raise ConnectionError(f"attempt {attempt} of item {item}")
    return item


def _flaky_in_flowc(item: int) -> int:
    from flowc.runtime.context import current_task_run

    run = current_task_run()
    return flaky_attempt(item, run.run_count if run is not None else 1)


def _r1() -> Workload:
    from flowc import flow, task

    flaky = task(_flaky_in_flowc, retries=3)
    runner = _runner()

    @flow(name="bench-retries", task_runner=runner)
    def flowc_retries() -> int:
        return sum(f.result() for f in flaky.map(range(RETRIED_RUNS)))

    def hand_written_retries() -> int:
        total = 0
        with _executor() as ex:
            pending = {ex.submit(flaky_attempt, i, 1): (i, 1) for i in range(RETRIED_RUNS)}
            while pending:
                done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    item, attempt = pending.pop(future)
                    try:
                        total += future.result()
                    except ConnectionError:
                        pending[ex.submit(flaky_attempt, item, attempt + 1)] = (item, attempt + 1)
        return total

    return workloads.timed_pair(flowc_retries, hand_written_retries)


BENCHMARKS = [
    Benchmark(
        "W1-processes",
        f"{FAN_OUT:,} independent .submit calls on 2 processes; vs ProcessPoolExecutor(2)",
        _w1,
        TARGET,
        repeats=7,
        quick_repeats=1,
        time_limit=60,
    ),
    Benchmark(
        "W2-processes",
        f"a chain of {CHAIN} dependent submits on 2 processes; vs ProcessPoolExecutor(2)",
        _w2,
        TARGET,
        repeats=7,
        quick_repeats=1,
        time_limit=60,
    ),
    Benchmark(
        "W3-processes",
        f".map over {MAP_ITEMS:,} items on 2 processes; vs ProcessPoolExecutor(2)",
        _w3,
        TARGET,
        repeats=7,
        quick_repeats=1,
        time_limit=60,
        note=f"{MAP_ITEMS:,} items, not 10,000, to keep the suite's running time sane",
    ),
    Benchmark(
        "R1-retries-processes",
        f"{RETRIED_RUNS} runs with retries=3, failing twice each, on 2 processes; vs the same "
        "retries by hand around ProcessPoolExecutor(2).submit",
        _r1,
        TARGET,
        repeats=5,
        quick_repeats=1,
        time_limit=120,
    ),
]
