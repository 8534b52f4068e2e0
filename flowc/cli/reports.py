"""What a run leaves behind: its exit code, its JSON report and its HTML page.

The runtime builds the ``flowc.run/1`` document (:func:`flowc.runtime.report.build_report`)
and the compiler draws the page (:func:`flowc.compiler.render.runpage.run_page`); deciding
the exit code and putting files on disk are the command's part. Every file is written
through :func:`flowc.files.write_atomic`: a reader never sees half a report, and a failed
write leaves none. Exit codes: 0 the flow run Completed; 1 it did not (or, with ``--strict``,
a task run failed), or the file's own code raised; 2 bad input; 130 interrupted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowc.cli.targets import UsageError, compiler_params, parse_target
from flowc.files import write_atomic

if TYPE_CHECKING:
    from flowc.runtime.flowrun import FlowRun
    from flowc.runtime.taskrun import TaskRun

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "check_report_path",
    "exit_code",
    "failed_task_runs",
    "write_document",
    "write_report",
    "write_run_page",
]

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def check_report_path(path: Path, option: str = "--report") -> None:
    """A report (or ``--html`` page) is written only where it can be: fail before running."""
    directory = path.parent
    if not directory.is_dir():
        raise UsageError(f"{option} {path}: directory {str(directory)!r} does not exist")
    if path.is_dir():
        raise UsageError(f"{option} {path}: is a directory; give a file path")


def failed_task_runs(flow_run: FlowRun) -> list[TaskRun]:
    """Task runs (subflow records included) whose final state is Failed or Crashed."""
    return [
        run for run in list(flow_run.records) if run.state.is_failed() or run.state.is_crashed()
    ]


def exit_code(flow_run: FlowRun, strict: bool) -> int:
    """0 for a Completed flow run; 1 otherwise, or with ``strict`` when any task run failed."""
    if not flow_run.state.is_completed():
        return 1
    if strict and failed_task_runs(flow_run):
        return 1
    return 0


def write_report(flow_run: FlowRun, path: Path) -> None:
    """Write the ``flowc.run/1`` report atomically: a reader never sees a partial file."""
    from flowc.runtime.report import build_report

    write_document(build_report(flow_run), path)


def write_document(document: dict[str, Any], path: Path) -> None:
    """A report document as JSON, atomically (``--main`` builds its own, see runtime.script)."""
    write_atomic(path, json.dumps(document, indent=2, default=str) + "\n")


def write_run_page(flow_run: FlowRun, target: str, params: Sequence[str], page: Path) -> None:
    """``--html PAGE``: the run drawn on its flow's graph, as one self-contained page.

    Raises :class:`~flowc.compiler.targets.CommandError` when the file no longer compiles,
    ``DotNotFound`` without Graphviz, ``OSError`` when the page cannot be written.
    """
    from flowc.compiler.render.runpage import run_page
    from flowc.compiler.targets import compile_target
    from flowc.runtime.report import build_report

    path, name = parse_target(target)
    compiled = compile_target(path, name, compiler_params(params))
    write_atomic(page, run_page(build_report(flow_run), target, compiled))
