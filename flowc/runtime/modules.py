"""Importing a flow file by path, as ``flowc run`` does: one job, kept apart from choosing the flow.

* the file is imported by path under a private module name (so ``if __name__ == "__main__":``
  blocks do not run), with its directory first on ``sys.path`` (sibling imports work) and its
  module registered with cloudpickle *by value* (spawned process workers cannot import it);
* for the load, ``prefect`` and the ``prefect.*`` modules a flow file uses resolve to
  flowc's (:func:`~flowc.runtime.prefect_alias.prefect_aliases`), even when the real Prefect
  is installed;
* ``as_main`` runs it as ``python FILE ARGS`` would (``flowc run --main``,
  :mod:`flowc.runtime.script`).

A file that cannot be read or compiled raises :class:`FlowcUsageError`, whose message is the
one line the CLI prints (exit 2); an exception raised by the file's own top-level code is kept
in :attr:`LoadedModule.error`, since it may be the failure of a flow the file ran.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import itertools
import os
import re
import sys
import tokenize
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cloudpickle

from flowc.exceptions import FlowcError
from flowc.messages import path_problem
from flowc.runtime.prefect_alias import prefect_aliases

__all__ = [
    "FlowcUsageError",
    "LoadedModule",
    "UserCodeError",
    "compile_source",
    "load_module",
    "read_source",
]


class FlowcUsageError(FlowcError, ValueError):
    """Bad input to ``flowc run``; the message is the one line the CLI prints (exit code 2)."""


class UserCodeError(FlowcError):
    """The file's own top-level code raised while it was being imported (exit code 1)."""

    def __init__(self, path: Path, exception: BaseException) -> None:
        self.path = path
        self.exception = exception
        super().__init__(f"{path}: {type(exception).__name__} raised while loading the file")


def read_source(path: Path) -> str:
    """The file's text, decoded as Python decodes source (PEP 263 coding comments included)."""
    problem = path_problem(path)
    if problem is not None:
        raise FlowcUsageError(problem)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FlowcUsageError(f"{path}: cannot read the file: {exc.strerror}") from None
    encoding = "utf-8"
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FlowcUsageError(
            f"{path}:{line}: cannot decode byte {data[exc.start]:#04x} as {encoding}; save the "
            f"file as UTF-8 or declare its encoding with a '# -*- coding: NAME -*-' line"
        ) from None
    except (SyntaxError, LookupError) as exc:
        raise FlowcUsageError(f"{path}: cannot decode the file: {exc}") from None


def compile_source(path: Path, source: str, filename: str) -> types.CodeType:
    """Compile before running anything, so a syntax error is reported at its exact place."""
    try:
        return compile(source, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise FlowcUsageError(
            f"{path}:{exc.lineno or 1}:{exc.offset or 1}: syntax error: {exc.msg}"
        ) from None
    except ValueError as exc:  # e.g. null bytes, on Pythons that do not call it a syntax error
        raise FlowcUsageError(f"{path}: cannot compile the file: {exc}") from None


_module_numbers = itertools.count(1)


def _module_name(path: Path) -> str:
    stem = re.sub(r"\W", "_", path.stem) or "flow"
    return f"_flowc_run_{stem}_{next(_module_numbers)}"


@contextlib.contextmanager
def _sys_path_first(directory: str) -> Iterator[None]:
    sys.path.insert(0, directory)
    try:
        yield
    finally:
        if sys.path and sys.path[0] == directory:
            del sys.path[0]
        else:
            with contextlib.suppress(ValueError):
                sys.path.remove(directory)


@contextlib.contextmanager
def _argv(path: Path, args: list[str]) -> Iterator[None]:
    saved = sys.argv
    sys.argv = [str(path), *args]
    try:
        yield
    finally:
        sys.argv = saved


def _found_in(module: types.ModuleType, directory: str) -> bool:
    """True for a module (or package) that sits directly in ``directory``."""
    locations = list(getattr(module, "__path__", None) or [])
    if not locations and getattr(module, "__file__", None):
        locations = [module.__file__]
    return any(os.path.dirname(os.path.abspath(str(item))) == directory for item in locations)


def _sibling_modules(before: set[str], directory: str) -> list[types.ModuleType]:
    """Modules the file imported from its own directory: importable only through our path entry."""
    new_roots = {
        name.partition(".")[0] for name in list(sys.modules) if name.partition(".")[0] not in before
    }
    roots = {
        root
        for root in new_roots
        if root in sys.modules and _found_in(sys.modules[root], directory)
    }
    return [
        module
        for name, module in list(sys.modules.items())
        if name.partition(".")[0] in roots and isinstance(module, types.ModuleType)
    ]


@dataclass
class LoadedModule:
    """The imported file, and the exception its top-level code raised, if any."""

    path: Path
    module: types.ModuleType
    error: BaseException | None = None
    #: the file's text, for reading which flow it runs (see flowc.runtime.selection).
    source: str = ""


@contextlib.contextmanager
def load_module(
    path: Path, as_main: bool = False, args: list[str] | None = None
) -> Iterator[LoadedModule]:
    """Import ``path`` as a private module; the environment it needs lasts until the block ends.

    Raises :class:`FlowcUsageError` for a file that cannot be read or compiled. An exception
    from the file's own top-level code does not raise here: it is in ``LoadedModule.error``,
    because it may be the failure of a flow the file ran (see
    :func:`flowc.runtime.loader.run_file`).

    ``as_main`` runs it as ``python FILE ARGS`` would (``flowc run --main``): ``__name__`` is
    ``"__main__"`` so its ``__main__`` block runs, and ``sys.argv`` is ``[FILE, *args]``. The
    module is still registered under its private name: flowc's own ``__main__`` stays.
    """
    source = read_source(path)
    code = compile_source(path, source, str(path.resolve()))
    directory = str(path.resolve().parent)
    name = _module_name(path)
    spec = importlib.util.spec_from_file_location(name, path.resolve())
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    if as_main:
        module.__name__ = "__main__"
        module.__spec__ = None  # as for a script run by path
    before = {known.partition(".")[0] for known in list(sys.modules)}
    by_value: list[types.ModuleType] = []
    with prefect_aliases(), _sys_path_first(directory), _argv(path, args or []):
        sys.modules[name] = module
        try:
            cloudpickle.register_pickle_by_value(module)
            by_value.append(module)
            loaded = LoadedModule(path, module, _execute(code, module), source)
            for sibling in _sibling_modules(before | {name}, directory):
                cloudpickle.register_pickle_by_value(sibling)
                by_value.append(sibling)
            yield loaded
        finally:
            for registered in by_value:
                with contextlib.suppress(ValueError):
                    cloudpickle.unregister_pickle_by_value(registered)
                registered_as = name if registered is module else registered.__name__
                if sys.modules.get(registered_as) is registered:
                    del sys.modules[registered_as]
            sys.modules.pop(name, None)


def _execute(code: types.CodeType, module: types.ModuleType) -> BaseException | None:
    try:
        exec(code, module.__dict__)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit too: the file's own code stopped the load
        return exc
    return None
