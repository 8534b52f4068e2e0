"""Importing a flow file for a real run in the compiler's tests, as ``flowc run`` would."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from flowc.runtime.prefect_alias import prefect_aliases


def load_flow_file(path: Path, prefix: str) -> ModuleType:
    """Import ``path`` with ``prefect`` aliased to flowc and its folder importable."""
    sys.path.insert(0, str(path.parent))
    try:
        with prefect_aliases():
            spec = importlib.util.spec_from_file_location(f"{prefix}_{path.stem}", path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module
