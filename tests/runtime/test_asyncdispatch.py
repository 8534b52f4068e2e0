"""``flowc.runtime.asyncdispatch``: a coroutine exactly where Prefect's helpers give one."""

from __future__ import annotations

import asyncio

from flowc import flow, task
from flowc.runtime.asyncdispatch import in_async_context, sync_or_async


@sync_or_async
def double(x: int) -> int:
    return 2 * x


def test_plain_code_gets_the_value_and_a_running_loop_a_coroutine() -> None:
    assert in_async_context() is False
    assert double(2) == 4

    async def main() -> tuple[bool, int, int]:
        pending = double(3)
        return asyncio.iscoroutine(pending), await pending, double(4, _sync=True)

    assert asyncio.run(main()) == (True, 6, 8)


def test_the_run_decides_inside_flows_and_tasks() -> None:
    @task
    def sync_task() -> int:
        return double(5)  # a sync task in an async flow: the value

    @flow
    async def async_flow() -> tuple[int, int, int]:
        forced = double(1, _sync=True)
        return await double(6), sync_task(), forced

    assert asyncio.run(async_flow()) == (12, 10, 2)


def test_aio_is_always_async() -> None:
    assert asyncio.run(double.aio(7)) == 14
