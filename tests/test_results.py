"""The result store: records by key, expiration, locks, and refusal of untrusted folders."""

from __future__ import annotations

import datetime
import logging
import os
from pathlib import Path

import pytest

from flowc.exceptions import ConfigurationError
from flowc.filesystems import LocalFileSystem
from flowc.locking.memory import MemoryLockManager
from flowc.results import ResultStore, get_default_result_storage
from flowc.transactions import IsolationLevel


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("FLOWC_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PREFECT_RESULTS_LOCAL_STORAGE_PATH", raising=False)
    return tmp_path / "home"


def test_records_round_trip_under_their_key(home):
    store = ResultStore()
    assert store.directory == home / "storage" == get_default_result_storage()
    assert not store.exists("my-result")
    store.write({"answer": 42}, key="my-result")
    assert store.exists("my-result")
    again = ResultStore(result_storage=LocalFileSystem(basepath=str(home / "storage")))
    record = again.read("my-result")
    assert record.result == {"answer": 42}
    assert record.metadata.storage_key == "my-result" and record.metadata.expiration is None
    assert stat_mode(home / "storage") == 0o700


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_an_expired_record_does_not_exist_but_can_still_be_read():
    store = ResultStore()
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1)
    store.write(1, key="old", expiration=past)
    assert not store.exists("old")
    kept = store.read("old").metadata.expiration
    assert kept is not None and abs((kept - past).total_seconds()) < 0.001


def test_reading_a_missing_key_is_a_value_error():
    with pytest.raises(ValueError, match="no result record"):
        ResultStore().read("nothing here")


def test_the_local_storage_path_setting_moves_the_store(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_RESULTS_LOCAL_STORAGE_PATH", str(tmp_path / "elsewhere"))
    ResultStore().write(1, key="k")
    assert (tmp_path / "elsewhere").is_dir()


def test_key_storage_holds_the_records(tmp_path):
    store = ResultStore(metadata_storage=str(tmp_path / "keys"))
    store.write(7, key="k")
    assert ResultStore(result_storage=tmp_path / "keys").read("k").result == 7


def test_a_folder_others_can_write_is_not_used(tmp_path, caplog):
    folder = tmp_path / "shared"
    folder.mkdir()
    os.chmod(folder, 0o777)
    store = ResultStore(result_storage=folder)
    with caplog.at_level(logging.WARNING, logger="flowc.runtime"):
        assert not store.exists("k")
    assert any("writable by others" in r.getMessage() for r in caplog.records)


def test_remote_storage_blocks_are_refused_in_one_line():
    with pytest.raises(TypeError, match="local folders only"):
        _ = ResultStore(result_storage=object()).directory


def test_locks_need_a_lock_manager():
    store = ResultStore()
    assert store.supports_isolation_level(IsolationLevel.READ_COMMITTED)
    assert not store.supports_isolation_level(IsolationLevel.SERIALIZABLE)
    with pytest.raises(ConfigurationError, match="lock manager"):
        store.acquire_lock("k")


def test_a_locked_record_is_written_only_by_its_holder():
    store = ResultStore(lock_manager=MemoryLockManager())
    assert store.acquire_lock("k", holder="a")
    with pytest.raises(RuntimeError, match="locked by another holder"):
        store.write(1, key="k", holder="b")
    store.write(1, key="k", holder="a")
    store.release_lock("k", holder="a")
    assert store.read("k", holder="b").result == 1


def test_local_file_system_blocks_cannot_be_saved():
    with pytest.raises(NotImplementedError, match="Prefect's server"):
        LocalFileSystem(basepath="/tmp/results").save("my-storage")
