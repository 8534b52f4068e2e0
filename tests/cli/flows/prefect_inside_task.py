"""A Prefect file whose task imports prefect inside its body, run on worker processes."""

from prefect import flow, task
from prefect.task_runners import ProcessPoolTaskRunner


@task
def state_name():
    from prefect.states import Completed

    return Completed().name


@flow(task_runner=ProcessPoolTaskRunner(max_workers=1))
def inside():
    return state_name.submit().result()
