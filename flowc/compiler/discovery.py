"""Discovery: which functions of a file (and of the project modules it imports) are tasks and flows.

Decorators and assignments are resolved by what their names stand for, never by spelling:
``from prefect import task as t``, ``import prefect as p; @p.flow(...)``, ``flowc`` alike,
``x = task(fn)``, ``task(name="x")(fn)``, ``fast = slow.with_options(name="fast")``. Modules
of the same project imported by the file (``from helpers import load``, ``from .pkg import t``)
are located on disk next to it, parsed and discovered the same way (never imported), with a
depth bound and a cache.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import libcst as cst

from flowc.compiler.diagnostics import CompileError, Diagnostic
from flowc.compiler.locate import Locator
from flowc.compiler.parsing import decode, parse
from flowc.compiler.values import (
    UNKNOWN,
    Canon,
    Const,
    FlowRef,
    FuncRef,
    ModuleRef,
    TaskFactory,
    TaskRef,
    Value,
)
from flowc.plan import WATCHED_OPTIONS, Parameter
from flowc.reading import SourceReadError, read_limited

__all__ = [
    "FlowDef",
    "FuncDef",
    "ModuleInfo",
    "Project",
    "TaskDef",
    "api_name",
    "decode",
    "parse",
]

API_ROOTS = ("prefect", "flowc")
MAX_IMPORT_DEPTH = 4


def api_name(value: Value) -> str | None:
    """``"task"`` for ``prefect.task``/``flowc.task`` (any alias); None for anything else."""
    if isinstance(value, Canon):
        parts = value.name.split(".")
        if parts[0] in API_ROOTS and len(parts) > 1:
            return parts[-1]
    return None


@dataclass(eq=False)
class FuncDef:
    name: str
    qualname: str
    node: cst.FunctionDef
    module: ModuleInfo
    top: cst.CSTNode

    @property
    def is_async(self) -> bool:
        return self.node.asynchronous is not None


@dataclass(frozen=True, eq=False)
class TaskDef:
    name: str
    func: FuncDef | None
    #: which of :data:`WATCHED_OPTIONS` the decorator (or ``with_options``) gives.
    options: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class FlowDef:
    name: str
    func: FuncDef
    #: the class name of its ``task_runner=`` (``ThreadPoolTaskRunner``), when given
    runner: str | None = None

    @property
    def qualname(self) -> str:
        return self.func.qualname


@dataclass(eq=False)
class ModuleInfo:
    path: str
    label: str
    source: str
    module: cst.Module
    locator: Locator
    symbols: dict[str, Value] = field(default_factory=dict)
    flows: list[FlowDef] = field(default_factory=list)

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node).strip()

    def position(self, node: cst.CSTNode, top: cst.CSTNode) -> tuple[int, int]:
        return self.locator.position(node, top)


def _dotted(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


def _string(node: cst.BaseExpression) -> str | None:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


class Project:
    """Parses and discovers modules: the file compiled and the project modules it imports."""

    def __init__(self) -> None:
        self.cache: dict[str, ModuleInfo | None] = {}
        self.diagnostics: list[Diagnostic] = []

    # ------------------------------------------------------------------ modules
    def load_main(self, source: str, path: str, real_path: str | None) -> ModuleInfo:
        info = ModuleInfo(path, "", source, parse(source, path), Locator(cst.Module([]), ""))
        info.locator = Locator(info.module, source)
        if real_path is not None:
            self.cache[os.path.realpath(real_path)] = info
        self._discover(info, Path(real_path).parent if real_path else None, 0)
        return info

    def _load(self, file: Path, label: str, depth: int) -> ModuleInfo | None:
        key = os.path.realpath(file)
        if key in self.cache:
            return self.cache[key]
        self.cache[key] = None  # a cycle sees an unknown module, not a loop
        try:
            source = decode(read_limited(file), str(file))
            module = parse(source, str(file))
        except (OSError, CompileError) as exc:
            reason = exc.reason if isinstance(exc, SourceReadError) else exc
            self.diagnostics.append(
                Diagnostic(
                    path=str(file),
                    line=1,
                    col=1,
                    code="W002",
                    severity="warning",
                    message=f"imported module not analysed: {reason}",
                )
            )
            return None
        info = ModuleInfo(str(file), label, source, module, Locator(module, source))
        self.cache[key] = info
        self._discover(info, file.parent, depth)
        return info

    def _find(self, here: Path | None, dotted: str, level: int) -> Path | None:
        if here is None:
            return None
        if level:
            bases = [here.parents[level - 2] if level > 1 else here]
        else:
            bases = [here]
            folder = here
            while (folder / "__init__.py").exists() and folder.parent != folder:
                folder = folder.parent
                bases.append(folder)
        rel = Path(*dotted.split(".")) if dotted else Path()
        for base in bases:
            for candidate in (
                base / rel.with_suffix(".py") if dotted else None,
                base / rel / "__init__.py",
            ):
                if candidate is not None and candidate.is_file():
                    return candidate
        return None

    def _module(self, here: Path | None, dotted: str, level: int, depth: int) -> Value:
        if not level and dotted.split(".")[0] in API_ROOTS:
            return Canon(dotted)
        if depth >= MAX_IMPORT_DEPTH:
            return UNKNOWN
        try:
            file = self._find(here, dotted, level)
        except (IndexError, OSError):
            file = None
        if file is None:
            return UNKNOWN
        info = self._load(file, ("." * level) + dotted, depth + 1)
        return ModuleRef(info) if info is not None else UNKNOWN

    # ------------------------------------------------------------------ discovery
    def _discover(self, info: ModuleInfo, here: Path | None, depth: int) -> None:
        for stmt in info.locator.top_statements():
            try:
                self._statement(info, stmt, stmt, here, depth)
            except (RecursionError, ValueError, TypeError, AttributeError) as exc:
                line, col = info.position(stmt, stmt)
                self.diagnostics.append(
                    Diagnostic(
                        path=info.path,
                        line=line,
                        col=col,
                        code="W003",
                        severity="warning",
                        message=f"statement not understood: {exc}",
                    )
                )

    def _statement(
        self, info: ModuleInfo, stmt: cst.CSTNode, top: cst.CSTNode, here: Path | None, depth: int
    ) -> None:
        syms = info.symbols
        if isinstance(stmt, cst.FunctionDef):
            self._function(info, stmt, top)
        elif isinstance(stmt, cst.ClassDef):
            syms[stmt.name.value] = UNKNOWN
        elif isinstance(stmt, cst.Import):
            for alias in stmt.names:
                dotted = _dotted(alias.name) or ""
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    syms[alias.asname.name.value] = self._module(here, dotted, 0, depth)
                else:
                    first = dotted.split(".")[0]
                    syms[first] = self._module(here, first, 0, depth)
        elif isinstance(stmt, cst.ImportFrom):
            self._import_from(info, stmt, here, depth)
        elif isinstance(stmt, (cst.Assign, cst.AnnAssign)):
            value = stmt.value
            targets = (
                [t.target for t in stmt.targets] if isinstance(stmt, cst.Assign) else [stmt.target]
            )
            if value is None:
                return
            result = self.static(info, value, top)
            for target in targets:
                if isinstance(target, cst.Name):
                    syms[target.value] = result
        elif isinstance(stmt, (cst.If, cst.Try, cst.With)):
            for block in _blocks(stmt):
                for inner in _statements(block):
                    self._statement(info, inner, top, here, depth)

    def _import_from(
        self, info: ModuleInfo, stmt: cst.ImportFrom, here: Path | None, depth: int
    ) -> None:
        dotted = _dotted(stmt.module) if stmt.module is not None else ""
        level = len(stmt.relative)
        source = self._module(here, dotted or "", level, depth)
        if isinstance(stmt.names, cst.ImportStar):
            if isinstance(source, ModuleRef):
                info.symbols.update(source.module.symbols)
            return
        for alias in stmt.names:
            name = _dotted(alias.name) or ""
            local = (
                alias.asname.name.value
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name)
                else name
            )
            info.symbols[local] = self._member(source, name, here, dotted or "", level, depth)

    def _member(
        self, source: Value, name: str, here: Path | None, dotted: str, level: int, depth: int
    ) -> Value:
        if isinstance(source, Canon):
            return Canon(f"{source.name}.{name}")
        if isinstance(source, ModuleRef):
            found = source.module.symbols.get(name)
            if found is not None:
                return found
        sub = f"{dotted}.{name}" if dotted else name
        return self._module(here, sub, level, depth) if source is not UNKNOWN or level else UNKNOWN

    def _function(self, info: ModuleInfo, node: cst.FunctionDef, top: cst.CSTNode) -> None:
        name = node.name.value
        func = FuncDef(name, name, node, info, top)
        value: Value = FuncRef(func)
        for decorator in reversed(node.decorators):
            value = self.apply(info, self.static(info, decorator.decorator, top), value)
        info.symbols[name] = value
        if isinstance(value, FlowRef) and value.flow.func is func:
            info.flows.append(value.flow)

    def apply(self, info: ModuleInfo, decorator: Value, target: Value) -> Value:
        """What ``decorator(target)`` gives: a task or flow for prefect's decorators."""
        kind = api_name(decorator)
        options: dict[str, object] = {}
        if isinstance(decorator, TaskFactory):
            kind = decorator.kind
            options = dict(decorator.options)
        if kind not in ("task", "flow") or not isinstance(target, FuncRef):
            return UNKNOWN if kind is None or not isinstance(target, FuncRef) else target
        func = target.func
        name = options.get("name")
        if kind == "task":
            watched = _watched(options)
            return TaskRef(TaskDef(name if isinstance(name, str) else func.name, func, watched))
        runner = options.get("task_runner")
        flow = FlowDef(
            name if isinstance(name, str) else func.name.replace("_", "-"),
            func,
            runner if isinstance(runner, str) else None,
        )
        return FlowRef(flow)

    def static(self, info: ModuleInfo, node: cst.BaseExpression, top: cst.CSTNode) -> Value:
        """Module-level meaning of an expression: names, attributes, decorator calls."""
        if isinstance(node, cst.Name):
            return info.symbols.get(node.value, UNKNOWN)
        if isinstance(node, cst.Attribute):
            base = self.static(info, node.value, top)
            if isinstance(base, Canon):
                return Canon(f"{base.name}.{node.attr.value}")
            if isinstance(base, ModuleRef):
                return base.module.symbols.get(node.attr.value, UNKNOWN)
            return UNKNOWN
        if isinstance(node, cst.Call):
            return self.static_call(info, node, top)
        literal = _string(node)
        if literal is not None:
            return Const(literal)
        return UNKNOWN

    def static_call(self, info: ModuleInfo, node: cst.Call, top: cst.CSTNode) -> Value:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "with_options":
            base = self.static(info, func.value, top)
            return with_options(base, _keyword_strings(node))
        callee = self.static(info, func, top)
        kind = api_name(callee)
        if isinstance(callee, TaskFactory):
            args = [self.static(info, a.value, top) for a in node.args if a.keyword is None]
            return self.apply(info, callee, args[0]) if args else UNKNOWN
        if kind in ("task", "flow"):
            positional = [a for a in node.args if a.keyword is None and not a.star]
            if positional:
                return self.apply(info, callee, self.static(info, positional[0].value, top))
            options = _keyword_strings(node)
            for arg in node.args:
                if arg.keyword is not None and arg.keyword.value == "task_runner":
                    runner = arg.value.func if isinstance(arg.value, cst.Call) else arg.value
                    named = self.static(info, runner, top)
                    options["task_runner"] = (
                        named.name.rpartition(".")[2] if isinstance(named, Canon) else ...
                    )
            return TaskFactory(kind, tuple(options.items()))
        return UNKNOWN

    def parameters(self, flow: FlowDef) -> list[Parameter]:
        return parameters_of(flow.func)


def with_options(base: Value, options: dict[str, object]) -> Value:
    name = options.get("name")
    if isinstance(base, TaskRef):
        task = base.task
        watched = tuple(o for o in WATCHED_OPTIONS if o in task.options or o in options)
        return TaskRef(TaskDef(name if isinstance(name, str) else task.name, task.func, watched))
    if isinstance(base, FlowRef):
        flow = base.flow
        return FlowRef(
            FlowDef(name if isinstance(name, str) else flow.name, flow.func, flow.runner)
        )
    return UNKNOWN


def _watched(options: dict[str, object]) -> tuple[str, ...]:
    """The watched options given (any value: ``retries=0`` counts, being safe)."""
    return tuple(option for option in WATCHED_OPTIONS if option in options)


def _keyword_strings(node: cst.Call) -> dict[str, object]:
    found: dict[str, object] = {}
    for arg in node.args:
        if arg.keyword is not None:
            literal = _string(arg.value)
            found[arg.keyword.value] = literal if literal is not None else ...
    return found


def _blocks(stmt: cst.CSTNode) -> list[cst.BaseSuite]:
    blocks: list[cst.BaseSuite] = []
    if isinstance(stmt, (cst.If, cst.With, cst.Try)):
        blocks.append(stmt.body)
    if isinstance(stmt, cst.If) and stmt.orelse is not None:
        if isinstance(stmt.orelse, cst.If):
            blocks.extend(_blocks(stmt.orelse))
        else:
            blocks.append(stmt.orelse.body)
    if isinstance(stmt, cst.Try):
        blocks.extend(h.body for h in stmt.handlers)
        if stmt.orelse is not None:
            blocks.append(stmt.orelse.body)
        if stmt.finalbody is not None:
            blocks.append(stmt.finalbody.body)
    return blocks


def _statements(block: cst.BaseSuite) -> list[cst.CSTNode]:
    out: list[cst.CSTNode] = []
    body = block.body
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            out.extend(stmt.body)
        else:
            out.append(stmt)
    return out


def parameters_of(func: FuncDef) -> list[Parameter]:
    params = func.node.params
    code = func.module.code
    out: list[Parameter] = []

    def add(param: cst.Param, kind: Any, default_ok: bool = True) -> None:
        annotation = code(param.annotation.annotation) if param.annotation is not None else None
        default = code(param.default) if param.default is not None and default_ok else None
        out.append(
            Parameter(
                name=param.name.value,
                annotation=annotation,
                default=default,
                required=default is None and kind not in ("var_positional", "var_keyword"),
                kind=kind,
            )  # type: ignore[arg-type]
        )

    for p in params.posonly_params:
        add(p, "positional_only")
    for p in params.params:
        add(p, "positional_or_keyword")
    if isinstance(params.star_arg, cst.Param):
        add(params.star_arg, "var_positional", False)
    for p in params.kwonly_params:
        add(p, "keyword_only")
    if params.star_kwarg is not None:
        add(params.star_kwarg, "var_keyword", False)
    return out


def literal(text: str | None) -> Value | None:
    """The value of a default's source text when it is a Python literal."""
    if text is None:
        return None
    try:
        return Const(ast.literal_eval(text))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
