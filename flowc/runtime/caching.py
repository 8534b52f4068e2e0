"""Where the engine meets results, caches, transactions and checkpoints: one lookup before a
task run is placed, one settlement when it is final.

Prefect runs every task run inside a transaction of its own, keyed by the task's cache policy:
a key already recorded in the result store means the run is ``Cached`` (it does not run); a
completed run stages its result, which is committed (hooks, then the record, if the task
persists results) at once, or when the enclosing ``transaction()`` commits; a failed run rolls
the enclosing transaction back. This module does the same around flowc's engine, on the driver:

* :func:`capture` (at creation, where the task was called or submitted) remembers the
  enclosing transaction — the engine may dispatch the run later, from another thread;
* :func:`resume` finishes a run from ``--resume``'s checkpoint, and :func:`lookup` from the
  result store, before anything is placed;
* :func:`settle` stores a completed run's result in the checkpoint and commits or hands on its
  transaction, or rolls it back if the run failed — before anything downstream can start.

Runs of plain tasks (no key, no transaction, no commit hooks: Prefect's default settings)
skip all of it at the cost of one attribute test.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from flowc.runtime import states
from flowc.runtime.states import State, StateType
from flowc.transactions import get_transaction

if TYPE_CHECKING:
    from flowc.runtime.taskrun import TaskRun
    from flowc.transactions import Transaction

__all__ = ["NOT_SET", "capture", "lookup", "resolve_policy", "resume", "settle", "wanted"]

logger = logging.getLogger("flowc.runtime")


class _NotSet:
    def __repr__(self) -> str:
        return "NotSet"

    def __bool__(self) -> bool:
        return False


#: an option the user did not give (``None`` is a value of ``cache_policy``).
NOT_SET: Any = _NotSet()
#: a run finished from ``--resume``: its checkpoint entry is not written again.
_RESUMED: Any = object()


class _Own:
    """A run's own transaction, begun by :func:`lookup` (``run.transaction`` holds the
    enclosing one until then): only that one is committed or rolled back for the run."""

    __slots__ = ("txn",)

    def __init__(self, txn: Transaction) -> None:
        self.txn = txn


# --------------------------------------------------------------------------- task options


def resolve_policy(
    persist_result: bool | None,
    cache_policy: Any,
    cache_key_fn: Any,
    result_storage_key: str | None,
    result_storage: Any,
    result_serializer: Any,
) -> tuple[bool | None, Any]:
    """``(persist_result, cache_policy)`` as Prefect's ``Task`` resolves the options given.

    Any caching option turns persistence on; ``persist_result=False`` turns caching off; no
    policy means ``DEFAULT``; a ``result_storage_key`` is the key itself (policy None).
    """
    from flowc.cache_policies import DEFAULT, NO_CACHE, CachePolicy

    if os.environ.get("PREFECT_TASKS_DISABLE_CACHING", "").lower() in ("1", "true"):
        cache_policy = NO_CACHE
    if cache_key_fn is not None:
        cache_policy = CachePolicy.from_cache_key_fn(cache_key_fn)
    if persist_result is None and (
        (_given(cache_policy) and cache_policy is not None and cache_policy != NO_CACHE)
        or cache_key_fn is not None
        or result_storage_key is not None
        or result_storage is not None
        or result_serializer is not None
    ):
        persist_result = True
    if persist_result is False:
        return False, None if cache_policy is None else NO_CACHE
    if not _given(cache_policy) and result_storage_key is None:
        return persist_result, DEFAULT
    if cache_policy != NO_CACHE and result_storage_key:
        return persist_result, None
    return persist_result, cache_policy if _given(cache_policy) else None


def _given(value: Any) -> bool:
    return value is not NOT_SET


def _persists(run: TaskRun) -> bool:
    """The task's ``persist_result``, else its flow's, else the
    ``PREFECT_RESULTS_PERSIST_BY_DEFAULT`` setting."""
    task = run.task
    if task.persist_result is not None:
        return bool(task.persist_result)
    flow_run = run.flow_run
    root = flow_run.root if flow_run is not None else None
    while flow_run is not None:  # a worker's stand-in flow run has no options
        chosen = getattr(flow_run.flow, "prefect_options", {}).get("persist_result")
        if chosen is not None:
            return bool(chosen)
        flow_run = flow_run.parent
    known = getattr(root, "persist_by_default", None)
    if known is None:
        from flowc.settings import PREFECT_RESULTS_PERSIST_BY_DEFAULT

        known = bool(PREFECT_RESULTS_PERSIST_BY_DEFAULT.value())
        if root is not None and hasattr(root, "persist_by_default"):
            root.persist_by_default = known  # the setting as this flow run started
    return known


def wanted(run: TaskRun) -> bool:
    """Whether the run needs the driver before it is placed (a key to look up, a transaction):
    such runs are neither pipelined nor fused."""
    return run.transaction is not None or wanted_by_task(run)


def wanted_by_task(run: TaskRun) -> bool:
    """The part of :func:`wanted` that is the same for every run of a task in one flow run:
    the task's cache options and whether its results persist."""
    task = run.task
    return bool(
        task.on_commit_hooks
        or task.result_storage_key is not None
        or (task.cache_policy is not None and _persists(run))
    )


# --------------------------------------------------------------------------- the engine's calls


def capture(run: TaskRun) -> None:
    """Remember the transaction the run was created in (called where the task was called)."""
    run.transaction = get_transaction()


def resume(run: TaskRun) -> State | None:
    """With ``--checkpoint``: key the run; with ``--resume``, its state from a stored result."""
    flow_run = run.flow_run
    options = flow_run.root.plan if flow_run is not None else None
    if options is None or options.checkpoint is None or run.kind == "subflow":
        return None
    from flowc.runtime.hashing import inputs_hash, task_source_hash

    store = options.checkpoint
    inputs = inputs_hash(run.parameters, lambda upstream: upstream.checkpoint_key)
    if inputs is None or run.node is None:
        return None
    run.checkpoint_key = key = store.key(run.node, task_source_hash(run.task.fn), inputs)
    if not options.resume:
        return None
    found, value = store.get(key)
    if not found:
        return None
    run.transaction = _RESUMED
    return states.Cached(data=value, message=f"Resumed from checkpoint {store.directory}.")


def lookup(run: TaskRun, inputs: dict[str, Any]) -> State | None:
    """Begin the run's own transaction; its ``Cached`` state if its key is already recorded.

    ``inputs`` are the run's resolved arguments (what the cache policy hashes).
    """
    if not wanted(run):
        return None
    from flowc.transactions import Transaction

    task = run.task
    persist = _persists(run)
    key = _key(run, inputs) if persist or task.result_storage_key is not None else None
    parent = run.transaction if not isinstance(run.transaction, _Own) else None
    policy = task.cache_policy
    isolation = getattr(policy, "isolation_level", None)
    store = _store(run, parent) if key is not None else None
    overwrite = task.refresh_cache
    if overwrite is None:
        from flowc.settings import PREFECT_TASKS_REFRESH_CACHE

        overwrite = bool(PREFECT_TASKS_REFRESH_CACHE.value())
    txn = Transaction(
        key=key,
        store=store,
        overwrite=overwrite,
        write_on_commit=persist,
        isolation_level=isolation,
        parent=parent,
    )
    txn.begin()
    if txn.is_committed():
        try:
            value = txn.read().result
        except ValueError as error:
            logger.warning("task %r: cached result not used (%s)", task.name, error)
            txn.state = type(txn.state).ACTIVE
        else:
            txn.finish()
            run.transaction = None
            run.run_count = 1  # Prefect counts the run that found the record
            return states.Cached(data=value)
    run.transaction = _Own(txn)
    return None


def settle(run: TaskRun, state: State) -> None:
    """Checkpoint a completed run's result, then commit its transaction (or hand it to the
    enclosing one); roll back for a run that failed. Never raises into the engine."""
    try:
        own = run.transaction
        if own is _RESUMED:
            return
        txn = own.txn if isinstance(own, _Own) else None
        if state.is_completed():
            if run.checkpoint_key is not None:
                _checkpoint(run, state.data)
            if txn is not None:
                _commit(run, txn, state.data)
        elif txn is not None and state.is_final():
            if state.type is StateType.PENDING:  # NotReady: it never ran
                return
            error = state.data if isinstance(state.data, BaseException) else RuntimeError()
            txn.finish(error)
    except Exception:
        logger.exception("flowc could not settle the transaction of task run %s", run.name)


# --------------------------------------------------------------------------- internals


def _commit(run: TaskRun, txn: Transaction, value: Any) -> None:
    def rolled_back(_: Any) -> None:
        current = run.state
        if current.is_completed():
            marked = State(
                StateType.COMPLETED,
                name="RolledBack",
                message="Task rolled back as part of transaction",
                data=current.data,
            )
            marked._run = run
            run.state = marked

    rolled_back.log_on_run = False  # type: ignore[attr-defined]
    staged = value
    if txn.store is not None and txn.key:
        expiration = run.task.cache_expiration
        when = None
        if expiration is not None:
            import datetime

            when = datetime.datetime.now(datetime.timezone.utc) + expiration
        staged = txn.store.create_result_record(value, txn.key, when)
    txn.stage(
        staged,
        on_rollback_hooks=[rolled_back, *run.task.on_rollback_hooks],
        on_commit_hooks=list(run.task.on_commit_hooks),
    )
    txn.finish()


def _key(run: TaskRun, inputs: dict[str, Any]) -> str | None:
    task = run.task
    try:
        if task.cache_policy is not None:
            from flowc.context import TaskRunContext

            context = TaskRunContext.of(run)
            flow_parameters = run.flow_run.parameters if run.flow_run is not None else {}
            key = task.cache_policy.compute_key(
                task_ctx=context, inputs=inputs, flow_parameters=flow_parameters or {}
            )
            return None if key is None else str(key)
        if task.result_storage_key is not None:
            return _storage_key(run, inputs)
    except Exception as error:
        logger.warning(
            "task %r: error computing its cache key, the result will not be persisted (%s: %s)",
            task.name,
            type(error).__name__,
            error,
        )
    return None


def _storage_key(run: TaskRun, inputs: dict[str, Any]) -> str:
    """``result_storage_key`` formatted with the run's parameters and ``prefect.runtime``."""
    from flowc.context import runtime_fields

    template = str(run.task.result_storage_key)
    return template.format(**runtime_fields(run), parameters=inputs)


def _store(run: TaskRun, parent: Any) -> Any:
    from flowc.results import ResultStore

    task = run.task
    policy = task.cache_policy
    storage = task.result_storage
    flow_run = run.flow_run
    while storage is None and flow_run is not None:
        storage = getattr(flow_run.flow, "prefect_options", {}).get("result_storage")
        flow_run = flow_run.parent
    lock_manager = getattr(policy, "lock_manager", None)
    if lock_manager is None and parent is not None and parent.store is not None:
        lock_manager = parent.store.lock_manager
    return ResultStore(
        result_storage=storage,
        metadata_storage=getattr(policy, "key_storage", None),
        lock_manager=lock_manager,
    )


def _checkpoint(run: TaskRun, value: Any) -> None:
    """Store a completed run's result before anything downstream can depend on it."""
    key = run.checkpoint_key
    if key is not None and run.flow_run is not None and run.flow_run.root.plan is not None:
        store = run.flow_run.root.plan.checkpoint
        if store is not None and not store.put(key, value, task=run.task.name):
            run.checkpoint_key = None  # downstream runs are then not checkpointed either
