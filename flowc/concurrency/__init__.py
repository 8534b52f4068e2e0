"""Named concurrency limits and rate limits, local to one machine (``prefect.concurrency``).

Use :mod:`flowc.concurrency.sync` or :mod:`flowc.concurrency.asyncio` in flows and tasks;
declare limits in ``[tool.flowc.concurrency]`` of ``pyproject.toml`` or with the functions
here. See docs/concurrency.md.
"""

from __future__ import annotations

from flowc.concurrency.limits import (
    ConcurrencyConfigError,
    Limit,
    delete_limit,
    get_limit,
    list_limits,
    set_limit,
)
from flowc.concurrency.slots import (
    AcquireConcurrencySlotTimeoutError,
    ConcurrencySlotAcquisitionError,
)

__all__ = [
    "AcquireConcurrencySlotTimeoutError",
    "ConcurrencyConfigError",
    "ConcurrencySlotAcquisitionError",
    "Limit",
    "delete_limit",
    "get_limit",
    "list_limits",
    "set_limit",
]
