"""The checkpoint store: atomic entries, Merkle keys, and refusing directories it does not own.

Everything runs on the real filesystem (``tmp_path``) and, for upstream keys, on real task runs
of a real flow: the store is what a killed run's results depend on.
"""

from __future__ import annotations

import collections
import importlib.util
import json
import logging
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import NamedTuple

import pytest

from flowc import flow, task
from flowc.exceptions import FlowcError
from flowc.runtime.checkpoint import (
    MANIFEST_NAME,
    SCHEMA,
    CheckpointError,
    CheckpointStore,
    inputs_hash,
    task_source_hash,
)

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _store(tmp_path: Path, flow_name: str = "etl") -> CheckpointStore:
    return CheckpointStore.open(tmp_path / "ckpt", flow_name, create=True)


def _key(store: CheckpointStore, n: object) -> str:
    return store.key("node", "source", str(n))


def _no_upstreams(run: object) -> str | None:
    raise AssertionError("no upstream expected")


class Holder:
    """An object whose state is a lambda: only cloudpickle can store it."""

    def __init__(self, fn):
        self.fn = fn


class Pair(NamedTuple):
    left: object
    right: object


# --------------------------------------------------------------------------- entries


def test_values_round_trip(tmp_path):
    store = _store(tmp_path)
    values = [0, "text", [1, {"a": (2, 3)}], {1, 2}, None, b"\x00" * 1000, Holder(lambda x: x * 3)]
    for n, value in enumerate(values):
        assert store.put(_key(store, n), value) is True
    again = CheckpointStore.open(tmp_path / "ckpt", "etl", create=False)
    for n, value in enumerate(values[:-1]):
        assert again.get(_key(again, n)) == (True, value)
    found, holder = again.get(_key(again, len(values) - 1))
    assert found and holder.fn(2) == 6
    assert len(again) == len(values)
    assert _key(again, 0) in again


def test_entries_are_sharded_by_key_prefix(tmp_path):
    store = _store(tmp_path)
    key = _key(store, 1)
    store.put(key, 1)
    assert (store.directory / key[:2] / f"{key}.pkl").is_file()


def test_absent_key_is_a_miss(tmp_path):
    store = _store(tmp_path)
    key = _key(store, "never stored")
    assert store.get(key) == (False, None)
    assert key not in store
    assert "not a key" not in store
    assert len(store) == 0


def test_corrupt_entry_is_a_miss_with_one_warning(tmp_path, caplog):
    store = _store(tmp_path)
    key = _key(store, 1)
    store.put(key, "value")
    path = store.directory / key[:2] / f"{key}.pkl"
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="flowc.runtime"):
        assert store.get(key) == (False, None)
        assert store.get(key) == (False, None)
    warnings = [r for r in caplog.records if r.name == "flowc.runtime"]
    assert len(warnings) == 1 and "corrupt" in warnings[0].getMessage()


def test_garbage_entry_is_a_miss(tmp_path, caplog):
    store = _store(tmp_path)
    key = _key(store, 1)
    (store.directory / key[:2]).mkdir()
    (store.directory / key[:2] / f"{key}.pkl").write_bytes(b"not a pickle")
    with caplog.at_level(logging.WARNING, logger="flowc.runtime"):
        assert store.get(key) == (False, None)
    assert any("corrupt" in r.getMessage() for r in caplog.records)


def test_unpicklable_value_is_not_stored_and_warned_once_per_task(tmp_path, caplog):
    store = _store(tmp_path)
    with caplog.at_level(logging.WARNING, logger="flowc.runtime"):
        assert store.put(_key(store, 1), threading.Lock(), task="locker") is False
        assert store.put(_key(store, 2), threading.Lock(), task="locker") is False
    warnings = [r.getMessage() for r in caplog.records if r.name == "flowc.runtime"]
    assert len(warnings) == 1 and "'locker'" in warnings[0] and "pickled" in warnings[0]
    assert len(store) == 0 and _key(store, 1) not in store


def test_failed_disk_write_returns_false(tmp_path, caplog):
    store = _store(tmp_path)
    key = _key(store, 1)
    (store.directory / key[:2]).write_text("a file where the shard directory should be")
    with caplog.at_level(logging.WARNING, logger="flowc.runtime"):
        assert store.put(key, 1) is False
    assert any("writing to" in r.getMessage() for r in caplog.records)


def test_malformed_key_is_refused(tmp_path):
    store = _store(tmp_path)
    with pytest.raises(ValueError):
        store.get("../../etc/passwd")


def test_concurrent_puts_all_land(tmp_path):
    store = _store(tmp_path)
    barrier = threading.Barrier(8)

    def writer(thread: int) -> None:
        barrier.wait()
        for n in range(50):
            assert store.put(_key(store, (thread, n)), (thread, n, "x" * n))

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store) == 400
    for t in range(8):
        for n in range(50):
            assert store.get(_key(store, (t, n))) == (True, (t, n, "x" * n))
    assert not list(store.directory.rglob("*.tmp"))


def test_leftover_temporary_files_are_removed_on_open(tmp_path):
    store = _store(tmp_path)
    key = _key(store, 1)
    store.put(key, 1)
    shard = store.directory / key[:2]
    leftover = shard / f".{key}.pkl.abc123.tmp"
    leftover.write_bytes(b"half an entry")
    manifest_leftover = store.directory / f".{MANIFEST_NAME}.xyz.tmp"
    manifest_leftover.write_text("{")
    CheckpointStore.open(store.directory, "etl", create=False)
    assert not leftover.exists() and not manifest_leftover.exists()
    assert store.get(key) == (True, 1)


# --------------------------------------------------------------------------- directories


def test_created_directory_and_manifest(tmp_path):
    directory = tmp_path / "a" / "b" / "ckpt"
    store = CheckpointStore.open(directory, "etl", create=True)
    assert store.directory == directory
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    manifest = json.loads((directory / MANIFEST_NAME).read_text())
    assert manifest["schema"] == SCHEMA and manifest["flow"] == "etl"
    assert manifest["created"].endswith("+00:00")


def test_directory_is_private_whatever_the_umask(tmp_path):
    previous = os.umask(0o277)
    try:
        store = CheckpointStore.open(tmp_path / "ckpt", "etl", create=True)
        key = _key(store, 1)
        assert store.put(key, 1)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((store.directory / key[:2]).stat().st_mode) == 0o700


def test_checkpoint_of_the_same_flow_is_continued(tmp_path):
    first = _store(tmp_path)
    first.put(_key(first, 1), "kept")
    created = json.loads((first.directory / MANIFEST_NAME).read_text())["created"]
    second = _store(tmp_path)
    assert second.get(_key(second, 1)) == (True, "kept")
    assert json.loads((second.directory / MANIFEST_NAME).read_text())["created"] == created


def test_empty_existing_directory_is_taken(tmp_path):
    (tmp_path / "ckpt").mkdir()
    store = _store(tmp_path)
    assert (store.directory / MANIFEST_NAME).is_file()


@pytest.mark.parametrize("create", [True, False])
def test_checkpoint_of_another_flow_is_refused(tmp_path, create):
    _store(tmp_path, "etl")
    with pytest.raises(CheckpointError) as caught:
        CheckpointStore.open(tmp_path / "ckpt", "report", create=create)
    message = str(caught.value)
    assert "holds checkpoints of flow 'etl', not 'report'" in message
    assert str(tmp_path / "ckpt") in message
    assert isinstance(caught.value, FlowcError)


def test_non_empty_foreign_directory_is_refused(tmp_path):
    directory = tmp_path / "mine"
    directory.mkdir()
    (directory / "thesis.tex").write_text("precious")
    with pytest.raises(CheckpointError, match="not empty") as caught:
        CheckpointStore.open(directory, "etl", create=True)
    assert str(directory) in str(caught.value)
    assert sorted(p.name for p in directory.iterdir()) == ["thesis.tex"]


def test_a_file_is_not_a_checkpoint_directory(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    for create in (True, False):
        with pytest.raises(CheckpointError, match="not a directory"):
            CheckpointStore.open(path, "etl", create=create)


def test_resume_of_a_missing_directory(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist") as caught:
        CheckpointStore.open(tmp_path / "nowhere", "etl", create=False)
    assert str(tmp_path / "nowhere") in str(caught.value)
    assert not (tmp_path / "nowhere").exists()


def test_resume_without_a_manifest(tmp_path):
    (tmp_path / "ckpt").mkdir()
    with pytest.raises(CheckpointError, match=f"{MANIFEST_NAME} is missing") as caught:
        CheckpointStore.open(tmp_path / "ckpt", "etl", create=False)
    assert str(tmp_path / "ckpt") in str(caught.value)


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"schema": "flowc.checkpoint/1"}'])
def test_corrupt_manifest_is_refused(tmp_path, content):
    directory = tmp_path / "ckpt"
    directory.mkdir()
    (directory / MANIFEST_NAME).write_text(content)
    for create in (False, True):
        with pytest.raises(CheckpointError, match="corrupt") as caught:
            CheckpointStore.open(directory, "etl", create=create)
        assert str(directory) in str(caught.value)


def test_manifest_of_another_format_is_refused(tmp_path):
    directory = tmp_path / "ckpt"
    directory.mkdir()
    (directory / MANIFEST_NAME).write_text(
        json.dumps({"schema": "flowc.checkpoint/9", "flow": "etl"})
    )
    with pytest.raises(CheckpointError, match="flowc.checkpoint/9"):
        CheckpointStore.open(directory, "etl", create=False)


@pytest.mark.skipif(IS_ROOT, reason="root reads any directory")
def test_resume_of_an_unreadable_directory(tmp_path):
    store = _store(tmp_path)
    os.chmod(store.directory, 0)
    try:
        with pytest.raises(CheckpointError, match="permission denied") as caught:
            CheckpointStore.open(store.directory, "etl", create=False)
    finally:
        os.chmod(store.directory, 0o700)
    assert str(store.directory) in str(caught.value)


@pytest.mark.skipif(IS_ROOT, reason="root writes any directory")
def test_unwritable_parent_is_refused(tmp_path):
    parent = tmp_path / "locked"
    parent.mkdir(mode=0o500)
    try:
        with pytest.raises(CheckpointError, match="permission denied"):
            CheckpointStore.open(parent / "ckpt", "etl", create=True)
    finally:
        os.chmod(parent, 0o700)


# --------------------------------------------------------------------------- keys


def test_key_changes_with_each_part(tmp_path):
    key = _store(tmp_path).key
    base = key("node", "source", "inputs")
    assert len(base) == 64 and base == key("node", "source", "inputs")
    others = {
        key("node2", "source", "inputs"),
        key("node", "source2", "inputs"),
        key("node", "source", "inputs2"),
        key("nod", "esource", "inputs"),  # the same characters, split differently
    }
    assert base not in others and len(others) == 4


def _module_from(tmp_path: Path, name: str, source: str):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_task_source_hash_follows_the_body(tmp_path):
    one = _module_from(tmp_path, "flow_v1", "def work(x):\n    return x + 1\n")
    two = _module_from(tmp_path, "flow_v2", "def work(x):\n    return x + 2\n")
    same = _module_from(tmp_path, "flow_v3", "def work(x):\n    return x + 1\n")
    assert task_source_hash(one.work) != task_source_hash(two.work)
    assert task_source_hash(one.work) == task_source_hash(same.work)
    assert task_source_hash(one.work) == task_source_hash(one.work)


def test_task_source_hash_unwraps_tasks(tmp_path):
    module = _module_from(tmp_path, "flow_task", "def work(x):\n    return x\n")
    assert task_source_hash(task(module.work)) == task_source_hash(module.work)


def test_task_source_hash_without_source_uses_the_code():
    def compiled(body: str):
        namespace: dict = {}
        exec(
            compile(
                f"def work(x):\n    def inner():\n        return {body}\n    return inner",
                "<flow>",
                "exec",
            ),
            namespace,
        )
        return namespace["work"]

    first, second, changed = compiled("x + 1"), compiled("x + 1"), compiled("x + 2")
    assert task_source_hash(first) == task_source_hash(second)
    assert task_source_hash(first) != task_source_hash(changed)


def test_inputs_hash_ignores_dict_insertion_order_and_set_order():
    forward = {"a": 1, "b": {"x": [1, 2], "y": {"s", "t", "u"}}}
    backward = {"b": {"y": {"u", "t", "s"}, "x": [1, 2]}, "a": 1}
    assert inputs_hash(forward, _no_upstreams) == inputs_hash(backward, _no_upstreams)
    assert inputs_hash({"s": frozenset("abc")}, _no_upstreams) == inputs_hash(
        {"s": frozenset("cba")}, _no_upstreams
    )


@pytest.mark.parametrize(
    "other",
    [
        {"a": 2},
        {"a": 1.0},
        {"a": True},
        {"a": "1"},
        {"a": [1]},
        {"a": (1,)},
        {"b": 1},
        {"a": Pair(1, 2)},
        {"a": collections.OrderedDict(x=1)},
    ],
)
def test_inputs_hash_differs_on_different_constants(other):
    assert inputs_hash({"a": 1}, _no_upstreams) != inputs_hash(other, _no_upstreams)


def test_inputs_hash_of_lists_keeps_their_order():
    assert inputs_hash({"a": [1, 2]}, _no_upstreams) != inputs_hash({"a": [2, 1]}, _no_upstreams)


def test_inputs_hash_of_unpicklable_inputs_is_none():
    assert inputs_hash({"lock": threading.Lock()}, _no_upstreams) is None
    cycle: list = []
    cycle.append(cycle)
    assert inputs_hash({"cycle": cycle}, _no_upstreams) is None


_CROSS_PROCESS = """
import dataclasses, sys
from flowc.runtime.checkpoint import inputs_hash

@dataclasses.dataclass
class Config:
    name: str
    limit: int

class Plain:
    def __init__(self):
        self.items = ["a", "b"]

parameters = {
    "tags": {"alpha", "beta", "gamma", "delta", "epsilon"},
    "nested": {"z": frozenset({"p", "q", "r"}), "a": [{"m", "n"}]},
    "config": Config("x", 3),
    "plain": Plain(),
    "fn": lambda value: value * 2,
    "big": 10 ** 5000,
}
print(inputs_hash(parameters, lambda run: None))
"""


def test_inputs_hash_is_equal_across_processes_with_different_hash_seeds(tmp_path):
    script = tmp_path / "hash_inputs.py"
    script.write_text(_CROSS_PROCESS)
    hashes = set()
    for seed in ("1", "2", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        output = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, env=env, check=True
        ).stdout.strip()
        hashes.add(output)
    assert len(hashes) == 1 and len(hashes.pop()) == 64


@task
def produce(x):
    return x


@task
def produce_unpicklable():
    return threading.Lock()


def test_inputs_hash_uses_upstream_keys_not_values():
    @flow
    def f():
        a, b = produce.submit(1), produce.submit(2)
        lock = produce_unpicklable.submit()
        for future in (a, b, lock):
            future.wait()
        names = {id(a.task_run): "key-a", id(b.task_run): "key-b", id(lock.task_run): "key-l"}

        def by_name(run):
            return names[id(run)]

        def all_same(run):
            return "same"

        return {
            "a": inputs_hash({"x": a}, by_name),
            "b": inputs_hash({"x": b}, by_name),
            "a_again": inputs_hash({"x": a}, by_name),
            "a_state": inputs_hash({"x": a.state}, by_name),
            "a_same": inputs_hash({"x": a}, all_same),
            "b_same": inputs_hash({"x": b}, all_same),
            "nested": inputs_hash({"x": {"k": [a, (b,)]}}, by_name),
            "nested_other": inputs_hash({"x": {"k": [b, (a,)]}}, by_name),
            "lock": inputs_hash({"x": lock}, by_name),
            "literal": inputs_hash({"x": "key-a"}, by_name),
            "no_key": inputs_hash({"x": [a, b]}, lambda run: None if run is b.task_run else "k"),
        }

    hashes = f()
    assert hashes["a"] != hashes["b"]
    assert hashes["a"] == hashes["a_again"] == hashes["a_state"]
    assert hashes["a_same"] == hashes["b_same"]  # the values 1 and 2 play no part
    assert hashes["nested"] != hashes["nested_other"]
    assert hashes["lock"] is not None  # an unpicklable upstream result is never pickled
    assert hashes["literal"] != hashes["a"]  # a key is not the same as a string argument
    assert hashes["no_key"] is None


# --------------------------------------------------------------------------- SIGKILL


_WRITER = """
import sys
from flowc.runtime.checkpoint import CheckpointStore

store = CheckpointStore.open(sys.argv[1], "etl", create=True)
n = 0
while True:
    key = store.key("node", "source", str(n))
    store.put(key, {"n": n, "payload": bytes([n % 256]) * (64 * 1024 + n)})
    n += 1
    if n == 20:
        print("writing", flush=True)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_run_killed_while_writing_leaves_only_whole_entries(tmp_path):
    directory = tmp_path / "ckpt"
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    writer = subprocess.Popen(
        [sys.executable, str(script), str(directory)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "writing"
        time.sleep(0.3)
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        if writer.stdout is not None:
            writer.stdout.close()
    assert writer.returncode == -signal.SIGKILL

    store = CheckpointStore.open(directory, "etl", create=False)
    assert not list(directory.rglob("*.tmp"))
    stored = len(store)
    assert stored >= 20
    found = 0
    for n in range(stored + 10):
        hit, value = store.get(store.key("node", "source", str(n)))
        if hit:
            found += 1
            assert value == {"n": n, "payload": bytes([n % 256]) * (64 * 1024 + n)}
    assert found == stored


# --------------------------------------------------------------------------- hostile input


def test_a_symlinked_shard_is_not_written_through(tmp_path, caplog):
    store = _store(tmp_path)
    key = _key(store, 1)
    outside = tmp_path / "outside"
    outside.mkdir()
    (store.directory / key[:2]).symlink_to(outside, target_is_directory=True)
    with caplog.at_level(logging.WARNING, logger="flowc.runtime"):
        assert store.put(key, 1) is False
    assert list(outside.iterdir()) == []
    assert any("symbolic link" in r.getMessage() for r in caplog.records)


def test_a_fifo_entry_is_a_miss_not_a_hang(tmp_path, caplog):
    store = _store(tmp_path)
    key = _key(store, 1)
    (store.directory / key[:2]).mkdir(mode=0o700)
    os.mkfifo(store.directory / key[:2] / f"{key}.pkl")
    with caplog.at_level(logging.WARNING, logger="flowc.runtime"):
        assert store.get(key) == (False, None)
    assert any("not a regular file" in r.getMessage() for r in caplog.records)


def test_an_empty_directory_open_to_others_is_taken_and_made_private(tmp_path):
    directory = tmp_path / "ckpt"
    directory.mkdir()
    os.chmod(directory, 0o777)
    CheckpointStore.open(directory, "etl", create=True)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_a_checkpoint_others_can_write_is_refused(tmp_path):
    store = _store(tmp_path)
    os.chmod(store.directory, 0o775)
    for create in (True, False):
        with pytest.raises(CheckpointError, match="writable by others"):
            CheckpointStore.open(store.directory, "etl", create=create)


@pytest.mark.skipif(not IS_ROOT, reason="needs root to give the directory to another user")
def test_a_checkpoint_another_user_owns_is_refused(tmp_path):
    store = _store(tmp_path)
    os.chown(store.directory, 65534, 65534)
    with pytest.raises(CheckpointError, match="owned by uid 65534"):
        CheckpointStore.open(store.directory, "etl", create=False)


def test_check_directory_before_import(tmp_path):
    from flowc.runtime.checkpoint import check_directory

    with pytest.raises(CheckpointError, match="does not exist"):
        check_directory(tmp_path / "missing", resume=True)
    with pytest.raises(CheckpointError, match="holds no flowc checkpoint"):
        check_directory(tmp_path, resume=True)
    check_directory(tmp_path / "new", resume=False)  # created later, by the run
    assert not (tmp_path / "new").exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(CheckpointError, match="not a directory"):
        check_directory(tmp_path / "file", resume=False)
