"""Calls its flow at module level, as the seed examples do: flowc run must not run it twice."""

from flowc import flow, task


@task
def mark(label: str) -> str:
    print(f"RAN {label}")
    return label


@flow
def counted(label: str = "import") -> str:
    return mark(label)


counted()
