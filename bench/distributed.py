"""flowc's Dask and Ray runners against raw ``client.submit`` and raw ``@ray.remote`` calls.

Each pair runs on the *same* cluster in the same process: one ``LocalCluster`` (2 worker
processes, 1 thread each, loopback only) for the Dask pair, one local Ray (2 CPUs) for the Ray
pair, started once per benchmark and shared by every repetition, so cluster start-up is in
neither figure. What is measured is what going through flowc's engine (task-run records,
states, futures, bringing every outcome back) adds to the cluster's own cost per call.

The baselines are what a user of each library would write for the same work:

* W1: 1,000 independent calls of a trivial function, then their results on the driver (a
  flowc future that has been waited on holds its result, so the baseline gathers them too);
* W2: a chain of 200 calls, each given the previous call's native future (Dask ``Future``,
  Ray ``ObjectRef``), so the cluster runs the chain without a round trip to the driver per
  link. flowc's engine dispatches a run only once its upstream is final, so it pays that
  round trip on every link: W2 is the worst case for flowc. A note gives the raw figure of
  the same chain done that way by hand (each result fetched before the next call).

A Dask flow run enters a fresh runner, which opens its own ``Client`` to the shared cluster;
the Dask baseline opens one too, inside the timed call, so client start-up is on both sides.
Ray has no per-run client: the runner reuses the running Ray, as the baseline does.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.harness import Benchmark, Skip, Target, Workload, timed_pair
from bench.workloads import inc

WORKERS = 2
FAN_OUT = 1_000
CHAIN = 200

TARGET = Target("ratio", 1.3)


def _flows(runner: Any) -> tuple[Callable[[], int], Callable[[], int]]:
    """W1 and W2 as flows on ``runner``; each returns what its baseline returns."""
    from flowc import flow, task
    from flowc.futures import wait

    inc_task = task(inc)

    @flow(name="bench-fan-out", task_runner=runner)
    def flowc_fan_out() -> int:
        futures = [inc_task.submit(i) for i in range(FAN_OUT)]
        return len(wait(futures).done)

    @flow(name="bench-chain", task_runner=runner)
    def flowc_chain() -> int:
        future: Any = 0
        for _ in range(CHAIN):
            future = inc_task.submit(future)
        return int(future.result())

    return flowc_fan_out, flowc_chain


def _workload(
    kind: str,
    flows: tuple[Callable[[], int], Callable[[], int]],
    raw: tuple[Callable[[], int], Callable[[], int], Callable[[], int]],
) -> Workload:
    """W1 or W2 from the flows and the raw calls; W2 notes the round-trip chain's figure."""
    flowc_fan_out, flowc_chain = flows
    raw_fan_out, raw_chain, raw_round_trips = raw
    if kind == "W1":
        return timed_pair(flowc_fan_out, raw_fan_out)
    work = timed_pair(flowc_chain, raw_chain)
    warm = work.warmup

    def warmup() -> None:
        if warm is not None:
            warm()
        samples = []
        for _ in range(3):
            start = time.perf_counter()
            raw_round_trips()
            samples.append(time.perf_counter() - start)
        work.notes.append(
            f"raw chain fetching each result before the next call (flowc's dispatch rule, by "
            f"hand): {statistics.median(samples) * 1e3:.0f} ms"
        )

    work.warmup = warmup
    return work


# --------------------------------------------------------------------------- Dask


def local_cluster() -> Any:
    """The benchmarks' shared ``LocalCluster``: 2 single-thread worker processes, loopback;
    :class:`Skip` when Dask is not installed."""
    try:
        import dask
        import distributed
    except ImportError as exc:
        raise Skip(f"dask[distributed] is not installed ({exc})") from exc
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        return distributed.LocalCluster(
            n_workers=WORKERS,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        )


def _dask(kind: str) -> Workload:
    import distributed

    from flowc.task_runners import DaskTaskRunner

    cluster = local_cluster()

    def raw_fan_out() -> int:
        with distributed.Client(cluster) as client:
            futures = [client.submit(inc, i, pure=False) for i in range(FAN_OUT)]
            return len(client.gather(futures))

    def raw_chain() -> int:
        with distributed.Client(cluster) as client:
            future: Any = 0
            for _ in range(CHAIN):
                future = client.submit(inc, future, pure=False)
            return int(future.result())

    def raw_round_trips() -> int:
        with distributed.Client(cluster) as client:
            value = 0
            for _ in range(CHAIN):
                value = client.submit(inc, value, pure=False).result()
            return value

    flows = _flows(DaskTaskRunner(cluster=cluster))
    work = _workload(kind, flows, (raw_fan_out, raw_chain, raw_round_trips))
    work.cleanup = lambda: _close(cluster)
    return work


def _close(cluster: Any) -> None:
    with contextlib.suppress(Exception):
        cluster.close(timeout=10)


# --------------------------------------------------------------------------- Ray


def _ray(kind: str) -> Workload:
    try:
        import ray
    except ImportError as exc:
        raise Skip(f"ray is not installed ({exc})") from exc
    from flowc.task_runners import RayTaskRunner

    if ray.is_initialized():
        raise Skip("Ray is already running in this process; these figures need their own")
    # Started and stopped on this benchmark's own thread: Ray's processes die with the
    # thread that started them (they are bound to it with PR_SET_PDEATHSIG).
    ray.init(num_cpus=WORKERS, include_dashboard=False, log_to_driver=False)
    remote_inc = ray.remote(max_retries=0)(inc)

    def raw_fan_out() -> int:
        return len(ray.get([remote_inc.remote(i) for i in range(FAN_OUT)]))

    def raw_chain() -> int:
        ref: Any = 0
        for _ in range(CHAIN):
            ref = remote_inc.remote(ref)
        return int(ray.get(ref))

    def raw_round_trips() -> int:
        value = 0
        for _ in range(CHAIN):
            value = ray.get(remote_inc.remote(value))
        return value

    flows = _flows(RayTaskRunner())  # reuses the Ray started here
    work = _workload(kind, flows, (raw_fan_out, raw_chain, raw_round_trips))
    work.cleanup = ray.shutdown
    return work


def _benchmark(name: str, summary: str, prepare: Callable[[], Workload]) -> Benchmark:
    return Benchmark(name, summary, prepare, TARGET, repeats=7, quick_repeats=1, time_limit=120)


BENCHMARKS = [
    _benchmark(
        "W1-dask",
        f"{FAN_OUT:,} independent .submit calls on a 2-worker LocalCluster; vs client.submit",
        lambda: _dask("W1"),
    ),
    _benchmark(
        "W2-dask",
        f"a chain of {CHAIN} dependent submits on Dask; vs a chain of Dask futures",
        lambda: _dask("W2"),
    ),
    _benchmark(
        "W1-ray",
        f"{FAN_OUT:,} independent .submit calls on a 2-CPU local Ray; vs @ray.remote calls",
        lambda: _ray("W1"),
    ),
    _benchmark(
        "W2-ray",
        f"a chain of {CHAIN} dependent submits on Ray; vs a chain of ObjectRefs",
        lambda: _ray("W2"),
    ),
]
