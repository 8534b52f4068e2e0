"""``flowc.assets``: @materialize tasks run as tasks and remember their assets."""

from __future__ import annotations

import pytest

from flowc import flow
from flowc.assets import Asset, add_asset_metadata, asset_metadata, materialize
from flowc.runtime.context import current_task_run

raw = Asset(key="pipeline://raw_data")


def test_materializing_tasks_run_and_chain_as_tasks() -> None:
    runs = []

    @materialize(raw)
    def fetch() -> dict[str, int]:
        add_asset_metadata(raw, {"rows": 3})
        runs.append(current_task_run())
        return {"rows": 3}

    @materialize("s3://bucket/processed", by="pandas", retries=1)
    def process(data: dict[str, int]) -> int:
        return data["rows"] * 2

    @flow
    def pipeline() -> int:
        return process(fetch())

    assert pipeline() == 6
    assert fetch.assets == (raw,)
    assert process.assets == (Asset("s3://bucket/processed"),)
    assert (process.materialized_by, process.retries) == ("pandas", 1)
    assert asset_metadata(runs[0]) == {"pipeline://raw_data": {"rows": 3}}


@pytest.mark.parametrize(
    "key", ["no-scheme", "S3://upper/scheme", "s3://with space", "x://" + "a" * 600]
)
def test_keys_are_checked_as_prefect_does(key: str) -> None:
    with pytest.raises(ValueError, match="Asset key"):
        Asset(key=key)


def test_metadata_outside_a_materializing_run_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="not inside of an AssetContext"):
        add_asset_metadata("s3://bucket/x", {"a": 1})
    with pytest.raises(TypeError, match="at least one asset"):
        materialize()
