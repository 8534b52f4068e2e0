"""Where a command's output goes and how it says it failed: the same for every command.

A failure is red lines on stderr and an exit code (2 for bad input), never a traceback; an
output file is written all or nothing, and said in one line on stderr, so that stdout
carries only the output itself.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from flowc.cli.reports import EXIT_USAGE
from flowc.files import open_atomic, write_atomic

if TYPE_CHECKING:
    from flowc.plan import Plan

__all__ = ["emit", "emit_plan", "fail", "fail_lines", "flows_text", "note"]


def fail(err: Console, message: str, code: int) -> NoReturn:
    """``message`` in red on stderr, then exit ``code``."""
    err.print(Text(message, style="red"), soft_wrap=True)
    raise typer.Exit(code)


def fail_lines(err: Console, lines: Sequence[str]) -> NoReturn:
    """Every line of a compile-side error (a diagnostic per line), then exit 2."""
    for line in lines[:-1]:
        err.print(Text(line, style="red"), soft_wrap=True)
    fail(err, lines[-1] if lines else "error", EXIT_USAGE)


def note(err: Console, line: str) -> None:
    """A remark on stderr (yellow) that is neither output nor an error."""
    err.print(Text(line, style="yellow"), soft_wrap=True)


def flows_text(flows: Sequence[object]) -> str:
    return f"{len(flows)} flow" + ("s" if len(flows) != 1 else "")


def emit(data: str | bytes, output: Path | None, err: Console, what: str) -> None:
    """``data`` to ``output`` atomically, saying so in one line on stderr; or to stdout."""
    if output is not None:
        try:
            write_atomic(output, data)
        except OSError as exc:
            fail(err, f"{output}: cannot write: {exc.strerror or exc}", EXIT_USAGE)
        err.print(Text(f"wrote {output} ({what})"), soft_wrap=True, highlight=False)
    elif isinstance(data, bytes):
        sys.stdout.buffer.write(data)
    else:
        sys.stdout.write(data if data.endswith("\n") else data + "\n")


def emit_plan(plan: Plan, output: Path | None, err: Console, what: str) -> None:
    """The plan's JSON, as :func:`emit` puts it, written as it is made: the runs of an
    expanded map of millions are listed one by one into the file, never held together."""
    if output is None:
        plan.write_json(sys.stdout)
        sys.stdout.write("\n")
        return
    try:
        with open_atomic(output) as handle:
            text = io.TextIOWrapper(handle, encoding="utf-8")
            plan.write_json(text)
            text.write("\n")
            text.flush()
            text.detach()  # the binary file is open_atomic's to close
    except OSError as exc:
        fail(err, f"{output}: cannot write: {exc.strerror or exc}", EXIT_USAGE)
    err.print(Text(f"wrote {output} ({what})"), soft_wrap=True, highlight=False)
