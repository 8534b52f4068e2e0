"""What a flow run needs of its compiled plan, as plain data: the flow's name, why it cannot
run from its plan (if so), and each call site's count for the progress totals.

The Plan is a pydantic model: building its models costs a process tens of milliseconds,
and compiling one costs libcst. ``flowc run`` keeps these facts in its plan cache
(:mod:`flowc.runplan`), so running an unchanged file again needs neither libcst nor pydantic,
and the runtime holds only this.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

__all__ = ["FlowFacts", "pick_flow"]


class _Named(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def qualname(self) -> str: ...


_F = TypeVar("_F", bound=_Named)


def pick_flow(flows: Sequence[_F], name: str | None) -> _F:
    """The flow ``name`` names (its flow name, qualified or function name), or the only one;
    KeyError saying which flows there are. One rule for a Plan and for its cached facts."""
    if name is None:
        if len(flows) != 1:
            names = ", ".join(f.name for f in flows) or "none"
            raise KeyError(f"the plan has {len(flows)} flows ({names}): name one")
        return flows[0]
    for flow in flows:
        if name in (flow.name, flow.qualname, flow.qualname.rsplit(".", 1)[-1]):
            return flow
    raise KeyError(f"no flow {name!r} in the plan (flows: {', '.join(f.name for f in flows)})")


@dataclass(frozen=True)
class FlowFacts:
    """One flow of a compiled plan, as a run needs it."""

    name: str
    qualname: str
    #: why the flow cannot run from its plan (``file:line:col: graph break: ...``), or None.
    blocker: str | None
    #: (task name, run count) per call site; 0 where the count is known only at run time.
    counts: tuple[tuple[str, int], ...] = ()
    #: (call site id, priority) per site: its longest path through the graph of call sites,
    #: which the runs of the site take (see flowc.runtime.planmode); None where that graph
    #: has a cycle (runs of two sites alternate in a loop) and runs must be ordered one by one.
    priorities: tuple[tuple[str, float], ...] | None = None
    #: whether those priorities can start ready runs in another order than they became ready:
    #: False where first come, first served already runs the longest path first (a map, then
    #: a map over its futures), so a runner needs no priority queue.
    reorders: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "qualname": self.qualname,
            "blocker": self.blocker,
            "counts": [list(pair) for pair in self.counts],
            "priorities": (
                [list(pair) for pair in self.priorities] if self.priorities is not None else None
            ),
            "reorders": self.reorders,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FlowFacts:
        """The facts ``to_dict`` gave; ValueError, TypeError or KeyError for anything else."""
        blocker = data["blocker"]
        if not isinstance(data["name"], str) or not isinstance(data["qualname"], str):
            raise TypeError("flow names must be strings")
        if blocker is not None and not isinstance(blocker, str):
            raise TypeError("blocker must be a string or null")
        counts = tuple((str(task), int(count)) for task, count in data["counts"])
        given = data["priorities"]
        priorities = (
            tuple((str(site), float(value)) for site, value in given) if given is not None else None
        )
        reorders = data["reorders"]
        if not isinstance(reorders, bool):
            raise TypeError("reorders must be a boolean")
        return cls(data["name"], data["qualname"], blocker, counts, priorities, reorders)
