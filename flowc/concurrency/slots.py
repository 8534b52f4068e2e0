"""Taking and giving back slots of named limits, for every thread and process of a machine.

The slots held live in one small JSON file under ``FLOWC_HOME`` (``concurrency/slots.json``),
changed only while holding ``concurrency/slots.lock`` (see :mod:`flowc.filelock`), so threads
of a flow run and the worker processes of every flow run on the machine share each limit. A
request takes its slots from all its limits at once or from none, so two requests for the same
pair of limits can never each hold one and wait for the other.

Two kinds of slots, as on Prefect's server:

* a limit without decay counts *leases*: ``concurrency(...)`` holds one from entering its block
  to leaving it. A lease records its process; leases of processes that died are dropped, so a
  killed worker never keeps its slots (a process id reused by a new process before anyone
  looked keeps the lease until that process ends: rare, and never unbounded).
* a limit with ``slot_decay_per_second`` counts occupied slots that drain at that rate: each
  ``rate_limit(...)`` call occupies slots that come back on their own, and a
  ``concurrency(...)`` block on such a limit gives back what has not drained yet when it ends.

Waiting is polling: the lock is held only to read and write the file, never while waiting, and
a look that changes nothing writes nothing.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
import uuid
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any, Literal

from flowc.concurrency.limits import Limit, configured_limits, store_dir
from flowc.exceptions import FlowcError
from flowc.filelock import locked
from flowc.files import write_atomic

__all__ = [
    "AcquireConcurrencySlotTimeoutError",
    "ConcurrencySlotAcquisitionError",
    "Lease",
    "Request",
    "acquisition",
    "existing_limits",
    "release",
    "try_acquire",
]

Mode = Literal["concurrency", "rate_limit"]

logger = logging.getLogger("flowc.concurrency")

#: how long a waiting request sleeps between looks, at first and at most (seconds).
FIRST_POLL = 0.01
MAX_POLL = 0.25


class ConcurrencySlotAcquisitionError(FlowcError, RuntimeError):
    """The slots cannot be taken: no such limit (``strict``), or a request a limit cannot meet."""


class AcquireConcurrencySlotTimeoutError(FlowcError, TimeoutError):
    """The slots were not free within ``timeout_seconds``."""


@dataclasses.dataclass(frozen=True)
class Request:
    names: tuple[str, ...]
    slots: int
    mode: Mode


@dataclasses.dataclass
class Lease:
    """Slots taken by one request: what :func:`release` gives back."""

    id: str
    limits: tuple[Limit, ...]
    slots: int
    acquired: float


def _slots_file() -> Path:
    return store_dir() / "slots.json"


def _load() -> dict[str, Any]:
    try:
        data = json.loads(_slots_file().read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(state: dict[str, Any]) -> None:
    write_atomic(_slots_file(), json.dumps(state, sort_keys=True))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _entry(state: dict[str, Any], name: str, now: float) -> dict[str, Any]:
    entry = state.setdefault(name, {})
    entry.setdefault("occupied", 0.0)
    entry.setdefault("updated", now)
    entry.setdefault("leases", {})
    return entry


def _occupied(limit: Limit, entry: dict[str, Any], now: float) -> float:
    """Slots in use now: what has not drained yet, or the leases held."""
    if limit.slot_decay_per_second > 0:
        drained = max(0.0, now - entry["updated"]) * limit.slot_decay_per_second
        return max(0.0, float(entry["occupied"]) - drained)
    return float(sum(lease["slots"] for lease in entry["leases"].values()))


def _settle(limit: Limit, entry: dict[str, Any], now: float) -> None:
    """Write the drained count down as of ``now``, before changing it."""
    entry["occupied"] = _occupied(limit, entry, now)
    entry["updated"] = now


def _drop_dead_leases(entry: dict[str, Any]) -> bool:
    """Forget the leases of processes that no longer exist; True if there were any."""
    leases = entry["leases"]
    dead = [key for key, lease in leases.items() if not _alive(lease["pid"])]
    for lease_id in dead:
        del leases[lease_id]
    return bool(dead)


def _check_request(request: Request, limits: Sequence[Limit]) -> None:
    if any(limit.limit < request.slots for limit in limits):
        raise ConcurrencySlotAcquisitionError(
            f"Unable to acquire concurrency slots on {list(request.names)!r}: "
            f"{request.slots} slots requested is greater than the limit "
            f"({', '.join(f'{limit.name}={limit.limit}' for limit in limits)})"
        )
    if request.mode == "rate_limit":
        steady = [limit.name for limit in limits if limit.slot_decay_per_second == 0]
        if steady:
            raise ConcurrencySlotAcquisitionError(
                f"Unable to acquire concurrency slots on {list(request.names)!r}: only "
                "concurrency limits with slot decay can be used for rate limiting; these have "
                f"none: {', '.join(steady)} (set slot_decay_per_second)"
            )


def existing_limits(names: Sequence[str]) -> list[Limit]:
    """The configured limits among ``names`` (a name without a limit is not an error here)."""
    configured = configured_limits()
    return [configured[name] for name in names if name in configured]


def try_acquire(request: Request, limits: Sequence[Limit]) -> Lease | float:
    """Take the slots from every active limit now, or say how long to wait before looking again."""
    active = tuple(limit for limit in limits if limit.active)
    _check_request(request, active)
    lease = Lease(uuid.uuid4().hex, active, request.slots, time.time())
    if not active:
        return lease
    with locked(store_dir() / "slots.lock"):
        state = _load()
        now = time.time()
        wait = 0.0
        dropped = False
        for limit in active:
            entry = _entry(state, limit.name, now)
            dropped = _drop_dead_leases(entry) or dropped
            free = limit.limit - _occupied(limit, entry, now)
            if free < request.slots:
                wait = max(wait, _time_to_free(limit, request.slots - free))
        if wait > 0:
            if dropped:
                _save(state)
            return wait
        for limit in active:
            entry = _entry(state, limit.name, now)
            if limit.slot_decay_per_second > 0:
                _settle(limit, entry, now)
                entry["occupied"] += request.slots
            if request.mode == "concurrency":
                entry["leases"][lease.id] = {"pid": os.getpid(), "slots": request.slots}
        _save(state)
    return lease


def _time_to_free(limit: Limit, missing: float) -> float:
    if limit.slot_decay_per_second > 0:
        return max(missing / limit.slot_decay_per_second, 1e-3)
    return MAX_POLL


def release(lease: Lease) -> None:
    """Give back what ``concurrency(...)`` took (rate-limit slots drain by themselves)."""
    if not lease.limits:
        return
    with locked(store_dir() / "slots.lock"):
        state = _load()
        now = time.time()
        for limit in lease.limits:
            entry = _entry(state, limit.name, now)
            held = entry["leases"].pop(lease.id, None)
            if held is None or limit.slot_decay_per_second == 0:
                continue
            _settle(limit, entry, now)
            drained = (now - lease.acquired) * limit.slot_decay_per_second
            entry["occupied"] = max(0.0, entry["occupied"] - max(0.0, held["slots"] - drained))
        _save(state)


def acquisition(
    request: Request, limits: Sequence[Limit], timeout_seconds: float | None
) -> Generator[float, None, Lease]:
    """Try until the slots are taken; yields each wait, returns the lease.

    The sync and asyncio APIs drive it, sleeping their own way, so the waiting rule (poll
    sooner at first, never wait past the timeout) is written once.
    """
    deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
    poll = FIRST_POLL
    while True:
        outcome = try_acquire(request, limits)
        if isinstance(outcome, Lease):
            return outcome
        wait = min(outcome, poll)
        poll = min(poll * 2, MAX_POLL)
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AcquireConcurrencySlotTimeoutError(
                    "Attempt to acquire concurrency slots timed out after "
                    f"{timeout_seconds} second(s)"
                )
            wait = min(wait, left)
        yield wait
