"""An accumulating chain: each step takes the previous step's future."""

from prefect import flow, task


@task
def start() -> list[int]:
    return [1000]


@task
def step(acc: list[int], k: int) -> list[int]:
    return acc + [k]


@task
def finish(acc: list[int]) -> int:
    return sum(acc)


@flow
def chain(steps: int = 4) -> int:
    prev = start.submit()
    for k in range(steps):
        prev = step.submit(prev, k)
    direct = start()
    for k in range(2):
        direct = step(direct, k)
    return finish.submit(prev).result() + finish(direct)
