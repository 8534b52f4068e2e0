"""``flowc lint``, ``flowc rules`` and ``flowc rule CODE``: parse options, print, exit.

The work lives in :mod:`flowc.lint.runner`; this module stays cheap to import (no rich, no
pydantic, no libcst until a file must be analysed).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from flowc.lint.runner import Report

__all__ = ["register"]


def _codes(values: list[str] | None) -> tuple[str, ...]:
    out: list[str] = []
    for value in values or []:
        out.extend(v.strip().upper() for v in value.split(",") if v.strip())
    return tuple(out)


def _check_codes(codes: tuple[str, ...], option: str) -> None:
    from flowc.lint.rules import OTHER_CODES, RULES

    known = [r.code for r in RULES] + list(OTHER_CODES)
    for code in codes:
        if code != "ALL" and not any(k.startswith(code) for k in known):
            typer.echo(
                f"error: unknown rule code {code!r} in {option} (known: {', '.join(known)})",
                err=True,
            )
            raise typer.Exit(2)


def _lint(
    paths: list[Path],
    fmt: str,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    exit_zero: bool,
    fix: bool,
    no_cache: bool,
) -> int:
    from flowc.lint.config import ConfigError
    from flowc.lint.output import FORMATS, render
    from flowc.lint.runner import Options, lint_paths

    if fmt not in FORMATS:
        typer.echo(f"error: unknown format {fmt!r} (choose from {', '.join(FORMATS)})", err=True)
        return 2
    _check_codes(select, "--select")
    _check_codes(ignore, "--ignore")
    options = Options(select, ignore, cache=not no_cache, fix=fix, want_fixes=fmt == "json")
    try:
        report: Report = lint_paths(paths or [Path(".")], options)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 2
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    report.findings.sort(key=lambda f: (f.path, f.line, f.col, f.code))
    sys.stdout.write(render(report.findings, fmt, report.fixed))
    if fix and report.fixed and fmt != "text":
        typer.echo(f"Fixed {report.fixed} error{'s' if report.fixed != 1 else ''}.", err=True)
    if report.findings and not exit_zero:
        return 1
    return 0


def register(app: typer.Typer) -> None:
    """Add ``lint``, ``rules`` and ``rule`` to ``app``."""

    @app.command("lint")
    def lint(
        paths: list[Path] = typer.Argument(None, help="Files or folders (default: .)."),
        fmt: str = typer.Option("text", "--format", help="text, json, sarif or github."),
        select: list[str] = typer.Option(None, "--select", help="Codes or prefixes to check."),
        ignore: list[str] = typer.Option(None, "--ignore", help="Codes or prefixes to skip."),
        exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even with findings."),
        fix: bool = typer.Option(False, "--fix", help="Apply the safe fixes (FC001)."),
        no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the cache."),
    ) -> None:
        """Check flows for unresolved futures and other mistakes, without running them."""
        try:
            code = _lint(
                list(paths or []), fmt, _codes(select), _codes(ignore), exit_zero, fix, no_cache
            )
        except typer.Exit:
            raise
        except Exception as exc:  # an internal error: say so, exit 2, never a traceback wall
            typer.echo(f"error: flowc lint failed: {type(exc).__name__}: {exc}", err=True)
            code = 2
        raise typer.Exit(code)

    @app.command("rules")
    def rules() -> None:
        """List every lint rule."""
        from flowc.lint.rules import RULES

        for rule in RULES:
            fix = " (fix sometimes available)" if rule.fixable else ""
            typer.echo(f"{rule.code}  {rule.name:<28} {rule.summary}{fix}")

    @app.command("rule")
    def rule(code: str = typer.Argument(..., help="A rule code, e.g. FC001.")) -> None:
        """Print a rule's documentation."""
        from flowc.lint.docs import page
        from flowc.lint.rules import by_code

        found = by_code(code)
        if found is None:
            typer.echo(f"error: no rule {code!r} (see `flowc rules`)", err=True)
            raise typer.Exit(2)
        typer.echo(page(found), nl=False)
