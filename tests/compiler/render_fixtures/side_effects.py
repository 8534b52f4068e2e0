"""Importing this file writes the file named by $FLOWC_SENTINEL and raises.

``flowc graph``, ``compile`` and ``explain`` must read it without ever running it.
"""

import os
import pathlib

from flowc import flow, task

pathlib.Path(os.environ.get("FLOWC_SENTINEL", "flowc-sentinel")).write_text("imported")


@task
def work(x: int) -> int:
    return x


@flow
def guarded() -> int:
    return work.submit(1).result()


raise RuntimeError("this file must never be imported by the compiler")
