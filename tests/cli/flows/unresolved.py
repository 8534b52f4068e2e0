"""Submits a task and never resolves its future: flowc waits and warns (FC001)."""

from flowc import flow, task


@task
def forgotten() -> int:
    return 1


@flow
def leaky() -> str:
    forgotten.submit()
    return "ok"
