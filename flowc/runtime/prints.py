"""``log_prints``: ``print()`` inside a run that asks for it goes to the run's logger.

As in Prefect, ``builtins.print`` is replaced — but only once some task or flow sets
``log_prints=True``, and the replacement passes every other call (another file, no run, a run
without the option) straight to the original ``print``. A task's own setting wins; ``None``
inherits its flow's.
"""

from __future__ import annotations

import builtins
import sys
from typing import Any

from flowc.runtime.context import flow_run_var, task_run_var

__all__ = ["install_print_logging"]

_original_print = builtins.print


def _prints_are_logged() -> bool:
    task_run = task_run_var.get()
    if task_run is not None and task_run.task.log_prints is not None:
        return bool(task_run.task.log_prints)
    flow_run = flow_run_var.get()
    return flow_run is not None and bool(flow_run.flow.log_prints)


def _print(
    *values: Any,
    sep: str | None = " ",
    end: str | None = "\n",
    file: Any = None,
    flush: bool = False,
) -> None:
    if (file is None or file is sys.stdout) and _prints_are_logged():
        from flowc.logging import get_run_logger

        get_run_logger().info((sep if sep is not None else " ").join(str(v) for v in values))
        return
    _original_print(*values, sep=sep, end=end, file=file, flush=flush)


def install_print_logging() -> None:
    """Route prints of runs with ``log_prints=True`` to their logger (idempotent)."""
    if builtins.print is not _print:
        builtins.print = _print
