"""``flowc.concurrency.sync``: slots held across threads and real processes, rate limits."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from flowc import flow, task
from flowc.concurrency import set_limit
from flowc.concurrency.sync import (
    AcquireConcurrencySlotTimeoutError,
    ConcurrencySlotAcquisitionError,
    concurrency,
    rate_limit,
)
from flowc.task_runners import ThreadPoolTaskRunner

HOLDER = Path(__file__).parent / "holder.py"
TIMEOUT = 120


def test_unknown_name_runs_unlimited_with_prefects_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="flowc.concurrency"), concurrency("database"):
        pass
    assert "Concurrency limits ['database'] do not exist - skipping acquisition." in caplog.text


def test_unknown_name_warns_in_the_run_log_inside_a_task(caplog: pytest.LogCaptureFixture) -> None:
    @task
    def limited() -> int:
        with concurrency(["a", "b"]):
            return 1

    @flow
    def uses_limit() -> int:
        return limited()

    with caplog.at_level(logging.WARNING):
        assert uses_limit() == 1
    record = next(r for r in caplog.records if "do not exist" in r.getMessage())
    assert record.name == "flowc.task_runs"
    assert "['a', 'b']" in record.getMessage()


def test_rate_limit_without_a_limit_is_silent_outside_a_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        rate_limit("api")
    assert "do not exist" not in caplog.text


def test_strict_raises_for_an_unknown_name() -> None:
    with (
        pytest.raises(ConcurrencySlotAcquisitionError, match="must be created before"),
        concurrency("database", strict=True),
    ):
        pass
    with pytest.raises(ConcurrencySlotAcquisitionError, match="must be created before"):
        rate_limit("api", strict=True)


def test_requests_a_limit_can_never_meet_are_errors() -> None:
    set_limit("database", 2)
    with (
        pytest.raises(ConcurrencySlotAcquisitionError, match="greater than the limit"),
        concurrency("database", occupy=3),
    ):
        pass
    with pytest.raises(ConcurrencySlotAcquisitionError, match="slot decay"):
        rate_limit("database")
    with pytest.raises(ValueError, match="occupy"), concurrency("database", occupy=0):
        pass


def test_held_slots_time_out_other_requests_and_come_back_after_the_block() -> None:
    set_limit("database", 1)
    with (
        concurrency("database"),
        pytest.raises(AcquireConcurrencySlotTimeoutError, match=r"after 0\.05 second"),
        concurrency("database", timeout_seconds=0.05),
    ):
        pass
    with concurrency("database", timeout_seconds=0):
        pass


def test_slots_come_back_when_the_block_raises() -> None:
    set_limit("database", 1)
    with pytest.raises(KeyError), concurrency("database"):
        raise KeyError("boom")
    with concurrency("database", timeout_seconds=0):
        pass


def test_all_names_or_none_are_taken() -> None:
    set_limit("a", 1)
    set_limit("b", 1)
    with concurrency("b"):
        with pytest.raises(AcquireConcurrencySlotTimeoutError):  # noqa: SIM117
            with concurrency(["a", "b"], timeout_seconds=0):
                pass
        with concurrency("a", timeout_seconds=0):  # the failed request took nothing from 'a'
            pass


def test_names_without_a_limit_are_ignored_beside_ones_with_a_limit() -> None:
    set_limit("database", 1)
    with (
        concurrency(["database", "undeclared"]),
        pytest.raises(AcquireConcurrencySlotTimeoutError),
        concurrency("database", timeout_seconds=0),
    ):
        pass


def test_an_inactive_limit_never_blocks() -> None:
    set_limit("paused", 1, active=False)
    with concurrency("paused"), concurrency("paused", timeout_seconds=0):
        pass


class Occupancy:
    """How many threads are inside a limited block now, and the most there ever were."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.inside = 0
        self.highest = 0

    def enter(self) -> None:
        with self.lock:
            self.inside += 1
            self.highest = max(self.highest, self.inside)

    def leave(self) -> None:
        with self.lock:
            self.inside -= 1


def test_threads_never_exceed_the_limit() -> None:
    set_limit("pool", 2)
    occupancy = Occupancy()

    def worker() -> None:
        for _ in range(5):
            with concurrency("pool"):
                occupancy.enter()
                time.sleep(0.005)  # a window for others to overlap if the limit let them
                occupancy.leave()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads)
    assert 1 <= occupancy.highest <= 2


def _python(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(HOLDER), *args],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_processes_never_exceed_the_limit(tmp_path: Path) -> None:
    set_limit("machine", 1)
    log = tmp_path / "occupancy.json"
    processes = [_python("overlap", str(log), "machine", "4") for _ in range(3)]
    for process in processes:
        _, err = process.communicate(timeout=TIMEOUT)
        assert process.returncode == 0, err
    assert json.loads(log.read_text()) == {"now": 0, "max": 1}


def test_a_process_that_dies_holding_a_slot_gives_it_back(tmp_path: Path) -> None:
    set_limit("machine", 1)
    ready = tmp_path / "ready"
    process = _python("die", "machine", str(ready))
    _, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0 and ready.exists(), err
    with concurrency("machine", timeout_seconds=TIMEOUT):
        pass


def test_rate_limit_occupies_slots_that_drain() -> None:
    set_limit("api", 2, slot_decay_per_second=0.001)  # ~17 minutes per slot: none drain here
    rate_limit("api")
    rate_limit("api")
    with pytest.raises(AcquireConcurrencySlotTimeoutError):
        rate_limit("api", timeout_seconds=0)
    set_limit("fast-api", 1, slot_decay_per_second=50.0)
    for _ in range(3):  # each waits for the previous slot to drain, then goes ahead
        rate_limit("fast-api", timeout_seconds=TIMEOUT)


def test_concurrency_on_a_decaying_limit_gives_back_what_has_not_drained() -> None:
    set_limit("slow", 1, slot_decay_per_second=0.001)
    with concurrency("slow"), pytest.raises(AcquireConcurrencySlotTimeoutError):
        rate_limit("slow", timeout_seconds=0)
    rate_limit("slow", timeout_seconds=0)


def test_limits_apply_to_task_runs_on_a_thread_pool() -> None:
    set_limit("db", 1)
    occupancy = Occupancy()

    @task
    def query(n: int) -> int:
        with concurrency("db"):
            occupancy.enter()
            time.sleep(0.005)
            occupancy.leave()
        return n

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=4))
    def queries() -> list[int]:
        return query.map(range(8)).result()

    assert queries() == list(range(8))
    assert occupancy.highest == 1


def test_a_free_decaying_limit_is_taken_on_the_first_try() -> None:
    set_limit("api", 1, slot_decay_per_second=0.001)
    rate_limit("api", timeout_seconds=0)  # one look: a new limit has all its slots free
    set_limit("db", 1, slot_decay_per_second=0.001)
    with concurrency("db", timeout_seconds=0):
        pass


@task
def _occupy(log: str, n: int) -> int:
    from holder import _change  # the worker process imports it from this directory

    with concurrency("machine"):
        _change(Path(log), +1)
        time.sleep(0.02)
        _change(Path(log), -1)
    return n


def test_limits_apply_to_task_runs_in_worker_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowc.task_runners import ProcessPoolTaskRunner

    set_limit("machine", 1)
    monkeypatch.syspath_prepend(str(HOLDER.parent))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(HOLDER.parent), *sys.path]))
    log = tmp_path / "occupancy.json"

    @flow(task_runner=ProcessPoolTaskRunner(max_workers=2))
    def on_processes() -> list[int]:
        return _occupy.map([str(log)] * 6, range(6)).result()

    assert on_processes() == list(range(6))
    assert json.loads(log.read_text()) == {"now": 0, "max": 1}
