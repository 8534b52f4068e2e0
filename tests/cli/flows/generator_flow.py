"""A generator flow: flowc run takes all its items; the run ends as its body does."""

from prefect import flow


@flow
def countdown(n: int = 3):
    for i in range(n, 0, -1):
        print(f"tick {i}")
        yield i
    if n > 5:
        raise ValueError("too long")
    return "liftoff"
