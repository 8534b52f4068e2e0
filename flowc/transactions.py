"""Transactions: groups of task runs that commit their results together or roll back
together (``prefect.transactions``).

The model is Prefect 3's. A transaction is BEGun (with a key, it looks its record up in a
result store: found means it is already COMMITTED), then each task run inside it STAGEs its
result in a child transaction of its own; when the outermost transaction ends without error
it COMMITs: each child runs its ``on_commit`` hooks and writes its record (if its task
persists results), then the transaction writes its own record under its key. Any failure after
staging ROLLs BACK: the children's ``on_rollback`` hooks run, newest first, and their task runs
are marked ``RolledBack``. A task run that fails inside a transaction rolls the whole
transaction back at once, as in Prefect, even when the flow goes on.

``SERIALIZABLE`` isolation holds a lock on the key (through the store's lock manager) from
BEGIN to COMMIT or ROLLBACK, so two runs with the same key never both do the work.

Task bodies run on workers; the transaction they belong to is the one active where the task
was called or submitted (see :mod:`flowc.runtime.caching`), and hooks run on the driver.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import enum
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from flowc.exceptions import ConfigurationError

__all__ = [
    "CommitMode",
    "IsolationLevel",
    "Transaction",
    "TransactionState",
    "get_transaction",
    "transaction",
]

logger = logging.getLogger("flowc.runtime")

_NOT_SET = object()


class IsolationLevel(str, enum.Enum):
    READ_COMMITTED = "READ_COMMITTED"
    SERIALIZABLE = "SERIALIZABLE"


class CommitMode(str, enum.Enum):
    EAGER = "EAGER"
    LAZY = "LAZY"
    OFF = "OFF"


class TransactionState(str, enum.Enum):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    STAGED = "STAGED"
    COMMITTED = "COMMITTED"
    ROLLED_BACK = "ROLLED_BACK"


_active: contextvars.ContextVar[Transaction | None] = contextvars.ContextVar(
    "flowc_transaction", default=None
)


def get_transaction() -> Transaction | None:
    """The transaction the calling code runs in, if any."""
    return _active.get()


class Transaction:
    """One transaction; use :func:`transaction` (or a task's own, made by the engine)."""

    def __init__(
        self,
        key: str | None = None,
        store: Any = None,
        commit_mode: CommitMode | None = None,
        isolation_level: IsolationLevel | str | None = None,
        overwrite: bool = False,
        write_on_commit: bool = True,
        logger: logging.Logger | None = None,
        parent: Transaction | None = None,
    ) -> None:
        self.key = key
        self.store = store
        self.commit_mode = commit_mode
        self.isolation_level = (
            IsolationLevel(isolation_level) if isolation_level is not None else None
        )
        self.overwrite = overwrite
        self.write_on_commit = write_on_commit
        self.logger = logger or globals()["logger"]
        self.state = TransactionState.PENDING
        self.children: list[Transaction] = []
        self.on_commit_hooks: list[Callable[[Transaction], Any]] = []
        self.on_rollback_hooks: list[Callable[[Transaction], Any]] = []
        self.parent = parent
        self._stored_values: dict[str, Any] = {}
        self._staged_value: Any = None
        self._holder = str(uuid.uuid4())
        self._token: contextvars.Token[Transaction | None] | None = None
        self._lock = threading.RLock()

    # ----------------------------------------------------------------- values

    def set(self, name: str, value: Any) -> None:
        """Keep a value for the rest of the transaction (its hooks included)."""
        self._stored_values[name] = value

    def get(self, name: str, default: Any = _NOT_SET) -> Any:
        """A value set here or in an enclosing transaction (a copy: set it again to change it)."""
        if name in self._stored_values:
            return copy.deepcopy(self._stored_values[name])
        if self.parent is not None:
            return self.parent.get(name, default)
        if default is not _NOT_SET:
            return default
        raise ValueError(f"Could not retrieve value for unknown key: {name}")

    # ----------------------------------------------------------------- state

    def is_committed(self) -> bool:
        return self.state is TransactionState.COMMITTED

    def is_rolled_back(self) -> bool:
        return self.state is TransactionState.ROLLED_BACK

    def is_staged(self) -> bool:
        return self.state is TransactionState.STAGED

    def is_pending(self) -> bool:
        return self.state is TransactionState.PENDING

    def is_active(self) -> bool:
        return self.state is TransactionState.ACTIVE

    def get_parent(self) -> Transaction | None:
        return self.parent

    # ----------------------------------------------------------------- lifecycle

    def begin(self) -> None:
        """Inherit unset modes, take the key's lock if SERIALIZABLE, and look the key up."""
        parent = self.parent
        if self.commit_mode is None:
            self.commit_mode = parent.commit_mode if parent is not None else CommitMode.LAZY
        if self.isolation_level is None:
            self.isolation_level = (
                parent.isolation_level if parent is not None else IsolationLevel.READ_COMMITTED
            )
        level = self.isolation_level or IsolationLevel.READ_COMMITTED
        self.isolation_level = level
        if self.store is not None and self.key and not self.store.supports_isolation_level(level):
            raise ConfigurationError(
                f"Isolation level {level.value} is not supported by provided "
                "configuration. Please ensure you've provided a lock file directory or lock "
                "manager when using the SERIALIZABLE isolation level."
            )
        self.state = TransactionState.ACTIVE
        if self._serializable():
            self.store.acquire_lock(self.key, holder=self._holder)
        recorded = self.store is not None and bool(self.key) and not self.overwrite
        if recorded and self.store.exists(self.key):
            self.state = TransactionState.COMMITTED

    def read(self) -> Any:
        """The committed record under this transaction's key (``.result`` is the value)."""
        if self.store is not None and self.key:
            return self.store.read(self.key, holder=self._holder)
        return None

    def stage(
        self,
        value: Any,
        on_rollback_hooks: list[Callable[..., Any]] | None = None,
        on_commit_hooks: list[Callable[..., Any]] | None = None,
    ) -> None:
        """Hold ``value`` (and the hooks) until the transaction commits or rolls back."""
        with self._lock:
            if self.state is TransactionState.COMMITTED:
                return
            self._staged_value = value
            self.on_rollback_hooks += on_rollback_hooks or []
            self.on_commit_hooks += on_commit_hooks or []
            self.state = TransactionState.STAGED

    def add_child(self, child: Transaction) -> None:
        with self._lock:
            self.children.append(child)

    def finish(self, error: BaseException | None = None) -> None:
        """End the transaction as leaving its ``with`` block does (``error``: what escaped).

        With an enclosing transaction, that one takes responsibility for committing; a
        rolled-back child rolls it back too.
        """
        if error is not None:
            self.rollback()
        elif self.commit_mode is CommitMode.EAGER:
            self.commit()
        parent = self.parent
        if parent is not None:
            parent.add_child(self)
            if self.state is TransactionState.ROLLED_BACK:
                parent.rollback()
            return
        if error is None:
            if self.commit_mode is CommitMode.OFF:
                self.rollback()
            elif self.commit_mode is CommitMode.LAZY:
                self.commit()

    def commit(self) -> bool:
        """Commit the children, run the commit hooks, write the record; False if it did not."""
        with self._lock:
            if self.state in (TransactionState.ROLLED_BACK, TransactionState.COMMITTED):
                self._release()
                return False
            children = list(self.children)
        try:
            for child in children:
                child.commit()
            for hook in self.on_commit_hooks:
                self._run_hook(hook, "commit")
            if self.store is not None and self.key and self.write_on_commit:
                from flowc.results import ResultRecord

                staged = self._staged_value
                if isinstance(staged, ResultRecord):
                    self.store.persist_result_record(staged, holder=self._holder)
                else:
                    self.store.write(staged, key=self.key, holder=self._holder)
            self.state = TransactionState.COMMITTED
            self._release()
            return True
        except Exception as error:
            self.logger.warning(
                "Transaction %r was not committed, its record could not be written "
                "(%s: %s); rolling it back",
                self.key,
                type(error).__name__,
                error,
            )
            self.rollback()
            return False

    def rollback(self) -> bool:
        """Run the rollback hooks (newest first) and roll the children back; False if done."""
        with self._lock:
            if self.state in (TransactionState.ROLLED_BACK, TransactionState.COMMITTED):
                return False
            self.state = TransactionState.ROLLED_BACK
            children = list(self.children)
        try:
            for hook in reversed(self.on_rollback_hooks):
                self._run_hook(hook, "rollback")
            for child in reversed(children):
                child.rollback()
            return True
        except Exception:
            self.logger.exception(
                "An error was encountered while rolling back transaction %r", self.key
            )
            return False
        finally:
            self._release()

    def _serializable(self) -> bool:
        return bool(
            self.store is not None
            and self.key
            and self.isolation_level is IsolationLevel.SERIALIZABLE
        )

    def _release(self) -> None:
        if self._serializable() and self.store.is_lock_holder(self.key, self._holder):
            self.store.release_lock(self.key, holder=self._holder)

    def _run_hook(self, hook: Callable[[Transaction], Any], kind: str) -> None:
        name = getattr(hook, "__name__", repr(hook))
        quiet = getattr(hook, "log_on_run", True) is False
        if not quiet:
            self.logger.info("Running %s hook %r", kind, name)
        hook(self)
        if not quiet:
            self.logger.info("%s hook %r finished running successfully", kind.capitalize(), name)

    # ----------------------------------------------------------------- with

    def __enter__(self) -> Transaction:
        if self._token is not None:
            raise RuntimeError("Context already entered. Context enter calls cannot be nested.")
        if self.parent is None:
            self.parent = _active.get()
        self.begin()
        self._token = _active.set(self)
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, traceback: Any) -> None:
        if self._token is None:
            raise RuntimeError("Asymmetric use of context. Context exit called without an enter.")
        _active.reset(self._token)
        self._token = None
        self.finish(exc if exc_type is not None else None)

    def __repr__(self) -> str:
        return f"<Transaction key={self.key!r} {self.state.value}>"


@contextlib.contextmanager
def transaction(
    key: str | None = None,
    store: Any = None,
    commit_mode: CommitMode | None = None,
    isolation_level: IsolationLevel | str | None = None,
    overwrite: bool = False,
    write_on_commit: bool = True,
    logger: logging.Logger | None = None,
) -> Iterator[Transaction]:
    """Group what runs inside the block into one transaction (see the module docstring).

    With a ``key`` the transaction keeps a record in ``store`` (default: the result store)
    when it commits; ``txn.is_committed()`` is then true for every later transaction with that
    key, which can skip the work.
    """
    if key and store is None:
        from flowc.results import ResultStore

        store = ResultStore()
    with Transaction(
        key=key,
        store=store,
        commit_mode=commit_mode,
        isolation_level=isolation_level,
        overwrite=overwrite,
        write_on_commit=write_on_commit,
        logger=logger,
    ) as txn:
        yield txn
