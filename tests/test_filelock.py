"""``flowc.filelock``: one holder at a time, among threads and among processes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from flowc.filelock import locked

INCREMENT = """
import sys
from pathlib import Path
from flowc.filelock import locked
counter = Path(sys.argv[1])
for _ in range(int(sys.argv[2])):
    with locked(counter.with_suffix(".lock")):
        counter.write_text(str(int(counter.read_text()) + 1))
"""


def _increment(counter: Path, times: int) -> None:
    for _ in range(times):
        with locked(counter.with_suffix(".lock")):
            value = int(counter.read_text())
            counter.write_text(str(value + 1))


def test_threads_never_lose_an_update(tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    counter.write_text("0")
    threads = [threading.Thread(target=_increment, args=(counter, 50)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert counter.read_text() == "200"


def test_processes_never_lose_an_update(tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    counter.write_text("0")
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", INCREMENT, str(counter), "40"],
            env=dict(os.environ),
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
    assert counter.read_text() == "120"


def test_the_lock_file_and_its_directory_are_created(tmp_path: Path) -> None:
    lock = tmp_path / "deep" / "dir" / "store.lock"
    with locked(lock):
        assert lock.exists()
    with locked(lock):  # released: taken again at once
        pass
