"""The work behind ``flowc graph``, ``flowc compile`` and ``flowc explain``, minus the printing.

``FILE[:FLOW]`` and ``--param`` parsed, the file compiled (read with libcst, never imported),
the flows chosen, and output written atomically. Every problem with the input raises
:class:`CommandError`, whose lines the CLI prints as they are before exiting 2.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowc import files
from flowc.cli_messages import NO_FLOW, no_flow_named, path_problem
from flowc.exceptions import FlowcError
from flowc.plan import FlowPlan, Plan

if TYPE_CHECKING:
    from flowc.compiler import CompileResult

__all__ = [
    "NO_FLOW",
    "CommandError",
    "Compiled",
    "compile_target",
    "param_value",
    "parse_params",
    "parse_target",
    "write_atomic",
]


class CommandError(FlowcError, ValueError):
    """Bad input to a compile-side command: ``lines`` are printed, the exit code is 2."""

    def __init__(self, *lines: str) -> None:
        self.lines = list(lines)
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Compiled:
    """A compiled file and the flows a command works on (all of them, or the one named)."""

    path: Path
    plan: Plan
    flows: list[FlowPlan]
    flow_name: str | None

    def selected_plan(self) -> Plan:
        """The plan to write: the whole file's, or the named flow's wrapped in a Plan."""
        if self.flow_name is None:
            return self.plan
        return self.plan.model_copy(update={"flows": list(self.flows)})


def parse_target(text: str) -> tuple[Path, str | None]:
    """Split ``FILE[:FLOW]``; a ``:`` followed by a path separator (``C:\\x.py``) is no FLOW."""
    if Path(text).is_file():
        return Path(text), None
    path, sep, name = text.rpartition(":")
    if not sep or not path or "/" in name or "\\" in name:
        return Path(text), None
    if not name:
        raise CommandError(f"{text}: empty flow name after ':' (use FILE or FILE:FLOW)")
    return Path(path), name


#: Deepest nesting of a ``--param`` value: deeper ones are refused before they are parsed.
MAX_PARAM_NESTING = 100


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


def param_value(text: str) -> Any:
    """JSON when the text parses as JSON, else the text (the rule of ``flowc run``)."""
    if _nesting(text) > MAX_PARAM_NESTING:
        raise CommandError(
            f"--param value nested more than {MAX_PARAM_NESTING} levels deep: not accepted"
        )
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def parse_params(items: Sequence[str]) -> dict[str, Any]:
    """``NAME=VALUE`` pairs, values parsed by :func:`param_value`."""
    params: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise CommandError(f"--param {item!r}: expected NAME=VALUE, e.g. --param n=3")
        if name in params:
            raise CommandError(f"--param {name} given twice")
        try:
            params[name] = param_value(value)
        except CommandError as exc:
            raise CommandError(exc.lines[0].replace("--param value", f"--param {name}")) from None
    return params


def _compiler() -> Callable[..., CompileResult]:
    from flowc.compiler import compile_file

    return compile_file


def _compile(
    path: Path, flow: str | None, expand: bool, params: dict[str, Any] | None
) -> CompileResult:
    from flowc.compiler import CompileError

    problem = path_problem(path)
    if problem is not None:
        raise CommandError(problem)
    try:
        return _compiler()(path, flow=flow, expand=expand, parameters=params)
    except CompileError as exc:
        if flow is not None and any(d.code == "E004" for d in exc.diagnostics):
            raise KeyError(flow) from None  # no such flow: compile_target lists the flows
        lines = [d.format() for d in exc.diagnostics] or [f"{path}: {exc}"]
        raise CommandError(*lines) from None


def _flow_names(plan: Plan) -> list[tuple[str, str]]:
    return [(flow.name, flow.qualname.rsplit(".", 1)[-1]) for flow in plan.flows]


def compile_target(target: str, params: Sequence[str] = (), *, expand: bool = False) -> Compiled:
    """Compile ``FILE[:FLOW]`` with ``--param`` items; the flows asked for, or CommandError."""
    path, name = parse_target(target)
    values = parse_params(params)
    try:
        result = _compile(path, name, expand, values or None)
    except KeyError as exc:  # the compiler refused the flow name: list the flows there are
        plan = _compile(path, None, False, None).plan
        if not any(name in (f.name, f.qualname) for f in plan.flows):
            raise CommandError(no_flow_named(path, str(name), _flow_names(plan))) from None
        raise CommandError(f"{path}: {exc.args[0] if exc.args else exc}") from None
    plan = result.plan
    if not plan.flows:
        raise CommandError(f"{path}: {NO_FLOW}")
    if name is None:
        return Compiled(path, plan, list(plan.flows), None)
    try:
        flow = plan.flow(name)
    except KeyError:
        raise CommandError(no_flow_named(path, name, _flow_names(plan))) from None
    return Compiled(path, plan, [flow], name)


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` all or nothing; a failure is one line naming the path."""
    try:
        files.write_atomic(path, data)
    except OSError as exc:
        raise CommandError(f"{path}: cannot write: {exc.strerror or exc}") from None
