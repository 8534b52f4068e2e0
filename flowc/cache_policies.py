"""Prefect's cache policies (``prefect.cache_policies``): how a task run's cache key is made.

A task's cache key names the record its result is kept under in the result store; a later run
whose policy gives the same key finds that record and ends ``Cached`` without running. The
policies, their names and how they combine are Prefect 3's, so that a flow written for
Prefect caches exactly when it would: ``DEFAULT = INPUTS + TASK_SOURCE + RUN_ID`` (same inputs,
same task code, same flow run), ``INPUTS - "name"`` to ignore an argument, ``NO_CACHE`` to
opt out, ``configure(key_storage=..., isolation_level=..., lock_manager=...)``.

Keys are hashed with :func:`flowc.runtime.hashing.hash_objects` (JSON first, as Prefect does),
so equal inputs give equal keys in every process and every run.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowc.runtime.hashing import hash_objects

__all__ = [
    "DEFAULT",
    "FLOW_PARAMETERS",
    "INPUTS",
    "NONE",
    "NO_CACHE",
    "RUN_ID",
    "TASK_SOURCE",
    "CacheKeyFnPolicy",
    "CachePolicy",
    "CompoundCachePolicy",
    "FlowParameters",
    "Inputs",
    "RunId",
    "TaskSource",
]


class CacheKeyError(ValueError):
    """A policy could not hash what it covers (an input that neither JSON nor pickle takes)."""


def _hash(*args: Any) -> str:
    digest = hash_objects(*args)
    if digest is None:
        raise CacheKeyError(
            "Unable to create hash - objects could not be serialized. This often occurs when "
            "task inputs contain objects that cannot be cached like locks, file handles, or "
            "other system resources: exclude those arguments (INPUTS - 'name'), define a "
            "cache_key_fn, or pass cache_policy=NO_CACHE"
        )
    return digest


@dataclass
class CachePolicy:
    """A recipe for a task run's cache key; :meth:`compute_key` returns None for no key."""

    key_storage: Any = None
    isolation_level: Any = None
    lock_manager: Any = None

    @classmethod
    def from_cache_key_fn(cls, cache_key_fn: Callable[..., str | None]) -> CacheKeyFnPolicy:
        return CacheKeyFnPolicy(cache_key_fn=cache_key_fn)

    def configure(
        self,
        key_storage: str | Path | Any = None,
        lock_manager: Any = None,
        isolation_level: Any = None,
    ) -> CachePolicy:
        """A copy with where keys are kept, how they are locked, and the isolation level."""
        new = copy.deepcopy(self)
        if key_storage is not None:
            new.key_storage = key_storage
        if lock_manager is not None:
            new.lock_manager = lock_manager
        if isolation_level is not None:
            new.isolation_level = isolation_level
        return new

    def compute_key(
        self,
        task_ctx: Any,
        inputs: dict[str, Any],
        flow_parameters: dict[str, Any],
        **kwargs: Any,
    ) -> str | None:
        raise NotImplementedError

    def __sub__(self, other: str) -> CachePolicy:
        if not isinstance(other, str):
            raise TypeError("Can only subtract strings from key policies.")
        return self

    def __add__(self, other: CachePolicy) -> CachePolicy:
        if isinstance(other, _None):
            return self
        for name, what in (
            ("key_storage", "storage locations"),
            ("isolation_level", "isolation levels"),
            ("lock_manager", "lock implementations"),
        ):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine is not None and theirs is not None and mine != theirs:
                raise ValueError(f"Cannot add CachePolicies with different {what}.")
        return CompoundCachePolicy(
            policies=[self, other],
            key_storage=self.key_storage or other.key_storage,
            isolation_level=self.isolation_level or other.isolation_level,
            lock_manager=self.lock_manager or other.lock_manager,
        )


@dataclass
class CacheKeyFnPolicy(CachePolicy):
    """The key ``cache_key_fn(context, parameters)`` returns."""

    cache_key_fn: Callable[..., str | None] | None = None

    def compute_key(
        self,
        task_ctx: Any,
        inputs: dict[str, Any],
        flow_parameters: dict[str, Any],
        **kwargs: Any,
    ) -> str | None:
        if self.cache_key_fn is None:
            return None
        return self.cache_key_fn(task_ctx, inputs)


@dataclass
class CompoundCachePolicy(CachePolicy):
    """Several policies at once: the hash of every key they give (None ones left out)."""

    policies: list[CachePolicy] = field(default_factory=list)

    def __post_init__(self) -> None:
        flat = [
            policy
            for p in self.policies
            for policy in (p.policies if isinstance(p, CompoundCachePolicy) else [p])
        ]
        inputs = [p for p in flat if isinstance(p, Inputs)]
        self.policies = [p for p in flat if not isinstance(p, Inputs)]
        if inputs:
            excluded = sorted({name for policy in inputs for name in policy.exclude})
            self.policies.append(Inputs(exclude=excluded))

    def compute_key(
        self,
        task_ctx: Any,
        inputs: dict[str, Any],
        flow_parameters: dict[str, Any],
        **kwargs: Any,
    ) -> str | None:
        keys = []
        for policy in self.policies:
            key = policy.compute_key(
                task_ctx=task_ctx, inputs=inputs, flow_parameters=flow_parameters, **kwargs
            )
            if key is not None:
                keys.append(key)
        return _hash(*keys) if keys else None

    def __add__(self, other: CachePolicy) -> CachePolicy:
        super().__add__(other)  # the same checks
        if isinstance(other, _None):
            return self
        more = other.policies if isinstance(other, CompoundCachePolicy) else [other]
        return CompoundCachePolicy(
            policies=[*self.policies, *more],
            key_storage=self.key_storage or other.key_storage,
            isolation_level=self.isolation_level or other.isolation_level,
            lock_manager=self.lock_manager or other.lock_manager,
        )

    def __sub__(self, other: str) -> CachePolicy:
        if not isinstance(other, str):
            raise TypeError("Can only subtract strings from key policies.")
        if any(isinstance(p, Inputs) for p in self.policies):
            return CompoundCachePolicy(policies=[*self.policies, Inputs(exclude=[other])])
        return self


@dataclass
class _None(CachePolicy):
    """No key: no caching, and no result persisted."""

    def compute_key(
        self,
        task_ctx: Any,
        inputs: dict[str, Any],
        flow_parameters: dict[str, Any],
        **kwargs: Any,
    ) -> str | None:
        return None

    def __add__(self, other: CachePolicy) -> CachePolicy:
        return other


@dataclass
class TaskSource(CachePolicy):
    """The task's own source lines (not those of what it calls)."""

    def compute_key(
        self,
        task_ctx: Any,
        inputs: dict[str, Any] | None,
        flow_parameters: dict[str, Any] | None,
        **kwargs: Any,
    ) -> str | None:
        if not task_ctx:
            return None
        fn = task_ctx.task.fn
        try:
            lines: Any = inspect.getsource(fn)
        except TypeError:
            lines = inspect.getsource(type(fn))
        except OSError:
            lines = fn.__code__.co_code
        return _hash(lines)


@dataclass
class FlowParameters(CachePolicy):
    """The parameters of the flow run the task runs in."""

    def compute_key(
        self,
        task_ctx: Any,
        inputs: dict[str, Any],
        flow_parameters: dict[str, Any],
        **kwargs: Any,
    ) -> str | None:
        if not flow_parameters:
            return None
        return _hash(flow_parameters)


@dataclass
class RunId(CachePolicy):
    """The id of the flow run the task runs in (of the task run, outside a flow)."""

    def compute_key(
        self,
        task_ctx: Any,
        inputs: dict[str, Any],
        flow_parameters: dict[str, Any],
        **kwargs: Any,
    ) -> str | None:
        if not task_ctx:
            return None
        run_id = task_ctx.task_run.flow_run_id
        return str(run_id if run_id is not None else task_ctx.task_run.id)


@dataclass
class Inputs(CachePolicy):
    """The task run's arguments, but those named in ``exclude``."""

    exclude: list[str] = field(default_factory=list)

    def compute_key(
        self,
        task_ctx: Any,
        inputs: dict[str, Any],
        flow_parameters: dict[str, Any],
        **kwargs: Any,
    ) -> str | None:
        if not inputs:
            return None
        kept = {name: value for name, value in inputs.items() if name not in self.exclude}
        return _hash(kept)

    def __sub__(self, other: str) -> CachePolicy:
        if not isinstance(other, str):
            raise TypeError("Can only subtract strings from key policies.")
        return Inputs(exclude=[*self.exclude, other])


INPUTS = Inputs()
NONE = _None()
NO_CACHE = _None()
TASK_SOURCE = TaskSource()
FLOW_PARAMETERS = FlowParameters()
RUN_ID = RunId()
DEFAULT = INPUTS + TASK_SOURCE + RUN_ID
