"""A task fails but the flow returns a plain value: Completed (Prefect's rule); --strict fails."""

from flowc import flow, task


@task
def explode() -> None:
    raise RuntimeError("kaboom")


@task
def fine() -> int:
    return 1


@flow
def swallowing_flow() -> str:
    explode.submit().wait()
    fine()
    return "done anyway"
