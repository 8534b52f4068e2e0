"""``flowc run --main FILE [ARGS...]``: the file run as ``python FILE ARGS`` would run it.

Its ``__main__`` block runs, with ``sys.argv`` as Python sets it and ``prefect`` standing for
flowc, so a script that builds its arguments, calls several flows or calls one flow several
times runs as written. Every top-level flow run it makes is captured (the live view follows
the current one) and goes into the report: the report's own fields describe the last one
that finished, and ``top_level_runs`` holds each one's report, in the order they finished
(see docs/run-report.md).

The exit status is the script's, as Python gives it: 0 when it ends, the code of a
``sys.exit(code)``, 1 when it raises.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowc.runtime.flows import use_task_runner
from flowc.runtime.loader import RunInterrupted, RunRequest
from flowc.runtime.modules import load_module
from flowc.runtime.report import build_report, capture

if TYPE_CHECKING:
    from flowc.runtime.flowrun import FlowRun
    from flowc.runtime.loader import Observer

__all__ = ["ScriptOutcome", "build_script_report", "exit_status", "run_script"]


@dataclass
class ScriptOutcome:
    """What a script run made: its top-level flow runs and how it ended."""

    path: Path
    args: list[str]
    #: top-level flow runs that finished, in the order they finished.
    flow_runs: list[FlowRun] = field(default_factory=list)
    #: what the script's own code raised (``SystemExit`` included), if anything.
    error: BaseException | None = None

    @property
    def exit_status(self) -> int:
        return exit_status(self.error)


def exit_status(error: BaseException | None) -> int:
    """The status ``python FILE`` exits with after the script ended with ``error``."""
    if error is None:
        return 0
    if isinstance(error, SystemExit):
        code = error.code
        if code is None:
            return 0
        return code if isinstance(code, int) else 1
    return 1


def run_script(
    request: RunRequest, args: list[str], observe: Observer | None = None
) -> ScriptOutcome:
    """Run ``request.target.path`` as a script with ``args``; Ctrl-C raises RunInterrupted."""
    path = request.target.path
    with capture() as runs, use_task_runner(request.runner):
        try:
            with (
                observe(runs) if observe else contextlib.nullcontext(),
                load_module(path, as_main=True, args=args) as loaded,
            ):
                error = loaded.error
        except KeyboardInterrupt:
            raise RunInterrupted(runs.started[-1] if runs.started else None) from None
    return ScriptOutcome(path, list(args), list(runs.flow_runs), error)


def build_script_report(outcome: ScriptOutcome) -> dict[str, Any]:
    """The ``flowc.run/1`` report of a script run: the last flow run's, plus every one's."""
    if not outcome.flow_runs:
        raise ValueError("the script made no flow run")
    reports = [build_report(run) for run in outcome.flow_runs]
    document = dict(reports[-1])
    document["script"] = {
        "file": str(outcome.path),
        "argv": [str(outcome.path), *outcome.args],
        "exit_status": outcome.exit_status,
    }
    document["top_level_runs"] = reports
    return document
