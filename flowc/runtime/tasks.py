"""``@task``: a function that runs as a tracked task run when called, submitted or mapped.

Binding arguments is on the hot path of every submit, so a task precomputes how to bind its
signature: for the common shape (named parameters, no ``*args``/``**kwargs``/positional-only)
it zips names with values directly and falls back to :mod:`inspect` only for the rest, and for
error messages.
"""

from __future__ import annotations

import copy
import datetime
import inspect
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from flowc.exceptions import ReservedArgumentError
from flowc.runtime import engine, mapping
from flowc.runtime.caching import NOT_SET
from flowc.runtime.context import flow_run_var

if TYPE_CHECKING:
    from flowc.runtime.futures import TaskRunFutureList

__all__ = ["Task", "task"]

R = TypeVar("R")
RESERVED_PARAMETERS = ("wait_for", "return_state")
_EMPTY = inspect.Parameter.empty


class Task(Generic[R]):
    """A task: the function plus its options. Created by :func:`task`."""

    def __init__(
        self,
        fn: Callable[..., R],
        name: str | None = None,
        description: str | None = None,
        tags: Iterable[str] | None = None,
        version: str | None = None,
        retries: int | None = None,
        retry_delay_seconds: float
        | Iterable[float]
        | Callable[[int], Iterable[float]]
        | None = None,
        retry_condition_fn: Callable[..., bool] | None = None,
        timeout_seconds: float | None = None,
        task_run_name: str | Callable[..., str] | None = None,
        log_prints: bool | None = None,
        cache_key_fn: Callable[..., Any] | None = None,
        cache_expiration: datetime.timedelta | None = None,
        persist_result: bool | None = None,
        on_completion: list[Callable[..., Any]] | None = None,
        on_failure: list[Callable[..., Any]] | None = None,
        on_running: list[Callable[..., Any]] | None = None,
        cache_policy: Any = NOT_SET,
        refresh_cache: bool | None = None,
        result_storage_key: str | None = None,
        result_storage: Any = None,
        on_commit: list[Callable[..., Any]] | None = None,
        on_rollback: list[Callable[..., Any]] | None = None,
        **prefect_options: Any,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"@task expects a function, got {fn!r}")
        self.fn = fn
        self.name: str = name or str(getattr(fn, "__name__", type(fn).__name__))
        self.description = description or inspect.getdoc(fn)
        self.tags = set(tags or ())
        self.version = version
        self.retries = int(retries or 0)
        if self.retries < 0:
            raise ValueError(f"retries must be >= 0, got {retries}")
        self.retry_delay_seconds = _normalise_delays(retry_delay_seconds, self.retries)
        self.retry_condition_fn = retry_condition_fn
        if timeout_seconds is not None and timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be positive, got {timeout_seconds}")
        self.timeout_seconds = timeout_seconds
        self.task_run_name = task_run_name
        self.log_prints = log_prints
        if log_prints:
            from flowc.runtime.prints import install_print_logging

            install_print_logging()
        self.cache_key_fn = cache_key_fn
        self.cache_expiration = cache_expiration
        self.refresh_cache = refresh_cache
        self.result_storage_key = result_storage_key
        self.result_storage = result_storage
        #: as the user gave them; ``persist_result``/``cache_policy`` are Prefect's resolution
        #: of the two (see flowc.runtime.caching.resolve_policy).
        self._user_persist_result = persist_result
        self._user_cache_policy = cache_policy
        from flowc.runtime.caching import resolve_policy

        self.persist_result, self.cache_policy = resolve_policy(
            persist_result,
            cache_policy,
            cache_key_fn,
            result_storage_key,
            result_storage,
            prefect_options.get("result_serializer"),
        )
        self.on_completion = list(on_completion or ())
        self.on_failure = list(on_failure or ())
        self.on_running = list(on_running or ())
        self.on_commit_hooks = list(on_commit or ())
        self.on_rollback_hooks = list(on_rollback or ())
        self.task_key = _task_key(fn)
        #: Prefect options flowc accepts and keeps but does not act on (result serializers,
        #: in-memory result caching, ...): code written for Prefect still runs.
        self.prefect_options = prefect_options
        self.isasync = inspect.iscoroutinefunction(fn)
        self._prepare_binding()
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__name__ = self.name
        self.__qualname__ = getattr(fn, "__qualname__", self.name)
        self.__module__ = getattr(fn, "__module__", __name__)
        self.__wrapped__ = fn

    # ----------------------------------------------------------------- binding

    def _prepare_binding(self) -> None:
        self.signature = inspect.signature(self.fn)
        params = list(self.signature.parameters.values())
        for param in params:
            if param.name in RESERVED_PARAMETERS:
                raise ReservedArgumentError(
                    f"{param.name!r} is a reserved argument name and cannot be used "
                    f"(task {self.name!r}); rename that parameter of {self.name}()."
                )
        simple_kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        self._simple = all(p.kind in simple_kinds for p in params)
        self._positional = tuple(
            p.name for p in params if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        )
        self._names = frozenset(p.name for p in params)
        self._defaults = {p.name: p.default for p in params if p.default is not _EMPTY}

    def bind(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], apply_defaults: bool = True
    ) -> dict[str, Any]:
        """Arguments by parameter name, as Prefect records a run's ``parameters``."""
        if self._simple and len(args) <= len(self._positional):
            params = dict(zip(self._positional, args, strict=False))
            ok = True
            for key, value in kwargs.items():
                if key in params or key not in self._names:
                    ok = False
                    break
                params[key] = value
            if ok:
                if apply_defaults:
                    for key, value in self._defaults.items():
                        if key not in params:
                            params[key] = value
                    if len(params) == len(self._names):
                        return params
                elif all(n in params or n in self._defaults for n in self._names):
                    return params
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{self.name}() {exc}") from None
        if apply_defaults:
            bound.apply_defaults()
        return dict(bound.arguments)

    def call_arguments(self, parameters: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """``(args, kwargs)`` to call the function with, from parameters by name."""
        if self._simple:
            return (), parameters
        bound = inspect.BoundArguments(self.signature, parameters)  # type: ignore[arg-type]
        return bound.args, bound.kwargs

    # ----------------------------------------------------------------- options

    def retry_delay_for(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based); the last entry repeats.

        With ``retry_jitter_factor``, the delay is drawn at random around that value, as
        Prefect draws it, so that many runs failing together do not retry in lockstep.
        """
        delays = self.retry_delay_seconds
        if not delays:
            return 0.0
        delay = float(delays[min(attempt, len(delays)) - 1])
        jitter = self.prefect_options.get("retry_jitter_factor")
        if jitter is not None and delay > 0:
            from flowc.runtime.jitter import jittered

            return jittered(delay, float(jitter))
        return delay

    def on_commit(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Decorator: ``fn(transaction)`` runs when this task's result is committed."""
        self.on_commit_hooks.append(fn)
        return fn

    def on_rollback(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Decorator: ``fn(transaction)`` runs when a transaction this task staged rolls back."""
        self.on_rollback_hooks.append(fn)
        return fn

    def render_run_name(self, parameters: dict[str, Any]) -> str:
        template = self.task_run_name
        try:
            if callable(template):
                try:
                    wants_parameters = bool(inspect.signature(template).parameters)
                except (TypeError, ValueError):
                    wants_parameters = False
                return str(template(parameters) if wants_parameters else template())
            return str(template).format(**parameters)
        except Exception as exc:
            raise ValueError(
                f"task_run_name {template!r} of task {self.name!r} could not be rendered "
                f"with parameters {sorted(parameters)}: {exc}"
            ) from None

    def with_options(self, **overrides: Any) -> Task[R]:
        """A copy of this task with some options changed."""
        clone = copy.copy(self)
        options = {
            "name": self.name,
            "description": self.description,
            "tags": self.tags,
            "version": self.version,
            "retries": self.retries,
            "retry_delay_seconds": self.retry_delay_seconds,
            "retry_condition_fn": self.retry_condition_fn,
            "timeout_seconds": self.timeout_seconds,
            "task_run_name": self.task_run_name,
            "log_prints": self.log_prints,
            "cache_key_fn": self.cache_key_fn,
            "cache_expiration": self.cache_expiration,
            "persist_result": self._user_persist_result,
            "cache_policy": self._user_cache_policy,
            "refresh_cache": self.refresh_cache,
            "result_storage_key": self.result_storage_key,
            "result_storage": self.result_storage,
            "on_completion": self.on_completion,
            "on_failure": self.on_failure,
            "on_running": self.on_running,
            "on_commit": self.on_commit_hooks,
            "on_rollback": self.on_rollback_hooks,
            **self.prefect_options,
        }
        unknown = set(overrides) - set(options) - _KNOWN_PREFECT_OPTIONS
        if unknown:
            raise TypeError(
                f"with_options() got unexpected option(s): {', '.join(sorted(unknown))}"
            )
        options.update(overrides)
        Task.__init__(clone, self.fn, **options)
        return clone

    # ----------------------------------------------------------------- running

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return_state = kwargs.pop("return_state", False)
        wait_for = kwargs.pop("wait_for", None)
        if flow_run_var.get() is None:
            result = self.fn(*args, **kwargs)
            if return_state:
                from flowc.runtime import states

                return states.Completed(data=result)
            return result
        if self.isasync:
            return engine.call_task_async(
                self, args, kwargs, wait_for, return_state, engine.caller_site(1)
            )
        return engine.call_task(self, args, kwargs, wait_for, return_state)

    def submit(
        self, *args: Any, wait_for: Any = None, return_state: bool = False, **kwargs: Any
    ) -> Any:
        """Start a task run on the flow's runner and return its future at once."""
        future = engine.submit_task(self, args, kwargs, wait_for)
        if return_state:
            future.wait()
            return future.state
        return future

    def map(
        self, *args: Any, wait_for: Any = None, return_state: bool = False, **kwargs: Any
    ) -> Any:
        """One task run per element of the iterable arguments; a list of futures, in order."""
        futures: TaskRunFutureList = mapping.map_task(self, args, kwargs, wait_for)
        if return_state:
            futures.wait()
            return [future.state for future in futures]
        return futures

    def __repr__(self) -> str:
        return f"Task(name={self.name!r})"

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        bound = copy.copy(self)
        bound.fn = self.fn.__get__(instance, owner)  # type: ignore[attr-defined]
        bound._prepare_binding()
        return bound


_KNOWN_PREFECT_OPTIONS = frozenset(
    {
        "cache_result_in_memory",
        "result_serializer",
        "retry_jitter_factor",
        "viz_return_value",
        "asset_deps",
    }
)


def _task_key(fn: Callable[..., Any]) -> str:
    """Prefect's task key: the function's name and a hash of its code (``task_input_hash``)."""
    import hashlib

    name = str(getattr(fn, "__qualname__", type(fn).__name__)).split(".")[-1]
    code = getattr(fn, "__code__", None) or getattr(type(fn).__call__, "__code__", None)
    if code is None:
        return name
    return f"{name}-{hashlib.md5(code.co_code, usedforsecurity=False).hexdigest()[:8]}"


def _normalise_delays(value: Any, retries: int) -> list[float]:
    if value is None:
        return []
    if callable(value):
        value = value(retries)
    if isinstance(value, (int, float)):
        return [float(value)]
    delays = [float(v) for v in value]
    if any(d < 0 for d in delays):
        raise ValueError(f"retry_delay_seconds must be non-negative, got {delays}")
    return delays


@overload
def task(__fn: Callable[..., R]) -> Task[R]: ...


@overload
def task(__fn: None = None, **options: Any) -> Callable[[Callable[..., R]], Task[R]]: ...


def task(__fn: Callable[..., R] | None = None, **options: Any) -> Any:
    """Decorate a function as a task, bare (``@task``) or with options (``@task(retries=2)``)."""
    unknown = set(options) - _TASK_OPTIONS - _KNOWN_PREFECT_OPTIONS
    if unknown:
        raise TypeError(f"task() got unexpected option(s): {', '.join(sorted(unknown))}")
    if __fn is not None:
        return Task(__fn, **options)
    return lambda fn: Task(fn, **options)


_TASK_OPTIONS = frozenset(inspect.signature(Task.__init__).parameters) - {
    "self",
    "fn",
    "prefect_options",
}
