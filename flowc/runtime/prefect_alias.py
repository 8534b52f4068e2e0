"""Prefect's import names resolved to flowc's, for running unmodified Prefect flow files.

Inside :func:`prefect_aliases`, ``import prefect`` (and ``prefect.futures``,
``prefect.task_runners``, ... and the ``prefect_dask`` / ``prefect_ray`` integrations) give
flowc's modules, even when the real Prefect is installed; outside it nothing is changed. Both
``flowc run`` (around loading and running the file) and process workers (around a task that
imports ``prefect`` in its body) use it.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["INTEGRATION_ALIASES", "PREFECT_ALIASES", "prefect_aliases", "prefect_aliases_active"]

#: ``prefect`` modules a flow file may import, and the flowc module each one is.
PREFECT_ALIASES: dict[str, str] = {
    "prefect": "flowc",
    "prefect.futures": "flowc.futures",
    "prefect.task_runners": "flowc.task_runners",
    "prefect.states": "flowc.states",
    "prefect.utilities": "flowc.utilities",
    "prefect.utilities.annotations": "flowc.utilities.annotations",
    "prefect.exceptions": "flowc.exceptions",
    "prefect.logging": "flowc.logging",
    # results, caching and transactions
    "prefect.cache_policies": "flowc.cache_policies",
    "prefect.context": "flowc.context",
    "prefect.filesystems": "flowc.filesystems",
    "prefect.locking": "flowc.locking",
    "prefect.locking.filesystem": "flowc.locking.filesystem",
    "prefect.locking.memory": "flowc.locking.memory",
    "prefect.results": "flowc.results",
    "prefect.settings": "flowc.settings",
    "prefect.tasks": "flowc.tasks",
    "prefect.transactions": "flowc.transactions",
    # artifacts, assets, concurrency limits, variables, run context, testing, deployments
    "prefect.artifacts": "flowc.artifacts",
    "prefect.assets": "flowc.assets",
    "prefect.concurrency": "flowc.concurrency",
    "prefect.concurrency.asyncio": "flowc.concurrency.asyncio",
    "prefect.concurrency.sync": "flowc.concurrency.sync",
    "prefect.deployments": "flowc.deployments",
    "prefect.runtime": "flowc.runtime",
    "prefect.runtime.deployment": "flowc.runtime.deployment",
    "prefect.runtime.flow_run": "flowc.runtime.flow_run",
    "prefect.runtime.task_run": "flowc.runtime.task_run",
    "prefect.testing": "flowc.testing",
    "prefect.testing.utilities": "flowc.testing.utilities",
    "prefect.variables": "flowc.variables",
}
#: Prefect's integration packages: flowc's stand-ins (its runners and their helpers).
INTEGRATION_ALIASES: dict[str, str] = {
    "prefect_dask": "flowc.integrations.prefect_dask",
    "prefect_dask.task_runners": "flowc.integrations.prefect_dask.task_runners",
    "prefect_dask.utils": "flowc.integrations.prefect_dask.utils",
    "prefect_ray": "flowc.integrations.prefect_ray",
    "prefect_ray.task_runners": "flowc.integrations.prefect_ray.task_runners",
    "prefect_ray.context": "flowc.integrations.prefect_ray.context",
}
#: Prefect modules that only talk to its server: importing one says so in one line.
SERVER_ONLY = frozenset(
    {
        "prefect.automations",
        "prefect.blocks",
        "prefect.client",
        "prefect.events",
        "prefect.server",
        "prefect.workers",
    }
)
_ALIASED_ROOTS = frozenset({"prefect", "prefect_dask", "prefect_ray"})


def _is_aliased(name: str) -> bool:
    return name.partition(".")[0] in _ALIASED_ROOTS


class _AliasLoader(importlib.abc.Loader):
    """Hands the import system an existing module instead of making a new one."""

    def __init__(self, make: Callable[[], types.ModuleType]) -> None:
        self._make = make
        self._spec: Any = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = self._make()
        self._spec = getattr(module, "__spec__", None)
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        # The import system stamped the alias's spec on the flowc module: put its own back.
        module.__spec__ = self._spec


class _PrefectAliasFinder(importlib.abc.MetaPathFinder):
    """Resolves ``prefect``, ``prefect.*``, ``prefect_dask`` and ``prefect_ray`` to flowc."""

    def find_spec(
        self, fullname: str, path: Any = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not _is_aliased(fullname):
            return None
        target_name = PREFECT_ALIASES.get(fullname) or INTEGRATION_ALIASES.get(fullname)
        if target_name is not None:
            return importlib.machinery.ModuleSpec(
                fullname, _AliasLoader(lambda: importlib.import_module(target_name))
            )
        package = ".".join(fullname.split(".")[:2])
        if package in SERVER_ONLY:
            from flowc.server import server_required

            server_required(package)
        offered = ", ".join(sorted(PREFECT_ALIASES) + sorted(INTEGRATION_ALIASES))
        raise ModuleNotFoundError(
            f"No module named {fullname!r}: flowc run maps Prefect's modules to flowc's, and "
            f"flowc has no equivalent of this one (mapped: {offered})",
            name=fullname,
        )


def prefect_aliases_active() -> bool:
    """True inside :func:`prefect_aliases` (a process runner can then alias in its workers)."""
    # An exact type test: ``isinstance`` against this ABC costs ~15 us, paid on every call sent.
    return any(type(finder) is _PrefectAliasFinder for finder in sys.meta_path)


@contextlib.contextmanager
def prefect_aliases() -> Iterator[None]:
    """Inside the block, importing ``prefect`` (and friends) gives flowc's modules.

    Whatever ``sys.modules`` held under those names (the real Prefect, if it was imported)
    is set aside and put back afterwards; the aliases are removed. Blocks may nest.
    """
    saved = {name: module for name, module in list(sys.modules.items()) if _is_aliased(name)}
    for name in saved:
        del sys.modules[name]
    finder = _PrefectAliasFinder()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(finder)
        for name in [name for name in list(sys.modules) if _is_aliased(name)]:
            del sys.modules[name]
        sys.modules.update(saved)
