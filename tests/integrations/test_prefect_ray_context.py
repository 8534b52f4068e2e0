"""``prefect_ray.context.remote_options``: nested blocks merge, the inner value winning."""

from __future__ import annotations

import threading

from flowc.integrations.prefect_ray.context import current_remote_options, remote_options


def test_blocks_nest_and_merge() -> None:
    assert current_remote_options() == {}
    with remote_options(num_cpus=4, num_gpus=1):
        assert current_remote_options() == {"num_cpus": 4, "num_gpus": 1}
        with remote_options(num_cpus=2, memory=10):
            assert current_remote_options() == {"num_cpus": 2, "num_gpus": 1, "memory": 10}
        assert current_remote_options() == {"num_cpus": 4, "num_gpus": 1}
    assert current_remote_options() == {}


def test_each_thread_sees_its_own_block() -> None:
    seen: list[dict[str, object]] = []
    with remote_options(num_cpus=4):
        thread = threading.Thread(target=lambda: seen.append(current_remote_options()))
        thread.start()
        thread.join(120)
    assert seen == [{}]
