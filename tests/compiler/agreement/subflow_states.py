"""A subflow returning a list of futures: its caller gets States, which feed a later task."""

from prefect import flow, task


@task
def shard(k: int) -> list[int]:
    return [k * 1000 + j for j in range(2)]


@task
def combine(parts: list) -> int:
    return sum(len(p) for p in parts) + 1000


@task
def describe(part) -> str:
    return str(part)


@flow(name="sharder")
def sharder(n: int) -> list:
    return [shard.submit(k) for k in range(n)]


@flow
def subflow_states() -> int:
    states = sharder(3)
    first = describe.submit(states[0])
    total = combine.submit(states)
    return total.result() + len(first.result())
