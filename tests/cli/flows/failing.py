"""A flow whose task raises: the flow run fails, exit code 1."""

from flowc import flow, task


def check_config(value: int) -> None:
    if value > 1:
        raise ValueError(f"value {value} is too large")


@task
def validate(value: int) -> int:
    check_config(value)
    return value


@flow
def failing_flow(value: int = 5) -> int:
    return validate(value)
