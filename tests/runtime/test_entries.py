"""Entries are used only when this user wrote them: signed, owned, regular files."""

from __future__ import annotations

import os
import pickle
import threading
from pathlib import Path

import pytest

from flowc.runtime.entries import (
    EntryDirectory,
    UntrustedStoreError,
    decode_entry,
    encode_entry,
    secret_key,
)

KEY = "ab" + "0" * 62
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("FLOWC_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


class _Marker:
    """Unpickling it writes a file: the attack a planted pickle is."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (Path(self.path).write_text, ("pwned",))


def test_round_trip_keeps_value_and_metadata():
    meta, value = decode_entry(encode_entry({"task": "t"}, {"a": [1, 2]}))
    assert meta == {"task": "t"} and value == {"a": [1, 2]}


def test_the_key_is_private_and_made_once(home):
    first = secret_key()
    path = home / "keys" / "entries.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert (home / "keys").stat().st_mode & 0o777 == 0o700
    assert secret_key() == first and len(first) == 32


def test_a_key_others_can_read_is_refused(home):
    secret_key()
    path = home / "keys" / "entries.key"
    os.chmod(path, 0o644)
    from flowc.runtime import entries

    entries._keys.clear()
    with pytest.raises(UntrustedStoreError, match="others can read it"):
        secret_key()


def test_an_entry_signed_under_another_home_is_not_loaded(tmp_path, monkeypatch):
    marker = tmp_path / "marker"
    data = encode_entry({}, _Marker(str(marker)))
    monkeypatch.setenv("FLOWC_HOME", str(tmp_path / "other-home"))
    with pytest.raises(ValueError, match="signature"):
        decode_entry(data)
    assert not marker.exists()


def test_a_tampered_entry_is_not_loaded(tmp_path):
    marker = tmp_path / "marker"
    data = bytearray(encode_entry({}, "harmless"))
    payload = pickle.dumps(_Marker(str(marker)))
    forged = bytes(data[: len(data) - len(pickle.dumps("harmless"))]) + payload
    with pytest.raises(ValueError, match="signature"):
        decode_entry(forged)
    assert not marker.exists()


def test_a_fifo_entry_is_refused_without_blocking(tmp_path):
    entries = EntryDirectory(tmp_path)
    path = entries.path(KEY)
    path.parent.mkdir()
    os.mkfifo(path)
    result: list[object] = []

    def read() -> None:
        try:
            result.append(entries.read(KEY))
        except OSError as error:
            result.append(error)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(120)
    assert not reader.is_alive(), "reading a FIFO entry blocked"
    assert isinstance(result[0], OSError) and "not a regular file" in str(result[0])


def test_a_symlinked_entry_is_not_followed(tmp_path):
    (tmp_path / "store").mkdir(mode=0o700)
    entries = EntryDirectory(tmp_path / "store")
    entries.write(KEY, encode_entry({}, 1))
    target = tmp_path / "elsewhere"
    target.write_bytes(encode_entry({}, 2))
    path = entries.path(KEY)
    path.unlink()
    path.symlink_to(target)
    with pytest.raises(OSError, match="symbolic link"):
        entries.read(KEY)


def test_a_symlinked_shard_folder_is_not_written_through(tmp_path):
    root = tmp_path / "store"
    root.mkdir(mode=0o700)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / KEY[:2]).symlink_to(outside, target_is_directory=True)
    with pytest.raises(OSError, match="symbolic link"):
        EntryDirectory(root).write(KEY, encode_entry({}, 1))
    assert list(outside.iterdir()) == []


def test_a_world_writable_shard_is_not_written_into(tmp_path):
    root = tmp_path / "store"
    (root / KEY[:2]).mkdir(parents=True)
    os.chmod(root / KEY[:2], 0o777)
    with pytest.raises(OSError, match="writable by others"):
        EntryDirectory(root).write(KEY, encode_entry({}, 1))


@pytest.mark.skipif(not IS_ROOT, reason="needs root to give a file to another user")
def test_an_entry_owned_by_another_user_is_refused(tmp_path):
    (tmp_path / "store").mkdir(mode=0o700)
    entries = EntryDirectory(tmp_path / "store")
    entries.write(KEY, encode_entry({}, 1))
    os.chown(entries.path(KEY), 65534, 65534)
    with pytest.raises(OSError, match="owned by uid 65534"):
        entries.read(KEY)


def test_entries_are_private_files(tmp_path):
    entries = EntryDirectory(tmp_path / "store")
    (tmp_path / "store").mkdir(mode=0o700)
    entries.write(KEY, encode_entry({}, 1))
    assert entries.path(KEY).stat().st_mode & 0o777 == 0o600
    assert entries.names() == [KEY]
