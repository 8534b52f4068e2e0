"""Generator flows: ``@flow`` on a function that ``yield``\\ s, run lazily as Prefect runs them.

Calling such a flow returns a generator. The flow run starts at the first ``next()``; each
``next()`` resumes the body up to its next ``yield``, so the consumer's code and the flow's
interleave as they would with a plain generator; the run ends ``Completed`` when the body
returns (its return value is the state's data) or when the consumer stops early (``break``,
``close()``), and ``Failed`` when the body raises, which the consumer then sees raised.

The body runs on a helper thread that hands each item over and waits for the next request:
the flow run's context (its runner, its ``get_run_logger()``) lives in that thread only, so
nothing of it leaks into the consumer's code between two items.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from flowc.runtime.flowrun import returned_value
from flowc.runtime.states import State

if TYPE_CHECKING:
    from flowc.runtime.flowrun import FlowRun
    from flowc.runtime.flows import Flow

__all__ = ["run_generator_flow"]

_NEXT, _CLOSE = "next", "close"


def run_generator_flow(flow: Flow[Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """What calling a generator flow gives: a generator of the items its body yields."""
    started = flow._start_run(args, kwargs, depth=3)  # the user's call, above Flow.__call__
    if isinstance(started, State):  # parameters rejected: the Failed run exists; raise now
        return returned_value(started, False)
    return _items(flow, started)


def _items(flow: Flow[Any], flow_run: FlowRun) -> Iterator[Any]:
    requests: queue.SimpleQueue[str] = queue.SimpleQueue()
    replies: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()

    def body() -> Any:
        call_args, call_kwargs = flow.call_arguments(flow_run.parameters)
        generator = flow.fn(*call_args, **call_kwargs)
        try:
            while requests.get() == _NEXT:
                try:
                    item = next(generator)
                except StopIteration as stop:
                    return stop.value
                replies.put(("item", item))
            return None  # the consumer stopped early: the run completes, as in Prefect
        finally:
            generator.close()

    def run() -> None:
        try:
            state = flow._execute(flow_run, body)
        except BaseException as exc:  # an interrupt inside the body: hand it over
            replies.put(("raised", exc))
            return
        replies.put(("done", state))

    thread = threading.Thread(
        target=contextvars.copy_context().run,
        args=(run,),
        name=f"flowc-generator-flow-{flow.name}",
        daemon=True,
    )
    thread.start()
    while True:
        requests.put(_NEXT)
        try:
            kind, payload = replies.get()
        except BaseException:  # Ctrl-C while the body works: let it stop, do not wait
            requests.put(_CLOSE)
            raise
        if kind == "raised":
            raise payload
        if kind == "done":
            returned_value(payload, False)  # raises the body's exception if it failed
            return
        try:
            yield payload
        except GeneratorExit:  # the consumer stopped early: end the run before going on
            requests.put(_CLOSE)
            while replies.get()[0] == "item":
                pass
            raise
