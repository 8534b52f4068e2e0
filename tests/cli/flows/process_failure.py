"""A task that fails in a worker process, through a helper: its traceback names this file."""

from flowc import flow, task
from flowc.task_runners import ProcessPoolTaskRunner


def helper(x):
    return 1 / x


@task
def divide(x):
    return helper(x)


@flow(task_runner=ProcessPoolTaskRunner(max_workers=1))
def f():
    return divide.submit(0).result()
