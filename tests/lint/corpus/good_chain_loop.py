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
    prev = add.submit(0)
    for x in xs:
        prev = add.submit(x, prev)
    return prev.result()
