"""FC005's facts: module-level state that task bodies change (a look at task bodies only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

if TYPE_CHECKING:
    from flowc.compiler.discovery import ModuleInfo

__all__ = ["shared_state"]

_MUTATORS = frozenset(
    [
        "append",
        "extend",
        "insert",
        "pop",
        "remove",
        "clear",
        "update",
        "add",
        "discard",
        "setdefault",
        "popitem",
        "sort",
        "reverse",
        "appendleft",
        "extendleft",
        "popleft",
    ]
)
_FACTORIES = frozenset(
    ["list", "dict", "set", "defaultdict", "deque", "Counter", "OrderedDict", "bytearray"]
)
_MUTABLE = (cst.List, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp)


def _mutable(value: cst.BaseExpression) -> bool:
    if isinstance(value, _MUTABLE):
        return True
    if isinstance(value, cst.Call):
        func = value.func
        name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
        return name in _FACTORIES
    return False


def _module_mutables(module: cst.Module) -> set[str]:
    names: set[str] = set()
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign) and _mutable(small.value):
                names.update(
                    t.target.value for t in small.targets if isinstance(t.target, cst.Name)
                )
            elif (
                isinstance(small, cst.AnnAssign)
                and small.value is not None
                and _mutable(small.value)
                and isinstance(small.target, cst.Name)
            ):
                names.add(small.target.value)
    return names


def _concurrent(info: ModuleInfo) -> bool:
    for flow in info.flows:
        if flow.func.module is not info:
            continue
        code = "".join(info.code(d) for d in flow.func.node.decorators)
        if "task_runner" not in code or not (
            "Sequential" in code or "max_workers=1)" in code.replace(" ", "")
        ):
            return True
    return False


class _Body(cst.CSTVisitor):
    def __init__(self, shared: set[str], params: set[str]) -> None:
        self.shared = shared
        self.local = set(params)
        self.globals: set[str] = set()
        self.hits: list[tuple[cst.CSTNode, str]] = []

    def visit_Global(self, node: cst.Global) -> None:
        self.globals.update(n.name.value for n in node.names)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # nested functions have their own scope

    def _target(self, target: cst.BaseExpression, node: cst.CSTNode) -> None:
        if isinstance(target, cst.Name):
            if target.value in self.globals:
                self.hits.append((node, f"assigns to the global {target.value!r}"))
            else:
                self.local.add(target.value)
        elif isinstance(target, (cst.Subscript, cst.Attribute)) and isinstance(
            target.value, cst.Name
        ):
            self._mutates(target.value.value, node, "assigns into")
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._target(element.value, node)

    def _mutates(self, name: str, node: cst.CSTNode, how: str) -> None:
        if name in self.globals or (name in self.shared and name not in self.local):
            self.hits.append((node, f"{how} the module-level {name!r}"))

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._target(target.target, node)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._target(node.target, node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._target(node.target, node)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.attr.value in _MUTATORS
        ):
            self._mutates(func.value.value, node, f"mutates (.{func.attr.value}())")


def shared_state(info: ModuleInfo) -> list[tuple[int, int, str]]:
    """``(line, col, message)`` for each change of module state in a task of ``info``."""
    from flowc.compiler.discovery import parameters_of
    from flowc.compiler.values import TaskRef

    if not _concurrent(info):
        return []
    shared = _module_mutables(info.module)
    out: list[tuple[int, int, str]] = []
    done: set[int] = set()
    for value in info.symbols.values():
        if not isinstance(value, TaskRef) or value.task.func is None:
            continue
        func = value.task.func
        if func.module is not info or id(func.node) in done:
            continue
        done.add(id(func.node))
        visitor = _Body(shared, {p.name for p in parameters_of(func)})
        func.node.body.visit(visitor)
        for node, what in visitor.hits:
            line, col = info.position(node, func.top)
            out.append(
                (
                    line,
                    col,
                    f"task {value.task.name!r} {what}: tasks run concurrently; "
                    "return the value instead",
                )
            )
    return out
