"""A flow with every edge kind, a map, a subflow and a dynamic fan-out: ``flowc graph`` input."""

from flowc import flow, task


@task
def announce() -> str:
    return "starting"


@task
def source(n: int) -> list[int]:
    return list(range(n))


@task
def square(x: int) -> int:
    return x * x


@task
def total(values: list[int]) -> int:
    return sum(values)


@flow(name="inner-flow")
def inner(values: list[int]) -> int:
    return total.submit(values).result()


@flow(name="pipeline")
def pipeline(n: int = 3) -> int:
    first = announce.submit()
    numbers = source.submit(n, wait_for=[first])
    squares = square.map([1, 2, 3, 4])
    dynamic = square.map(numbers)
    summed = total.submit(squares)
    total.submit(dynamic).wait()
    return inner([1, 2]) + summed.result()
