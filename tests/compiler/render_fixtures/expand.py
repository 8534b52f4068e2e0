"""A static fan-out of 30 runs: ``--expand`` with ``--max-runs`` re-collapses it."""

from flowc import flow, task


@task
def double(x: int) -> int:
    return 2 * x


@task
def add(values: list[int]) -> int:
    return sum(values)


@flow(name="fan")
def fan(n: int = 30) -> int:
    doubled = double.map(range(n))
    return add.submit(doubled).result()
