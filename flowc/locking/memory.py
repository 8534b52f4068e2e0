"""Locks held in this process's memory (``prefect.locking.memory.MemoryLockManager``).

Enough when every contender is a thread of one process (the threads runner, several flows
started from threads); across processes use :mod:`flowc.locking.filesystem`.
"""

from __future__ import annotations

import threading
import time

__all__ = ["MemoryLockManager"]


class MemoryLockManager:
    """Named locks, each held by one holder (a string) until released or expired."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._locks: dict[str, tuple[str, float | None]] = {}

    def _held(self, key: str) -> tuple[str, float | None] | None:
        entry = self._locks.get(key)
        if entry is not None and entry[1] is not None and entry[1] < time.monotonic():
            del self._locks[key]
            self._condition.notify_all()
            return None
        return entry

    def acquire_lock(
        self,
        key: str,
        holder: str,
        acquire_timeout: float | None = None,
        hold_timeout: float | None = None,
    ) -> bool:
        deadline = None if acquire_timeout is None else time.monotonic() + acquire_timeout
        with self._condition:
            while True:
                entry = self._held(key)
                if entry is None or entry[0] == holder:
                    expires = None if hold_timeout is None else time.monotonic() + hold_timeout
                    self._locks[key] = (holder, expires)
                    return True
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._condition.wait(0.1 if remaining is None else min(remaining, 0.1))

    def release_lock(self, key: str, holder: str) -> None:
        with self._condition:
            entry = self._held(key)
            if entry is None:
                raise ValueError(f"No lock for transaction with key {key}")
            if entry[0] != holder:
                raise ValueError(f"No lock held by {holder} for transaction with key {key}")
            del self._locks[key]
            self._condition.notify_all()

    def is_locked(self, key: str) -> bool:
        with self._condition:
            return self._held(key) is not None

    def is_lock_holder(self, key: str, holder: str) -> bool:
        with self._condition:
            entry = self._held(key)
            return entry is not None and entry[0] == holder

    def wait_for_lock(self, key: str, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._condition:
            while self._held(key) is not None:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._condition.wait(0.1 if remaining is None else min(remaining, 0.1))
            return True
