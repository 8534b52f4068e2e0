"""``flowc diff``: what a change does to a flow's graph, between two files or git revisions.

Both sides are read and compiled by :mod:`flowc.compiler.diffcommand` (never imported); this
module parses the arguments, writes the diff, and exits 1 when the graph changed, as ``diff``
does (0 when not, 2 on bad input).
"""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from flowc.cli.options import ParamsOpt, format_option, output_option
from flowc.cli.output import emit, fail, fail_lines
from flowc.cli.reports import EXIT_USAGE
from flowc.cli.targets import UsageError, compiler_params

__all__ = ["diff"]


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
        format_option(
            "text|json|mermaid|html", "The format; default: from the -o suffix, else text."
        ),
    ] = None,
    output: Annotated[Path | None, output_option("Write here instead of stdout.")] = None,
    exit_zero: Annotated[
        bool, typer.Option("--exit-zero", help="Exit 0 even when the graph changed.")
    ] = False,
    param: ParamsOpt = None,
) -> None:
    """Show what a change does to a flow's graph: call sites, edges, counts, options, breaks.

    Exit 1 when the graph changed (unless --exit-zero), 0 when not, 2 on bad input.
    """
    from flowc.compiler.diffcommand import diff_format, render_diff, run_diff
    from flowc.compiler.render import DotNotFound
    from flowc.compiler.targets import CommandError

    err = Console(stderr=True)
    try:
        chosen = diff_format(output, fmt)
        result, _, after = run_diff(old, new, git_rev, compiler_params(param or []))
        emit(render_diff(result, after, chosen), output, err, f"{chosen} diff")
    except CommandError as exc:
        fail_lines(err, exc.lines)
    except (UsageError, DotNotFound) as exc:
        fail(err, str(exc), EXIT_USAGE)
    raise typer.Exit(1 if result.changes_graph and not exit_zero else 0)
