"""Tasks at Prefect's import path (``prefect.tasks``), with ``task_input_hash``."""

from __future__ import annotations

from typing import Any

from flowc.runtime.hashing import hash_objects
from flowc.runtime.tasks import Task, task

__all__ = ["Task", "task", "task_input_hash"]


def task_input_hash(context: Any, arguments: dict[str, Any]) -> str | None:
    """A cache key of the task (its key and bytecode) and all its arguments, as Prefect's.

    None when the arguments cannot be hashed: the run is then not cached.
    """
    fn = context.task.fn
    code = getattr(fn, "__code__", None)
    return hash_objects(context.task.task_key, code.co_code.hex() if code else "", arguments)
