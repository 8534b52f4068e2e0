"""Transactions as Prefect's documentation uses them: rollback hooks, commit hooks, keyed
idempotency across flow runs, SERIALIZABLE isolation between threads and processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from flowc import flow, task
from flowc.exceptions import ConfigurationError
from flowc.locking.filesystem import FileSystemLockManager
from flowc.results import ResultStore
from flowc.transactions import (
    CommitMode,
    IsolationLevel,
    TransactionState,
    get_transaction,
    transaction,
)


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("FLOWC_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "home"


def test_a_failing_task_rolls_back_the_task_staged_before_it(tmp_path):
    @task
    def write_file(contents: str):
        Path("side-effect.txt").write_text(contents)

    @write_file.on_rollback
    def del_file(txn):
        os.unlink("side-effect.txt")

    @task
    def quality_test():
        if len(Path("side-effect.txt").read_text().splitlines()) < 2:
            raise ValueError("Not enough data!")

    @flow
    def pipeline(contents: str):
        with transaction():
            write_file(contents)
            quality_test()

    state = pipeline("hello world", return_state=True)
    assert state.is_failed() and "Not enough data!" in state.message
    assert not (tmp_path / "side-effect.txt").exists()


def test_rolled_back_runs_are_marked_and_failed_ones_stay_failed():
    seen = {}

    @task
    def first():
        return 1

    @task
    def second():
        raise RuntimeError("no")

    @flow
    def pipeline():
        with transaction():
            seen["first"] = first(return_state=True)
            seen["second"] = second(return_state=True)

    pipeline()
    assert seen["first"]._run.state.name == "RolledBack"
    assert seen["first"]._run.state.type.value == "COMPLETED"
    assert seen["first"]._run.state.message == "Task rolled back as part of transaction"
    assert seen["second"]._run.state.name == "Failed"


def test_commit_hooks_run_when_the_transaction_commits_and_values_reach_the_hooks():
    events = []

    @task
    def write(name: str):
        events.append(("ran", name))

    @write.on_commit
    def committed(txn):
        events.append(("commit", txn.get("who")))

    @flow
    def pipeline():
        with transaction() as txn:
            txn.set("who", "me")
            write("a")
            events.append(("still open",))

    pipeline()
    assert events == [("ran", "a"), ("still open",), ("commit", "me")]


def test_commit_hooks_of_a_task_outside_transactions_run_at_once():
    events = []

    @task(on_commit=[lambda txn: events.append("commit")])
    def t():
        events.append("ran")

    @flow
    def pipeline():
        t()
        events.append("after")

    pipeline()
    assert events == ["ran", "commit", "after"]


def test_keyed_transaction_runs_its_body_once_across_flow_runs(home):
    ran = []

    @task
    def download():
        ran.append("download")
        return "data"

    @flow
    def pipeline():
        with transaction(key="download-and-write-data") as txn:
            if txn.is_committed():
                return "early"
            download()
            return "did it"

    assert pipeline() == "did it"
    assert pipeline() == "early"
    assert ran == ["download"]
    assert ResultStore().exists("download-and-write-data")


def test_a_rolled_back_keyed_transaction_records_nothing():
    @flow
    def pipeline(fail: bool):
        with transaction(key="k") as txn:
            committed = txn.is_committed()
            if fail:
                raise ValueError("boom")
            return committed

    assert pipeline(True, return_state=True).is_failed()
    assert pipeline(False) is False
    assert pipeline(False) is True


def test_cache_writes_wait_for_the_transaction_to_commit():
    """Prefect's 'coordinate caching across multiple tasks' example."""

    @task(cache_key_fn=lambda *args, **kwargs: "static-key-1")
    def load_data():
        return "some-data"

    @task(cache_key_fn=lambda *args, **kwargs: "static-key-2")
    def process_data(data, fail):
        if fail:
            raise RuntimeError("Error! Abort!")
        return len(data)

    @flow
    def multi_task_cache(fail: bool = True):
        with transaction():
            data = load_data(return_state=True)
            processed = process_data(data=data.result(), fail=fail, return_state=True)
        return data.name, processed.name

    assert multi_task_cache(True) == ("Completed", "Failed")
    assert multi_task_cache(False) == ("Completed", "Completed")  # nothing was cached
    assert multi_task_cache(False) == ("Cached", "Cached")


def test_a_failed_submitted_task_rolls_the_transaction_back():
    rolled = []

    @task(on_rollback=[lambda txn: rolled.append("undo")])
    def ok():
        return 1

    @task
    def bad():
        raise ValueError("x")

    @flow
    def pipeline():
        with transaction() as txn:
            ok()
            future = bad.submit()
            future.wait()
        return txn.state

    assert pipeline() is TransactionState.ROLLED_BACK
    assert rolled == ["undo"]


def test_commit_mode_off_rolls_back_what_nobody_committed():
    rolled = []

    @task(on_rollback=[lambda txn: rolled.append("undo")])
    def ok():
        return 1

    @flow
    def pipeline():
        with transaction(commit_mode=CommitMode.OFF) as txn:
            ok()
        return txn.is_rolled_back()

    assert pipeline() is True and rolled == ["undo"]


def test_nested_transactions_commit_with_the_outermost():
    events = []

    @task(on_commit=[lambda txn: events.append("commit")])
    def t():
        events.append("ran")

    @flow
    def pipeline():
        with transaction() as outer:
            with transaction() as inner:
                assert get_transaction() is inner and inner.get_parent() is outer
                t()
            events.append("inner closed")
        events.append("outer closed")

    pipeline()
    assert events == ["ran", "inner closed", "commit", "outer closed"]


def test_get_reads_enclosing_values_and_refuses_unknown_names():
    with transaction() as outer:
        outer.set("a", [1])
        with transaction() as inner:
            value = inner.get("a")
            value.append(2)
            assert inner.get("a") == [1]
            assert inner.get("missing", "default") == "default"
            with pytest.raises(ValueError, match="unknown key"):
                inner.get("missing")


def test_serializable_without_a_lock_manager_is_refused():
    with (
        pytest.raises(ConfigurationError, match="SERIALIZABLE"),
        transaction(key="k", isolation_level=IsolationLevel.SERIALIZABLE),
    ):
        pass


def test_serializable_transactions_let_one_thread_do_the_work(home):
    """Prefect's race-condition example: two threads, one key, one winner."""
    done = []
    said = []

    @task
    def download_data():
        return f"{threading.current_thread().name} is the winner!"

    @task
    def write_file(contents: str):
        done.append(contents)

    @flow
    def pipeline(transaction_key: str):
        with transaction(
            key=transaction_key,
            isolation_level=IsolationLevel.SERIALIZABLE,
            store=ResultStore(lock_manager=FileSystemLockManager(home / "locks")),
        ) as txn:
            if txn.is_committed():
                said.append("Data file has already been written. Exiting early.")
                return
            write_file(download_data())

    threads = [
        threading.Thread(target=pipeline, name=f"Thread {n}", args=("race",)) for n in (1, 2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(done) == 1 and len(said) == 1
    assert not list((home / "locks").glob("*.lock"))  # released


_CONTENDER = """
import sys
from flowc.locking.filesystem import FileSystemLockManager
from flowc.results import ResultStore
from flowc.transactions import IsolationLevel, transaction

store = ResultStore(lock_manager=FileSystemLockManager(sys.argv[1]))
with transaction(key="shared", isolation_level=IsolationLevel.SERIALIZABLE, store=store) as txn:
    if txn.is_committed():
        print("skipped")
    else:
        with open(sys.argv[2], "a") as log:
            log.write("worked\\n")
        print("worked")
"""


def test_serializable_transactions_serialise_processes(tmp_path, home):
    script = tmp_path / "contender.py"
    script.write_text(textwrap.dedent(_CONTENDER))
    log = tmp_path / "work.log"
    env = {**os.environ, "FLOWC_HOME": str(home)}
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(tmp_path / "locks"), str(log)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(3)
    ]
    outputs = sorted(proc.communicate(timeout=300)[0].strip() for proc in procs)
    assert outputs == ["skipped", "skipped", "worked"]
    assert log.read_text() == "worked\n"


def test_a_subflow_inside_a_transaction_does_not_commit_it_early():
    @flow
    def child():
        return 1

    @flow
    def parent():
        with transaction() as txn:
            child()
            during = txn.state
        return during, txn.state

    assert parent() == (TransactionState.ACTIVE, TransactionState.COMMITTED)
