"""Each task run's plan node id: reports, checkpoints and diagrams name runs as the compiler does.

The compiler names a call site ``<task>@<line>`` — prefixed by its subflow's or enclosing
task's site (``child@30/load@5``) and, for a call site in another module, by that module
(``helpers::load@5``) — and the ``i``-th run made there ``<site>#<i>``. The runtime sees the
same facts when a run is created: the task's name, the line of the call, the run it was
created under. Counting runs per site in creation order gives the same ids as an expanded
plan for every flow the compiler can expand, with no plan at hand.

Two call sites of one task on one line are told apart by column (``@12:5``), as the compiler
does, from the code positions of Python 3.11 and later (see :mod:`flowc.runtime.callsites`);
on Python 3.10 they share a site and their runs are numbered together.
"""

from __future__ import annotations

import itertools
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flowc.runtime.flowrun import FlowRun
    from flowc.runtime.taskrun import TaskRun

__all__ = ["assign_node_id", "site_of"]


def site_of(node_id: str) -> str:
    """The call-site part of a run's node id (``a@3/b@5#2`` -> ``a@3/b@5``)."""
    return node_id.rpartition("#")[0] or node_id


def assign_node_id(run: TaskRun, flow_run: FlowRun) -> None:
    """Give ``run`` its node id; called once, when the run is created."""
    root = flow_run.root
    name = run.task.name
    if run.kind == "subflow" and name.startswith("flow:"):
        name = name[5:]
    file, line, column = (*run.site, None)[:3] if run.site is not None else (None, 0, None)
    label = ""
    if file is not None and file != root.source_file and root.source_file is not None:
        label = os.path.splitext(os.path.basename(file))[0] + "::"
    site = f"{label}{name}@{line}" if column is None else f"{label}{name}@{line}:{column}"
    parent = run.parent if run.parent is not None else flow_run.record
    if parent is not None and parent.node is not None:
        site = f"{site_of(parent.node)}/{site}"
    counters = root.node_counters
    counter = counters.get(site)
    if counter is None:
        counter = counters.setdefault(site, itertools.count())
    run.node = f"{site}#{next(counter)}"
