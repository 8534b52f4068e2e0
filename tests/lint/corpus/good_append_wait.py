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
    futures = []
    for x in xs:
        futures.append(add.submit(x))
    wait(futures)
