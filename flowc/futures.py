"""Futures and the ``wait`` / ``as_completed`` utilities, at Prefect's import path."""

from flowc.runtime.futures import (
    DoneAndNotDoneFutures,
    PrefectFuture,
    PrefectFutureList,
    TaskRunFuture,
    TaskRunFutureList,
    as_completed,
    resolve_futures_to_states,
    wait,
)

__all__ = [
    "DoneAndNotDoneFutures",
    "PrefectFuture",
    "PrefectFutureList",
    "TaskRunFuture",
    "TaskRunFutureList",
    "as_completed",
    "resolve_futures_to_states",
    "wait",
]
