"""Plan mode (``PlanOptions``, ``flowc run --plan on``) against what it is meant to beat.

In plan mode the engine holds every run the flow body submits until the body needs a result,
then dispatches them as one graph through the optimizer passes; on the process runner a large
``.map`` is batched into a few calls per worker and a linear chain is fused into one call.

* P1: a ``.map`` over 10,000 trivial items on 2 processes in plan mode, against a raw
  ``ProcessPoolExecutor(2)`` submitting one call per item and collecting every result;
* P2: the same map in plan mode against flowc's dynamic mode (one call per item);
* P3: a chain of 200 submits in plan mode, fused, against plan mode with ``optimize=False``;
* P4 (info): W1 (1,000 independent submits) and W2 (a chain of 200) on ``DaskTaskRunner`` in
  plan mode against dynamic mode, each pair on one shared ``LocalCluster``.

Pool start-up. Every flow run enters its own runner, and the process runner starts its own
pool (workers forked from a fork server), so a whole flow call always pays a pool
start and shutdown that a long-lived ``ProcessPoolExecutor`` pays once. P1-P3 therefore time
the *warm pool* on both sides: the flow body first runs one call on each worker (starting
both), then times from its first submit to its last result and returns that figure with the
result; the executor is started and warmed once, outside every sample, and each sample times
submit + collect. The whole flow call (pool start and shutdown included) is measured too and
printed in the notes, with the part of it outside the timed body and the ratio including
start-up.

Every sample checks the flow's sum (and the chain's end value) against the expected one, so a
broken plan mode cannot report a fast wrong figure, and the notes say what the passes did.

``--quick`` (detected from the command line, or ``FLOWC_BENCH_QUICK=1``: the harness does not
hand the mode to ``prepare``) shrinks the sizes so the group takes a few seconds.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.harness import Benchmark, Skip, Target, Workload
from bench.workloads import inc

WORKERS = 2
MAP_ITEMS = 10_000
CHAIN = 200
DASK_FAN_OUT = 1_000
DASK_CHAIN = 200

QUICK_MAP_ITEMS = 1_000  # still far above the batching threshold (64 items)
QUICK_CHAIN = 50
QUICK_DASK_FAN_OUT = 200
QUICK_DASK_CHAIN = 50

#: plan mode at least 5x faster than its baseline.
TARGET = Target("ratio", 0.2)
INFO = Target("info")

Sample = tuple[int, float]  # (the flow's answer, seconds from first submit to last result)


def _quick() -> bool:
    """Whether this is a ``--quick`` run (the harness does not tell ``prepare``)."""
    return "--quick" in sys.argv[1:] or os.environ.get("FLOWC_BENCH_QUICK") == "1"


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


class _Figures:
    """Figures taken beside the timed ones, summarised into one note after every sample.

    The harness copies a workload's notes after its last sample, so rewriting the note in
    place each time leaves the medians over all samples there.
    """

    def __init__(self, work: Workload, render: Callable[[dict[str, float]], str]) -> None:
        self.samples: dict[str, list[float]] = {}
        self._work = work
        self._render = render
        self._slot = len(work.notes)
        work.notes.append("")

    def add(self, key: str, seconds: float) -> None:
        self.samples.setdefault(key, []).append(seconds)
        medians = {name: _median(values) for name, values in self.samples.items()}
        self._work.notes[self._slot] = self._render(medians)


def _check(what: str, got: int, expected: int) -> None:
    if got != expected:
        raise RuntimeError(f"{what} returned {got}, expected {expected}: the result is wrong")


def _plan_options(optimize: bool = True) -> Any:
    from flowc.runtime.planexec import PlanOptions

    return PlanOptions(optimize=optimize)


def _run(flow_fn: Callable[[int], Any], n: int, options: Any | None) -> tuple[Any, float]:
    """Call the flow (in plan mode with ``options``, dynamically without); its whole time."""
    from flowc.runtime.planexec import plan_mode

    start = time.perf_counter()
    if options is None:
        value = flow_fn(n)
    else:
        with plan_mode(options):
            value = flow_fn(n)
    return value, time.perf_counter() - start


def _passes(options: Any) -> str:
    """What the optimizer did at the largest flush, e.g. ``batch: 10000 runs in 8 batches``."""
    flushes = [flush for flush in options.applied if flush]
    if not flushes:
        return "no optimised flush"

    def runs(flush: list[tuple[str, str]]) -> int:
        head = flush[0][1].split()[0]  # "<n> runs ordered by critical path"
        return int(head) if head.isdigit() else 0

    return "; ".join(f"{name}: {text}" for name, text in max(flushes, key=runs))


def _problem(work: Workload, text: str) -> None:
    if text not in work.problems:
        work.problems.append(text)


def _applied(options: Any, pass_name: str) -> bool:
    """Whether ``pass_name`` put any run in a batch or chain at some flush."""
    for flush in options.applied:
        for name, text in flush:
            if name == pass_name and not text.startswith("0 "):
                return True
    return False


# --------------------------------------------------------------------------- processes


def _process_runner() -> Any:
    try:
        from flowc.runtime.planexec import plan_mode  # noqa: F401
        from flowc.task_runners import ProcessPoolTaskRunner
    except Exception as exc:  # the runner or plan mode may be mid-change
        raise Skip(f"cannot import plan mode or the process runner ({exc})") from exc
    return ProcessPoolTaskRunner(max_workers=WORKERS)


def _process_flows() -> dict[str, Callable[[int], Sample]]:
    """The flows on 2 processes; each warms both workers, then times its own work."""
    from flowc import flow, task
    from flowc.futures import wait

    runner = _process_runner()
    inc_task = task(inc)

    def warm() -> None:
        # Two calls at once start both workers (the pool starts one per queued call).
        wait([inc_task.submit(-1), inc_task.submit(-2)])

    @flow(name="bench-plan-map", task_runner=runner)
    def plan_map(n: int) -> Sample:
        warm()
        start = time.perf_counter()
        total = sum(f.result() for f in inc_task.map(range(n)))
        return total, time.perf_counter() - start

    @flow(name="bench-plan-chain", task_runner=runner)
    def plan_chain(n: int) -> Sample:
        warm()
        start = time.perf_counter()
        future: Any = 0
        for _ in range(n):
            future = inc_task.submit(future)
        return future.result(), time.perf_counter() - start

    return {"map": plan_map, "chain": plan_chain}


def _executor_start(samples: int = 3) -> float:
    """``ProcessPoolExecutor(2)``: start, one call on each worker, shut down: median."""
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        with cf.ProcessPoolExecutor(max_workers=WORKERS) as ex:
            cf.wait([ex.submit(inc, -1), ex.submit(inc, -2)])
        times.append(time.perf_counter() - start)
    return _median(times)


def _map_size() -> int:
    return QUICK_MAP_ITEMS if _quick() else MAP_ITEMS


def _size_note(n: int, full: int, what: str) -> list[str]:
    return [] if n == full else [f"quick run: {n:,} {what}, not {full:,}"]


def _p1() -> Workload:
    """P1: plan-mode map against a warm ``ProcessPoolExecutor(2)``, one call per item."""
    flows = _process_flows()
    n = _map_size()
    expected = sum(range(1, n + 1))
    executor = cf.ProcessPoolExecutor(max_workers=WORKERS)
    start_figures: dict[str, float] = {}
    last: dict[str, Any] = {}

    def plan() -> float:
        options = last["options"] = _plan_options()
        (total, seconds), whole = _run(flows["map"], n, options)
        _check("the plan-mode flow", total, expected)
        if not _applied(options, "batch"):
            _problem(work, f"plan mode did not batch the map ({_passes(options)})")
        figures.add("whole", whole)
        figures.add("outside", whole - seconds)
        return seconds

    def raw() -> float:
        start = time.perf_counter()
        futures = [executor.submit(inc, i) for i in range(n)]
        total = sum(f.result() for f in futures)
        seconds = time.perf_counter() - start
        _check("the executor", total, expected)
        figures.add("raw", seconds)
        return seconds

    def warmup() -> None:
        cf.wait([executor.submit(inc, i) for i in range(4 * WORKERS)])
        plan()
        work.notes.append(f"plan passes: {_passes(last['options'])}")
        raw()
        figures.samples.clear()
        start_figures["executor"] = _executor_start()

    def render(m: dict[str, float]) -> str:
        raw_start = start_figures.get("executor", 0.0)
        incl = m.get("whole", 0.0) / (m.get("raw", 0.0) + raw_start) if m.get("raw") else 0.0
        return (
            f"incl. start: whole flow call {_ms(m.get('whole', 0.0))} (of which outside the "
            f"timed body, i.e. pool start + warm-up + shutdown: "
            f"{_ms(m.get('outside', 0.0))}) vs executor {_ms(m.get('raw', 0.0))} + its start + "
            f"2 calls + shutdown {_ms(raw_start)} ({_mp_method()}): ratio {incl:.2f}x; the "
            f"table's figures are excl. start (warm pools on both sides)"
        )

    work = Workload(flowc=plan, baseline=raw, warmup=warmup, cleanup=executor.shutdown)
    work.notes.extend(_size_note(n, MAP_ITEMS, "items"))
    figures = _Figures(work, render)
    return work


def _mp_method() -> str:
    import multiprocessing

    return multiprocessing.get_start_method()


def _plan_pair(
    kind: str, baseline_options: Callable[[], Any | None], baseline_label: str
) -> Workload:
    """Plan mode (optimised) against ``baseline_options`` (None: dynamic) on the same flow."""
    flows = _process_flows()
    if kind == "map":
        n, full, what = _map_size(), MAP_ITEMS, "items"
        expected, pass_name = sum(range(1, n + 1)), "batch"
    else:
        n, full, what = (QUICK_CHAIN if _quick() else CHAIN), CHAIN, "links"
        expected, pass_name = n, "fuse"
    flow_fn = flows[kind]

    def side(options: Any | None, key: str) -> float:
        (value, seconds), whole = _run(flow_fn, n, options)
        _check(f"the {key} flow", value, expected)
        if key == "plan" and not _applied(options, pass_name):
            _problem(work, f"plan mode did not {pass_name} the runs ({_passes(options)})")
        figures.add(f"{key}-whole", whole)
        figures.add(f"{key}-outside", whole - seconds)
        return seconds

    last: dict[str, Any] = {}

    def plan() -> float:
        last["options"] = _plan_options()
        return side(last["options"], "plan")

    def baseline() -> float:
        return side(baseline_options(), baseline_label)

    def warmup() -> None:
        plan()
        work.notes.append(f"plan passes: {_passes(last['options'])}")
        baseline()
        figures.samples.clear()

    def render(m: dict[str, float]) -> str:
        plan_whole = m.get("plan-whole", 0.0)
        other_whole = m.get(f"{baseline_label}-whole", 0.0)
        ratio = plan_whole / other_whole if other_whole else 0.0
        pool = _ms(m.get("plan-outside", 0.0))
        return (
            f"incl. start (whole flow calls, each starting its own pool; pool start + warm-up + "
            f"shutdown, outside the timed body: {pool}): "
            f"plan {_ms(plan_whole)} vs {baseline_label} {_ms(other_whole)}: ratio "
            f"{ratio:.2f}x; the table's figures are excl. start (warm pools on both sides)"
        )

    work = Workload(flowc=plan, baseline=baseline, warmup=warmup)
    work.notes.extend(_size_note(n, full, what))
    figures = _Figures(work, render)
    return work


def _p2() -> Workload:
    return _plan_pair("map", lambda: None, "dynamic")


def _p3() -> Workload:
    return _plan_pair("chain", lambda: _plan_options(optimize=False), "unfused")


# --------------------------------------------------------------------------- Dask


def _dask(kind: str) -> Workload:
    """P4: W1 or W2 on ``DaskTaskRunner`` in plan mode against dynamic mode, one cluster."""
    from bench.distributed import local_cluster

    cluster = local_cluster()  # Skip when Dask is not installed
    from flowc import flow, task
    from flowc.task_runners import DaskTaskRunner

    quick = _quick()
    runner = DaskTaskRunner(cluster=cluster)
    inc_task = task(inc)

    @flow(name="bench-plan-dask-fan-out", task_runner=runner)
    def fan_out(n: int) -> int:
        return sum(f.result() for f in [inc_task.submit(i) for i in range(n)])

    @flow(name="bench-plan-dask-chain", task_runner=runner)
    def chain(n: int) -> int:
        future: Any = 0
        for _ in range(n):
            future = inc_task.submit(future)
        return int(future.result())

    if kind == "W1":
        n, full, flow_fn = (QUICK_DASK_FAN_OUT if quick else DASK_FAN_OUT), DASK_FAN_OUT, fan_out
        expected, what = sum(range(1, n + 1)), "submits"
    else:
        n, full, flow_fn = (QUICK_DASK_CHAIN if quick else DASK_CHAIN), DASK_CHAIN, chain
        expected, what = n, "links"

    def side(options: Any | None) -> float:
        value, seconds = _run(flow_fn, n, options)
        _check("the dynamic flow" if options is None else "the plan-mode flow", value, expected)
        return seconds

    def warmup() -> None:
        options = _plan_options()
        side(options)
        side(None)
        work.notes.append(f"plan passes: {_passes(options)}")

    work = Workload(
        flowc=lambda: side(_plan_options()),
        baseline=lambda: side(None),
        warmup=warmup,
        cleanup=lambda: _close(cluster),
    )
    work.notes.extend(_size_note(n, full, what))
    return work


def _close(cluster: Any) -> None:
    with contextlib.suppress(Exception):
        cluster.close(timeout=10)


BENCHMARKS = [
    Benchmark(
        "P1-map-processes",
        f"plan-mode .map over {MAP_ITEMS:,} items on 2 processes; vs ProcessPoolExecutor(2)",
        _p1,
        TARGET,
        repeats=7,
        quick_repeats=1,
        time_limit=90,
    ),
    Benchmark(
        "P2-map-dynamic",
        f".map over {MAP_ITEMS:,} items on 2 processes, plan mode vs dynamic mode",
        _p2,
        TARGET,
        repeats=7,
        quick_repeats=1,
        time_limit=90,
    ),
    Benchmark(
        "P3-chain-fused",
        f"a chain of {CHAIN} submits on 2 processes, plan mode fused vs optimize=False",
        _p3,
        TARGET,
        repeats=7,
        quick_repeats=1,
        time_limit=60,
    ),
    Benchmark(
        "P4-dask-plan-W1",
        f"{DASK_FAN_OUT:,} independent submits on a 2-worker LocalCluster, plan vs dynamic",
        lambda: _dask("W1"),
        INFO,
        repeats=5,
        quick_repeats=1,
        time_limit=120,
    ),
    Benchmark(
        "P4-dask-plan-W2",
        f"a chain of {DASK_CHAIN} submits on a 2-worker LocalCluster, plan vs dynamic",
        lambda: _dask("W2"),
        INFO,
        repeats=5,
        quick_repeats=1,
        time_limit=120,
    ),
]
