"""Map chains, a reduce over a list of futures, wait_for and a comprehension of submits."""

from prefect import flow, task
from prefect.futures import wait


@task
def square(x: int) -> int:
    return x * x


@task
def add_one(x: int) -> int:
    return x + 1


@task
def total(values: list[int]) -> int:
    return sum(values)


@task
def announce(message: str) -> str:
    return message


@flow
def fan(count: int = 3) -> int:
    squares = square.map(range(count))
    bumped = add_one.map(squares)
    summed = total.submit(bumped)
    extra = [square.submit(i) for i in range(2)]
    note = announce.submit("done", wait_for=[summed])
    wait([note, *extra])
    return summed.result()
