"""Exceptions raised by flowc, named and shaped as Prefect's so user code that catches them works.

Each subclasses the builtin it behaves like (a mapping error is a ``ValueError``, a reserved
parameter name a ``TypeError``) so callers that know nothing of flowc still catch them.
"""

from __future__ import annotations

__all__ = [
    "CancelledRun",
    "ConfigurationError",
    "CrashedRun",
    "FailedRun",
    "FlowcError",
    "MappingLengthMismatch",
    "MappingMissingIterable",
    "MissingContextError",
    "ParameterTypeError",
    "PrefectException",
    "ReservedArgumentError",
    "TaskRunTimeoutError",
    "UnfinishedRun",
    "UpstreamTaskError",
]


class FlowcError(Exception):
    """Base class of every error flowc raises on purpose."""


#: Code written for Prefect catches ``PrefectException``; it is the same base here.
PrefectException = FlowcError


class MissingContextError(FlowcError, RuntimeError):
    """An operation needs a running flow (e.g. ``task.submit`` outside any flow)."""


class ReservedArgumentError(FlowcError, TypeError):
    """A task function uses a parameter name that ``.submit``/``.map`` reserve."""


class MappingLengthMismatch(FlowcError, ValueError):
    """``.map`` was given iterables of different lengths."""


class MappingMissingIterable(FlowcError, ValueError):
    """``.map`` was given no iterable argument to map over."""


class UpstreamTaskError(FlowcError, RuntimeError):
    """A task's upstream did not complete, so the task did not run."""


class UnfinishedRun(FlowcError, RuntimeError):
    """A result was asked of a run that is not in a final state."""


class FailedRun(FlowcError, RuntimeError):
    """A run failed without an exception of its own to re-raise (e.g. failed upstreams)."""


class CrashedRun(FlowcError, RuntimeError):
    """A run was interrupted by something outside its code: a dead worker, an interrupt."""


class CancelledRun(FlowcError, RuntimeError):
    """A run was cancelled before it finished."""


class TaskRunTimeoutError(FlowcError, TimeoutError):
    """A task run exceeded its ``timeout_seconds``."""


class ParameterTypeError(FlowcError, TypeError):
    """A flow was called with parameters that do not match its signature."""


class ConfigurationError(FlowcError, ValueError):
    """Options that cannot work together (e.g. SERIALIZABLE isolation without a lock manager)."""
