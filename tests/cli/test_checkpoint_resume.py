"""``flowc run --checkpoint DIR`` then, after a SIGKILL, ``--resume DIR``: no completed run redone.

The flow's tasks append a line to a log file as their side effect, so re-runs are counted from
outside. A run is completed exactly when its checkpoint entry exists (the engine stores the
result before the run becomes Completed), so after the kill the resumed run must execute
precisely the task runs that have no entry — whatever moment the kill hit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

FLOW = """
import os
import time

from prefect import flow, task

LOG = os.environ["WORK_LOG"]


def note(text):
    with open(LOG, "a") as handle:
        handle.write(text + "\\n")


@task
def square(x):
    time.sleep(0.02)
    note(f"square {x}")
    return x * x


@task
def shift(y):
    note(f"shift {y}")
    return y + 1


@task
def total(values):
    note("total")
    return sum(values)


@flow
def work(n: int = 60):
    shifted = shift.map(square.map(range(n)))
    return total.submit(shifted).result()
"""
TASK_RUNS = 60 + 60 + 1
EXPECTED = sum(x * x + 1 for x in range(60))


def _flowc(*args: str, log: Path, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "WORK_LOG": str(log)}
    return subprocess.Popen(
        [sys.executable, "-m", "flowc", "run", "work.py", "-q", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _entries(directory: Path) -> int:
    return sum(1 for _ in directory.rglob("*.pkl"))


@pytest.mark.parametrize("kill_after", [5, 40, 100])
def test_resume_after_sigkill_redoes_no_completed_run(tmp_path: Path, kill_after: int) -> None:
    (tmp_path / "work.py").write_text(FLOW)
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    checkpoints = tmp_path / "ckpt"
    first = _flowc("--checkpoint", str(checkpoints), log=first_log, cwd=tmp_path)
    deadline = time.monotonic() + 60
    while len(_lines(first_log)) < kill_after and first.poll() is None:
        assert time.monotonic() < deadline, "the first run never got going"
        time.sleep(0.005)
    first.send_signal(signal.SIGKILL)
    first.communicate()
    completed = _entries(checkpoints)
    assert completed <= len(_lines(first_log))

    second = _flowc("--resume", str(checkpoints), log=second_log, cwd=tmp_path)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert f"result: {EXPECTED}" in out or out == ""  # -q prints no result
    assert len(_lines(second_log)) == TASK_RUNS - completed
    assert _entries(checkpoints) == TASK_RUNS


def test_resumed_runs_are_cached_and_the_result_is_the_same(tmp_path: Path) -> None:
    (tmp_path / "work.py").write_text(FLOW)
    log = tmp_path / "log"
    report = tmp_path / "report.json"
    first = _flowc("--checkpoint", "ckpt", "--report", "first.json", log=log, cwd=tmp_path)
    assert first.wait(timeout=120) == 0
    second = _flowc("--resume", "ckpt", "--report", str(report), log=log, cwd=tmp_path)
    assert second.wait(timeout=120) == 0
    import json

    data = json.loads(report.read_text())
    assert data["result"] == repr(EXPECTED)
    assert {run["state"]["name"] for run in data["task_runs"]} == {"Cached"}
    assert all("Resumed from checkpoint" in run["state"]["message"] for run in data["task_runs"])
    assert len(_lines(log)) == TASK_RUNS  # only the first run did any work


def test_changed_task_source_invalidates_its_entries(tmp_path: Path) -> None:
    (tmp_path / "work.py").write_text(FLOW)
    log = tmp_path / "log"
    assert _flowc("--checkpoint", "ckpt", log=log, cwd=tmp_path).wait(timeout=120) == 0
    (tmp_path / "work.py").write_text(FLOW.replace("return y + 1", "return y + 2"))
    second_log = tmp_path / "second.log"
    assert _flowc("--resume", "ckpt", log=second_log, cwd=tmp_path).wait(timeout=120) == 0
    redone = _lines(second_log)
    # shift changed: its 60 runs and total (its input changed) run again; square is reused.
    assert sorted({line.split()[0] for line in redone}) == ["shift", "total"]
    assert len(redone) == 61


def test_checkpoint_directory_of_another_flow_is_refused(tmp_path: Path) -> None:
    (tmp_path / "work.py").write_text(FLOW)
    (tmp_path / "other.py").write_text(FLOW.replace("def work(", "def other("))
    log = tmp_path / "log"
    assert _flowc("--checkpoint", "ckpt", log=log, cwd=tmp_path).wait(timeout=120) == 0
    before = len(_lines(log))
    env = {**os.environ, "WORK_LOG": str(log)}
    done = subprocess.run(
        [sys.executable, "-m", "flowc", "run", "other.py", "--resume", "ckpt"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "ckpt" in done.stderr and "'work'" in done.stderr
    assert len(_lines(log)) == before  # nothing ran


def test_resume_on_dask_reruns_nothing_that_completed(tmp_path: Path, dask_address: str) -> None:
    """On Dask too: checkpointed runs are looked up one by one (never placed early)."""
    (tmp_path / "work.py").write_text(FLOW)
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    on_dask = ("--runner", "dask", "--address", dask_address)
    first = _flowc(*on_dask, "--checkpoint", "ckpt", log=first_log, cwd=tmp_path)
    assert first.wait(timeout=120) == 0, first.communicate()[1]
    assert _entries(tmp_path / "ckpt") == TASK_RUNS
    second = _flowc(*on_dask, "--resume", "ckpt", log=second_log, cwd=tmp_path)
    assert second.wait(timeout=120) == 0, second.communicate()[1]
    assert _lines(second_log) == []


# --------------------------------------------------------------------------- hostile input

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

SMALL = """
from prefect import flow, task


@task
def one():
    return 1


@flow
def etl():
    return one()
"""

CRAFTED = """
import pathlib, pickle, sys


class Payload:
    def __reduce__(self):
        return (pathlib.Path(sys.argv[1]).write_text, ("pwned",))


sys.stdout.buffer.write(pickle.dumps(Payload()))
"""


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowc", "run", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _plant(directory: Path, tmp_path: Path, marker: Path) -> None:
    """Replace every entry by a pickle whose loading writes ``marker``."""
    script = tmp_path / "craft.py"
    script.write_text(CRAFTED)
    payload = subprocess.run(
        [sys.executable, str(script), str(marker)], capture_output=True, timeout=120, check=True
    ).stdout
    entries = list(directory.rglob("*.pkl"))
    assert entries
    for entry in entries:
        # the old unauthenticated layout: magic, sha256 of the payload, payload
        import hashlib

        entry.write_bytes(b"FLOWCKP1" + hashlib.sha256(payload).digest() + payload)


@pytest.mark.skipif(not IS_ROOT, reason="needs root to give the directory to another user")
def test_resume_refuses_a_directory_another_user_owns_and_runs_no_planted_pickle(
    tmp_path: Path,
) -> None:
    (tmp_path / "etl.py").write_text(SMALL)
    assert _run("etl.py", "-q", "--checkpoint", "ckpt", cwd=tmp_path).returncode == 0
    checkpoints, marker = tmp_path / "ckpt", tmp_path / "marker"
    _plant(checkpoints, tmp_path, marker)
    for path in [checkpoints, *checkpoints.rglob("*")]:
        os.chown(path, 65534, 65534)
    os.chmod(checkpoints, 0o777)
    result = _run("etl.py", "-q", "--resume", "ckpt", cwd=tmp_path)
    assert result.returncode == 2
    assert "owned by uid 65534" in result.stderr and "Traceback" not in result.stderr
    assert not marker.exists()


def test_resume_refuses_a_world_writable_directory(tmp_path: Path) -> None:
    (tmp_path / "etl.py").write_text(SMALL)
    assert _run("etl.py", "-q", "--checkpoint", "ckpt", cwd=tmp_path).returncode == 0
    os.chmod(tmp_path / "ckpt", 0o777)
    result = _run("etl.py", "-q", "--resume", "ckpt", cwd=tmp_path)
    assert result.returncode == 2 and "writable by others" in result.stderr


def test_a_planted_entry_in_your_own_directory_is_not_loaded(tmp_path: Path) -> None:
    (tmp_path / "etl.py").write_text(SMALL)
    assert _run("etl.py", "-q", "--checkpoint", "ckpt", cwd=tmp_path).returncode == 0
    marker = tmp_path / "marker"
    _plant(tmp_path / "ckpt", tmp_path, marker)
    result = _run("etl.py", "--resume", "ckpt", "--report", "r.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    assert "corrupt" in result.stdout + result.stderr  # reported, and the task ran again
    import json

    runs = json.loads((tmp_path / "r.json").read_text())["task_runs"]
    assert [run["state"]["name"] for run in runs] == ["Completed"]


def test_a_fifo_entry_does_not_hang_resume(tmp_path: Path) -> None:
    (tmp_path / "etl.py").write_text(SMALL)
    assert _run("etl.py", "-q", "--checkpoint", "ckpt", cwd=tmp_path).returncode == 0
    (entry,) = (tmp_path / "ckpt").rglob("*.pkl")
    entry.unlink()
    os.mkfifo(entry)
    result = _run("etl.py", "--resume", "ckpt", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "not a regular file" in result.stdout + result.stderr


def test_resume_of_a_missing_directory_fails_before_the_file_runs(tmp_path: Path) -> None:
    (tmp_path / "etl.py").write_text(SMALL + "\netl()\n")  # module-level code runs the flow
    result = _run("etl.py", "--resume", str(tmp_path / "nonexistent"), cwd=tmp_path)
    assert result.returncode == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_checkpoint_says_when_module_level_code_ran_the_flow(tmp_path: Path) -> None:
    (tmp_path / "etl.py").write_text(SMALL + "\netl()\n")
    result = _run("etl.py", "--checkpoint", "ckpt", cwd=tmp_path)
    assert result.returncode == 0
    assert "nothing was checkpointed" in result.stdout + result.stderr
    assert 'if __name__ == "__main__"' in result.stdout + result.stderr
