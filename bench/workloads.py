"""The three runner workloads (W1 fan-out, W2 chain, W3 map), written once for any runner.

Each builder takes a flowc task runner and a factory for the matching
``concurrent.futures`` executor, and returns a :class:`~bench.harness.Workload` that times
one flow call against the same work done on the raw executor. Both sides create and shut
down their pool inside the timed call (the flow call enters and leaves its runner; the
baseline is a ``with Executor() as ex:`` block), so pool start-up is on both sides or neither.

The task is a trivial module-level function, so what is measured is the per-call machinery.
flowc gets it through ``task(inc)`` and the executor gets ``inc`` itself: in worker processes
both sides then ship the same function by reference.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable
from typing import Any

from bench.harness import Workload, timed_pair

ExecutorFactory = Callable[[], cf.Executor]


def inc(x: int) -> int:
    return x + 1


def thread_runner() -> Any:
    """A default ``ThreadPoolTaskRunner()``.

    ``flowc.task_runners`` also imports the process runner; should that fail to import, the
    thread benchmarks still run, on the same class from its own module.
    """
    try:
        from flowc.task_runners import ThreadPoolTaskRunner
    except ImportError:
        from flowc.runtime.runners.threads import ThreadPoolTaskRunner
    return ThreadPoolTaskRunner()


def fan_out(runner: Any, executor: ExecutorFactory, n: int) -> Workload:
    """W1: ``n`` independent submits, then one ``wait`` for all of them."""
    from flowc import flow, task
    from flowc.futures import wait

    inc_task = task(inc)

    @flow(name="bench-fan-out", task_runner=runner)
    def flowc_fan_out() -> int:
        futures = [inc_task.submit(i) for i in range(n)]
        return len(wait(futures).done)

    def raw_fan_out() -> int:
        with executor() as ex:
            futures = [ex.submit(inc, i) for i in range(n)]
            return len(cf.wait(futures).done)

    return timed_pair(flowc_fan_out, raw_fan_out)


def chain(runner: Any, executor: ExecutorFactory, n: int) -> Workload:
    """W2: ``n`` submits, each taking the previous one's future, then ``.result()``.

    The baseline cannot pass a future into a call, so it waits for each result before
    submitting the next: the same strictly sequential dependency, done by hand.
    """
    from flowc import flow, task

    inc_task = task(inc)

    @flow(name="bench-chain", task_runner=runner)
    def flowc_chain() -> int:
        future: Any = 0
        for _ in range(n):
            future = inc_task.submit(future)
        return future.result()  # type: ignore[no-any-return]

    def raw_chain() -> int:
        with executor() as ex:
            value = 0
            for _ in range(n):
                value = ex.submit(inc, value).result()
            return value

    return timed_pair(flowc_chain, raw_chain)


def map_over(runner: Any, executor: ExecutorFactory, n: int) -> Workload:
    """W3: ``.map`` over ``n`` items, then ``.result()`` for the list of values.

    The baseline submits ``n`` calls in a loop (what ``Executor.map`` does too) and collects
    their results in order.
    """
    from flowc import flow, task

    inc_task = task(inc)

    @flow(name="bench-map", task_runner=runner)
    def flowc_map() -> list[int]:
        return inc_task.map(range(n)).result()  # type: ignore[no-any-return]

    def raw_map() -> list[int]:
        with executor() as ex:
            futures = [ex.submit(inc, i) for i in range(n)]
            return [f.result() for f in futures]

    return timed_pair(flowc_map, raw_map)
