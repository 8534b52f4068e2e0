"""Tasks but no flow: the compile-side commands exit 2."""

from flowc import task


@task
def lonely() -> int:
    return 1
