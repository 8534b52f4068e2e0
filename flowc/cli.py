"""The ``flowc`` command: parses arguments, calls the loader and the display, sets the exit code.

Thin on purpose (ruff's split between its CLI and its library): what to do with the user's file
lives in :mod:`flowc.runtime.loader`, how to show it in :mod:`flowc.runtime.display`. Exit
codes: 0 the flow run Completed; 1 it did not (or, with ``--strict``, a task run failed), or
the file's own code raised; 2 bad input; 130 interrupted.

``graph``, ``compile`` and ``explain`` (bottom of the file) read the file with the compiler,
never importing it; their work lives in :mod:`flowc.compiler.render.command`.
``lint``, ``rules`` and ``rule`` register from :mod:`flowc.lint.cli`.

Beside it: :mod:`flowc.cli_help` (how ``--help`` reads), :mod:`flowc.cli_pipe` (a closed
stdout costs output, never the run) and :mod:`flowc.cli_messages` (the one wording of a bad
``FILE[:FLOW]`` for every command).
"""

import contextlib
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from flowc.cli_help import HelpCommand, HelpGroup
from flowc.cli_pipe import relay_closed_pipes
from flowc.runtime import display, loader
from flowc.runtime.flowrun import FlowRun
from flowc.runtime.report import RunCapture

if TYPE_CHECKING:
    from rich.table import Table

    from flowc.compiler.explain import FlowExplanation
    from flowc.compiler.optimized import OptimizedFlow

__all__ = ["app", "main"]

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

app = typer.Typer(
    name="flowc",
    cls=HelpGroup,
    help="Compile, check and run Prefect-style flows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help and usage errors, as ruff and pip print them
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        from flowc import __version__

        print(f"flowc {__version__}")
        raise typer.Exit()


@app.callback()
def _flowc(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            help="Print flowc's version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Compile, check and run Prefect-style flows."""


@app.command("run", cls=HelpCommand, context_settings={"ignore_unknown_options": True})
def run(
    target: Annotated[
        str,
        typer.Argument(
            metavar="FILE[:FLOW]",
            help="A Python file, and the flow to run when it has several (its function name "
            "or its flow name); without FLOW, the flow its __main__ block calls, else the "
            "one no other flow of the file calls.",
            show_default=False,
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
                    raise loader.FlowcUsageError(
                        f"{option} does not apply with --main: the script decides what it runs"
                    )
            request = loader.prepare_run(target, [], runner, workers, report, address)
        except loader.FlowcUsageError as exc:
            _fail(err, str(exc), EXIT_USAGE)
        _run_script(request, script_args or [], out, err, strict, quiet)
    if script_args:
        _fail(
            err, f"unexpected argument {script_args[0]!r} (ARGS are given with --main)", EXIT_USAGE
        )
    say = None if quiet else (lambda line: err.print(Text(line, style="yellow"), soft_wrap=True))
    try:
        request = loader.prepare_run(target, param or [], runner, workers, report, address)
        if html is not None:
            loader.check_report_path(html, "--html")
        request = _with_plan(request, plan, param or [], checkpoint, resume, err, quiet)
        outcome = loader.run_file(request, _observer(request, out, err, quiet), say)
    except loader.FlowcUsageError as exc:
        _fail(err, str(exc), EXIT_USAGE)
    except loader.UserCodeError as exc:
        err.print(Text(display.format_user_exception(exc.exception)), soft_wrap=True)
        _fail(err, str(exc), 1)
    except loader.RunInterrupted as exc:
        _interrupted(err, exc.flow_run, report)
    if html is not None:
        _write_html(err, outcome.flow_run, html, target, param or [])
    _finish(out, err, outcome, report, strict, quiet)


def _run_script(
    request: loader.RunRequest,
    args: list[str],
    out: Console,
    err: Console,
    strict: bool,
    quiet: bool,
) -> NoReturn:
    """``--main``: the file as a script; its exit status, its flow runs summed up."""
    from flowc.runtime import script

    if request.target.flow is not None:
        _fail(err, f"{request.target.path}: --main runs the whole file: drop ':FLOW'", EXIT_USAGE)
    try:
        outcome = script.run_script(request, args, _observer(request, out, err, quiet))
    except loader.FlowcUsageError as exc:
        _fail(err, str(exc), EXIT_USAGE)
    except loader.RunInterrupted as exc:
        _interrupted(err, exc.flow_run, request.report)
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
    if request.report is not None:
        if outcome.flow_runs:
            try:
                loader.write_document(script.build_script_report(outcome), request.report)
            except OSError as exc:
                message = f"--report {request.report}: cannot write the report: {exc.strerror}"
                _fail(err, message, EXIT_USAGE)
        else:
            err.print(
                Text(
                    f"--report {request.report}: the script made no flow run; no report written",
                    style="yellow",
                ),
                soft_wrap=True,
            )
    code = outcome.exit_status
    if strict and code == 0:
        bad = [run for run in outcome.flow_runs if loader.exit_code(run, strict=True)]
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
    import dataclasses

    from flowc import runplan

    if checkpoint is not None and resume is not None and checkpoint != resume:
        raise loader.FlowcUsageError(
            f"--checkpoint {checkpoint} and --resume {resume}: give one directory "
            "(--resume DIR also keeps checkpointing into DIR)"
        )
    flow, compiler_params = request.target.flow, _compiler_params(params)
    entry = loader.static_entry(request.target.path) if flow is None else None
    if entry is not None:  # several flows: the one the loader will pick (see runtime.selection)
        flow, compiler_params = entry[0], {**entry[1], **compiler_params}
    try:
        choice = runplan.choose_plan(request.target.path, flow, plan, compiler_params)
    except runplan.PlanError as exc:
        raise loader.FlowcUsageError(str(exc)) from None
    if choice.note and not quiet:
        err.print(Text(choice.note, style="yellow"), soft_wrap=True)
    return dataclasses.replace(
        request,
        plan=choice.flow_plan,
        checkpoint=resume if resume is not None else checkpoint,
        resume=resume is not None,
    )


def _compiler_params(params: list[str]) -> dict[str, object]:
    from flowc.compiler.render.command import CommandError, parse_params

    try:
        return parse_params(params)
    except CommandError as exc:
        raise loader.FlowcUsageError(str(exc)) from None


def _observer(
    request: loader.RunRequest, out: Console, err: Console, quiet: bool
) -> loader.Observer:
    """The live per-task view; in plan mode, progress bars against the plan's totals."""
    flow_plan = request.plan
    if flow_plan is None:
        return lambda runs: display.watch(runs, out, err, live=not quiet)
    from flowc.runtime.progress import plan_progress, totals_from_counts

    totals = totals_from_counts((node.task, node.count or 0) for node in flow_plan.nodes)
    mode: Literal["bar", "lines", "off"] = (
        "off" if quiet else ("bar" if err.is_terminal else "lines")
    )

    @contextlib.contextmanager
    def observe(runs: RunCapture) -> Iterator[None]:
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


def _write_html(
    err: Console, flow_run: FlowRun, page: Path, target: str, params: list[str]
) -> None:
    from flowc.compiler.render import DotNotFound
    from flowc.compiler.render.command import CommandError
    from flowc.compiler.render.runpage import write_run_page
    from flowc.runtime.report import build_report

    try:
        write_run_page(build_report(flow_run), target, page, params)
    except CommandError as exc:
        _fail_lines(err, [f"--html {page}: {line}" for line in exc.lines])
    except DotNotFound as exc:
        _fail(err, f"--html {page}: {exc}", EXIT_USAGE)


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
    with relay_closed_pipes():  # `flowc run ... | head -1`: the run and its report go on
        try:
            app(prog_name="flowc")
        except KeyboardInterrupt:  # Ctrl-C outside the run (e.g. while shutting the runner down)
            print("interrupted (Ctrl-C)", file=sys.stderr)
            sys.exit(EXIT_INTERRUPTED)


# --------------------------------------------------------------------- graph, compile, explain
# These never import or run the user's file: the compiler reads it with libcst.

_TARGET_HELP = (
    "A Python file, and the flow to use when it has several (its function name or flow name)."
)
_PARAM_HELP = (
    "A flow parameter (repeatable), used for counts and --expand. VALUE is JSON when it "
    "parses as JSON, else a string."
)
_TargetArg = Annotated[
    str, typer.Argument(metavar="FILE[:FLOW]", help=_TARGET_HELP, show_default=False)
]
_ParamsOpt = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", metavar="NAME=VALUE", help=_PARAM_HELP, show_default=False),
]
_ExpandOpt = Annotated[
    bool, typer.Option("--expand", help="One node per task run instead of per call site.")
]


@app.command("graph", cls=HelpCommand)
def graph(
    target: _TargetArg,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="Write here (.svg .png .dot .mmd .json .html); without it, text goes to stdout.",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            metavar="svg|png|dot|mermaid|json|html",
            help="The format; default: from the -o suffix, else dot.",
            show_default=False,
        ),
    ] = None,
    expand: _ExpandOpt = False,
    param: _ParamsOpt = None,
    max_runs: Annotated[
        int,
        typer.Option(
            "--max-runs",
            metavar="N",
            min=0,
            help="Expanded call sites of more than N runs are drawn as one node with a count.",
        ),
    ] = 20,
    legend: Annotated[bool, typer.Option(help="Draw the legend (DOT, SVG, PNG).")] = True,
    run_report: Annotated[
        Path | None,
        typer.Option(
            "--run",
            metavar="REPORT.json",
            help="Colour each node by its runs' final states in this report "
            "(flowc run --report); draws the report's flow.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Draw the task graph of FILE's flows (every flow, each in its own cluster, unless :FLOW)."""
    from flowc.compiler import render as renderers
    from flowc.compiler.render import command
    from flowc.compiler.render.runs import overlay_for

    err = Console(stderr=True)
    try:
        chosen = renderers.format_for(output, fmt)
        if output is None and chosen in renderers.BINARY_FORMATS:
            raise command.CommandError(f"{chosen.upper()} is binary: write it with -o out.{chosen}")
        compiled = command.compile_target(target, param or [], expand=expand)
        runs = overlay_for(run_report, compiled) if run_report is not None else None
        plan = runs.plan if runs is not None else compiled.selected_plan()  # --run: its flow
        data = renderers.render(plan, chosen, max_runs=max_runs, legend=legend, runs=runs)
        kind = "Mermaid" if chosen == "mermaid" else chosen.upper()
        _emit(data, output, err, f"{kind}, {_flows_text(plan.flows)}")
        for note in runs.stderr_notes() if runs is not None else []:
            err.print(Text(note, style="yellow"), soft_wrap=True)
    except command.CommandError as exc:
        _fail_lines(err, exc.lines)
    except (renderers.UnknownFormat, renderers.DotNotFound) as exc:
        _fail(err, str(exc), EXIT_USAGE)


@app.command("compile", cls=HelpCommand)
def compile_(
    target: _TargetArg,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="Write the plan here (atomically); without it, to stdout.",
            show_default=False,
        ),
    ] = None,
    expand: _ExpandOpt = False,
    param: _ParamsOpt = None,
) -> None:
    """Write the Plan JSON (schema flowc.plan/1) of FILE's flows, or of the one named."""
    from flowc.compiler.render import command

    err = Console(stderr=True)
    try:
        compiled = command.compile_target(target, param or [], expand=expand)
        selected = compiled.selected_plan()
        _emit(selected.to_json() + "\n", output, err, f"plan, {_flows_text(selected.flows)}")
    except command.CommandError as exc:
        _fail_lines(err, exc.lines)


@app.command("explain", cls=HelpCommand)
def explain(
    target: _TargetArg,
    param: _ParamsOpt = None,
    expand: _ExpandOpt = False,
    fmt: Annotated[
        str,
        typer.Option("--format", "-f", metavar="text|json", help="text (default) or json."),
    ] = "text",
    optimized: Annotated[
        bool,
        typer.Option(
            "--optimized",
            help="Show what plan mode's optimizer passes do with the task runs "
            "(priority, fusion, batching); implies --expand.",
        ),
    ] = False,
) -> None:
    """Size up FILE's flows: call sites, edges, task runs, width, depth, critical path, breaks."""
    from flowc.compiler.explain import explain as explain_plan
    from flowc.compiler.render import command

    out, err = Console(), Console(stderr=True)
    if fmt not in ("text", "json"):
        _fail(err, f"--format {fmt!r}: expected text or json", EXIT_USAGE)
    if optimized:
        _explain_optimized(target, param or [], fmt, out, err)
        return
    try:
        compiled = command.compile_target(target, param or [], expand=expand)
        explanation = explain_plan(compiled.selected_plan())
    except command.CommandError as exc:
        _fail_lines(err, exc.lines)
    except ValueError as exc:  # a plan that is not a DAG
        _fail(err, f"{target}: {exc}", EXIT_USAGE)
    if fmt == "json":
        sys.stdout.write(explanation.to_json() + "\n")
        return
    for flow in explanation.flows:
        out.print(_explanation_table(flow), soft_wrap=True)


def _explain_optimized(
    target: str, params: list[str], fmt: str, out: Console, err: Console
) -> None:
    import json

    from flowc.compiler.optimized import explain_optimized, flow_runners
    from flowc.compiler.render import command

    try:
        compiled = command.compile_target(target, params, expand=True)
        runners = flow_runners(compiled.path)
        results = [
            explain_optimized(flow, runner=runners.get(flow.name))
            for flow in compiled.selected_plan().flows
        ]
    except command.CommandError as exc:
        _fail_lines(err, exc.lines)
    except ValueError as exc:  # a plan that is not a DAG
        _fail(err, f"{target}: {exc}", EXIT_USAGE)
    if fmt == "json":
        sys.stdout.write(json.dumps([r.model_dump() for r in results], indent=2) + "\n")
        return
    for result in results:
        for line in _optimized_header(result):
            out.print(Text(line, style="bold"), soft_wrap=True)
        for applied in result.passes:
            out.print(
                Text(f"  {applied.name:<9}{applied.result}  ({applied.does})"), soft_wrap=True
            )
        out.print(Text(f"  critical path first: {', '.join(result.critical_path)}"), soft_wrap=True)
        for chain in result.chains:
            shown = " -> ".join(chain if len(chain) <= 6 else [*chain[:3], "...", *chain[-2:]])
            out.print(Text(f"  fused ({len(chain)}): {shown}"), soft_wrap=True)
        for site, count in result.batches.items():
            out.print(Text(f"  batched: {site} in {count} calls"), soft_wrap=True)
        for why in result.why_not:
            out.print(Text(f"  why: {why}"), soft_wrap=True)
        if result.note:
            out.print(Text(f"  note: {result.note}", style="yellow"), soft_wrap=True)


def _optimized_header(result: "OptimizedFlow") -> list[str]:
    """Which runner the flow is on, and where fusion and batching would apply."""
    given = f"its {result.runner_class}" if result.runner_class else "Prefect's default"
    runs = f"flow {result.name}: {result.task_runs} task runs"
    if result.runner == "threads":
        return [
            f"{runs} on threads ({given}): plan mode orders them by critical path only;",
            f"with --runner processes, dask or ray they would be {result.calls} calls:",
        ]
    where = {"processes": "processes", "dask": "Dask", "ray": "Ray"}.get(
        result.runner, "its task runner"
    )
    return [f"{runs} -> {result.calls} calls on {where} ({given})"]


def _explanation_table(flow: "FlowExplanation") -> "Table":
    from rich.table import Table

    table = Table(title=f"flow {flow.name}  ({flow.file})", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    edges = ", ".join(f"{n} {kind}" for kind, n in flow.edges.items())
    rows = [
        (
            "call sites",
            f"{flow.call_sites}" + (f" ({flow.nodes} runs drawn)" if flow.expanded else ""),
        ),
        ("edges", edges),
        ("task runs", flow.task_runs_text()),
        ("subflow runs", str(flow.subflow_runs)),
        ("width", f"{flow.width} ({flow.width_method})"),
        ("depth", str(flow.depth)),
        ("critical path", " → ".join(flow.critical_path) or "-"),
    ]
    rows += [("graph break", f"line {b.line}:{b.col}: {b.reason}") for b in flow.breaks]
    rows += [("dynamic", f"{d.id} (line {d.line}): {d.reason}") for d in flow.dynamic]
    rows += [("conditional", node_id) for node_id in flow.conditional]
    for key, value in rows:
        table.add_row(key, Text(value))
    return table


def _flows_text(flows: Sequence[object]) -> str:
    return f"{len(flows)} flow" + ("s" if len(flows) != 1 else "")


def _emit(data: str | bytes, output: Path | None, err: Console, what: str) -> None:
    """``data`` to ``output`` atomically, saying so in one line on stderr; or to stdout."""
    from flowc.compiler.render.command import write_atomic

    if output is not None:
        write_atomic(output, data)
        err.print(Text(f"wrote {output} ({what})"), soft_wrap=True, highlight=False)
    elif isinstance(data, bytes):
        sys.stdout.buffer.write(data)
    else:
        sys.stdout.write(data if data.endswith("\n") else data + "\n")


def _fail_lines(err: Console, lines: list[str]) -> NoReturn:
    for line in lines[:-1]:
        err.print(Text(line, style="red"), soft_wrap=True)
    _fail(err, lines[-1] if lines else "error", EXIT_USAGE)


@app.command("diff")
def diff(
    old: Annotated[
        str,
        typer.Argument(
            metavar="OLD",
            help="A flow file, or REV:PATH from git (HEAD~1:flows/etl.py).",
            show_default=False,
        ),
    ],
    new: Annotated[
        str | None,
        typer.Argument(
            metavar="NEW", help="The other side (a file or REV:PATH).", show_default=False
        ),
    ] = None,
    git_rev: Annotated[
        str | None,
        typer.Option(
            "--git",
            metavar="REV",
            help="Compare FILE at REV with FILE as it is now.",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            metavar="text|json|mermaid|html",
            help="The format; default: from the -o suffix, else text.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="Write here instead of stdout.",
            show_default=False,
        ),
    ] = None,
    exit_zero: Annotated[
        bool, typer.Option("--exit-zero", help="Exit 0 even when the graph changed.")
    ] = False,
    param: _ParamsOpt = None,
) -> None:
    """Show what a change does to a flow's graph: call sites, edges, counts, options, breaks.

    Exit 1 when the graph changed (unless --exit-zero), 0 when not, 2 on bad input.
    """
    from flowc.compiler.diffcommand import diff_format, render_diff, run_diff
    from flowc.compiler.render import DotNotFound, command

    err = Console(stderr=True)
    try:
        chosen = diff_format(output, fmt)
        result, _, after = run_diff(old, new, git_rev, param or [])
        _emit(render_diff(result, after, chosen), output, err, f"{chosen} diff")
    except command.CommandError as exc:
        _fail_lines(err, exc.lines)
    except DotNotFound as exc:
        _fail(err, str(exc), EXIT_USAGE)
    raise typer.Exit(1 if result.changes_graph and not exit_zero else 0)


# --------------------------------------------------------------------- lint, rules, rule
# The linter's commands live with the linter (flowc/lint/cli.py), as ruff keeps its own.


def _register_lint() -> None:
    from flowc.lint.cli import register

    register(app)
    for command in app.registered_commands:  # their help reads like the others'
        if command.cls is None or command.cls is typer.core.TyperCommand:
            command.cls = HelpCommand


_register_lint()
