"""The ``flowc`` command: parses arguments, calls the loader and the display, sets the exit code.

Thin on purpose (ruff's split between its CLI and its library): what to do with the user's file
lives in :mod:`flowc.runtime.loader`, how to show it in :mod:`flowc.runtime.display`. Exit
codes: 0 the flow run Completed; 1 it did not (or, with ``--strict``, a task run failed), or
the file's own code raised; 2 bad input; 130 interrupted.

Later subcommands (``graph``, ``compile``, ``explain``, ``lint``) register on the same ``app``.
"""

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from flowc.runtime import display, loader
from flowc.runtime.flowrun import FlowRun

__all__ = ["app", "main"]

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

app = typer.Typer(
    name="flowc",
    help="Compile, check and run Prefect-style flows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _flowc() -> None:
    """Compile, check and run Prefect-style flows."""


@app.command("run")
def run(
    target: Annotated[
        str,
        typer.Argument(
            metavar="FILE[:FLOW]",
            help="A Python file, and the flow to run when it has several "
            "(its function name or its flow name).",
            show_default=False,
        ),
    ],
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            metavar="NAME=VALUE",
            help="A flow parameter (repeatable). VALUE is JSON when it parses as JSON, "
            "else a string; values are checked against the flow's signature.",
            show_default=False,
        ),
    ] = None,
    runner: Annotated[
        str | None,
        typer.Option(
            metavar="|".join(loader.RUNNERS),
            help="Run every flow on this task runner instead of the one its @flow names.",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        str | None,
        typer.Option(metavar="N", help="Workers of the --runner pool.", show_default=False),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            metavar="PATH",
            help="Write the run report (JSON, schema flowc.run/1) here, also when the flow fails.",
            show_default=False,
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when any task run failed or crashed.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No live view and no summary; errors only.")
    ] = False,
) -> None:
    """Run a flow from FILE: live progress, a summary, the flow's state and result."""
    out, err = Console(), Console(stderr=True)
    try:
        request = loader.prepare_run(target, param or [], runner, workers, report)
        outcome = loader.run_file(
            request, lambda runs: display.watch(runs, out, err, live=not quiet)
        )
    except loader.FlowcUsageError as exc:
        _fail(err, str(exc), EXIT_USAGE)
    except loader.UserCodeError as exc:
        err.print(Text(display.format_user_exception(exc.exception)), soft_wrap=True)
        _fail(err, str(exc), 1)
    except loader.RunInterrupted as exc:
        _interrupted(err, exc.flow_run, report)
    _finish(out, err, outcome, report, strict, quiet)


def _finish(
    out: Console,
    err: Console,
    outcome: loader.RunOutcome,
    report: Path | None,
    strict: bool,
    quiet: bool,
) -> NoReturn:
    flow_run = outcome.flow_run
    state = flow_run.state
    if not quiet:
        out.print(display.summary_table(flow_run.records))
    if state.is_completed():
        if not quiet:
            out.print(display.state_text(flow_run), soft_wrap=True)
            out.print(Text(f"result: {display.result_text(state.data)}"), soft_wrap=True)
    else:
        err.print(Text(display.format_user_exception(state.exception())), soft_wrap=True)
        err.print(display.state_text(flow_run), soft_wrap=True)
    if strict:
        for run in loader.failed_task_runs(flow_run):
            line = f"task run {run.name!r} ({run.task.name}) {run.state.name}: {run.state.message}"
            err.print(Text(line, style="red"), soft_wrap=True)
    if report is not None:
        _write_report(err, flow_run, report)
    raise typer.Exit(loader.exit_code(flow_run, strict))


def _write_report(err: Console, flow_run: FlowRun, report: Path) -> None:
    try:
        loader.write_report(flow_run, report)
    except OSError as exc:
        _fail(err, f"--report {report}: cannot write the report: {exc.strerror or exc}", EXIT_USAGE)


def _interrupted(err: Console, flow_run: FlowRun | None, report: Path | None) -> NoReturn:
    if flow_run is not None and report is not None:
        _write_report(err, flow_run, report)
    where = f" flow run {flow_run.run_name!r}" if flow_run is not None else ""
    _fail(err, f"interrupted (Ctrl-C):{where} stopped", EXIT_INTERRUPTED)


def _fail(err: Console, message: str, code: int) -> NoReturn:
    err.print(Text(message, style="red"), soft_wrap=True)
    raise typer.Exit(code)


def main() -> None:
    """The ``flowc`` console script."""
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)  # task prints show as they happen, piped too
    try:
        app(prog_name="flowc")
    except KeyboardInterrupt:  # Ctrl-C outside the run (e.g. while shutting the runner down)
        print("interrupted (Ctrl-C)", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
