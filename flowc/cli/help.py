"""How ``flowc --help`` and ``flowc COMMAND --help`` read: plain text, like ruff's or pip's.

Typer's own help shows a type for every parameter (``<bool>`` beside a flag, ``<str>`` beside
``FILE[:FLOW]``, ``<list[Path]>``), braces around required arguments, and cuts command
summaries with ``...``. These classes keep click's layout (it wraps to the terminal's width,
``COLUMNS`` included, at most 80 columns) and print what a user types instead: ``FILE[:FLOW]``,
``-p, --param NAME=VALUE``, ``--format FORMAT``, and a flag alone.

Parameters are told apart by ``param_type_name``, not by class: recent typers vendor click,
older ones use it, and both must read the same.
"""

from __future__ import annotations

from typing import Any

import typer.core

__all__ = ["HelpCommand", "HelpGroup"]


def _argument_name(argument: Any) -> str:
    return str(argument.metavar or (argument.name or "ARG").upper())


def _argument_usage(argument: Any) -> str:
    """``FILE[:FLOW]``, or ``[PATHS]...`` for an optional one that repeats (click's notation)."""
    name = _argument_name(argument)
    if not argument.required:
        name = f"[{name}]"
    return name + "..." if argument.nargs != 1 else name


def _option_metavar(option: Any) -> str:
    if option.metavar:
        return option.metavar
    long_names = [opt for opt in option.opts if opt.startswith("--")]
    base = long_names[0] if long_names else option.opts[0]
    return base.lstrip("-").replace("-", "_").upper()


def _option_names(option: Any) -> str:
    """``-p, --param NAME=VALUE``; ``--legend / --no-legend``; a flag without a metavar."""
    names = ", ".join(sorted(option.opts, key=lambda opt: (opt.startswith("--"), opt)))
    if option.secondary_opts:
        names += " / " + ", ".join(option.secondary_opts)
    if not option.is_flag and not option.count:
        names += f" {_option_metavar(option)}"
    return names


def _option_help(option: Any, ctx: Any) -> str:
    """The option's help with click's ``[default: ...]``, its range and ``required``."""
    record = option.get_help_record(ctx)  # typer's: its help text is right, its names are not
    return record[1] if record is not None else option.help or ""


class HelpCommand(typer.core.TyperCommand):
    """A command whose usage line and help list parameters as they are typed."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                pieces.append(_argument_usage(param))
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments: list[tuple[str, str]] = []
        options: list[tuple[str, str]] = []
        for param in self.get_params(ctx):
            if getattr(param, "hidden", False):
                continue
            if param.param_type_name == "argument":
                help_text = getattr(param, "help", None) or ""
                arguments.append((_argument_name(param), help_text))
            elif param.param_type_name == "option":
                options.append((_option_names(param), _option_help(param, ctx)))
        if arguments:
            with formatter.section("Arguments"):
                formatter.write_dl(arguments)
        if options:
            with formatter.section("Options"):
                formatter.write_dl(options)


class HelpGroup(typer.core.TyperGroup):
    """The ``flowc`` group: its options as :class:`HelpCommand`'s, summaries never cut."""

    def format_options(self, ctx: Any, formatter: Any) -> None:
        options = [
            (_option_names(param), _option_help(param, ctx))
            for param in self.get_params(ctx)
            if param.param_type_name == "option" and not getattr(param, "hidden", False)
        ]
        if options:
            with formatter.section("Options"):
                formatter.write_dl(options)
        self.format_commands(ctx, formatter)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows: list[tuple[str, str]] = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
