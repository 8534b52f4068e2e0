"""The seed page's example, unmodified: imports prefect and runs the flow at import."""

from prefect import allow_failure, flow, get_run_logger, tags, task, unmapped
from prefect.exceptions import PrefectException
from prefect.futures import wait
from prefect.states import Completed
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

assert all([allow_failure, get_run_logger, tags, unmapped, PrefectException, Completed, quote])


@task
def say_hello(name):
    return f"Hello {name}!"


@task
def print_result(result):
    print(type(result))
    print(result)


@flow(name="hello-flow", task_runner=ThreadPoolTaskRunner(max_workers=3))
def hello_world():
    future = say_hello.submit("Marvin")
    done = print_result.submit(future)
    wait([done])


hello_world()
