"""The thread pool's priority queue: plan mode's priorities decide what a free thread takes."""

from __future__ import annotations

import queue
import threading
from types import SimpleNamespace
from typing import Any

import pytest

from flowc.runtime.runners.threads import _PriorityQueue


def _placed(name: str, priority: float) -> Any:
    return SimpleNamespace(name=name, run=SimpleNamespace(priority=priority))


def test_highest_priority_first_arrival_order_within_and_the_stop_sentinel_last() -> None:
    work = _PriorityQueue()
    for name, priority in [("a1", 1.0), ("b1", 3.0), ("stop", None), ("a2", 1.0), ("b2", 3.0)]:
        work.put(_placed(name, priority) if priority is not None else None)
    work.put(_placed("c", 2.0))
    taken = [work.get() for _ in range(6)]
    assert [p.name if p is not None else None for p in taken] == [
        "b1",
        "b2",
        "c",
        "a1",
        "a2",
        None,
    ]
    with pytest.raises(queue.Empty):
        work.get_nowait()


def test_a_waiting_worker_is_woken_by_a_put_and_takes_the_best_item() -> None:
    work = _PriorityQueue()
    got: list[Any] = []
    worker = threading.Thread(target=lambda: got.append(work.get()))
    worker.start()
    work.put(_placed("only", 1.0))
    worker.join(timeout=60)
    assert not worker.is_alive() and [p.name for p in got] == ["only"]
    work.put(_placed("low", 1.0))
    work.put(_placed("high", 5.0))
    assert work.get_nowait().name == "high" and work.get_nowait().name == "low"
