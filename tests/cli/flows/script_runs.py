"""A script whose __main__ block calls a flow once per argument, then fails on request."""

import sys

from prefect import flow, task


@task
def square(x: int) -> int:
    return x * x


@flow
def total(n: int) -> int:
    return sum(square.map(range(n)).result())


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        if arg == "fail":
            raise SystemExit("asked to fail")
        print(f"total({arg}) = {total(int(arg))}")
