"""Two flows: flowc run needs FILE:FLOW to pick one."""

from flowc import flow, task


@task
def double(x: int) -> int:
    return 2 * x


@flow(name="hello-flow")
def hello_world() -> str:
    return "hello"


@flow
def my_flow(x: int = 2) -> int:
    return double(x)
