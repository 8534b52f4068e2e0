"""``prefect.concurrency.asyncio``: the awaitable forms of ``concurrency`` and ``rate_limit``.

The same slots and rules as :mod:`flowc.concurrency.sync`; waiting sleeps with
``asyncio.sleep``, so other coroutines of the event loop keep running.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from flowc.concurrency.limits import Limit
from flowc.concurrency.requests import plan
from flowc.concurrency.slots import (
    AcquireConcurrencySlotTimeoutError,
    ConcurrencySlotAcquisitionError,
    Lease,
    Request,
    acquisition,
    release,
)

__all__ = [
    "AcquireConcurrencySlotTimeoutError",
    "ConcurrencySlotAcquisitionError",
    "concurrency",
    "rate_limit",
]


async def _acquire(request: Request, limits: list[Limit], timeout_seconds: float | None) -> Lease:
    attempts = acquisition(request, limits, timeout_seconds)
    try:
        while True:
            await asyncio.sleep(next(attempts))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


@contextlib.asynccontextmanager
async def concurrency(
    names: str | list[str],
    occupy: int = 1,
    timeout_seconds: float | None = None,
    max_retries: int | None = None,
    lease_duration: float = 300,
    strict: bool = False,
    **prefect_options: Any,
) -> AsyncIterator[None]:
    """Hold ``occupy`` slots of each named limit for the ``async with`` block."""
    planned = plan(names, occupy, "concurrency", strict)
    if planned is None:
        yield
        return
    lease = await _acquire(*planned, timeout_seconds)
    try:
        yield
    finally:
        release(lease)


async def rate_limit(
    names: str | list[str],
    occupy: int = 1,
    timeout_seconds: float | None = None,
    strict: bool = False,
) -> None:
    """Wait until ``occupy`` slots of each named decaying limit are free, and occupy them."""
    planned = plan(names, occupy, "rate_limit", strict)
    if planned is not None:
        await _acquire(*planned, timeout_seconds)
