"""FC001's safe fix: ``wait([...])`` before each exit where futures are pending.

Positions come from libcst's ``PositionProvider`` on the file being fixed; the fix is a set of
line insertions, so the rest of the file keeps its formatting byte for byte. An inserted line
takes its indentation from the line it goes before (tabs stay tabs) and the file's own newline
(CRLF stays CRLF); the file is re-encoded in the encoding it declares. ``wait`` must mean
Prefect's: where the name is bound to anything else in the file, Prefect's ``wait`` is imported
under a name nothing else uses. A finding is fixed only if every exit it names can be, and a
file only if the fixed text still parses. A second run finds nothing to fix: the inserted
``wait`` resolves the futures.
"""

from __future__ import annotations

import ast
import tokenize
from collections import defaultdict
from dataclasses import dataclass, field, replace
from io import BytesIO
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider, ScopeProvider

from flowc.files import write_atomic
from flowc.lint.model import Edit, Finding

__all__ = [
    "apply_fixes",
    "attach_fixes",
    "explain_unfixed",
    "fix_file",
    "plan_edits",
    "write_fixed",
]

_WAIT_MODULES = ("prefect.futures", "prefect", "flowc.futures", "flowc")


class _Scan(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.functions: dict[str, cst.FunctionDef] = {}
        #: (function, line of a ``return``) -> (its column, its last line)
        self.returns: dict[tuple[str, int], tuple[int, int]] = {}
        self.last_import = 0
        self.flavour = "prefect"

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.stack.append(node.name.value)
        self.functions[".".join(self.stack)] = node

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.stack.pop()

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        pos = self.get_metadata(PositionProvider, node)
        if self.stack and node.body and isinstance(node.body[0], cst.Return):
            self.returns[(".".join(self.stack), pos.start.line)] = (pos.start.column, pos.end.line)
        imports = any(isinstance(s, (cst.Import, cst.ImportFrom)) for s in node.body)
        if not self.stack and imports and pos.start.column == 0:
            self.last_import = pos.end.line
        for small in node.body:
            if (
                isinstance(small, cst.ImportFrom)
                and small.module is not None
                and cst.Module([]).code_for_node(small.module).startswith("flowc")
            ):
                self.flavour = "flowc"


@dataclass
class _Names:
    """How the file binds ``wait``: only by an import of Prefect's (or flowc's) ``wait``?"""

    imported: bool = False  # ``from prefect.futures import wait`` at module level
    other: bool = False  # any other binding of ``wait``, in any scope
    used: set[str] = field(default_factory=set)  # every name bound or used anywhere


def _names(wrapper: MetadataWrapper) -> _Names:
    found = _Names()
    scopes = wrapper.resolve(ScopeProvider)
    for scope in {s for s in scopes.values() if s is not None}:
        for assignment in scope.assignments:
            found.used.add(assignment.name)
            if assignment.name != "wait":
                continue
            node = getattr(assignment, "node", None)
            if (
                isinstance(node, cst.ImportFrom)
                and scope is scope.globals
                and _imports_prefect_wait(node)
            ):
                found.imported = True
            else:
                found.other = True
        for access in scope.accesses:
            found.used.add(access.node.value if isinstance(access.node, cst.Name) else "")
    return found


def _imports_prefect_wait(node: cst.ImportFrom) -> bool:
    if node.module is None or node.relative or isinstance(node.names, cst.ImportStar):
        return False
    module = cst.Module([]).code_for_node(node.module)
    return module in _WAIT_MODULES and any(
        isinstance(a.name, cst.Name) and a.name.value == "wait" and a.asname is None
        for a in node.names
    )


def _wait_name(names: _Names) -> str:
    """The name the inserted calls use: ``wait``, unless the file binds it to something else."""
    if not names.other:
        return "wait"
    candidate, n = "prefect_wait", 1
    while candidate in names.used:
        candidate, n = f"prefect_wait_{n}", n + 1
    return candidate


@dataclass
class _Plan:
    """Edits per fixable finding (by index), and why each other FC001 finding has none."""

    edits: dict[int, list[Edit]] = field(default_factory=dict)
    reasons: dict[int, str] = field(default_factory=dict)


def _indent(lines: list[str], line: int, column: int) -> str:
    """The whitespace before ``column`` on ``line`` as written (tabs kept)."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    prefix = text[:column]
    return prefix if not prefix.strip() else " " * column


def _unfixable(finding: Finding) -> str | None:
    if finding.data.get("fixable"):
        exits = finding.data.get("exits", [])
        if not exits:
            return "no exit of its function was found"
        return None
    exits = finding.data.get("exits", [])
    if "overwritten in a loop" in finding.message:
        return "the future is overwritten in a loop before the exit, so no name holds it"
    for _function, line, name in exits:
        if not name:
            where = f"the return on line {line}" if line else "the end of the function"
            return f"no name holds the future at {where}"
    return "no name holds the future at every exit"


def _plan(source: str, findings: list[Finding]) -> _Plan:
    wrapper = MetadataWrapper(cst.parse_module(source))
    scan = _Scan()
    wrapper.visit(scan)
    positions = wrapper.resolve(PositionProvider)
    names = _names(wrapper)
    wait = _wait_name(names)
    newline = wrapper.module.default_newline
    lines = source.splitlines()
    plan = _Plan()
    per_exit: dict[tuple[str, int], list[str]] = defaultdict(list)
    owners: dict[tuple[str, int], list[int]] = defaultdict(list)
    for i, finding in enumerate(findings):
        if finding.code != "FC001":
            continue
        reason = _unfixable(finding)
        exits = [tuple(e) for e in finding.data.get("exits", [])]
        if reason is None:
            for function, line, _name in exits:
                if line and (function, line) not in scan.returns:
                    reason = f"the return on line {line} shares its line with other code"
                    break
                if line and line <= finding.line <= scan.returns[(function, line)][1]:
                    reason = f"the future is made by the return on line {line} itself"
                    break
                body = scan.functions[function].body if function in scan.functions else None
                if not line and (not isinstance(body, cst.IndentedBlock) or not body.body):
                    reason = f"the body of {function}() is not an indented block"
                    break
        if reason is not None:
            plan.reasons[i] = reason
            continue
        for function, line, name in exits:
            per_exit[(function, line)].append(name)
            owners[(function, line)].append(i)
    for (function, line), held in per_exit.items():
        code = f"{wait}([{', '.join(dict.fromkeys(held))}])"
        if line:
            indent = _indent(lines, line, scan.returns[(function, line)][0])
            row = line
        else:
            body = scan.functions[function].body
            assert isinstance(body, cst.IndentedBlock)
            first = positions[body.body[0]].start
            indent = _indent(lines, first.line, first.column)
            row = positions[body.body[-1]].end.line + 1
        edit = Edit(indent + code + newline, row, 1, row, 1)
        for i in owners[(function, line)]:
            plan.edits.setdefault(i, []).append(edit)
    if plan.edits and (wait != "wait" or not names.imported):
        module = "flowc.futures" if scan.flavour == "flowc" else "prefect.futures"
        alias = "" if wait == "wait" else f" as {wait}"
        row = scan.last_import + 1
        edit = Edit(f"from {module} import wait{alias}{newline}", row, 1, row, 1)
        for edits in plan.edits.values():
            edits.append(edit)
    return plan


def plan_edits(source: str, findings: list[Finding]) -> dict[int, list[Edit]]:
    """The insertions fixing each fixable FC001 finding (by index), sharing the import."""
    return _plan(source, findings).edits


def _apply(source: str, edits: list[Edit], newline: str) -> str:
    lines = source.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += newline
    starts = [0]
    for text in lines:
        starts.append(starts[-1] + len(text))
    text = "".join(lines)
    for edit in sorted(set(edits), key=lambda e: (e.row, e.column), reverse=True):
        offset = starts[min(edit.row - 1, len(lines))] + edit.column - 1
        end = starts[min(edit.end_row - 1, len(lines))] + edit.end_column - 1
        text = text[:offset] + edit.content + text[end:]
    return text


def _parses(source: str) -> bool:
    try:
        compile(source, "<fixed>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def apply_fixes(source: str, findings: list[Finding]) -> tuple[str, int]:
    """``source`` with every safe FC001 fix applied, and how many findings were fixed.

    Nothing is changed (``(source, 0)``) when the fixed text would not parse.
    """
    if not any(f.code == "FC001" for f in findings) or not _parses(source):
        return source, 0
    planned = plan_edits(source, findings)
    if not planned:
        return source, 0
    newline = cst.parse_module(source).default_newline
    fixed = _apply(source, [e for group in planned.values() for e in group], newline)
    if not _parses(fixed):
        return source, 0
    return fixed, len(planned)


def _decode(data: bytes) -> tuple[str, str] | None:
    try:
        encoding, _ = tokenize.detect_encoding(BytesIO(data).readline)
        return data.decode(encoding), encoding
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return None


def fix_file(data: bytes, findings: list[Finding]) -> tuple[bytes, int] | None:
    """The file's bytes with the safe fixes applied, in its own encoding; None if none apply."""
    decoded = _decode(data)
    if decoded is None:
        return None
    source, encoding = decoded
    fixed, count = apply_fixes(source, findings)
    if not count:
        return None
    try:
        out = fixed.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return None
    if encoding == "utf-8-sig" and not data.startswith(b"\xef\xbb\xbf"):
        out = out.removeprefix(b"\xef\xbb\xbf")
    return out, count


def write_fixed(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` atomically, keeping its permissions."""
    write_atomic(path, data)


def attach_fixes(data: bytes, findings: list[Finding]) -> list[Finding]:
    """``findings`` with ``data['fix']`` set where a safe fix exists (for JSON output)."""
    decoded = _decode(data)
    if decoded is None or not any(f.code == "FC001" for f in findings):
        return findings
    source = decoded[0]
    if not _parses(source):
        return findings
    planned = plan_edits(source, findings)
    if planned:
        newline = cst.parse_module(source).default_newline
        every = [e for group in planned.values() for e in group]
        if not _parses(_apply(source, every, newline)):
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


def explain_unfixed(data: bytes, findings: list[Finding]) -> list[Finding]:
    """FC001 findings left after ``--fix`` say that no fix is available, and why."""
    decoded = _decode(data)
    reasons: dict[int, str] = {}
    if decoded is not None and _parses(decoded[0]):
        reasons = _plan(decoded[0], findings).reasons
    out = []
    for i, finding in enumerate(findings):
        if finding.code == "FC001":
            why = reasons.get(i) or _unfixable(finding) or "the fixed file would not parse"
            finding = replace(finding, message=f"{finding.message} (no fix available: {why})")
        out.append(finding)
    return out
