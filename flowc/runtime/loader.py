"""Loading a flow file and running one of its flows: the work behind ``flowc run``.

The CLI only parses arguments and prints. Everything that touches the user's file lives here,
as functions with typed results, so that tests (and later commands) can call it directly:

* the file is imported by path under a private module name (so ``if __name__ == "__main__":``
  blocks do not run), with its directory first on ``sys.path`` (sibling imports work) and its
  module registered with cloudpickle *by value* (spawned process workers cannot import it);
* for the load and the run, ``prefect`` and the ``prefect.*`` modules a flow file uses resolve
  to flowc's (:func:`prefect_aliases`), even when the real Prefect is installed;
* a flow the file already ran while it was imported (the seed examples end with a bare
  ``hello_world()``) is not run a second time: that run is the result;
* in a file of several flows, the one to run is the one its source points at (the rules are
  in :mod:`flowc.runtime.selection`), with its ``__main__`` call's literal arguments.

``flowc run --main`` loads the file as a script instead (:mod:`flowc.runtime.script`).

Every problem with the input raises :class:`FlowcUsageError`, whose message is the one line
the CLI prints; an exception raised by the file's own top-level code raises
:class:`UserCodeError` carrying it.
"""

from __future__ import annotations

import collections
import contextlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import io
import itertools
import json
import logging
import os
import re
import sys
import tokenize
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cloudpickle

from flowc.cli_messages import NO_FLOW, flow_listing, no_flow_named, path_problem
from flowc.exceptions import FlowcError, ParameterTypeError
from flowc.files import write_atomic
from flowc.runtime import selection
from flowc.runtime.flows import Flow, use_task_runner
from flowc.runtime.prefect_alias import (
    INTEGRATION_ALIASES,
    PREFECT_ALIASES,
    prefect_aliases,
    prefect_aliases_active,
)
from flowc.runtime.report import RunCapture, build_report, capture
from flowc.runtime.runners import registry

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from flowc.plan import FlowPlan
    from flowc.runtime.flowrun import FlowRun
    from flowc.runtime.runners.base import TaskRunner
    from flowc.runtime.states import State
    from flowc.runtime.taskrun import TaskRun

__all__ = [
    "INTEGRATION_ALIASES",
    "PREFECT_ALIASES",
    "RUNNERS",
    "FlowcUsageError",
    "FoundFlow",
    "LoadedModule",
    "RunInterrupted",
    "RunOutcome",
    "RunRequest",
    "Target",
    "UserCodeError",
    "check_params",
    "check_report_path",
    "choose_flow",
    "compile_source",
    "exit_code",
    "failed_task_runs",
    "find_flows",
    "load_module",
    "make_runner",
    "param_value",
    "parse_params",
    "parse_target",
    "parse_workers",
    "prefect_aliases",
    "prefect_aliases_active",
    "prepare_run",
    "read_source",
    "run_file",
    "select_flow",
    "static_entry",
    "write_document",
    "write_report",
]


class FlowcUsageError(FlowcError, ValueError):
    """Bad input to ``flowc run``; the message is the one line the CLI prints (exit code 2)."""


class UserCodeError(FlowcError):
    """The file's own top-level code raised while it was being imported (exit code 1)."""

    def __init__(self, path: Path, exception: BaseException) -> None:
        self.path = path
        self.exception = exception
        super().__init__(f"{path}: {type(exception).__name__} raised while loading the file")


class RunInterrupted(FlowcError):
    """Ctrl-C during the load or the run; carries the top-level flow run that was running."""

    def __init__(self, flow_run: FlowRun | None) -> None:
        self.flow_run = flow_run
        super().__init__("interrupted")


# --------------------------------------------------------------------------- the request


@dataclass(frozen=True)
class Target:
    """``FILE[:FLOW]``: the file as the user typed it and the flow name, if one was given."""

    path: Path
    flow: str | None = None


@dataclass(frozen=True)
class RunRequest:
    """Everything ``flowc run`` checked before touching the file."""

    target: Target
    params: dict[str, str] = field(default_factory=dict)
    runner: TaskRunner | None = None
    report: Path | None = None
    #: plan mode: the compiled flow to run from (see flowc.runtime.planexec), else dynamic.
    plan: FlowPlan | None = None
    #: ``--checkpoint DIR`` / ``--resume DIR``: where completed results are kept.
    checkpoint: Path | None = None
    resume: bool = False


def parse_target(text: str) -> Target:
    """Split ``FILE[:FLOW]``; a ``:`` followed by a path separator (``C:\\x.py``) is no FLOW."""
    if Path(text).is_file():
        return Target(Path(text))
    path, sep, name = text.rpartition(":")
    if not sep or not path or "/" in name or "\\" in name:
        return Target(Path(text))
    if not name:
        raise FlowcUsageError(f"{text}: empty flow name after ':' (use FILE or FILE:FLOW)")
    return Target(Path(path), name)


def parse_params(items: list[str]) -> dict[str, str]:
    """``NAME=VALUE`` pairs as given; :func:`check_params` interprets the values per flow."""
    params: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise FlowcUsageError(f"--param {item!r}: expected NAME=VALUE, e.g. --param n=3")
        if name in params:
            raise FlowcUsageError(f"--param {name} given twice")
        params[name] = value
    return params


def parse_workers(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        workers = int(text)
    except ValueError:
        workers = 0
    if workers < 1:
        raise FlowcUsageError(f"--workers must be a positive integer, got {text!r}")
    return workers


def check_report_path(path: Path, option: str = "--report") -> None:
    """A report (or ``--html`` page) is written only where it can be: fail before running."""
    directory = path.parent
    if not directory.is_dir():
        raise FlowcUsageError(f"{option} {path}: directory {str(directory)!r} does not exist")
    if path.is_dir():
        raise FlowcUsageError(f"{option} {path}: is a directory; give a file path")


def prepare_run(
    target: str,
    params: list[str],
    runner: str | None = None,
    workers: str | None = None,
    report: Path | None = None,
    address: str | None = None,
) -> RunRequest:
    """Check every argument that can be checked without importing the file."""
    parsed = parse_target(target)
    read_source(parsed.path)
    values = parse_params(params)
    task_runner = make_runner(runner, parse_workers(workers), address)
    if report is not None:
        check_report_path(report)
    return RunRequest(parsed, values, task_runner, report)


# --------------------------------------------------------------------------- runners


#: ``--runner NAME`` choices, in the order help lists them (see runners/registry.py).
RUNNERS = registry.RUNNERS


def make_runner(
    name: str | None, workers: int | None, address: str | None = None
) -> TaskRunner | None:
    """The runner ``--runner``/``--workers``/``--address`` ask for; ``None`` keeps each flow's."""
    entry = registry.RUNNERS.get(name.lower()) if name is not None else None
    if address is not None and (entry is None or not entry.addressed):
        raise FlowcUsageError("--address needs --runner dask or --runner ray")
    if name is None:
        if workers is not None:
            raise FlowcUsageError(
                "--workers needs --runner (threads, processes, dask or ray); "
                "without --runner each flow uses its own task runner"
            )
        return None
    if name.lower() not in registry.RUNNERS:
        raise FlowcUsageError(f"unknown runner {name!r}: choose one of {', '.join(RUNNERS)}")
    try:
        return registry.build(name.lower(), workers, address)
    except (ImportError, ValueError, TypeError) as exc:
        raise FlowcUsageError(f"--runner {name}: {exc}") from None


# --------------------------------------------------------------------------- loading


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
    because it may be the failure of a flow the file ran (see :func:`run_file`).

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


# --------------------------------------------------------------------------- flows


@dataclass(frozen=True)
class FoundFlow:
    """A flow in the loaded module: the object, the name it is bound to, its line."""

    flow: Flow[Any]
    attribute: str
    line: int
    local: bool

    @property
    def function_name(self) -> str:
        return str(getattr(self.flow.fn, "__name__", self.attribute))

    @property
    def label(self) -> str:
        """The flow's ``name=`` if it has one, else its function's name."""
        default = self.function_name.replace("_", "-")
        return self.function_name if self.flow.name == default else self.flow.name


def find_flows(module: types.ModuleType) -> list[FoundFlow]:
    """Every distinct flow bound at the module's top level, in source order."""
    found: dict[int, FoundFlow] = {}
    filename = getattr(module, "__file__", None)
    for attribute, value in list(vars(module).items()):
        if isinstance(value, Flow) and id(value) not in found:
            code = getattr(value.fn, "__code__", None)
            line = code.co_firstlineno if code is not None else 0
            local = code is not None and code.co_filename == filename
            found[id(value)] = FoundFlow(value, attribute, line, local)
    return sorted(found.values(), key=lambda item: (not item.local, item.line))


def _names(flows: list[FoundFlow]) -> list[tuple[str, str]]:
    return [(item.flow.name, item.function_name) for item in flows]


def select_flow(path: Path, flows: list[FoundFlow], name: str | None) -> FoundFlow:
    """The flow ``FILE[:FLOW]`` names: by variable, flow name or function name."""
    if name is None:
        candidates = [item for item in flows if item.local] or flows
        if not candidates:
            raise FlowcUsageError(f"{path}: {NO_FLOW}")
        if len(candidates) > 1:
            raise FlowcUsageError(
                f"{path}: {len(candidates)} flows found, pick one with FILE:FLOW "
                f"(its flows: {flow_listing(_names(candidates))})"
            )
        return candidates[0]
    keys: list[Callable[[FoundFlow], str]] = [
        lambda item: item.attribute,
        lambda item: item.flow.name,
        lambda item: item.function_name,
    ]
    for key in keys:
        matches = [item for item in flows if key(item) == name]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise FlowcUsageError(
                f"{path}: {name!r} names several flows ({flow_listing(_names(matches))})"
            )
    raise FlowcUsageError(no_flow_named(path, name, _names(flows)))


# --------------------------------------------------------------------------- parameters


def _wants_text(parameter: inspect.Parameter | None) -> bool:
    return parameter is not None and parameter.annotation in (str, "str")


def param_value(text: str, parameter: inspect.Parameter | None = None) -> Any:
    """JSON when the text parses as JSON, else the text; a ``str`` parameter keeps ``123`` text."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if _wants_text(parameter) and not isinstance(value, str):
        return text
    return value


def check_params(
    flow: Flow[Any],
    given: dict[str, str],
    entry: selection.EntryCall | None = None,
) -> dict[str, Any]:
    """The parameters to call ``flow`` with: ``--param`` values over the ``__main__`` call's.

    Names are checked here (a name the flow does not take, a required one missing: exit 2, as
    Prefect refuses such a call before any flow run exists). Values are validated by the
    flow call itself: a value of the wrong type gives a Failed flow run, as in Prefect.
    """
    signature = flow.signature.parameters
    by_name = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.values())
    named = [p.name for p in signature.values() if p.kind in by_name]
    for name in given:
        if name not in named and not takes_any:
            known = f"its parameters: {', '.join(named)}" if named else "it takes no parameters"
            raise FlowcUsageError(f"flow {flow.name!r} has no parameter {name!r} ({known})")
    from_main, unknown = selection.main_arguments(flow.signature, entry)
    values = {**from_main, **{n: param_value(t, signature.get(n)) for n, t in given.items()}}
    for p in signature.values():
        if p.kind in by_name and p.default is inspect.Parameter.empty and p.name not in values:
            hint = ""
            if unknown:
                hint = (
                    f" (the __main__ block passes {', '.join(unknown)}, which flowc does not "
                    "evaluate without running it; or run the block with --main)"
                )
            raise FlowcUsageError(
                f"flow {flow.name!r} needs parameter {p.name!r}: pass --param {p.name}=VALUE" + hint
            )
    try:
        flow.bind((), values)
    except ParameterTypeError as exc:
        raise FlowcUsageError(f"bad --param: {exc}") from None
    return values


# --------------------------------------------------------------------------- running


@dataclass(frozen=True)
class RunOutcome:
    """A finished top-level flow run of the selected flow."""

    flow: FoundFlow
    flow_run: FlowRun
    #: True when the file ran the flow itself while it was imported.
    at_import: bool

    @property
    def state(self) -> State:
        return self.flow_run.state


Observer = Callable[[RunCapture], "AbstractContextManager[object]"]


def run_file(
    request: RunRequest,
    observe: Observer | None = None,
    say: Callable[[str], None] | None = None,
) -> RunOutcome:
    """Load the file and run the selected flow (or take the run the file made at import).

    ``observe(capture)`` is entered around the load and the run (the CLI's live display);
    the runner override applies to runs the file starts at import too. ``say(line)`` hears
    which flow was chosen when the file has several, and why.
    """
    with capture() as runs, use_task_runner(request.runner):
        try:
            with observe(runs) if observe else contextlib.nullcontext():
                return _load_and_run(request, runs, say or (lambda line: None))
        except KeyboardInterrupt:
            raise RunInterrupted(runs.started[-1] if runs.started else None) from None


def _load_and_run(request: RunRequest, runs: RunCapture, say: Callable[[str], None]) -> RunOutcome:
    path = request.target.path
    _check_checkpoint_directory(request)
    with load_module(path) as loaded:
        found, entry = _selected(loaded, runs, request.target.flow)
        earlier = [run for run in runs.flow_runs if run.flow is found.flow]
        if earlier and not request.params and entry is None:
            if request.checkpoint is not None:
                logging.getLogger("flowc.runtime").warning(
                    f"{path}: the file's module-level code ran flow {found.flow.name!r} as it "
                    f"was imported, before --{'resume' if request.resume else 'checkpoint'} "
                    f"could apply: nothing was checkpointed or resumed. Put the call under "
                    f'`if __name__ == "__main__":` so that flowc run starts the flow itself.',
                )
            return RunOutcome(found, earlier[-1], at_import=True)
        values = check_params(found.flow, request.params, entry)
        flow = found.flow
        if entry is not None and entry.options:  # __main__ calls a.with_options(...)(...)
            flow = flow.with_options(**entry.options)
        if entry is not None:
            say(
                selection.choice_note(
                    path, found.label, found.flow.signature, entry, request.params
                )
            )
        with _run_options(request, flow):
            flow_run = _call(flow, values, runs)
        return RunOutcome(found, flow_run, at_import=False)


def _check_checkpoint_directory(request: RunRequest) -> None:
    """Refuse an unusable ``--checkpoint``/``--resume`` directory before importing the file
    (whose module-level code may start the flow)."""
    if request.checkpoint is None:
        return
    from flowc.runtime.checkpoint import CheckpointError, check_directory

    try:
        check_directory(request.checkpoint, resume=request.resume)
    except CheckpointError as exc:
        raise FlowcUsageError(str(exc)) from None


@contextlib.contextmanager
def _run_options(request: RunRequest, flow: Flow[Any]) -> Iterator[None]:
    """Plan mode and checkpoints, for the run ``flowc run`` starts (not runs at import)."""
    from flowc.runtime.planmode import PlanOptions, plan_mode

    flow_plan = request.plan
    if flow_plan is not None and flow.name != flow_plan.name:
        flow_plan = None  # the plan is of another flow of the file: run dynamically
    store = None
    if request.checkpoint is not None:
        from flowc.runtime.checkpoint import CheckpointError, CheckpointStore

        try:
            store = CheckpointStore.open(request.checkpoint, flow.name, create=not request.resume)
        except CheckpointError as exc:
            raise FlowcUsageError(str(exc)) from None
    if flow_plan is None and store is None:
        yield
        return
    options = PlanOptions(
        flow_plan=flow_plan, defer=flow_plan is not None, checkpoint=store, resume=request.resume
    )
    with plan_mode(options):
        yield


def _selected(
    loaded: LoadedModule, runs: RunCapture, name: str | None
) -> tuple[FoundFlow, selection.EntryCall | None]:
    """The selected flow and the ``__main__`` call of it whose arguments apply, if any.

    If the file's code raised, only when that was this flow failing: a file that ends with
    a bare ``my_flow()`` re-raises the flow's exception when the flow fails: that is the
    flow's outcome, not a broken file.
    """
    flows = find_flows(loaded.module)
    if loaded.error is None:
        return choose_flow(loaded, flows, runs, name)
    failed_run = _flow_run_failed_with(runs, loaded.error)
    try:
        found, entry = choose_flow(loaded, flows, runs, name)
    except FlowcUsageError:
        found, entry = None, None
    if failed_run is None or found is None or failed_run.flow is not found.flow:
        raise UserCodeError(loaded.path, loaded.error)
    return found, entry


def static_entry(path: Path) -> tuple[str, dict[str, Any]] | None:
    """The flow function a file of several flows runs, and its ``__main__`` arguments.

    Read from the source alone, before anything is imported, for compiling its plan.
    """
    try:
        return selection.static_choice(read_source(path))
    except FlowcUsageError:
        return None


def choose_flow(
    loaded: LoadedModule, flows: list[FoundFlow], runs: RunCapture, name: str | None
) -> tuple[FoundFlow, selection.EntryCall | None]:
    """``FILE:FLOW``'s flow, else the one the file's source points at (flowc.runtime.selection).

    Flows the file already ran at import narrow the choice when its ``__main__`` block calls
    none: the file says what it runs by running it.
    """
    shape = selection.read_shape(loaded.source, str(loaded.path)) if loaded.source else None
    bound = {attr: value for attr, value in vars(loaded.module).items() if isinstance(value, Flow)}
    body = {item.flow: item.function_name for item in flows}
    if name is not None:
        found = select_flow(loaded.path, flows, name)
        calls = shape.main_calls if shape is not None else ()
        return found, next((call for call in calls if bound.get(call.name) is found.flow), None)
    candidates = [item for item in flows if item.local] or flows
    ran = {id(run.flow) for run in runs.flow_runs}
    at_import = [item for item in flows if id(item.flow) in ran]
    if at_import and not (shape and any(n in bound for n in shape.main_names())):
        candidates = at_import
    choice = selection.choose(shape, [item.flow for item in candidates], bound, body)
    by_flow = {id(item.flow): item for item in flows}
    left = [by_flow[id(flow)] for flow in choice.flows if id(flow) in by_flow]
    try:
        return select_flow(loaded.path, left or candidates, None), choice.call
    except FlowcUsageError as exc:
        if shape is None or not shape.has_main:
            raise
        raise FlowcUsageError(f"{exc} (or run its __main__ block with --main)") from None


def _flow_run_failed_with(runs: RunCapture, error: BaseException | None) -> FlowRun | None:
    """The import-time flow run whose failure ``error`` is (a flow call re-raises it), if any."""
    if error is None:
        return None
    for run in reversed(runs.flow_runs):
        state = run.state
        if state.is_final() and not state.is_completed():
            raised = state.exception()
            if raised is error or (type(raised) is type(error) and str(raised) == str(error)):
                return run
    return None


def _call(flow: Flow[Any], values: dict[str, Any], runs: RunCapture) -> FlowRun:
    finished = len(runs.flow_runs)
    if flow.isgenerator:  # its run lasts while its items are taken: take them all
        result: Any = None
        with contextlib.suppress(Exception):  # the run's failure is its state
            collections.deque(flow(**values), maxlen=0)
    else:
        result = flow(**values, return_state=True)
    if inspect.iscoroutine(result):
        import asyncio

        result = asyncio.run(result)
    for run in runs.flow_runs[finished:]:
        if run.flow is flow:
            return run
    # Only a parameter rejected inside the call leaves no run; check_params should prevent it.
    raise FlowcUsageError(f"flow {flow.name!r} did not start: {result}")


# --------------------------------------------------------------------------- after the run


def failed_task_runs(flow_run: FlowRun) -> list[TaskRun]:
    """Task runs (subflow records included) whose final state is Failed or Crashed."""
    return [
        run for run in list(flow_run.records) if run.state.is_failed() or run.state.is_crashed()
    ]


def exit_code(flow_run: FlowRun, strict: bool) -> int:
    """0 for a Completed flow run; 1 otherwise, or with ``strict`` when any task run failed."""
    if not flow_run.state.is_completed():
        return 1
    if strict and failed_task_runs(flow_run):
        return 1
    return 0


def write_report(flow_run: FlowRun, path: Path) -> None:
    """Write the ``flowc.run/1`` report atomically: a reader never sees a partial file."""
    write_document(build_report(flow_run), path)


def write_document(document: dict[str, Any], path: Path) -> None:
    """A report document as JSON, atomically (``--main`` builds its own, see runtime.script)."""
    write_atomic(path, json.dumps(document, indent=2, default=str) + "\n")
