"""The ``flowc`` command: the typer app, its global options, and ``main()``, the console script.

Each command lives in a module of its own (:mod:`flowc.cli.run`, :mod:`flowc.cli.graph`,
:mod:`flowc.cli.explain`, :mod:`flowc.cli.diff`) and is registered here, in the order
``flowc --help`` lists them; ``lint``, ``rules`` and ``rule`` register from
:mod:`flowc.lint.cli`, as ruff keeps its linter's commands with the linter. Around every
command: plain help (:mod:`flowc.cli.help`), a closed stdout that costs output but never the
run (:mod:`flowc.cli.pipe`), and Ctrl-C as exit 130.
"""

import sys
from typing import Annotated

import typer

from flowc.cli import diff, explain, graph, run
from flowc.cli.help import HelpCommand, HelpGroup
from flowc.cli.pipe import relay_closed_pipes
from flowc.cli.reports import EXIT_INTERRUPTED

__all__ = ["app", "main"]

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


# ``run`` takes the script's own arguments after FILE with --main, options among them.
app.command("run", cls=HelpCommand, context_settings={"ignore_unknown_options": True})(run.run)
app.command("graph", cls=HelpCommand)(graph.graph)
app.command("compile", cls=HelpCommand)(graph.compile_)
app.command("explain", cls=HelpCommand)(explain.explain)
app.command("diff", cls=HelpCommand)(diff.diff)


def _register_lint() -> None:
    from flowc.lint.cli import register

    register(app)
    for command in app.registered_commands:  # their help reads like the others'
        if command.cls is None or command.cls is typer.core.TyperCommand:
            command.cls = HelpCommand


_register_lint()


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
