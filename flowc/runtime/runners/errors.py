"""Errors a runner reports about placing a call, as opposed to errors raised by the call."""

from __future__ import annotations

from flowc.exceptions import FlowcError

__all__ = ["CallNotSent"]


class CallNotSent(FlowcError, RuntimeError):
    """The call could not be sent to a worker (e.g. an argument cannot be pickled).

    The run fails (it does not crash): the problem is in what the flow passed, and the
    message names the argument so the user can fix it.
    """
