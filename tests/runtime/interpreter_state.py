"""What loading a flow file may change in the interpreter, and the check that it changed back.

Shared by the loading, alias and running tests: after the block, ``sys.path``, the import
hooks and every module that was loaded before are as they were, and no ``prefect`` alias or
private flow-file module is left behind.
"""

from __future__ import annotations

import sys
from typing import Any


def snapshot() -> tuple[list[str], dict[str, Any], list[Any]]:
    return list(sys.path), dict(sys.modules), list(sys.meta_path)


def assert_restored(before: tuple[list[str], dict[str, Any], list[Any]]) -> None:
    path, modules, meta_path = before
    assert sys.path == path
    assert sys.meta_path == meta_path
    assert not [name for name in sys.modules if name.startswith(("prefect", "_flowc_run_"))]
    for name, module in modules.items():  # nothing that was there was replaced or removed
        assert sys.modules.get(name) is module, name
