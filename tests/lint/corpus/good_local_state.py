# ruff: noqa
from prefect import flow, task, unmapped
from prefect.futures import as_completed, wait


@task
def add(x, y=1):
    return x + y


@task
def total(values):
    return sum(values)


@task
def record(x, seen=None):
    seen = []
    seen.append(x)
    return seen


@flow
def f():
    return record(1)
