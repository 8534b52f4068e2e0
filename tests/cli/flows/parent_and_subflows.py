"""A parent flow calling two subflows, one through a helper: flowc run picks the parent."""

from prefect import flow, task


@task
def add_one(x: int) -> int:
    return x + 1


@flow
def load(n: int) -> list[int]:
    return [add_one(i) for i in range(n)]


@flow(name="summarise")
def summarise_numbers(numbers: list[int]) -> int:
    return sum(numbers)


def summarise_all(numbers: list[int]) -> int:
    return summarise_numbers(numbers)


@flow
def pipeline(n: int = 3) -> int:
    return summarise_all(load(n))
