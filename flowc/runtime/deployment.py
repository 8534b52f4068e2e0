"""``prefect.runtime.deployment``: the deployment the current flow run came from.

flowc runs flows locally, never from a deployment, so ``id``, ``name`` and ``version`` are
``None``. As in Prefect, ``flow_run_id`` is the current flow run's id and ``parameters`` are
that flow run's parameters (Prefect reads them from the flow run, deployment or not).
"""

from __future__ import annotations

from flowc.runtime import flow_run
from flowc.runtime.runinfo import FieldReader


def _no_deployment() -> None:
    return None


FIELDS = {
    "id": _no_deployment,
    "flow_run_id": flow_run.get_id,
    "parameters": flow_run.get_parameters,
    "name": _no_deployment,
    "version": _no_deployment,
}

#: the module's attributes, each read when accessed (see the module docstring).
__all__ = sorted(FIELDS)

__getattr__ = FieldReader(__name__, "PREFECT__RUNTIME__DEPLOYMENT__", FIELDS)


def __dir__() -> list[str]:
    return sorted(__all__)
