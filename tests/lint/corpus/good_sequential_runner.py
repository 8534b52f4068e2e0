# ruff: noqa
from prefect import flow, task, unmapped
from prefect.futures import as_completed, wait
from prefect.task_runners import ThreadPoolTaskRunner


@task
def add(x, y=1):
    return x + y


@task
def total(values):
    return sum(values)


SEEN = []


@task
def record(x):
    SEEN.append(x)
    return x


@flow(task_runner=ThreadPoolTaskRunner(max_workers=1))
def f():
    return record(1)
