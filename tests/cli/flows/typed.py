"""A flow with typed parameters, for --param parsing and validation."""

from flowc import flow, task


@task
def repeat(name: str, n: int) -> str:
    return name * n


@flow
def typed_flow(
    n: int, name: str = "ab", ratio: float = 1.0, items: list[int] | None = None
) -> dict:
    return {
        "text": repeat(name, n),
        "ratio": ratio,
        "items": items,
        "types": [type(n).__name__, type(name).__name__, type(ratio).__name__],
    }
