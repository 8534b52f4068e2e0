"""`.map` over a future: the future's run is an upstream of every mapped run."""

from prefect import flow, task


@task
def numbers(n: int) -> list[int]:
    return list(range(1000, 1000 + n))


@task
def inc(x: int) -> int:
    return x + 1


@flow
def map_over_future(n: int = 3) -> list[int]:
    listed = numbers.submit(n)
    plus = inc.map(listed)
    direct = inc.map(numbers(n))  # a direct call's value: a value edge
    return [*plus.result(), *direct.result()]
