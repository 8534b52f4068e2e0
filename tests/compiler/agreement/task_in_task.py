"""Tasks that call, submit and map other tasks inside their body."""

from prefect import flow, task


@task
def leaf(x: int) -> int:
    return x + 1000


@task
def branch(x: int) -> int:
    a = leaf(x)
    b = leaf.submit(x + 1)
    return a + b.result()


@task
def fan(n: int) -> list[int]:
    futures = leaf.map(range(n))
    return [f.result() for f in futures]


@flow
def task_in_task() -> int:
    total = branch.submit(1)
    spread = fan(3)
    return total.result() + len(spread)
