"""``prefect.deployments``: deployments live on Prefect's server, which flowc does not have.

``run_deployment`` (and any other name imported from here) raises
:class:`~flowc.server.ServerRequiredError` with a one-line explanation.
"""

from __future__ import annotations

from typing import Any, NoReturn

from flowc.server import server_required

__all__ = ["run_deployment"]


def run_deployment(name: Any = None, *args: Any, **kwargs: Any) -> NoReturn:
    server_required(f"run_deployment({name!r})" if name is not None else "run_deployment()")


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    server_required(f"prefect.deployments.{name}")
