# ruff: noqa
from prefect import flow, task, unmapped
from prefect.futures import as_completed, wait


@task
def add(x, y=1):
    return x + y


@task
def total(values):
    return sum(values)


def launch(x):
    return add.submit(x)  # expect: FC001


@flow
def f():
    launch(1)
    return None
