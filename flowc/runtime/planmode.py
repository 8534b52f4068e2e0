"""Whether flow runs execute in plan mode, and with what: a context variable and its options.

Kept apart from :mod:`flowc.runtime.planexec` (which loads the optimizer) so that every flow
run can ask "plan mode?" without paying that import: a dynamic run never loads it.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flowc.runtime.nodeids import site_of

if TYPE_CHECKING:
    from flowc.planfacts import FlowFacts
    from flowc.runtime.checkpoint import CheckpointStore

__all__ = ["PlanOptions", "active_plan", "plan_mode"]


@dataclass
class PlanOptions:
    """How a flow run executes in plan mode (one object for the whole tree of flow runs)."""

    #: what the run needs of its flow's compiled plan (its name, the progress totals).
    facts: FlowFacts | None = None
    #: hold submitted runs until a flush (plan mode); False: dispatch at once, as dynamically.
    defer: bool = True
    #: run the optimizer passes (off: plan mode dispatches exactly as submitted).
    optimize: bool = True
    #: where completed results are kept (``--checkpoint``/``--resume``), if anywhere.
    checkpoint: CheckpointStore | None = None
    #: reuse the checkpointed results (``--resume``).
    resume: bool = False
    #: what each flush did, pass by pass (for tests and anyone inspecting a run).
    applied: list[list[tuple[str, str]]] = field(default_factory=list)
    #: call site id -> priority, from the compiled plan (see :meth:`priority_of`).
    site_priorities: dict[str, float] | None = field(init=False, default=None)
    #: whether ready runs should wait in a priority queue rather than first come, first
    #: served. Not where the plan shows that priority cannot change their order: on a runner
    #: that groups nothing, such a flow's runs are then dispatched as in dynamic mode.
    reorders: bool = field(init=False, default=True)

    def __post_init__(self) -> None:
        if self.facts is not None and self.facts.priorities is not None and self.optimize:
            self.site_priorities = dict(self.facts.priorities)
            self.reorders = self.facts.reorders

    def priority_of(self, node: str | None) -> float | None:
        """The priority the compiled plan gives a run of this node's call site, or None.

        Where runs are not grouped (threads) priority is all plan mode adds, and the plan
        knows it per call site before any run exists: such runs are dispatched as they are
        submitted, each with its site's priority, instead of being held for a flush.
        """
        if self.site_priorities is None or node is None:
            return None
        return self.site_priorities.get(site_of(node))


_active: contextvars.ContextVar[PlanOptions | None] = contextvars.ContextVar(
    "flowc_plan_mode", default=None
)


@contextlib.contextmanager
def plan_mode(options: PlanOptions | None = None) -> Iterator[PlanOptions]:
    """Flow runs started inside this block run in plan mode."""
    options = options if options is not None else PlanOptions()
    token = _active.set(options)
    try:
        yield options
    finally:
        _active.reset(token)


def active_plan() -> PlanOptions | None:
    return _active.get()
