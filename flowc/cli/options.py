"""The options several commands share, declared once: same names, same metavar, same help.

A command that means something else by an option (``run``'s ``--param`` is checked against
the flow's signature; each command's ``-o`` writes something of its own) passes its help to
the factory; the names and the metavar stay the same everywhere.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

__all__ = [
    "ExpandOpt",
    "ParamsOpt",
    "TargetArg",
    "format_option",
    "output_option",
    "param_option",
    "target_argument",
]


def target_argument(help_text: str) -> Any:
    """``FILE[:FLOW]``, the first argument of every command that reads a flow file."""
    return typer.Argument(metavar="FILE[:FLOW]", help=help_text, show_default=False)


def param_option(help_text: str) -> Any:
    """``-p, --param NAME=VALUE``, repeatable (parsed by :mod:`flowc.cli.targets`)."""
    return typer.Option("--param", "-p", metavar="NAME=VALUE", help=help_text, show_default=False)


def output_option(help_text: str) -> Any:
    """``-o, --output PATH``: where the command writes, instead of stdout."""
    return typer.Option("--output", "-o", metavar="PATH", help=help_text, show_default=False)


def format_option(metavar: str, help_text: str, show_default: bool = False) -> Any:
    """``-f, --format`` with the formats the command writes as its metavar."""
    return typer.Option(
        "--format", "-f", metavar=metavar, help=help_text, show_default=show_default
    )


_TARGET_HELP = (
    "A Python file, and the flow to use when it has several (its function name or flow name)."
)
_PARAM_HELP = (
    "A flow parameter (repeatable), used for counts and --expand. VALUE is JSON when it "
    "parses as JSON, else a string."
)

#: The compile-side commands' ``FILE[:FLOW]`` (they read the file, never import it).
TargetArg = Annotated[str, target_argument(_TARGET_HELP)]
#: The compile-side commands' ``--param``: values for counts and ``--expand``.
ParamsOpt = Annotated[list[str] | None, param_option(_PARAM_HELP)]
ExpandOpt = Annotated[
    bool, typer.Option("--expand", help="One node per task run instead of per call site.")
]
