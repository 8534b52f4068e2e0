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
def f(n: int):
    while n > 0:
        add.submit(n)  # expect: FC001
        n -= 1
