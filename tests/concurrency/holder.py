"""A real process that takes a concurrency slot: run by the cross-process tests.

``python holder.py overlap LOG NAME ROUNDS``: enters ``concurrency(NAME)`` ROUNDS times and,
inside, adds itself to a shared occupancy file (under its own lock) and records the highest
occupancy it saw. ``python holder.py die NAME``: takes the slot and dies inside the block.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from flowc.concurrency.sync import concurrency
from flowc.filelock import locked


def _change(log: Path, delta: int) -> int:
    with locked(log.with_suffix(".lock")):
        state = json.loads(log.read_text()) if log.exists() else {"now": 0, "max": 0}
        state["now"] += delta
        state["max"] = max(state["max"], state["now"])
        log.write_text(json.dumps(state))
        return int(state["now"])


def overlap(log: Path, name: str, rounds: int) -> None:
    for _ in range(rounds):
        with concurrency(name, occupy=1):
            _change(log, +1)
            time.sleep(0.02)  # give others the chance to overlap if the limit let them
            _change(log, -1)


def die(name: str, ready: Path) -> None:
    with concurrency(name, occupy=1):
        ready.write_text("holding")
        os._exit(0)


if __name__ == "__main__":
    if sys.argv[1] == "overlap":
        overlap(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    else:
        die(sys.argv[2], Path(sys.argv[3]))
