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
def f(label: str = "n"):
    return add.map([1, 2, 3], y=[4, 5, 6]).wait()
