"""FC001's safe fix: ``wait([...])`` before each exit where futures are pending.

Positions come from libcst's ``PositionProvider`` on the file being fixed; the fix is a set of
line insertions, so the rest of the file keeps its formatting byte for byte. A second run
finds nothing to fix: the inserted ``wait`` resolves the futures.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from flowc.lint.model import Edit, Finding

__all__ = ["apply_fixes", "attach_fixes", "plan_edits"]

_WAIT_MODULES = ("prefect.futures", "prefect", "flowc.futures", "flowc")


class _Scan(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.functions: dict[str, cst.FunctionDef] = {}
        self.returns: dict[tuple[str, int], int] = {}
        self.last_import = 0
        self.has_wait = False
        self.flavour = "prefect"
        self.depth = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.stack.append(node.name.value)
        self.functions[".".join(self.stack)] = node

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.stack.pop()

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        pos = self.get_metadata(PositionProvider, node)
        if self.stack and node.body and isinstance(node.body[0], cst.Return):
            self.returns[(".".join(self.stack), pos.start.line)] = pos.start.column
        imports = any(isinstance(s, (cst.Import, cst.ImportFrom)) for s in node.body)
        if not self.stack and imports and pos.start.column == 0:
            self.last_import = pos.end.line
        for small in node.body:
            if isinstance(small, cst.ImportFrom) and small.module is not None:
                module = cst.Module([]).code_for_node(small.module)
                if module.startswith("flowc"):
                    self.flavour = "flowc"
                names = () if isinstance(small.names, cst.ImportStar) else small.names
                if module in _WAIT_MODULES and any(
                    a.name.value == "wait" and a.asname is None
                    for a in names
                    if isinstance(a.name, cst.Name)
                ):
                    self.has_wait = True


def _scan(source: str) -> tuple[_Scan, MetadataWrapper]:
    wrapper = MetadataWrapper(cst.parse_module(source))
    scan = _Scan()
    wrapper.visit(scan)
    return scan, wrapper


def plan_edits(source: str, findings: list[Finding]) -> dict[int, list[Edit]]:
    """The insertions fixing each fixable FC001 finding (by index), sharing the import."""
    scan, wrapper = _scan(source)
    positions = wrapper.resolve(PositionProvider)
    per_exit: dict[tuple[str, int], list[str]] = defaultdict(list)
    owners: dict[tuple[str, int], list[int]] = defaultdict(list)
    for i, finding in enumerate(findings):
        if finding.code != "FC001" or not finding.data.get("fixable"):
            continue
        exits = [tuple(e) for e in finding.data.get("exits", [])]
        if not exits or any(not e[2] for e in exits):
            continue
        for function, line, name in exits:
            per_exit[(function, line)].append(name)
            owners[(function, line)].append(i)
    out: dict[int, list[Edit]] = defaultdict(list)
    for (function, line), names in per_exit.items():
        code = f"wait([{', '.join(dict.fromkeys(names))}])"
        if line:
            col = scan.returns.get((function, line))
            if col is None:
                continue
            edit = Edit(" " * col + code + "\n", line, 1, line, 1)
        else:
            func = scan.functions.get(function)
            body = func.body if func is not None else None
            if not isinstance(body, cst.IndentedBlock) or not body.body:
                continue
            first = positions[body.body[0]]
            last = positions[body.body[-1]]
            row = last.end.line + 1
            edit = Edit(" " * first.start.column + code + "\n", row, 1, row, 1)
        for i in owners[(function, line)]:
            out[i].append(edit)
    if out and not scan.has_wait:
        module = "flowc.futures" if scan.flavour == "flowc" else "prefect.futures"
        row = scan.last_import + 1
        edit = Edit(f"from {module} import wait\n", row, 1, row, 1)
        for edits in out.values():
            edits.append(edit)
    return out


def _apply(source: str, edits: list[Edit]) -> str:
    lines = source.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    starts = [0]
    for text in lines:
        starts.append(starts[-1] + len(text))
    text = "".join(lines)
    for edit in sorted(set(edits), key=lambda e: (e.row, e.column), reverse=True):
        offset = starts[min(edit.row - 1, len(lines))] + edit.column - 1
        end = starts[min(edit.end_row - 1, len(lines))] + edit.end_column - 1
        text = text[:offset] + edit.content + text[end:]
    return text


def apply_fixes(source: str, findings: list[Finding]) -> tuple[str, int]:
    """``source`` with every safe FC001 fix applied, and how many findings were fixed."""
    planned = plan_edits(source, findings)
    if not planned:
        return source, 0
    edits = [e for group in planned.values() for e in group]
    return _apply(source, edits), len(planned)


def attach_fixes(source: str, findings: list[Finding]) -> list[Finding]:
    """``findings`` with ``data['fix']`` set where a safe fix exists (for JSON output)."""
    if not any(f.code == "FC001" for f in findings):
        return findings
    try:
        planned = plan_edits(source, findings)
    except cst.ParserSyntaxError:
        return findings
    out = []
    for i, finding in enumerate(findings):
        edits = planned.get(i)
        if edits:
            fix = {
                "applicability": "safe",
                "message": "Wait for the pending futures before the function exits",
                "edits": [vars(e) for e in sorted(set(edits), key=lambda e: (e.row, e.column))],
            }
            finding = replace(finding, data={**finding.data, "fix": fix})
        out.append(finding)
    return out
