"""RayTaskRunner on a real Ray: what the conformance suite does not cover.

Most tests use the session's Ray (``ray_session``, 2 CPUs). The test of a runner that starts
and stops its own Ray stops the session's first; the next test that needs it starts it again.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")
psutil = pytest.importorskip("psutil")

from flowc import capture, flow, task  # noqa: E402
from flowc.runtime.runners.remote import ClusterUnreachable  # noqa: E402
from flowc.task_runners import RayTaskRunner  # noqa: E402


@task
def inc(x):
    return x + 1


@task
def where():
    return os.getpid()


@task
def die():
    os.kill(os.getpid(), signal.SIGKILL)


class Tracked:
    """A payload that appends the pid of every process that pickles it to a log file."""

    def __init__(self, log: str, payload: bytes) -> None:
        self.log = log
        self.payload = payload

    def __reduce__(self):
        with open(self.log, "a") as handle:
            handle.write(f"{os.getpid()}\n")
        return (Tracked, (self.log, self.payload))


@task
def make_big(log):
    return Tracked(log, b"x" * 2_000_000)


@task
def size_of(big):
    return len(big.payload)


def run_on(runner, body):
    """Run ``body`` as a flow on ``runner``: (final state, task run records)."""
    flow_fn = flow(name="ray-test", task_runner=runner)(body)
    with capture() as runs:
        state = flow_fn(return_state=True)
    return state, runs.last.records


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ray_processes() -> set[int]:
    """Processes of Ray (its head services and workers) below this one."""
    found = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if "ray" in " ".join(child.cmdline()).lower():
                found.add(child.pid)
        except psutil.Error:
            continue
    return found


def wait_until_gone(pids: set[int], seconds: float = 90.0) -> set[int]:
    deadline = time.monotonic() + seconds
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = {pid for pid in alive if psutil.pid_exists(pid) and not _zombie(pid)}
        time.sleep(0.1)
    return alive


def _zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_arguments_name_and_duplicate():
    runner = RayTaskRunner(address="auto", init_kwargs={"num_cpus": 3})
    twin = runner.duplicate()
    assert twin is not runner and not twin.started
    assert (twin.address, twin.init_kwargs, twin.max_workers) == ("auto", {"num_cpus": 3}, 3)
    assert (twin.name, twin.in_process) == ("ray", False)


def test_reuses_a_running_ray_and_leaves_it_running(ray_session):
    state, _ = run_on(RayTaskRunner(), lambda: where.submit().result())
    assert state.result() != os.getpid()
    assert ray.is_initialized()


def test_without_a_running_ray_starts_its_own_and_stops_it():
    if ray.is_initialized():
        ray.shutdown()  # the session's Ray; the next test that needs it starts it again
    address = f"127.0.0.1:{free_port()}"
    state, _ = run_on(RayTaskRunner(address=address), lambda: 1)
    assert state.is_crashed() and isinstance(state.data, ClusterUnreachable)
    assert re.search(f"Ray cluster at '{address}'", str(state.data))
    assert not ray.is_initialized()

    before = ray_processes()
    during: set[int] = set()

    def body():
        assert ray.is_initialized()
        during.update(ray_processes())
        return where.submit().result()

    state, _ = run_on(RayTaskRunner(init_kwargs={"num_cpus": 1}), body)
    assert state.result() != os.getpid()
    assert not ray.is_initialized()
    started = during - before
    assert started  # Ray's head services, started by the runner ...
    assert wait_until_gone(started) == set()  # ... and stopped with it


def test_results_move_as_object_refs_not_through_the_driver(ray_session, tmp_path):
    log = tmp_path / "pickled-by"
    log.touch()
    state, _ = run_on(RayTaskRunner(), lambda: size_of.submit(make_big.submit(str(log))).result())
    assert state.result() == 2_000_000
    pickled_by = {int(line) for line in log.read_text().split()}
    assert pickled_by and os.getpid() not in pickled_by  # the driver never sent it back


def test_a_killed_worker_crashes_only_its_run(ray_session):
    def body():
        doomed = die.submit()
        doomed.wait()
        return doomed.state, inc.submit(1).result()

    state, _ = run_on(RayTaskRunner(), body)
    crashed, value = state.result()
    assert crashed.is_crashed() and "Error" in crashed.message
    assert value == 2


# --------------------------------------------------------------------------- flowc run

FLOW = textwrap.dedent(
    """
    import time
    from prefect import flow, task

    @task
    def double(x):
        return 2 * x

    @task
    def total(values):
        return sum(values)

    @task
    def nap(x):
        print(f"napping {x}", flush=True)
        time.sleep(600)

    @flow
    def small(n: int = 3):
        return total.submit(double.map(range(n))).result()

    @flow
    def slow():
        return [f.result() for f in nap.map(range(2))]
    """
)


@pytest.mark.timeout(300)  # a real cluster started by a real process, on a loaded machine
def test_flowc_run_on_a_ray_address(tmp_path: Path, ray_session):
    (tmp_path / "flows.py").write_text(FLOW)
    address = ray.get_runtime_context().gcs_address
    done = subprocess.run(
        [sys.executable, "-m", "flowc", "run", "flows.py:small"]
        + ["--runner", "ray", "--address", address],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert "result: 6" in done.stdout
    assert ray.is_initialized()


@pytest.mark.timeout(300)  # a real cluster started by a real process, on a loaded machine
def test_flowc_run_on_its_own_ray_shows_prints_and_stops_on_ctrl_c(tmp_path: Path):
    (tmp_path / "flows.py").write_text(FLOW)
    process = subprocess.Popen(
        [sys.executable, "-m", "flowc", "run", "flows.py:slow", "-q", "--runner", "ray"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:  # a task's print, forwarded by Ray to the driver
            if "napping" in line:
                break
        else:
            pytest.fail("flowc run ended before its task printed")
        family = {process.pid} | {p.pid for p in psutil.Process(process.pid).children(True)}
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does
        assert process.wait(timeout=120) == 130  # the task naps 600 s: interrupted, not waited for
        assert wait_until_gone(family) == set()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
