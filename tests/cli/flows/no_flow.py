"""Tasks but no flow."""

from flowc import task


@task
def lonely() -> int:
    return 1
