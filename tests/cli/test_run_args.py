"""``flowc.cli.run_args``: ``run``'s runner options and its request, checked before any import."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowc.cli.run_args import make_runner, parse_workers, prepare_run
from flowc.cli.targets import UsageError
from flowc.runtime.loader import Target
from flowc.runtime.modules import FlowcUsageError
from flowc.runtime.runners.registry import RUNNERS
from flowc.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner


def test_make_runner() -> None:
    assert make_runner(None, None) is None
    threads = make_runner("threads", 3)
    assert isinstance(threads, ThreadPoolTaskRunner) and threads.max_workers == 3
    processes = make_runner("Processes", 2)
    assert isinstance(processes, ProcessPoolTaskRunner) and processes.max_workers == 2
    assert set(RUNNERS) == {"threads", "processes", "dask", "ray"}
    with pytest.raises(UsageError, match="^unknown runner 'gpu': choose one of threads, "):
        make_runner("gpu", None)
    with pytest.raises(UsageError, match="^--workers needs --runner"):
        make_runner(None, 2)
    with pytest.raises(UsageError, match=r"^--address needs --runner dask or --runner ray$"):
        make_runner("threads", None, "tcp://127.0.0.1:8786")


@pytest.mark.parametrize("text", ["0", "-1", "two", "1.5"])
def test_parse_workers_wants_a_positive_integer(text: str) -> None:
    assert parse_workers(None) is None and parse_workers("4") == 4
    with pytest.raises(UsageError, match=f"^--workers must be a positive integer, got '{text}'$"):
        parse_workers(text)


def test_prepare_run_checks_everything_before_the_import(tmp_path: Path) -> None:
    flow_file = tmp_path / "f.py"
    flow_file.write_text("raise SystemExit('imported!')\n")  # never runs here
    request = prepare_run(f"{flow_file}:f", ["n=3"], "threads", "2")
    assert request.target == Target(flow_file, "f") and request.params == {"n": "3"}
    assert isinstance(request.runner, ThreadPoolTaskRunner) and request.runner.max_workers == 2
    with pytest.raises(FlowcUsageError, match="No such file or directory"):
        prepare_run(str(tmp_path / "missing.py"), [])
    with pytest.raises(UsageError, match="does not exist"):
        prepare_run(str(flow_file), [], report=tmp_path / "nowhere" / "r.json")
