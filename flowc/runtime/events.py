"""Live news of task runs that execute in other processes: a worker tells, the driver listens.

A task run placed on a process, Dask or Ray worker runs there whole — its attempts, retries,
hooks and any task runs it submits itself (see :mod:`flowc.runtime.worker`). The driver
still wants to know, as it happens, when an attempt starts, fails and is retried, and which
nested runs begin and end, so that progress, timings and the run report stay exact.

The way back is one loopback socket per driver process (:class:`EventHub`), made with
``multiprocessing.connection`` so that a worker proves it knows the hub's random key before
it is heard. Each worker process keeps one connection to it and a sender thread that writes
each unit's news in batches (:class:`Outbox`), a moment late: most task runs end sooner, and
then their news travels only with their result. The hub's reader threads hand each event to
the handler registered for its unit.

Live events are news, not the record: a worker also returns every event of a unit with its
outcome, and the driver applies those it has not yet seen (by sequence number) before it
settles the run. So an event that arrives late, or never (a worker on another machine that
cannot reach this one's loopback), changes nothing in the result.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Client, Connection, Listener
from typing import Any

__all__ = ["LINGER", "Channel", "EventHub", "Endpoint", "Outbox", "hub"]

logger = logging.getLogger("flowc.runtime")

#: Where a worker sends its events: the hub's address and key, the same for every unit.
Endpoint = tuple[tuple[str, int], bytes]
#: Where a worker sends a unit's events: the hub's address, its key, and the unit's token.
Channel = tuple[tuple[str, int], bytes, int]
#: What a unit's handler receives: ``((execution, sequence number), event)``.
Handler = Callable[[tuple[int, int], tuple[Any, ...]], None]


class EventHub:
    """The driver's end: accepts workers' connections, routes their events to handlers."""

    def __init__(self) -> None:
        self._key = os.urandom(32)
        self._listener = Listener(("127.0.0.1", 0), authkey=self._key)
        self._handlers: dict[int, Handler] = {}
        self._lock = threading.Lock()
        self._tokens = iter(range(1, 1 << 62))
        #: told to workers once per flow run; a unit then carries only its token.
        self.endpoint: Endpoint = (self._listener.address, self._key)
        threading.Thread(target=self._accept, name="flowc-events", daemon=True).start()

    def register(self, handler: Handler) -> int:
        """A token for one unit; its events reach ``handler`` until :meth:`unregister`."""
        with self._lock:
            token = next(self._tokens)
            self._handlers[token] = handler
        return token

    def unregister(self, token: int) -> None:
        with self._lock:
            self._handlers.pop(token, None)

    def _accept(self) -> None:
        while True:
            try:
                connection = self._listener.accept()
            except Exception:  # a peer that failed the key challenge, or went away
                continue
            threading.Thread(
                target=self._read, args=(connection,), name="flowc-events-reader", daemon=True
            ).start()

    def _read(self, connection: Connection) -> None:
        with connection:
            while True:
                try:
                    token, items = connection.recv()
                except (EOFError, OSError):
                    return
                except Exception:
                    logger.exception("flowc could not read an event from a worker")
                    return
                with self._lock:
                    handler = self._handlers.get(token)
                if handler is None:
                    continue  # the unit has settled; its outcome carried these events too
                for sequence, event in items:
                    try:
                        handler(sequence, event)
                    except Exception:
                        logger.exception("flowc could not apply an event from a worker")


_hub: EventHub | None = None
_hub_lock = threading.Lock()


def hub() -> EventHub:
    """This process's hub, started on first use."""
    global _hub
    if _hub is not None:  # twice per task run placed: no lock once it runs
        return _hub
    with _hub_lock:
        if _hub is None:
            _hub = EventHub()
        return _hub


# --------------------------------------------------------------------------- worker side

#: How long a worker holds news before sending it. A run that ends sooner reports with its
#: result alone, so a trivial task costs no live traffic; a longer one is seen starting
#: within this much of it.
LINGER = 0.05


class Outbox:
    """One unit's events on their way to the driver: sent by this process's sender thread
    after :data:`LINGER`, unless the unit has ended by then (its result carries them)."""

    __slots__ = ("channel", "pending", "closed")

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.pending: list[tuple[tuple[int, int], tuple[Any, ...]]] = []
        self.closed = False

    def put(self, sequence: tuple[int, int], event: tuple[Any, ...]) -> None:
        with _sender_lock:
            if self.closed:
                return
            if not self.pending:
                _waiting.append(self)
                _start_sender()
            self.pending.append((sequence, event))
            _sender_wake.notify()

    def close(self) -> None:
        """The unit has ended: what is still held goes back with its result instead."""
        with _sender_lock:
            self.closed = True
            self.pending = []


_sender_lock = threading.Lock()
_sender_wake = threading.Condition(_sender_lock)
_waiting: list[Outbox] = []
_sender: threading.Thread | None = None


def _start_sender() -> None:
    global _sender
    if _sender is None or not _sender.is_alive():
        _sender = threading.Thread(target=_send_forever, name="flowc-events-out", daemon=True)
        _sender.start()


def _send_forever() -> None:
    while True:
        with _sender_lock:
            while not _waiting:
                _sender_wake.wait()
        time.sleep(LINGER)
        with _sender_lock:
            batch = [(box.channel, box.pending) for box in _waiting if box.pending]
            for box in _waiting:
                box.pending = []
            _waiting.clear()
        for channel, items in batch:
            _send(channel, items)


_connections: dict[tuple[str, int], Connection | None] = {}  # None: not reachable


def _send(channel: Channel, items: list[tuple[tuple[int, int], tuple[Any, ...]]]) -> None:
    """Best effort: a driver that cannot be reached is not tried again by this process."""
    address, key, token = channel
    if address in _connections:
        connection = _connections[address]
    else:
        connection = _connections[address] = _connect(address, key)
    if connection is None:
        return
    try:
        connection.send((token, items))
    except Exception:
        with contextlib.suppress(Exception):
            connection.close()
        _connections[address] = None


def _connect(address: tuple[str, int], key: bytes) -> Connection | None:
    try:
        return Client(address, authkey=key)
    except Exception:
        return None
