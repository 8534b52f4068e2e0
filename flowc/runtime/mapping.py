"""``.map``: one task run per element of the iterable arguments, by Prefect's rules.

1. A parameter that *is* a future (or a run's state) is resolved first — the call blocks — and
   mapped over its result if that is iterable; it stays an upstream of every child. If it did
   not complete, ``.map`` raises ``UpstreamTaskError``.
2. Iterable parameters (not ``str``, ``bytes`` or files) are mapped; ``unmapped`` ones and
   everything else are static. Dicts map over keys; generators and ranges are materialised.
3. No iterable: ``MappingMissingIterable``. Different lengths: ``MappingLengthMismatch``
   listing every length. An empty iterable gives no runs.
4. Defaults are never mapped over; ``wait_for`` applies to every child.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flowc.exceptions import MappingLengthMismatch, MappingMissingIterable, UpstreamTaskError
from flowc.runtime import engine
from flowc.runtime.annotations import allow_failure, quote, unmapped
from flowc.runtime.futures import TaskRunFutureList
from flowc.runtime.inputs import Upstreams, _run_of

if TYPE_CHECKING:
    from flowc.runtime.callsites import Site
    from flowc.runtime.runners.base import TaskRunner
    from flowc.runtime.tasks import Task

__all__ = ["map_parameters", "map_task"]


def map_task(
    task: Task[Any], args: tuple[Any, ...], kwargs: dict[str, Any], wait_for: Any
) -> TaskRunFutureList:
    flow_run, _ = engine.current_run_context(task, "map")
    parameters = task.bind(args, kwargs, apply_defaults=False)
    return map_parameters(flow_run.runner, task, parameters, wait_for, engine.caller_site(2))


def map_parameters(
    runner: TaskRunner,
    task: Task[Any],
    parameters: dict[str, Any],
    wait_for: Iterable[Any] | None,
    site: Site | None = None,
) -> TaskRunFutureList:
    dependencies = Upstreams()
    resolved: dict[str, Any] = {}
    links = engine.current_run_context(task, "map")[0].links
    for key, value in parameters.items():
        run = _run_of(value)
        if run is None:
            resolved[key] = value
            producer = links.producer_of(value) if links else None
            if producer is not None:
                dependencies.add_values([producer])
            continue
        dependencies.add(run, allowed=False)
        run.has_downstream = True
        state = run.wait()
        if not state.is_completed():
            raise UpstreamTaskError(
                f"Upstream task run '{run.id}' did not reach a 'COMPLETED' state."
            )
        resolved[key] = state.data

    iterables, static, annotated = _split(_explode_variadic(task, resolved))
    if not iterables:
        raise MappingMissingIterable(
            "No iterable parameters were received. Parameters for map must include at least "
            f"one iterable. Parameters: {resolved}"
        )
    lengths = {key: len(values) for key, values in iterables.items()}
    if len(set(lengths.values())) > 1:
        raise MappingLengthMismatch(
            "Received iterable parameters with different lengths. Parameters for map must all "
            f"be the same length. Got lengths: {lengths}"
        )
    wait_for = engine.as_list(wait_for) if wait_for is not None else None
    futures = TaskRunFutureList()
    count = next(iter(lengths.values()))
    for index in range(count):
        call_parameters = {key: values[index] for key, values in iterables.items()}
        call_parameters.update(static)
        for key, default in task._defaults.items():
            call_parameters.setdefault(key, default)
        for key, annotation in annotated.items():
            call_parameters[key] = annotation.rewrap(call_parameters[key])
        call_parameters = _collapse_variadic(task, call_parameters)
        futures.append(
            engine.submit_parameters(
                runner, task, call_parameters, wait_for, dependencies, kind="map", site=site
            )
        )
    return futures


def _split(
    parameters: dict[str, Any],
) -> tuple[dict[str, list[Any]], dict[str, Any], dict[str, Any]]:
    iterables: dict[str, list[Any]] = {}
    static: dict[str, Any] = {}
    annotated: dict[str, Any] = {}
    for key, value in parameters.items():
        if isinstance(value, (allow_failure, quote)):
            annotated[key] = value
            value = value.unwrap()
        if isinstance(value, unmapped):
            static[key] = value.value
        elif _is_mappable(value):
            iterables[key] = list(value)
        else:
            static[key] = value
    return iterables, static, annotated


def _is_mappable(value: Any) -> bool:
    if isinstance(value, (str, bytes, io.IOBase)):
        return False
    try:
        iter(value)
    except TypeError:
        return False
    return True


def _var_keyword_name(task: Task[Any]) -> str | None:
    if task._simple:
        return None
    import inspect

    for param in task.signature.parameters.values():
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            return param.name
    return None


def _explode_variadic(task: Task[Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """Lift ``**kwargs`` entries to the top level, so each can be mapped on its own."""
    name = _var_keyword_name(task)
    if name is None or name not in parameters:
        return parameters
    exploded = {key: value for key, value in parameters.items() if key != name}
    exploded.update(parameters[name])
    return exploded


def _collapse_variadic(task: Task[Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """Put entries that belong to ``**kwargs`` back under its name."""
    name = _var_keyword_name(task)
    if name is None:
        return parameters
    known = task.signature.parameters
    collapsed = {key: value for key, value in parameters.items() if key in known}
    collapsed[name] = {key: value for key, value in parameters.items() if key not in known}
    return collapsed
