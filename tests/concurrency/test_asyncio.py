"""``flowc.concurrency.asyncio``: the awaitable forms share the sync forms' slots."""

from __future__ import annotations

import asyncio

import pytest

from flowc.concurrency import set_limit
from flowc.concurrency.asyncio import (
    AcquireConcurrencySlotTimeoutError,
    ConcurrencySlotAcquisitionError,
    concurrency,
    rate_limit,
)
from flowc.concurrency.sync import concurrency as sync_concurrency


def test_coroutines_never_exceed_the_limit() -> None:
    set_limit("database", 2)
    inside = [0]
    highest = [0]

    async def query() -> None:
        async with concurrency("database", occupy=1):
            inside[0] += 1
            highest[0] = max(highest[0], inside[0])
            await asyncio.sleep(0.01)
            inside[0] -= 1

    async def main() -> None:
        await asyncio.gather(*(query() for _ in range(6)))

    asyncio.run(main())
    assert 1 <= highest[0] <= 2


def test_waiting_lets_other_coroutines_run() -> None:
    set_limit("database", 1)
    order: list[str] = []

    async def holder(release: asyncio.Event) -> None:
        async with concurrency("database"):
            order.append("held")
            await release.wait()
        order.append("released")

    async def waiter() -> None:
        async with concurrency("database"):
            order.append("waiter in")

    async def main() -> None:
        release = asyncio.Event()
        holding = asyncio.create_task(holder(release))
        while not order:
            await asyncio.sleep(0)
        waiting = asyncio.create_task(waiter())
        await asyncio.sleep(0.05)  # the waiter is polling; the loop keeps running
        order.append("loop ran")
        release.set()
        await asyncio.gather(holding, waiting)

    asyncio.run(main())
    assert order == ["held", "loop ran", "released", "waiter in"]


def test_timeouts_and_strict_as_in_the_sync_form() -> None:
    set_limit("database", 1)

    async def main() -> None:
        with sync_concurrency("database"), pytest.raises(AcquireConcurrencySlotTimeoutError):
            async with concurrency("database", timeout_seconds=0):
                pass
        with pytest.raises(ConcurrencySlotAcquisitionError):
            await rate_limit("nothing", strict=True)

    asyncio.run(main())


def test_rate_limit_waits_for_decay() -> None:
    set_limit("api", 1, slot_decay_per_second=0.001)

    async def main() -> None:
        await rate_limit("api")
        with pytest.raises(AcquireConcurrencySlotTimeoutError):
            await rate_limit("api", timeout_seconds=0)

    asyncio.run(main())
