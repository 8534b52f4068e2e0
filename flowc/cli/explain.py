"""``flowc explain``: size up a file's flows, or show what plan mode's optimizer does with them.

The numbers come from the compiler (:mod:`flowc.compiler.explain`,
:mod:`flowc.compiler.optimized`), read from the source without running it; this module lays
them out as tables and lines, or passes their JSON through.
"""

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.text import Text

from flowc.cli.options import ExpandOpt, ParamsOpt, TargetArg, format_option
from flowc.cli.output import fail, fail_lines
from flowc.cli.reports import EXIT_USAGE
from flowc.cli.targets import UsageError, compiler_params, parse_target

if TYPE_CHECKING:
    from rich.table import Table

    from flowc.compiler.explain import FlowExplanation
    from flowc.compiler.optimized import OptimizedFlow
    from flowc.compiler.targets import Compiled

__all__ = ["explain"]


def explain(
    target: TargetArg,
    param: ParamsOpt = None,
    expand: ExpandOpt = False,
    fmt: Annotated[
        str, format_option("text|json", "text (default) or json.", show_default=True)
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

    out, err = Console(), Console(stderr=True)
    if fmt not in ("text", "json"):
        fail(err, f"--format {fmt!r}: expected text or json", EXIT_USAGE)
    if optimized:
        _explain_optimized(target, param or [], fmt, out, err)
        return
    with _compile_errors(target, err):
        compiled = _compiled(target, param or [], expand)
        explanation = explain_plan(compiled.selected_plan())
    if fmt == "json":
        sys.stdout.write(explanation.to_json() + "\n")
        return
    for flow in explanation.flows:
        out.print(_explanation_table(flow), soft_wrap=True)


@contextlib.contextmanager
def _compile_errors(target: str, err: Console) -> Iterator[None]:
    """Compiling the target: its errors as the command's messages and exit codes."""
    from flowc.compiler.targets import CommandError

    try:
        yield
    except CommandError as exc:
        fail_lines(err, exc.lines)
    except UsageError as exc:
        fail(err, str(exc), EXIT_USAGE)
    except ValueError as exc:  # a plan that is not a DAG
        fail(err, f"{target}: {exc}", EXIT_USAGE)


def _compiled(target: str, params: list[str], expand: bool) -> "Compiled":
    from flowc.compiler.targets import compile_target

    path, name = parse_target(target)
    return compile_target(path, name, compiler_params(params), expand=expand)


def _explain_optimized(
    target: str, params: list[str], fmt: str, out: Console, err: Console
) -> None:
    import json

    from flowc.compiler.optimized import explain_optimized, flow_runners

    with _compile_errors(target, err):
        compiled = _compiled(target, params, expand=True)
        runners = flow_runners(compiled.path)
        results = [
            explain_optimized(flow, runner=runners.get(flow.name))
            for flow in compiled.selected_plan().flows
        ]
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
