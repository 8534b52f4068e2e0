"""A Prefect flow file using artifacts, runtime context, variables, limits and tags."""

from prefect import flow, runtime, tags, task
from prefect.artifacts import create_progress_artifact, create_table_artifact
from prefect.concurrency.sync import concurrency
from prefect.variables import Variable


@task
def load(n: int) -> int:
    with concurrency("warehouse", occupy=1):
        create_table_artifact([{"n": n, "task": runtime.task_run.task_name}], key="loaded")
    return n


@flow(log_prints=True)
def wider_api(n: int = 2) -> str:
    greeting = Variable.get("greeting", default="hello")
    progress = create_progress_artifact(0.0, key="progress")
    with tags("nightly"):
        total = load(n)
    from prefect.artifacts import update_progress_artifact

    update_progress_artifact(progress, 100.0)
    print(f"{greeting} from {runtime.flow_run.flow_name}")
    return f"{runtime.flow_run.name}:{total}"
