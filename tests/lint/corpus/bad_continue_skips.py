# ruff: noqa
from prefect import flow, task, unmapped
from prefect.futures import as_completed, wait


@task
def add(x, y=1):
    return x + y


@task
def total(values):
    return sum(values)


@flow
def f(xs: list[int]):
    for x in xs:
        fut = add.submit(x)  # expect: FC001
        if x < 0:
            continue
        fut.result()
