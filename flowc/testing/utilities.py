"""``prefect.testing.utilities``: ``prefect_test_harness`` for tests that run flows.

Prefect's harness starts a temporary server with an empty database so a test's flow runs,
variables and limits leave nothing behind. flowc needs no server, so the harness starts
nothing: it only points ``FLOWC_HOME`` at a temporary directory for the block (variables
and concurrency slots start empty there and are deleted afterwards), and puts it back after.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator

__all__ = ["prefect_test_harness"]


@contextlib.contextmanager
def prefect_test_harness(server_startup_timeout: int | None = 30) -> Iterator[None]:
    """Run the block with a fresh, temporary ``FLOWC_HOME`` (no server is needed)."""
    saved = os.environ.get("FLOWC_HOME")
    with tempfile.TemporaryDirectory(prefix="flowc-test-home-") as home:
        os.environ["FLOWC_HOME"] = home
        try:
            yield
        finally:
            if saved is None:
                os.environ.pop("FLOWC_HOME", None)
            else:
                os.environ["FLOWC_HOME"] = saved
