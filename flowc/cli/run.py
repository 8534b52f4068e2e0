"""``flowc run``: run a flow from a file with live progress, a summary, its state and result.

Thin on purpose (ruff's split between its CLI and its library): the arguments are checked by
:mod:`flowc.cli.run_args`, the file is imported and its flow run by
:mod:`flowc.runtime.loader` (``--main``: :mod:`flowc.runtime.script`), the run is shown by
:mod:`flowc.cli.display` and :mod:`flowc.cli.progress`, and the report, the page and the exit
code come from :mod:`flowc.cli.reports`.
"""

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from flowc.cli import display, reports
from flowc.cli.options import param_option, target_argument
from flowc.cli.output import fail, fail_lines, note
from flowc.cli.reports import EXIT_INTERRUPTED, EXIT_USAGE
from flowc.cli.run_args import prepare_run
from flowc.cli.targets import UsageError, compiler_params
from flowc.runtime import loader
from flowc.runtime.modules import FlowcUsageError, UserCodeError
from flowc.runtime.runners.registry import RUNNERS

if TYPE_CHECKING:
    from flowc.runtime.flowrun import FlowRun
    from flowc.runtime.report import RunCapture

__all__ = ["run"]

#: Bad input found by the CLI's own checks or by the runtime's: both exit 2.
_USAGE_ERRORS = (UsageError, FlowcUsageError)


def run(
    target: Annotated[
        str,
        target_argument(
            "A Python file, and the flow to run when it has several (its function name "
            "or its flow name); without FLOW, the flow its __main__ block calls, else the "
            "one no other flow of the file calls."
        ),
    ],
    script_args: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="ARGS",
            help="With --main: the script's arguments (its sys.argv[1:]); put -- before them "
            "when one looks like a flowc option.",
            show_default=False,
        ),
    ] = None,
    as_script: Annotated[
        bool,
        typer.Option(
            "--main",
            help="Run FILE as `python FILE ARGS` would, its __main__ block included; every "
            "flow run it makes is shown and goes into the report.",
        ),
    ] = False,
    param: Annotated[
        list[str] | None,
        param_option(
            "A flow parameter (repeatable). VALUE is JSON when it parses as JSON, "
            "else a string; values are checked against the flow's signature."
        ),
    ] = None,
    runner: Annotated[
        str | None,
        typer.Option(
            metavar="|".join(RUNNERS),
            help="Run every flow on this task runner instead of the one its @flow names.",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        str | None,
        typer.Option(metavar="N", help="Workers of the --runner pool.", show_default=False),
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(
            metavar="ADDRESS",
            help="With --runner dask or ray: the running scheduler or head node to use "
            "(e.g. tcp://127.0.0.1:8786), instead of starting a local cluster.",
            show_default=False,
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            metavar="PATH",
            help="Write the run report (JSON, schema flowc.run/1) here, also when the flow fails.",
            show_default=False,
        ),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            metavar="PAGE.html",
            help="Write the run as one self-contained HTML page: the graph coloured by final "
            "state, a timeline, durations per task, the result or error.",
            show_default=False,
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when any task run failed or crashed.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No live view and no summary; errors only.")
    ] = False,
    plan: Annotated[
        str,
        typer.Option(
            "--plan",
            metavar="auto|on|off|PLAN.json",
            help="Run from the compiled plan: ordered, fused and batched, with a true-total "
            "progress bar. auto: when the flow has no graph breaks (else run dynamically, "
            "saying why); on: insist; off: never; or a plan written by `flowc compile`.",
        ),
    ] = "auto",
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="Keep every completed task run's result in DIR (created 0700), "
            "so a crashed run can be resumed with --resume DIR.",
            show_default=False,
        ),
    ] = None,
    resume: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="Reuse the results checkpointed in DIR (state Cached) and run only the "
            "rest; new results are added to DIR.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run a flow from FILE: live progress, a summary, the flow's state and result."""
    out, err = Console(), Console(stderr=True)
    if as_script:
        refused = {"--param": param, "--checkpoint": checkpoint, "--resume": resume}
        try:
            for option, value in refused.items():
                if value:
                    raise UsageError(
                        f"{option} does not apply with --main: the script decides what it runs"
                    )
            request = prepare_run(target, [], runner, workers, report, address)
        except _USAGE_ERRORS as exc:
            fail(err, str(exc), EXIT_USAGE)
        _run_script(request, script_args or [], report, out, err, strict, quiet)
    if script_args:
        fail(
            err, f"unexpected argument {script_args[0]!r} (ARGS are given with --main)", EXIT_USAGE
        )
    say = None if quiet else (lambda line: note(err, line))
    try:
        request = prepare_run(target, param or [], runner, workers, report, address)
        if html is not None:
            reports.check_report_path(html, "--html")
        request = _with_plan(request, plan, param or [], checkpoint, resume, err, quiet)
        outcome = loader.run_file(request, _observer(request, out, err, quiet), say)
    except _USAGE_ERRORS as exc:
        fail(err, str(exc), EXIT_USAGE)
    except UserCodeError as exc:
        err.print(Text(display.format_user_exception(exc.exception)), soft_wrap=True)
        fail(err, str(exc), 1)
    except loader.RunInterrupted as exc:
        _interrupted(err, exc.flow_run, report)
    if html is not None:
        _write_html(err, outcome.flow_run, html, target, param or [])
    _finish(out, err, outcome, report, strict, quiet)


def _run_script(
    request: loader.RunRequest,
    args: list[str],
    report: Path | None,
    out: Console,
    err: Console,
    strict: bool,
    quiet: bool,
) -> NoReturn:
    """``--main``: the file as a script; its exit status, its flow runs summed up."""
    from flowc.runtime import script

    if request.target.flow is not None:
        fail(err, f"{request.target.path}: --main runs the whole file: drop ':FLOW'", EXIT_USAGE)
    try:
        outcome = script.run_script(request, args, _observer(request, out, err, quiet))
    except FlowcUsageError as exc:
        fail(err, str(exc), EXIT_USAGE)
    except loader.RunInterrupted as exc:
        _interrupted(err, exc.flow_run, report)
    error = outcome.error
    if isinstance(error, SystemExit):
        if error.code is not None and not isinstance(error.code, int):
            err.print(Text(str(error.code)), soft_wrap=True)
    elif error is not None:
        err.print(Text(display.format_user_exception(error)), soft_wrap=True)
    records = [record for run in outcome.flow_runs for record in run.records]
    if not quiet:
        out.print(display.summary_table(records))
        for flow_run in outcome.flow_runs:
            artifacts = display.artifacts_table(flow_run)
            if artifacts is not None:
                out.print(artifacts)
    for flow_run in outcome.flow_runs:
        if not quiet or not flow_run.state.is_completed():
            (out if flow_run.state.is_completed() else err).print(
                display.state_text(flow_run), soft_wrap=True
            )
    if report is not None:
        if outcome.flow_runs:
            try:
                reports.write_document(script.build_script_report(outcome), report)
            except OSError as exc:
                message = f"--report {report}: cannot write the report: {exc.strerror}"
                fail(err, message, EXIT_USAGE)
        else:
            note(err, f"--report {report}: the script made no flow run; no report written")
    code = outcome.exit_status
    if strict and code == 0:
        bad = [run for run in outcome.flow_runs if reports.exit_code(run, strict=True)]
        code = 1 if bad else 0
    raise typer.Exit(code)


def _with_plan(
    request: loader.RunRequest,
    plan: str,
    params: list[str],
    checkpoint: Path | None,
    resume: Path | None,
    err: Console,
    quiet: bool,
) -> loader.RunRequest:
    """The request with ``--plan``, ``--checkpoint`` and ``--resume`` decided."""
    from flowc import runplan

    if checkpoint is not None and resume is not None and checkpoint != resume:
        raise UsageError(
            f"--checkpoint {checkpoint} and --resume {resume}: give one directory "
            "(--resume DIR also keeps checkpointing into DIR)"
        )
    flow, values = request.target.flow, compiler_params(params)
    entry = loader.static_entry(request.target.path) if flow is None else None
    if entry is not None:  # several flows: the one the loader will pick (see runtime.selection)
        flow, values = entry[0], {**entry[1], **values}
    try:
        choice = runplan.choose_plan(request.target.path, flow, plan, values)
    except runplan.PlanError as exc:
        raise UsageError(str(exc)) from None
    if choice.note and not quiet:
        note(err, choice.note)
    return dataclasses.replace(
        request,
        plan=choice.plan,
        checkpoint=resume if resume is not None else checkpoint,
        resume=resume is not None,
    )


def _observer(
    request: loader.RunRequest, out: Console, err: Console, quiet: bool
) -> loader.Observer:
    """The live per-task view; in plan mode, progress bars against the plan's totals."""
    facts = request.plan
    if facts is None:
        return lambda runs: display.watch(runs, out, err, live=not quiet)
    from flowc.cli.progress import plan_progress, totals_from_counts

    totals = totals_from_counts(facts.counts)
    mode: Literal["bar", "lines", "off"] = (
        "off" if quiet else ("bar" if err.is_terminal else "lines")
    )

    @contextlib.contextmanager
    def observe(runs: "RunCapture") -> Iterator[None]:
        with (
            display.watch(runs, out, err, live=not quiet, view=False),
            plan_progress(runs, totals, err, mode=mode),
        ):
            yield

    return observe


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
        artifacts = display.artifacts_table(flow_run)
        if artifacts is not None:
            out.print(artifacts)
    if state.is_completed():
        if not quiet:
            out.print(display.state_text(flow_run), soft_wrap=True)
            out.print(Text(f"result: {display.result_text(state.data)}"), soft_wrap=True)
    else:
        detail = display.failure_detail(state.exception())
        if detail:
            err.print(Text(detail), soft_wrap=True)
        err.print(display.state_text(flow_run), soft_wrap=True)
    if strict:
        for run in reports.failed_task_runs(flow_run):
            line = f"task run {run.name!r} ({run.task.name}) {run.state.name}: {run.state.message}"
            err.print(Text(line, style="red"), soft_wrap=True)
    if report is not None:
        _write_report(err, flow_run, report)
    raise typer.Exit(reports.exit_code(flow_run, strict))


def _write_report(err: Console, flow_run: "FlowRun", report: Path) -> None:
    try:
        reports.write_report(flow_run, report)
    except OSError as exc:
        fail(err, f"--report {report}: cannot write the report: {exc.strerror or exc}", EXIT_USAGE)


def _write_html(
    err: Console, flow_run: "FlowRun", page: Path, target: str, params: list[str]
) -> None:
    from flowc.compiler.render import DotNotFound
    from flowc.compiler.targets import CommandError

    try:
        reports.write_run_page(flow_run, target, params, page)
    except CommandError as exc:
        fail_lines(err, [f"--html {page}: {line}" for line in exc.lines])
    except DotNotFound as exc:
        fail(err, f"--html {page}: {exc}", EXIT_USAGE)
    except OSError as exc:
        fail(err, f"--html {page}: {page}: cannot write: {exc.strerror or exc}", EXIT_USAGE)


def _interrupted(err: Console, flow_run: "FlowRun | None", report: Path | None) -> NoReturn:
    if flow_run is not None and report is not None:
        _write_report(err, flow_run, report)
    where = f" flow run {flow_run.run_name!r}" if flow_run is not None else ""
    fail(err, f"interrupted (Ctrl-C):{where} stopped", EXIT_INTERRUPTED)
