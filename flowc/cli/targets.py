"""``FILE[:FLOW]`` and ``--param NAME=VALUE``: parsed once, the same way for every command.

``run`` (which imports the file) and ``graph``, ``compile``, ``explain``, ``diff`` (which read it
with the compiler) take the same two kinds of argument, so they are parsed here and nowhere
else, with the same messages. A value's meaning (JSON when it parses as JSON, else the text)
is the runtime's rule, :func:`flowc.runtime.parameters.param_value`: ``run`` applies it per
parameter of the flow it chose, the compile-side commands through :func:`compiler_params`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flowc.exceptions import FlowcError

__all__ = [
    "MAX_PARAM_NESTING",
    "UsageError",
    "compiler_params",
    "parse_params",
    "parse_target",
]

#: Deepest nesting of a ``--param`` value: deeper ones are refused before they are parsed
#: (``json`` would recurse through them, and the compiler after it).
MAX_PARAM_NESTING = 100


class UsageError(FlowcError, ValueError):
    """A bad command-line argument; the message is the one line printed (exit code 2)."""


def parse_target(text: str) -> tuple[Path, str | None]:
    """Split ``FILE[:FLOW]``; a ``:`` followed by a path separator (``C:\\x.py``) is no FLOW."""
    if Path(text).is_file():
        return Path(text), None
    path, sep, name = text.rpartition(":")
    if not sep or not path or "/" in name or "\\" in name:
        return Path(text), None
    if not name:
        raise UsageError(f"{text}: empty flow name after ':' (use FILE or FILE:FLOW)")
    return Path(path), name


def _nesting(text: str) -> int:
    """How deep JSON brackets nest in ``text`` (brackets inside strings not counted)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            escaped = not escaped and char == "\\"
            if char == '"' and not escaped:
                in_string = False
            continue
        if char == '"':
            in_string, escaped = True, False
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def parse_params(items: Sequence[str]) -> dict[str, str]:
    """``NAME=VALUE`` pairs, each value's text as given (its meaning depends on the flow)."""
    params: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise UsageError(f"--param {item!r}: expected NAME=VALUE, e.g. --param n=3")
        if name in params:
            raise UsageError(f"--param {name} given twice")
        if _nesting(value) > MAX_PARAM_NESTING:
            raise UsageError(
                f"--param {name} nested more than {MAX_PARAM_NESTING} levels deep: not accepted"
            )
        params[name] = value
    return params


def compiler_params(items: Sequence[str]) -> dict[str, Any]:
    """``--param`` items as the compiler takes them: values read without a flow's signature."""
    from flowc.runtime.parameters import param_value  # the only piece of the runtime they need

    return {name: param_value(text) for name, text in parse_params(items).items()}
