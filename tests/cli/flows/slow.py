"""A flow that takes a while, for Ctrl-C."""

import time

from flowc import flow, task


@task
def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@flow
def slow_flow(seconds: float = 30.0) -> float:
    print("STARTED", flush=True)
    return nap(seconds)
