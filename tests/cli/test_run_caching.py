"""Prefect's documented caching and transaction flows, unmodified, under ``flowc run``:
the task runs and states Prefect 3.9 records for them, across two runs sharing a home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CACHE_STEPS = """
from prefect import task, flow

@task(persist_result=True)
def add_one(x: int):
    return x + 1

@flow
def my_flow():
    add_one(1) # will not be cached
    add_one(1) # will be cached
    add_one(2) # will not be cached

if __name__ == "__main__":
    my_flow()
"""

ROLLBACK = """
import os

from prefect import task, flow
from prefect.transactions import transaction


@task
def write_file(contents: str):
    with open("side-effect.txt", "w") as f:
        f.write(contents)


@write_file.on_rollback
def del_file(transaction):
    os.unlink("side-effect.txt")


@task
def quality_test():
    with open("side-effect.txt", "r") as f:
        data = f.readlines()
    if len(data) < 2:
        raise ValueError("Not enough data!")


@flow
def pipeline(contents: str = "hello world"):
    with transaction():
        write_file(contents)
        quality_test()
"""

IDEMPOTENT = """
from prefect import task, flow
from prefect.transactions import transaction


@task
def download_data():
    return "some data"


@task
def write_data(data: str):
    with open("data.txt", "w") as f:
        f.write(data)


@flow(log_prints=True)
def pipeline():
    with transaction(key="download-and-write-data") as txn:
        if txn.is_committed():
            print("Data file has already been written. Exiting early.")
            return
        data = download_data()
        write_data(data)
"""

INPUTS_ACROSS_RUNS = """
from prefect import flow, task
from prefect.cache_policies import INPUTS, TASK_SOURCE
from prefect.tasks import task_input_hash


@task(cache_policy=INPUTS + TASK_SOURCE)
def my_task(x: int):
    return x + 1


@task(cache_key_fn=task_input_hash)
def hashed(x: int):
    return x * 2


@flow
def my_flow():
    return my_task(1) + hashed(2)
"""


def _run(
    tmp_path: Path, source: str, name: str, quiet: bool = True
) -> tuple[subprocess.CompletedProcess[str], dict]:
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    report = tmp_path / f"{name}.json"
    env = {**os.environ, "FLOWC_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [sys.executable, "-m", "flowc", "run", str(path), "--report", str(report)]
        + (["-q"] if quiet else []),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result, json.loads(report.read_text())


def _states(report: dict) -> list[tuple[str, str]]:
    return [(run["task"], run["state"]["name"]) for run in report["task_runs"]]


def test_the_cache_workflow_steps_example(tmp_path):
    result, report = _run(tmp_path, CACHE_STEPS, "steps")
    assert result.returncode == 0, result.stderr
    assert _states(report) == [
        ("add_one", "Completed"),
        ("add_one", "Cached"),
        ("add_one", "Completed"),
    ]
    assert [run["run_count"] for run in report["task_runs"]] == [1, 1, 1]
    _, again = _run(tmp_path, CACHE_STEPS, "steps")  # a new flow run: a new RUN_ID
    assert _states(again) == _states(report)


def test_the_rollback_example(tmp_path):
    result, report = _run(tmp_path, ROLLBACK, "rollback")
    assert result.returncode == 1
    assert report["state"]["name"] == "Failed"
    assert _states(report) == [("write_file", "RolledBack"), ("quality_test", "Failed")]
    assert not (tmp_path / "side-effect.txt").exists()


def test_the_idempotency_example_exits_early_the_second_time(tmp_path):
    first, report = _run(tmp_path, IDEMPOTENT, "once")
    assert first.returncode == 0, first.stderr
    assert _states(report) == [("download_data", "Completed"), ("write_data", "Completed")]
    second, again = _run(tmp_path, IDEMPOTENT, "once", quiet=False)
    assert "Data file has already been written. Exiting early." in second.stdout + second.stderr
    assert _states(again) == []


def test_inputs_policies_and_task_input_hash_cache_across_runs(tmp_path):
    _, report = _run(tmp_path, INPUTS_ACROSS_RUNS, "inputs")
    assert _states(report) == [("my_task", "Completed"), ("hashed", "Completed")]
    _, again = _run(tmp_path, INPUTS_ACROSS_RUNS, "inputs")
    assert _states(again) == [("my_task", "Cached"), ("hashed", "Cached")]
    assert again["result"] == "6"
