"""``flowc graph`` and ``flowc compile``: the file's task graph drawn, or its Plan JSON written.

Neither imports or runs the user's file: the compiler reads it with libcst
(:func:`flowc.compiler.targets.compile_target`) and the renderers draw the plan
(:mod:`flowc.compiler.render`); this module parses the arguments and puts the result on
stdout or, atomically, in ``-o PATH``.
"""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from flowc.cli.options import ExpandOpt, ParamsOpt, TargetArg, format_option, output_option
from flowc.cli.output import emit, emit_plan, fail, fail_lines, flows_text, note
from flowc.cli.reports import EXIT_USAGE
from flowc.cli.targets import UsageError, compiler_params, parse_target

__all__ = ["compile_", "graph"]


def graph(
    target: TargetArg,
    output: Annotated[
        Path | None,
        output_option(
            "Write here (.svg .png .dot .mmd .json .html); without it, text goes to stdout."
        ),
    ] = None,
    fmt: Annotated[
        str | None,
        format_option(
            "svg|png|dot|mermaid|json|html", "The format; default: from the -o suffix, else dot."
        ),
    ] = None,
    expand: ExpandOpt = False,
    param: ParamsOpt = None,
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
    from flowc.compiler.render.runs import overlay_for
    from flowc.compiler.targets import CommandError, compile_target

    err = Console(stderr=True)
    try:
        chosen = renderers.format_for(output, fmt)
        if output is None and chosen in renderers.BINARY_FORMATS:
            raise UsageError(f"{chosen.upper()} is binary: write it with -o out.{chosen}")
        path, name = parse_target(target)
        streamed = chosen == "json" and run_report is None  # runs listed as they are written
        compiled = compile_target(
            path, name, compiler_params(param or []), expand=expand, unlisted=streamed
        )
        if streamed:
            plan = compiled.selected_plan()
            emit_plan(plan, output, err, f"JSON, {flows_text(plan.flows)}")
            return
        runs = overlay_for(run_report, compiled) if run_report is not None else None
        plan = runs.plan if runs is not None else compiled.selected_plan()  # --run: its flow
        data = renderers.render(plan, chosen, max_runs=max_runs, legend=legend, runs=runs)
        kind = "Mermaid" if chosen == "mermaid" else chosen.upper()
        emit(data, output, err, f"{kind}, {flows_text(plan.flows)}")
        for line in runs.stderr_notes() if runs is not None else []:
            note(err, line)
    except CommandError as exc:
        fail_lines(err, exc.lines)
    except (UsageError, renderers.UnknownFormat, renderers.DotNotFound) as exc:
        fail(err, str(exc), EXIT_USAGE)


def compile_(
    target: TargetArg,
    output: Annotated[
        Path | None, output_option("Write the plan here (atomically); without it, to stdout.")
    ] = None,
    expand: ExpandOpt = False,
    param: ParamsOpt = None,
) -> None:
    """Write the Plan JSON (schema flowc.plan/1) of FILE's flows, or of the one named."""
    from flowc.compiler.targets import CommandError, compile_target

    err = Console(stderr=True)
    try:
        path, name = parse_target(target)
        compiled = compile_target(
            path, name, compiler_params(param or []), expand=expand, unlisted=True
        )
        selected = compiled.selected_plan()
        emit_plan(selected, output, err, f"plan, {flows_text(selected.flows)}")
    except CommandError as exc:
        fail_lines(err, exc.lines)
    except UsageError as exc:
        fail(err, str(exc), EXIT_USAGE)
