"""``task.with_options(name=...)``, a retried task and ``return_state=True``."""

import tempfile
from pathlib import Path

from prefect import flow, task


@task(retries=2, retry_delay_seconds=0)
def flaky(key: str, workdir: str) -> str:
    marker = Path(workdir) / key
    if not marker.exists():  # the first attempt fails, the retry succeeds
        marker.touch()
        raise RuntimeError("try again")
    return f"{key}-ok"


@task
def publish(value: str) -> str:
    return value.upper()


fast_publish = publish.with_options(name="publish-fast")


@flow
def with_options_retries() -> list:
    workdir = tempfile.mkdtemp(prefix="flowc-retries-")
    got = flaky.submit("a", workdir)
    one = fast_publish.submit(got)
    two = publish.with_options(name="publish-inline")(got.result())
    state = flaky.submit("b", workdir, return_state=True)
    three = publish.submit(state)
    direct_state = publish("c", return_state=True)
    four = fast_publish.submit(direct_state)
    return [one.result(), two, three.result(), four.result()]
