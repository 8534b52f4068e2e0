"""A flow that calls itself as a subflow, deeper than Python's recursion limit allows."""

import os
import time

from prefect import flow, task


@task
def leaf(n: int) -> int:
    if n == int(os.environ.get("FLOWC_TEST_BLOCK_AT", "-1")):
        print("waiting for Ctrl-C", flush=True)
        while True:
            time.sleep(0.1)
    return n


@flow
def rec(n: int = 150) -> int:
    if n <= 0:
        return 0
    return leaf(n) + rec(n - 1)
