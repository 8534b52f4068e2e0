"""Data edges, wait_for edges, a map and a subflow: the report's records and links."""

from flowc import flow, task


@task
def source(n: int) -> list[int]:
    return list(range(n))


@task
def square(x: int) -> int:
    return x * x


@task
def total(values: list[int]) -> int:
    return sum(values)


@task
def announce() -> str:
    return "starting"


@flow(name="inner-flow")
def inner(values: list[int]) -> int:
    return total.submit(values).result()


@flow(name="graph-flow")
def graph_flow(n: int = 3) -> int:
    first = announce.submit()
    numbers = source.submit(n, wait_for=[first])
    squares = square.map(numbers)
    summed = total.submit(squares)
    return inner(squares) + summed.result()
