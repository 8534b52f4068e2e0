"""``prefect.concurrency.sync``: hold slots of named limits in a block, or rate-limit a call.

``with concurrency("database", occupy=1):`` waits until a slot of the ``database`` limit is
free (across threads and processes of this machine), holds it for the block, then gives it
back. ``rate_limit("api")`` waits for a slot of a decaying limit and leaves it to drain.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
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


def _acquire(request: Request, limits: list[Limit], timeout_seconds: float | None) -> Lease:
    attempts = acquisition(request, limits, timeout_seconds)
    try:
        while True:
            time.sleep(next(attempts))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


@contextlib.contextmanager
def concurrency(
    names: str | list[str],
    occupy: int = 1,
    timeout_seconds: float | None = None,
    max_retries: int | None = None,
    lease_duration: float = 300,
    strict: bool = False,
    **prefect_options: Any,
) -> Iterator[None]:
    """Hold ``occupy`` slots of each named limit for the block.

    Raises ``AcquireConcurrencySlotTimeoutError`` (a ``TimeoutError``) when the slots are not
    free within ``timeout_seconds``, and ``ConcurrencySlotAcquisitionError`` for a request a
    limit can never meet, or with ``strict=True`` when no named limit exists. Prefect's
    ``max_retries``, ``lease_duration`` and lease options are accepted: locally a block holds
    its slots until it ends, and a process that dies loses them.
    """
    planned = plan(names, occupy, "concurrency", strict)
    if planned is None:
        yield
        return
    lease = _acquire(*planned, timeout_seconds)
    try:
        yield
    finally:
        release(lease)


def rate_limit(
    names: str | list[str],
    occupy: int = 1,
    timeout_seconds: float | None = None,
    strict: bool = False,
) -> None:
    """Wait until ``occupy`` slots of each named decaying limit are free, and occupy them."""
    planned = plan(names, occupy, "rate_limit", strict)
    if planned is not None:
        _acquire(*planned, timeout_seconds)
