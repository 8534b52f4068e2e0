"""What needs Prefect's server, and the one-line answer flowc gives instead.

flowc runs flows in the calling process (and its workers); it has no API server, so it cannot
serve, deploy or schedule flows, run deployments or use work pools and Prefect Cloud.
Documented flows call these in their ``__main__`` block or inside a flow; each stand-in raises
:class:`ServerRequiredError`, which ``flowc run`` shows as one line, never a traceback.
"""

from __future__ import annotations

from typing import Any, NoReturn

from flowc.exceptions import FlowcError

__all__ = ["ServerRequiredError", "deploy", "serve", "server_required"]


class ServerRequiredError(FlowcError, NotImplementedError):
    """The call needs Prefect's server (deployments, work pools, schedules, Cloud)."""


def server_required(what: str) -> NoReturn:
    raise ServerRequiredError(
        f"{what} needs a Prefect server, which flowc does not have: flowc runs flows locally "
        "(no deployments, work pools, blocks, schedules or Cloud); call the flow directly or "
        "use `flowc run FILE`"
    )


def serve(*args: Any, **kwargs: Any) -> NoReturn:
    """``prefect.serve``: serving deployments needs a server."""
    server_required("serve()")


def deploy(*args: Any, **kwargs: Any) -> NoReturn:
    """``prefect.deploy``: creating deployments needs a server."""
    server_required("deploy()")
