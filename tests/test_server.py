"""``flowc.server``: what needs Prefect's server raises one clear error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import flowc
from flowc import flow
from flowc.deployments import run_deployment
from flowc.server import ServerRequiredError


@flow
def local_only() -> int:
    return 1


@pytest.mark.parametrize(
    ("call", "what"),
    [
        (lambda: local_only.serve(name="d"), "local-only.serve()"),
        (lambda: local_only.deploy(name="d", work_pool_name="pool"), "local-only.deploy()"),
        (lambda: local_only.to_deployment(name="d"), "local-only.to_deployment()"),
        (lambda: flowc.Flow.from_source("https://example.org/repo", "f.py:f"), "from_source"),
        (lambda: flowc.serve(), "serve()"),
        (lambda: flowc.deploy(), "deploy()"),
        (lambda: run_deployment("my-flow/prod"), "run_deployment('my-flow/prod')"),
    ],
)
def test_server_features_raise_server_required(call: Callable[[], Any], what: str) -> None:
    with pytest.raises(ServerRequiredError) as caught:
        call()
    assert what in str(caught.value)
    assert "needs a Prefect server" in str(caught.value)
    assert isinstance(caught.value, NotImplementedError)


def test_other_names_from_prefect_deployments_say_the_same() -> None:
    import flowc.deployments

    with pytest.raises(ServerRequiredError, match="prefect.deployments.Deployment"):
        flowc.deployments.Deployment  # noqa: B018
