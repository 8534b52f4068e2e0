"""Two flows in one file: ``graph`` draws both, ``FILE:FLOW`` picks one."""

from flowc import flow, task


@task
def hello(name: str) -> str:
    return f"hello {name}"


@flow(name="first-flow")
def first() -> None:
    hello.submit("a").wait()


@flow(name="second-flow")
def second() -> None:
    hello.submit("b").wait()
