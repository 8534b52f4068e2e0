"""Compiling the file a command names, and choosing its flows: the compiler's half of a command.

``flowc graph``, ``compile``, ``explain``, ``diff`` and ``run --html`` all start from a file
(read with libcst, never imported), an optional flow name and parameter values, already parsed
by the CLI (:mod:`flowc.cli.targets`). Every problem with the input raises
:class:`CommandError`, whose lines the CLI prints as they are before exiting 2; nothing here
prints or writes a file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowc.exceptions import FlowcError
from flowc.messages import NO_FLOW, no_flow_named, path_problem
from flowc.plan import FlowPlan, Plan

if TYPE_CHECKING:
    from flowc.compiler import CompileResult

__all__ = ["CommandError", "Compiled", "compile_target"]


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


def _compiler() -> Callable[..., CompileResult]:
    from flowc.compiler import compile_file

    return compile_file


def _compile(
    path: Path,
    flow: str | None,
    expand: bool,
    params: Mapping[str, Any] | None,
    unlisted: bool = False,
) -> CompileResult:
    from flowc.compiler import CompileError

    problem = path_problem(path)
    if problem is not None:
        raise CommandError(problem)
    try:
        return _compiler()(path, flow=flow, expand=expand, parameters=params, unlisted=unlisted)
    except CompileError as exc:
        if flow is not None and any(d.code == "E004" for d in exc.diagnostics):
            raise KeyError(flow) from None  # no such flow: compile_target lists the flows
        lines = [d.format() for d in exc.diagnostics] or [f"{path}: {exc}"]
        raise CommandError(*lines) from None


def _flow_names(plan: Plan) -> list[tuple[str, str]]:
    return [(flow.name, flow.qualname.rsplit(".", 1)[-1]) for flow in plan.flows]


def compile_target(
    path: Path,
    name: str | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    expand: bool = False,
    unlisted: bool = False,
) -> Compiled:
    """Compile ``path`` with parameter values; its flows, or flow ``name``; else CommandError.

    ``unlisted``: the runs of large maps are listed only when the plan is written as JSON
    (see :func:`flowc.compiler.compile_file`).
    """
    try:
        result = _compile(path, name, expand, dict(params) if params else None, unlisted)
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
