"""What a ``concurrency(...)`` or ``rate_limit(...)`` call asks for, and names without a limit.

Shared by the sync and asyncio APIs. As in Prefect, a name no limit is configured for is not
an error: the call goes ahead unlimited and warns (``concurrency``: in the run's log, else in
``flowc.concurrency``'s; ``rate_limit``: only inside a run), unless ``strict=True``, which raises
:class:`~flowc.concurrency.slots.ConcurrencySlotAcquisitionError`. Names that do have a limit
are honoured even when others in the same call have none.
"""

from __future__ import annotations

import logging

from flowc.concurrency.limits import Limit
from flowc.concurrency.slots import ConcurrencySlotAcquisitionError, Mode, Request, existing_limits
from flowc.runtime.context import current_flow_run, current_task_run

__all__ = ["plan"]


def plan(
    names: str | list[str], occupy: int, mode: Mode, strict: bool
) -> tuple[Request, list[Limit]] | None:
    """The request and the limits it takes slots from; None when there is nothing to take."""
    listed = [names] if isinstance(names, str) else list(names)
    if not listed:
        return None
    if isinstance(occupy, bool) or not isinstance(occupy, int) or occupy < 1:
        raise ValueError(f"occupy must be a whole number of slots >= 1, got {occupy!r}")
    limits = existing_limits(listed)
    if not limits:
        if strict:
            raise ConcurrencySlotAcquisitionError(
                f"Concurrency limits {listed!r} must be created before acquiring slots "
                "([tool.flowc.concurrency] in pyproject.toml, or flowc.concurrency.set_limit)"
            )
        _warn_missing(listed, mode)
        return None
    return Request(tuple(listed), occupy, mode), limits


def _warn_missing(names: list[str], mode: Mode) -> None:
    in_run = current_task_run() is not None or current_flow_run() is not None
    if mode == "rate_limit" and not in_run:
        return
    message = f"Concurrency limits {names!r} do not exist - skipping acquisition."
    if in_run:
        from flowc.logging import get_run_logger

        get_run_logger().warning(message)
    else:
        logging.getLogger("flowc.concurrency").warning(message)
