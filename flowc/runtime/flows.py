"""``@flow``: a function whose call is a flow run, with its own task runner.

Calling a flow inside another flow runs a *subflow*: it is recorded in the parent as a task run
named ``flow:<name>`` whose upstreams are the futures and states in its arguments, and it
enters its own copy of its runner.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import inspect
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar, overload

from flowc.exceptions import ParameterTypeError, UpstreamTaskError
from flowc.runtime import engine, states
from flowc.runtime.context import flow_run_var, task_run_var
from flowc.runtime.flowrun import (
    FlowRun,
    enter_context,
    exit_context,
    returned_value,
    run_body,
    warn_unresolved,
)
from flowc.runtime.gcpolicy import fewer_collections
from flowc.runtime.inputs import resolve_inputs
from flowc.runtime.runners.base import TaskRunner
from flowc.runtime.runners.threads import ThreadPoolTaskRunner, raise_in_thread
from flowc.runtime.states import State
from flowc.runtime.tasks import Task

__all__ = ["Flow", "flow", "use_task_runner"]

R = TypeVar("R")

_runner_override: contextvars.ContextVar[TaskRunner | None] = contextvars.ContextVar(
    "flowc_runner_override", default=None
)


@contextlib.contextmanager
def use_task_runner(runner: TaskRunner | None) -> Iterator[None]:
    """Run every flow called inside the block on (a duplicate of) ``runner``.

    ``flowc run --runner`` uses this to override what the flow's decorator says.
    """
    token = _runner_override.set(runner)
    try:
        yield
    finally:
        _runner_override.reset(token)


class Flow(Generic[R]):
    """A flow: the function plus its options. Created by :func:`flow`."""

    def __init__(
        self,
        fn: Callable[..., R],
        name: str | None = None,
        version: str | None = None,
        flow_run_name: str | Callable[..., str] | None = None,
        task_runner: TaskRunner | type[TaskRunner] | None = None,
        description: str | None = None,
        retries: int | None = None,
        retry_delay_seconds: float | None = None,
        timeout_seconds: float | None = None,
        validate_parameters: bool = True,
        log_prints: bool | None = None,
        on_completion: list[Callable[..., Any]] | None = None,
        on_failure: list[Callable[..., Any]] | None = None,
        on_cancellation: list[Callable[..., Any]] | None = None,
        on_crashed: list[Callable[..., Any]] | None = None,
        on_running: list[Callable[..., Any]] | None = None,
        **prefect_options: Any,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"@flow expects a function, got {fn!r}")
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "flow").replace("_", "-")
        self.version = version
        self.flow_run_name = flow_run_name
        if isinstance(task_runner, type):
            task_runner = task_runner()
        if task_runner is not None and not isinstance(task_runner, TaskRunner):
            raise TypeError(f"task_runner must be a flowc task runner, got {task_runner!r}")
        self.task_runner: TaskRunner = task_runner or ThreadPoolTaskRunner()
        self.description = description or inspect.getdoc(fn)
        self.retries = int(retries or 0)
        self.retry_delay_seconds = float(retry_delay_seconds or 0)
        if timeout_seconds is not None and timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be positive, got {timeout_seconds}")
        self.timeout_seconds = timeout_seconds
        self.should_validate_parameters = validate_parameters
        self.log_prints = log_prints
        if log_prints:
            from flowc.runtime.prints import install_print_logging

            install_print_logging()
        self.on_completion = list(on_completion or ())
        self.on_failure = list(on_failure or ())
        self.on_cancellation = list(on_cancellation or ())
        self.on_crashed = list(on_crashed or ())
        self.on_running = list(on_running or ())
        self.prefect_options = prefect_options
        self.isasync = inspect.iscoroutinefunction(fn)
        #: a function that yields: calling the flow gives a generator (flowc.runtime.generators)
        self.isgenerator = inspect.isgeneratorfunction(fn)
        self.signature = inspect.signature(fn)
        self._validator: Any = None
        self._as_task: Task[Any] | None = None
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__name__ = getattr(fn, "__name__", self.name)
        self.__qualname__ = getattr(fn, "__qualname__", self.name)
        self.__module__ = getattr(fn, "__module__", __name__)
        self.__wrapped__ = fn

    # ----------------------------------------------------------------- parameters

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise ParameterTypeError(f"flow {self.name!r}: {exc}") from None
        bound.apply_defaults()
        return dict(bound.arguments)

    def validate_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """Parameters coerced to the signature's annotations, as Prefect does with pydantic."""
        if not self.should_validate_parameters:
            return parameters
        from flowc.runtime.validation import validate_parameters

        return validate_parameters(self, parameters)

    def render_run_name(self, parameters: dict[str, Any]) -> str | None:
        template = self.flow_run_name
        if template is None:
            return None
        try:
            return str(template() if callable(template) else template.format(**parameters))
        except Exception as exc:
            raise ValueError(
                f"flow_run_name {template!r} of flow {self.name!r} could not be rendered: {exc}"
            ) from None

    def as_task(self) -> Task[Any]:
        """The pseudo-task that records a call of this flow as a subflow in its parent."""
        if self._as_task is None:

            def subflow(*args: Any, **kwargs: Any) -> Any:  # pragma: no cover - never placed
                raise RuntimeError("a subflow record is not executed")

            subflow.__signature__ = self.signature  # type: ignore[attr-defined]
            self._as_task = Task(subflow, name=f"flow:{self.name}")
        return self._as_task

    def with_options(self, **overrides: Any) -> Flow[R]:
        clone = copy.copy(self)
        options = {
            "name": self.name,
            "version": self.version,
            "flow_run_name": self.flow_run_name,
            "task_runner": self.task_runner,
            "description": self.description,
            "retries": self.retries,
            "retry_delay_seconds": self.retry_delay_seconds,
            "timeout_seconds": self.timeout_seconds,
            "validate_parameters": self.should_validate_parameters,
            "log_prints": self.log_prints,
            "on_completion": self.on_completion,
            "on_failure": self.on_failure,
            "on_cancellation": self.on_cancellation,
            "on_crashed": self.on_crashed,
            "on_running": self.on_running,
            **self.prefect_options,
        }
        options.update(overrides)
        Flow.__init__(clone, self.fn, **options)
        return clone

    # ----------------------------------------------------------------- server-only

    def serve(self, *args: Any, **kwargs: Any) -> Any:
        """Prefect serves deployments from its server; flowc says in one line it has none."""
        from flowc.server import server_required

        server_required(f"{self.name}.serve()")

    def deploy(self, *args: Any, **kwargs: Any) -> Any:
        from flowc.server import server_required

        server_required(f"{self.name}.deploy()")

    def to_deployment(self, *args: Any, **kwargs: Any) -> Any:
        from flowc.server import server_required

        server_required(f"{self.name}.to_deployment()")

    @classmethod
    def from_source(cls, *args: Any, **kwargs: Any) -> Any:
        from flowc.server import server_required

        server_required("flow.from_source()")

    # ----------------------------------------------------------------- running

    def __call__(self, *args: Any, return_state: bool = False, **kwargs: Any) -> Any:
        if self.isasync:
            return self._call_async(args, kwargs, return_state)
        if self.isgenerator:
            if return_state:
                raise ValueError("The return_type for a generator flow must be 'result'")
            from flowc.runtime.generators import run_generator_flow

            return run_generator_flow(self, args, kwargs)
        flow_run = self._start_run(args, kwargs)
        if isinstance(flow_run, State):
            return returned_value(flow_run, return_state)
        state = self._execute(flow_run, lambda: self._call_body_sync(flow_run))
        return returned_value(state, return_state, flow_run)

    async def _call_async(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], return_state: bool
    ) -> Any:
        import asyncio

        flow_run = self._start_run(args, kwargs)
        if isinstance(flow_run, State):
            return returned_value(flow_run, return_state)
        loop = asyncio.get_running_loop()
        holder: dict[str, Any] = {}

        args, kwargs = self.call_arguments(flow_run.parameters)

        async def body() -> None:
            holder["value"] = await self.fn(*args, **kwargs)  # type: ignore[misc]

        def call() -> Any:
            # The body runs on the caller's loop; this thread only waits for it.
            asyncio.run_coroutine_threadsafe(body(), loop).result()
            return holder.get("value")

        state = await asyncio.to_thread(self._execute, flow_run, call)
        return returned_value(state, return_state, flow_run)

    def _start_run(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], depth: int = 2
    ) -> FlowRun | State:
        """Bind and resolve parameters; for a subflow, record it in the parent first.

        ``depth``: how many frames up the user's call is (the subflow record's call site).
        """
        parameters = self.bind(args, kwargs)
        parent = flow_run_var.get()
        record = None
        if parent is not None:
            record = engine.create_run(
                self.as_task(),
                "subflow",
                parent,
                parameters,
                None,
                task_run_var.get(),
                engine.caller_site(depth),
            )
            record.observed = True
            for upstream in engine.upstreams_of(record):
                upstream.wait()
            blocker = engine.first_blocking_upstream(record)
            if blocker is not None:
                exc = UpstreamTaskError(
                    f"Upstream task run '{blocker.id}' did not reach a 'COMPLETED' state."
                )
                engine.finalize(record, states.NotReady(str(exc)))
                raise exc
            record.run_count = 1
            record.start = time.time()
            engine.set_state(record, states.Running())
        resolved = resolve_inputs(parameters)
        try:
            parameters = self.validate_parameters(resolved)
        except ParameterTypeError as exc:
            return self._rejected_run(resolved, parent, record, exc)
        return FlowRun(self, parameters, parent, record)

    def _rejected_run(
        self,
        parameters: dict[str, Any],
        parent: FlowRun | None,
        record: Any,
        exc: ParameterTypeError,
    ) -> State:
        """Parameters that fail validation: a flow run that ends Failed without running.

        Prefect creates the flow run first and fails it in its first state change, so the run
        exists (in reports, for hooks) and the call then raises the validation error.
        """
        flow_run = FlowRun(self, parameters, parent, record, render_name=False)
        flow_run.start = time.time()
        failed = states.Failed(
            f"Validation of flow parameters failed with error: {type(exc).__name__}: {exc}",
            data=exc,
        )
        _end_flow_run(self, flow_run, failed)
        return failed

    def call_arguments(self, parameters: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        bound = inspect.BoundArguments(self.signature, parameters)  # type: ignore[arg-type]
        return bound.args, bound.kwargs

    def _call_body_sync(self, flow_run: FlowRun) -> Any:
        args, kwargs = self.call_arguments(flow_run.parameters)
        if self.timeout_seconds is None:
            return self.fn(*args, **kwargs)
        return _call_with_timeout(self, lambda: self.fn(*args, **kwargs), self.timeout_seconds)

    def _execute(self, flow_run: FlowRun, call: Callable[[], Any]) -> State:
        """Enter a fresh runner, run the body (with retries), wait for every task run.

        An interrupt (Ctrl-C) or ``SystemExit`` stops at once: queued work is cancelled,
        running work abandoned, and the flow run still ends ``Crashed`` with its hooks called
        and its record finished, before the interrupt propagates. A runner that cannot start
        (a cluster address nobody answers) crashes the flow run with the runner's message.
        """
        with fewer_collections():
            return self._execute_run(flow_run, call)

    def _execute_run(self, flow_run: FlowRun, call: Callable[[], Any]) -> State:
        flow_run.runner = (_runner_override.get() or self.task_runner).duplicate()
        flow_run.start = time.time()
        state: State = states.Pending()
        try:
            flow_run.runner.__enter__()
        except Exception as exc:
            message = f"The task runner could not start: {type(exc).__name__}: {exc}"
            crashed = states.Crashed(message, data=exc)
            _end_flow_run(self, flow_run, crashed)
            return crashed
        try:
            with _entered(flow_run.runner):
                tokens = enter_context(flow_run)
                try:
                    state = self._run_attempts(flow_run, call)
                    flow_run.wait_for_task_runs()
                    warn_unresolved(flow_run)
                except BaseException:
                    flow_run.runner.note_abandoned()
                    raise
                finally:
                    exit_context(tokens)
        except (KeyboardInterrupt, SystemExit) as exc:
            cause = "an interrupt signal" if isinstance(exc, KeyboardInterrupt) else "a system exit"
            _cancel_unfinished(flow_run)
            _end_flow_run(
                self, flow_run, states.Crashed(f"Execution was aborted by {cause}.", data=exc)
            )
            raise
        _end_flow_run(self, flow_run, state)
        return state

    def _run_attempts(self, flow_run: FlowRun, call: Callable[[], Any]) -> State:
        flow_run.state = states.Running()
        _call_flow_hooks(self, flow_run, self.on_running)
        state: State = states.Pending()
        for attempt in range(self.retries + 1):
            flow_run.run_count = attempt + 1
            state = run_body(flow_run, call)
            if not self.isasync:
                _settle_abandoned_calls(flow_run, state)
            if not state.is_failed() or attempt == self.retries:
                break
            flow_run.state = states.AwaitingRetry(f"Retry {attempt + 1}/{self.retries}")
            time.sleep(self.retry_delay_seconds)
        return state

    def __repr__(self) -> str:
        return f"Flow(name={self.name!r})"


def _call_with_timeout(flow: Flow[Any], call: Callable[[], Any], seconds: float) -> Any:
    """Run the body on a helper thread so the flow can fail at its timeout."""
    from flowc.exceptions import TaskRunTimeoutError

    result: dict[str, Any] = {}
    context = __import__("contextvars").copy_context()

    def target() -> None:
        try:
            result["value"] = context.run(call)
        except BaseException as exc:  # handed back to the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=target, name=f"flowc-flow-{flow.name}", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        if thread.ident is not None:
            raise_in_thread(thread.ident, TaskRunTimeoutError)
        raise TaskRunTimeoutError(f"Flow run exceeded timeout of {seconds} second(s)")
    if "error" in result:
        raise result["error"]
    return result.get("value")


@contextlib.contextmanager
def _entered(runner: TaskRunner) -> Iterator[TaskRunner]:
    """Exit a runner that was entered already, however the block ends."""
    try:
        yield runner
    finally:
        runner.__exit__(None, None, None)


def _settle_abandoned_calls(flow_run: FlowRun, state: State) -> None:
    """End the direct calls the body left unfinished when it stopped.

    A direct task call or a subflow call runs in the body's own thread, so once the body has
    returned or raised, one that is not final never will be: an exception raised inside
    flowc's own machinery (a ``RecursionError`` near the interpreter's limit) left it. It
    ends ``Crashed`` with that exception, so waiting for the flow's task runs cannot hang.
    """
    cause = state.data if isinstance(state.data, BaseException) else None
    for run in list(flow_run.runs):
        if run.is_final() or run.parent is not None or run.kind not in ("call", "subflow"):
            continue
        if run.state.is_final():  # its state was set; only waking its waiters was cut short
            run.release()
            continue
        why = f" by {type(cause).__name__}: {cause}" if cause is not None else ""
        crashed = states.Crashed(f"The call was abandoned{why}", data=cause)
        engine.finalize(run, crashed)


def _cancel_unfinished(flow_run: FlowRun) -> None:
    """After an interrupt, nothing will run the flow's unfinished task runs: cancel them."""
    for run in list(flow_run.runs):
        if not run.is_final():
            engine.finalize(run, states.Cancelled("The flow run was interrupted."))


def _end_flow_run(flow: Flow[Any], flow_run: FlowRun, state: State) -> None:
    flow_run.state = state
    flow_run.end = time.time()
    _after_flow_run(flow, flow_run, state)


def _after_flow_run(flow: Flow[Any], flow_run: FlowRun, state: State) -> None:
    if flow_run.record is not None:
        engine.finalize(flow_run.record, state.copy())
    if state.is_completed():
        _call_flow_hooks(flow, flow_run, flow.on_completion)
    elif state.is_failed():
        _call_flow_hooks(flow, flow_run, flow.on_failure)
    elif state.is_crashed():
        _call_flow_hooks(flow, flow_run, flow.on_crashed)
    elif state.is_cancelled():
        _call_flow_hooks(flow, flow_run, flow.on_cancellation)
    if flow_run.parent is None:
        from flowc.runtime.report import notify_finished

        notify_finished(flow_run)


def _call_flow_hooks(flow: Flow[Any], flow_run: FlowRun, hooks: list[Callable[..., Any]]) -> None:
    for hook in hooks:
        try:
            hook(flow, flow_run, flow_run.state)
        except Exception:
            engine.logger.exception("hook %r of flow %r raised; ignored", hook, flow.name)


@overload
def flow(__fn: Callable[..., R]) -> Flow[R]: ...


@overload
def flow(__fn: None = None, **options: Any) -> Callable[[Callable[..., R]], Flow[R]]: ...


def flow(__fn: Callable[..., R] | None = None, **options: Any) -> Any:
    """Decorate a function as a flow, bare (``@flow``) or with options."""
    if __fn is not None:
        return Flow(__fn, **options)
    return lambda fn: Flow(fn, **options)
