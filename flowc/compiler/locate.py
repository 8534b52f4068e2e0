"""Source positions of the few libcst nodes the compiler keeps, without libcst's metadata.

libcst nodes carry no positions; its ``PositionProvider`` regenerates the whole module to find
them and costs about twice the parse. The compiler needs positions only for call sites,
statements and function definitions, so it asks CPython's :mod:`ast` (a tenth of libcst's
parse) and pairs the two trees up: statements with statements and calls with calls, both in
source order, one top-level statement at a time and only when first asked. If the two trees
disagree (they never should), or :mod:`ast` cannot parse what libcst did, the positions of
that part come from ``PositionProvider`` instead.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterator

import libcst as cst

__all__ = ["Locator"]

# Field orders that differ from source order (libcst's dataclass field order otherwise matches).
_ORDER: dict[type, tuple[str, ...]] = {
    cst.FunctionDef: ("decorators", "params", "returns", "body"),
    cst.ClassDef: ("decorators", "bases", "keywords", "body"),
    cst.ExceptHandler: ("type", "name", "body"),
    cst.IfExp: ("body", "test", "orelse"),
    cst.Parameters: ("posonly_params", "params", "star_arg", "kwonly_params", "star_kwarg"),
    cst.MatchCase: ("pattern", "guard", "body"),
}
_FIELDS: dict[type, tuple[str, ...]] = {}
_STMT = (cst.BaseSmallStatement, cst.BaseCompoundStatement)


def _fields(kind: type) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        names = _ORDER.get(kind) or tuple(
            f.name
            for f in dataclasses.fields(kind)
            if not f.name.startswith(("whitespace", "lpar", "rpar", "leading_lines", "comma"))
        )
        _FIELDS[kind] = names
    return names


def _walk(node: cst.CSTNode, calls: list[cst.CSTNode], stmts: list[cst.CSTNode]) -> None:
    stack: list[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Call):
            calls.append(current)
        elif isinstance(current, _STMT):
            stmts.append(current)
        children: list[cst.CSTNode] = []
        for name in _fields(type(current)):
            value = getattr(current, name, None)
            if isinstance(value, cst.CSTNode):
                children.append(value)
            elif isinstance(value, (list, tuple)):
                children.extend(v for v in value if isinstance(v, cst.CSTNode))
        stack.extend(reversed(children))


def _ast_key(node: ast.AST) -> tuple[int, int, int, int]:
    return (
        node.lineno,  # type: ignore[attr-defined]
        node.col_offset,  # type: ignore[attr-defined]
        -(node.end_lineno or 0),  # type: ignore[attr-defined]
        -(node.end_col_offset or 0),  # type: ignore[attr-defined]
    )


class Locator:
    """1-based (line, column) of statements and calls of one parsed module."""

    def __init__(self, module: cst.Module, source: str) -> None:
        self.module = module
        self.lines = source.splitlines()
        self._positions: dict[int, tuple[int, int]] = {}
        self._done: set[int] = set()
        self._top: dict[int, tuple[cst.CSTNode, ast.AST | None]] = {}
        self._fallback = False
        try:
            tree: ast.Module | None = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            tree = None
        if tree is None:
            self._fallback = True
            return
        flat: list[cst.CSTNode] = []
        for stmt in module.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                flat.extend(stmt.body)
            else:
                flat.append(stmt)
        if len(flat) != len(tree.body):
            self._fallback = True
            return
        for cnode, anode in zip(flat, tree.body, strict=False):
            self._top[id(cnode)] = (cnode, anode)

    def _char_col(self, line: int, byte_col: int) -> int:
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        if text.isascii():
            return byte_col + 1
        return len(text.encode("utf-8")[:byte_col].decode("utf-8", "replace")) + 1

    def _index(self, top: cst.CSTNode) -> None:
        self._done.add(id(top))
        pair = self._top.get(id(top))
        if pair is None:
            self._use_provider()
            return
        calls: list[cst.CSTNode] = []
        stmts: list[cst.CSTNode] = []
        _walk(top, calls, stmts)
        acalls: list[ast.AST] = []
        astmts: list[ast.AST] = []
        for anode in ast.walk(pair[1]) if pair[1] is not None else ():
            if isinstance(anode, ast.Call):
                acalls.append(anode)
            elif isinstance(anode, ast.stmt):
                astmts.append(anode)
        if len(calls) != len(acalls) or len(stmts) != len(astmts):
            self._use_provider()
            return
        for cnodes, anodes in ((calls, acalls), (stmts, astmts)):
            anodes.sort(key=_ast_key)
            for cnode, anode in zip(cnodes, anodes, strict=False):
                line = anode.lineno  # type: ignore[attr-defined]
                col = self._char_col(line, anode.col_offset)  # type: ignore[attr-defined]
                self._positions[id(cnode)] = (line, col)

    def _use_provider(self) -> None:
        if self._fallback is True and self._done == {-1}:
            return
        from libcst.metadata import MetadataWrapper, PositionProvider

        wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
        for node, where in wrapper.resolve(PositionProvider).items():
            if isinstance(node, (cst.Call, *_STMT)):
                self._positions[id(node)] = (where.start.line, where.start.column + 1)
        self._done = {-1}
        self._fallback = True

    def position(self, node: cst.CSTNode, top: cst.CSTNode) -> tuple[int, int]:
        """Where ``node`` (a call or statement inside top-level statement ``top``) starts."""
        found = self._positions.get(id(node))
        if found is not None:
            return found
        if self._fallback:
            self._use_provider()
        elif id(top) not in self._done:
            self._index(top)
        return self._positions.get(id(node), (1, 1))

    def top_statements(self) -> Iterator[cst.CSTNode]:
        for stmt in self.module.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                yield from stmt.body
            else:
                yield stmt
