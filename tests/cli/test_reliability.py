"""What a user (or a script) gets from the real ``flowc`` when things go wrong around it.

Every test runs ``python -m flowc`` as a subprocess: a path that is not there, a reader that
closes stdout early, Ctrl-C in the middle of a run. The answer is always one line and the
right exit code, never a traceback, a lost report or a process left behind. Nothing here
measures time: subprocesses get generous timeouts, and hangs are caught by those.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

try:
    import psutil
except ImportError:  # not a flowc dependency: fall back to /proc below
    psutil = None

TIMEOUT = 150  # generous: a loaded machine is slow to start Python and worker processes
COMPILE_SIDE = [["graph"], ["graph", "-o", "out.svg"], ["compile", "-o", "out.json"], ["explain"]]
COMMANDS = [["run"], ["explain", "--optimized"], *COMPILE_SIDE]

PRINTS = """
from flowc import flow, task


@task
def shout(i):
    print(f"line {i}", flush=True)
    return i


@flow
def printer(n: int = 40):
    return sum(shout.map(range(n)).result())
"""

NAPS = """
from flowc import flow, task


@task
def nap(i):
    import time

    print(f"napping {i}", flush=True)
    time.sleep(600)


@flow
def napper():
    nap.map(range(2)).result()
"""


def flowc(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowc", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, "COLUMNS": "200"},
    )


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    """The single line of stderr of a command that refused its input (exit 2, no output)."""
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


# --------------------------------------------------------------------------- bad paths


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_missing_file_is_one_line_and_exit_2_on_every_command(
    command: list[str], tmp_path: Path
) -> None:
    done = flowc(*command, "nosuch.py", cwd=tmp_path)
    assert one_line_error(done) == "nosuch.py: No such file or directory"
    assert sorted(tmp_path.iterdir()) == []  # no output file, not even a partial one


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_missing_file_with_a_flow_name_is_named_without_it(
    command: list[str], tmp_path: Path
) -> None:
    done = flowc(*command, "nosuch.py:etl", cwd=tmp_path)
    assert one_line_error(done) == "nosuch.py: No such file or directory"


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_directory_is_refused(command: list[str], tmp_path: Path) -> None:
    (tmp_path / "flows").mkdir()
    done = flowc(*command, "flows", cwd=tmp_path)
    assert one_line_error(done).startswith("flows: Is a directory")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_fifo_is_refused_not_waited_on(command: list[str], tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    done = flowc(*command, "pipe.py", cwd=tmp_path)  # reading it would block forever
    assert one_line_error(done) == "pipe.py: is a FIFO (named pipe), not a regular file"


def test_lint_of_a_missing_path_fails() -> None:
    """Fixed with flowc lint's own messages (``flowc/lint``); here: not a silent pass."""
    done = subprocess.run(
        [sys.executable, "-m", "flowc", "lint", "--no-cache", "nosuch.py"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    if done.returncode == 0:
        pytest.xfail("flowc lint still passes a missing path (fixed in flowc/lint separately)")
    assert "nosuch.py" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "All checks passed" not in done.stdout


@pytest.mark.parametrize(
    ("command", "written", "line"),
    [
        (["graph", "-o", "out.dot"], "out.dot", "wrote out.dot (DOT, 1 flow)"),
        (["graph", "-o", "out.mmd"], "out.mmd", "wrote out.mmd (Mermaid, 1 flow)"),
        (["compile", "-o", "plan.json"], "plan.json", "wrote plan.json (plan, 1 flow)"),
    ],
)
def test_writing_a_file_says_so_in_one_line(
    command: list[str], written: str, line: str, tmp_path: Path
) -> None:
    (tmp_path / "printer.py").write_text(PRINTS)
    done = flowc(*command, "printer.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert done.stderr == line + "\n"
    assert (tmp_path / written).stat().st_size > 0


# --------------------------------------------------------------------------- closed stdout


@pytest.mark.parametrize("runner", ["threads", "processes"])
def test_a_closed_stdout_keeps_the_run_and_its_report(runner: str, tmp_path: Path) -> None:
    """``flowc run printer.py --report r.json | head -1``: the report is written, exit 0."""
    (tmp_path / "printer.py").write_text(PRINTS)
    report = tmp_path / "r.json"
    command = ["run", "printer.py", "--runner", runner, "--report", str(report)]
    process = subprocess.Popen(
        [sys.executable, "-m", "flowc", *command],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith("line ")
    process.stdout.close()  # what `head -1` does once it has its line
    stderr = process.stderr.read()
    assert process.wait(timeout=TIMEOUT) == 0, stderr
    assert stderr == ""  # no BrokenPipeError, no traceback
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["state"]["type"] == "COMPLETED"
    assert [run["state"]["type"] for run in data["task_runs"]] == ["COMPLETED"] * 40


def test_a_closed_stdout_ends_compile_quietly(tmp_path: Path) -> None:
    (tmp_path / "printer.py").write_text(PRINTS)
    process = subprocess.Popen(
        [sys.executable, "-m", "flowc", "compile", "--expand", "printer.py"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline() == "{\n"
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait(timeout=TIMEOUT) == 0, stderr
    assert stderr == ""


# --------------------------------------------------------------------------- Ctrl-C


def _stat_fields(pid: int) -> list[str] | None:
    """``/proc/PID/stat`` after the command name: state, ppid, ... (None once it is gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rpartition(")")[2].split()


def _family(pid: int) -> list[int]:
    """``pid`` and every process descended from it."""
    if psutil is not None:
        return [pid] + [child.pid for child in psutil.Process(pid).children(recursive=True)]
    parents = {}
    for entry in Path("/proc").iterdir():
        fields = _stat_fields(int(entry.name)) if entry.name.isdigit() else None
        if fields is not None:
            parents[int(entry.name)] = int(fields[1])
    family = [pid]
    for member in family:
        family += [child for child, parent in parents.items() if parent == member]
    return family


def _alive(pid: int) -> bool:
    """Running (a zombie is dead: it only waits for its parent to collect it)."""
    if psutil is not None:
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False
    fields = _stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def _wait_until_gone(pids: list[int]) -> list[int]:
    """The pids still alive after a generous wait (slow exits on a loaded machine)."""
    for _ in range(TIMEOUT * 10):
        left = [pid for pid in pids if _alive(pid)]
        if not left:
            return []
        time.sleep(0.1)
    return left


@pytest.mark.skipif(
    psutil is None and not Path("/proc/self/stat").exists(), reason="needs psutil or /proc"
)
@pytest.mark.parametrize("runner", ["threads", "processes"])
def test_ctrl_c_exits_130_with_one_line_and_leaves_no_process(runner: str, tmp_path: Path) -> None:
    (tmp_path / "napper.py").write_text(NAPS)
    report = tmp_path / "r.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "flowc", "run", "napper.py", "--runner", runner]
        + ["--report", str(report)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("napping"):
                break
        else:
            pytest.fail("flowc run ended before its task started")
        family = _family(process.pid)
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does
        _, stderr = process.communicate(timeout=TIMEOUT)  # the tasks nap 600 s
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted (Ctrl-C): flow run 'napper-")
    assert json.loads(report.read_text(encoding="utf-8"))["state"]["type"] == "CRASHED"
    assert _wait_until_gone(family) == []  # flowc and every worker it started
