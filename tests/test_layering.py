"""The layers keep to themselves: the runtime and the compiler hold no command-line code.

Every module under ``flowc/runtime`` and ``flowc/compiler`` is read with :mod:`ast` (never
imported) and each import it makes, at the top or inside a function, is checked: typer and
rich (the command line's libraries) and ``flowc.cli`` belong to the CLI package alone.
``import flowc`` itself must not load them either.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import flowc

PACKAGE = Path(flowc.__file__).parent
CLI_ONLY = ("typer", "rich", "click", "flowc.cli")


def _imported(tree: ast.AST, module: str) -> Iterator[tuple[int, str]]:
    """``(line, name)`` of every module the code imports, relative imports resolved."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = module.rsplit(".", node.level)[0]
                base = f"{parent}.{base}" if base else parent
            yield node.lineno, base
            for alias in node.names:  # `from flowc import cli` imports flowc.cli
                yield node.lineno, f"{base}.{alias.name}"


def _forbidden(name: str) -> bool:
    return any(name == root or name.startswith(root + ".") for root in CLI_ONLY)


def _offenders(layer: str) -> list[str]:
    found = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(relative.parts)
        if path.name == "__init__.py":
            module = module.removesuffix(".__init__") + ".__init__"
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        found += [
            f"{relative}.py:{line}: imports {name}"
            for line, name in _imported(tree, module)
            if _forbidden(name)
        ]
    return found


@pytest.mark.parametrize("layer", ["runtime", "compiler"])
def test_no_command_line_code_in_the_runtime_or_the_compiler(layer: str) -> None:
    assert (PACKAGE / layer).is_dir()
    assert _offenders(layer) == []


def test_the_scan_sees_every_form_of_import() -> None:
    source = (
        "import typer\n"
        "from rich.console import Console\n"
        "def later():\n"
        "    from flowc import cli\n"
        "    import flowc.cli.display\n"
        "    from ..cli import targets\n"
        "import richer, flowc.client\n"
    )
    imports = list(_imported(ast.parse(source), "flowc.runtime.x"))
    assert sorted({line for line, name in imports if _forbidden(name)}) == [1, 2, 4, 5, 6]
    assert ("flowc.cli.targets" in {name for _, name in imports}) is True  # `..cli` resolved


def test_import_flowc_loads_no_command_line_library() -> None:
    code = (
        "import sys, flowc, flowc.runtime.loader, flowc.compiler\n"
        "print(','.join(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('typer', 'rich', 'click') or m.startswith('flowc.cli'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
