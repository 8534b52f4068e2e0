# ruff: noqa
from prefect import flow, task, unmapped
from prefect.futures import as_completed, wait


@task
def add(x, y=1):
    return x + y


@task
def total(values):
    return sum(values)


SEEN = []


@task
def record(x):
    SEEN.append(x)  # expect: FC005
    return x


@flow
def f():
    return record.map([1, 2])
