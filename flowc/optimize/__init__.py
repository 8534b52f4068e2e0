"""Optimizer passes on a concrete DAG of task runs, shared by the runtime and ``flowc explain``.

The passes know nothing of how runs execute or where the graph came from: they read a few node
attributes and write others, so the plan executor runs them on the task runs it is about to
dispatch and ``flowc explain --optimized`` runs them on a compiled, expanded plan. See
:mod:`flowc.optimize.passes` for the attributes.
"""

from flowc.optimize.graph import RunGraph
from flowc.optimize.passes import (
    PASSES,
    Unit,
    batch_groups,
    fuse_chains,
    optimize,
    prioritize,
    units,
)

__all__ = [
    "PASSES",
    "RunGraph",
    "Unit",
    "batch_groups",
    "fuse_chains",
    "optimize",
    "prioritize",
    "units",
]
