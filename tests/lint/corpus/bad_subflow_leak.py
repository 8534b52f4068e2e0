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
def child(x: int):
    add.submit(x)  # expect: FC001
    return x


@flow
def f():
    return child(1)
