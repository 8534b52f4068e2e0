"""WorkerPool with real worker processes: results, errors, deaths, kills and shutdown."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
import traceback
import zlib
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, as_completed
from pathlib import Path
from typing import Any

import cloudpickle
import pytest

from flowc.runtime.runners.worker_pool import WorkerDied, WorkerPool

# Helpers below travel to the spawned workers by value, so the workers never import this module.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

#: Generous bounds for a result or a condition, for a loaded machine. Calls that must be killed
#: sleep far longer (LONG), so only a kill ends them within these bounds.
TIMEOUT = 120
LONG = 600


def payload(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> bytes:
    return cloudpickle.dumps((fn, args, kwargs))


def result(future: Future[bytes]) -> Any:
    return cloudpickle.loads(future.result(timeout=TIMEOUT))


def wait_for(predicate: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


# --- functions run in the workers ---------------------------------------------------------


def square(x: int) -> int:
    return x * x


def raise_value_error(message: str) -> None:
    raise ValueError(message)


class NeedsTwoArgs(Exception):
    """Pickles, but cannot be rebuilt: unpickling calls NeedsTwoArgs(a) only."""

    def __init__(self, a: str, b: str) -> None:
        super().__init__(a)
        self.b = b


def raise_needs_two_args() -> None:
    raise NeedsTwoArgs("two-args", "b")


class HoldsLock(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.lock = threading.Lock()


def raise_holds_lock() -> None:
    raise HoldsLock("holds-lock")


def exit_with(code: int) -> None:
    os._exit(code)


def sigkill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def touch_and_sleep(path: str, seconds: float) -> int:
    # Written whole, then renamed into place: a reader never sees the file empty.
    Path(path + ".tmp").write_text(str(os.getpid()))
    os.replace(path + ".tmp", path)
    time.sleep(seconds)
    return os.getpid()


def touch(path: str) -> None:
    Path(path).write_text("ran")


def ignore_sigterm_and_sleep(path: str) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    partial = Path(f"{path}.partial")  # the test reads the pid as soon as the file exists
    partial.write_text(str(os.getpid()))
    partial.rename(path)
    time.sleep(LONG)


def leave_non_daemon_thread() -> None:
    """The worker cannot exit normally afterwards: interpreter exit joins this thread."""
    threading.Thread(target=time.sleep, args=(LONG,), daemon=False).start()


def record_interval(path: str, seconds: float) -> None:
    start = time.monotonic()
    time.sleep(seconds)
    Path(path).write_text(f"{start} {time.monotonic()}")


# --- tests --------------------------------------------------------------------------------


def test_many_calls_all_come_back() -> None:
    with WorkerPool(max_workers=2) as pool:
        futures = {pool.submit(payload(square, i)): i for i in range(200)}
        got = {futures[f]: result(f) for f in as_completed(futures, timeout=TIMEOUT)}
    assert got == {i: i * i for i in range(200)}


def test_lambda_and_closure_payloads() -> None:
    offset = 10

    def add_offset(x: int) -> int:
        return x + offset

    with WorkerPool(max_workers=1) as pool:
        assert result(pool.submit(payload(lambda: "lambda"))) == "lambda"
        assert result(pool.submit(payload(add_offset, 5))) == 15
        assert result(pool.submit(payload(sorted, [3, 1, 2], reverse=True))) == [3, 2, 1]


def test_custom_worker_fn() -> None:
    with WorkerPool(max_workers=1, worker_fn=zlib.compress) as pool:
        assert pool.submit(b"abc" * 100).result(TIMEOUT) == zlib.compress(b"abc" * 100)


def test_remote_exception_keeps_type_message_and_traceback() -> None:
    with WorkerPool(max_workers=1) as pool:
        future = pool.submit(payload(raise_value_error, "boom 42"))
        with pytest.raises(ValueError, match="boom 42") as info:
            future.result(TIMEOUT)
        # The pool stays usable after a failing call.
        assert result(pool.submit(payload(square, 3))) == 9
    text = "".join(traceback.format_exception(info.type, info.value, info.tb))
    assert "raise_value_error" in text
    assert "raise_value_error" in str(info.value.__cause__)


@pytest.mark.parametrize(
    ("fn", "marker"), [(raise_needs_two_args, "two-args"), (raise_holds_lock, "holds-lock")]
)
def test_unpicklable_exception_becomes_runtime_error(fn: Callable[[], None], marker: str) -> None:
    with WorkerPool(max_workers=1) as pool:
        with pytest.raises(RuntimeError) as info:
            pool.submit(payload(fn)).result(TIMEOUT)
        assert result(pool.submit(payload(square, 4))) == 16
    message = str(info.value)
    assert marker in message
    assert fn.__name__ in message  # the worker traceback is in the message itself


def test_worker_exit_fails_only_its_call() -> None:
    with WorkerPool(max_workers=1) as pool:
        before = [pool.submit(payload(square, i)) for i in range(3)]
        dying = pool.submit(payload(exit_with, 3))
        after = [pool.submit(payload(square, i)) for i in range(3, 6)]
        with pytest.raises(WorkerDied) as info:
            dying.result(TIMEOUT)
        assert [result(f) for f in before + after] == [i * i for i in range(6)]
    assert info.value.exitcode == 3
    assert "exit code 3" in str(info.value)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigkilled_worker_reports_signal() -> None:
    with WorkerPool(max_workers=2) as pool:
        dying = pool.submit(payload(sigkill_self))
        with pytest.raises(WorkerDied, match="SIGKILL") as info:
            dying.result(TIMEOUT)
        assert result(pool.submit(payload(square, 5))) == 25
    assert info.value.exitcode == -signal.SIGKILL


def test_worker_died_pickles() -> None:
    copy = pickle.loads(pickle.dumps(WorkerDied(-9)))
    assert copy.exitcode == -9
    assert str(copy) == "worker process died while running the task (exit code -9, signal SIGKILL)"


def test_kill_running_call(tmp_path: Path) -> None:
    started = tmp_path / "started"
    with WorkerPool(max_workers=1) as pool:
        future = pool.submit(payload(touch_and_sleep, str(started), LONG))
        wait_for(started.exists)
        pid = int(started.read_text())
        assert pool.kill(future, TimeoutError("too slow")) is True
        with pytest.raises(TimeoutError, match="too slow"):
            future.result(TIMEOUT)
        assert result(pool.submit(payload(square, 6))) == 36  # a replacement worker runs it
        wait_for(lambda: pid_gone(pid))
        assert pool.kill(future, TimeoutError("again")) is False


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_kill_escalates_to_sigkill(tmp_path: Path) -> None:
    started = tmp_path / "started"
    with WorkerPool(max_workers=1) as pool:
        future = pool.submit(payload(ignore_sigterm_and_sleep, str(started)))
        wait_for(started.exists)
        assert pool.kill(future, TimeoutError()) is True
        wait_for(lambda: pid_gone(int(started.read_text())))  # only SIGKILL ends it


def test_kill_queued_call_never_runs(tmp_path: Path) -> None:
    started, marker = tmp_path / "started", tmp_path / "ran"
    with WorkerPool(max_workers=1) as pool:
        blocker = pool.submit(payload(touch_and_sleep, str(started), 0.3))
        queued = pool.submit(payload(touch, str(marker)))
        wait_for(started.exists)
        assert pool.kill(queued, TimeoutError("dropped")) is True
        with pytest.raises(TimeoutError, match="dropped"):
            queued.result(TIMEOUT)
        result(blocker)
        assert result(pool.submit(payload(square, 2))) == 4  # the queue has drained past it
    assert not marker.exists()


def test_cancel_before_start_never_runs(tmp_path: Path) -> None:
    started, marker = tmp_path / "started", tmp_path / "ran"
    with WorkerPool(max_workers=1) as pool:
        blocker = pool.submit(payload(touch_and_sleep, str(started), 0.3))
        queued = pool.submit(payload(touch, str(marker)))
        assert queued.cancel() is True
        result(blocker)
        assert result(pool.submit(payload(square, 2))) == 4
    assert not marker.exists()
    with pytest.raises(CancelledError):
        queued.result(0)


def test_kill_done_future_returns_false() -> None:
    with WorkerPool(max_workers=1) as pool:
        future = pool.submit(payload(square, 7))
        assert result(future) == 49
        assert pool.kill(future, TimeoutError()) is False
        assert result(future) == 49


def test_shutdown_kill_running_is_prompt_and_leaves_no_children(tmp_path: Path) -> None:
    pool = WorkerPool(max_workers=2)
    paths = [tmp_path / "a", tmp_path / "b"]
    futures = [pool.submit(payload(touch_and_sleep, str(p), LONG)) for p in paths]
    try:
        wait_for(lambda: all(p.exists() for p in paths))
        pids = [int(p.read_text()) for p in paths]
    except BaseException:
        pool.shutdown(wait=True, kill_running=True)  # leave no workers to later tests
        raise
    pool.shutdown(wait=True, kill_running=True)  # waiting for the calls would take LONG
    for future in futures:
        with pytest.raises(WorkerDied):
            future.result(0)
    assert multiprocessing.active_children() == []
    assert all(pid_gone(pid) for pid in pids)
    pool.shutdown()  # idempotent


def test_shutdown_kills_worker_that_does_not_exit() -> None:
    pool = WorkerPool(max_workers=1)
    assert result(pool.submit(payload(leave_non_daemon_thread))) is None
    pool.shutdown(wait=True)  # asked to exit, given a grace period, then killed
    assert multiprocessing.active_children() == []


def test_shutdown_waits_for_queued_work_unless_cancelled(tmp_path: Path) -> None:
    started = tmp_path / "started"
    pool = WorkerPool(max_workers=1)
    blocker = pool.submit(payload(touch_and_sleep, str(started), 0.2))
    queued = [pool.submit(payload(square, i)) for i in range(3)]
    pool.shutdown(wait=True)
    assert [result(f) for f in queued] == [0, 1, 4]
    result(blocker)

    pool = WorkerPool(max_workers=1)
    blocker = pool.submit(payload(touch_and_sleep, str(started), 0.2))
    queued = [pool.submit(payload(square, i)) for i in range(3)]
    pool.shutdown(wait=True, cancel_pending=True)
    assert all(f.cancelled() for f in queued)
    assert multiprocessing.active_children() == []


def test_submit_after_shutdown_raises() -> None:
    pool = WorkerPool(max_workers=1)
    pool.shutdown()
    with pytest.raises(RuntimeError, match="shut down"):
        pool.submit(payload(square, 1))


def test_max_workers_validation() -> None:
    with pytest.raises(ValueError):
        WorkerPool(max_workers=0)
    assert WorkerPool(max_workers=3).max_workers == 3
    assert WorkerPool().max_workers == (os.cpu_count() or 1)


def test_concurrency_is_bounded_by_max_workers(tmp_path: Path) -> None:
    paths = [tmp_path / f"interval-{i}" for i in range(4)]
    with WorkerPool(max_workers=2) as pool:
        futures = [pool.submit(payload(record_interval, str(p), 0.3)) for p in paths]
        for future in futures:
            result(future)
    intervals = [tuple(map(float, p.read_text().split())) for p in paths]
    for start, _ in intervals:
        running = sum(s <= start < e for s, e in intervals)
        assert running <= 2, intervals


def print_and_return(text: str) -> str:
    print(text, flush=True)
    return text


def test_workers_print_where_the_parent_prints_now(tmp_path: Path) -> None:
    """A fork server outlives the standard output it started with; its workers must not."""
    with WorkerPool(max_workers=1) as pool:  # the server runs from here on, if there is one
        assert result(pool.submit(payload(print_and_return, "first"))) == "first"
    redirected = tmp_path / "stdout"
    saved = os.dup(1)
    try:
        with open(redirected, "w") as handle:
            os.dup2(handle.fileno(), 1)
            with WorkerPool(max_workers=1) as pool:
                assert result(pool.submit(payload(print_and_return, "second"))) == "second"
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    assert redirected.read_text() == "second\n"


# --- calls with a callback (what the process runner uses) ---------------------------------


class Replies:
    """What ``on_done`` callbacks received, by name, with the thread each ran on."""

    def __init__(self) -> None:
        self.got: dict[str, tuple[bytes | BaseException, str]] = {}
        self.lock = threading.Lock()

    def to(self, name: str) -> Callable[[bytes | BaseException], None]:
        def on_done(reply: bytes | BaseException) -> None:
            with self.lock:
                assert name not in self.got, f"{name} was handed its outcome twice"
                self.got[name] = (reply, threading.current_thread().name)

        return on_done

    def wait(self, *names: str) -> None:
        wait_for(lambda: all(name in self.got for name in names))

    def value(self, name: str) -> Any:
        reply, _ = self.got[name]
        assert isinstance(reply, bytes), reply
        return cloudpickle.loads(reply)


def test_call_hands_each_outcome_to_its_callback_once_on_the_pools_thread() -> None:
    replies = Replies()
    with WorkerPool(max_workers=2) as pool:
        for i in range(20):
            pool.call(payload(square, i), replies.to(f"square-{i}"))
        pool.call(payload(raise_value_error, "boom 7"), replies.to("error"))
        pool.call(payload(exit_with, 3), replies.to("died"))
        replies.wait(*(f"square-{i}" for i in range(20)), "error", "died")
    assert [replies.value(f"square-{i}") for i in range(20)] == [i * i for i in range(20)]
    error, thread = replies.got["error"]
    assert isinstance(error, ValueError) and str(error) == "boom 7"
    assert "boom 7" in str(error.__cause__)  # the worker's traceback, as text
    assert thread == "flowc-worker-pool"
    died, _ = replies.got["died"]
    assert isinstance(died, WorkerDied) and died.exitcode == 3


def test_kill_by_call_handle_running_or_queued(tmp_path: Path) -> None:
    started, marker = tmp_path / "started", tmp_path / "ran"
    replies = Replies()
    with WorkerPool(max_workers=1) as pool:
        running = pool.call(payload(touch_and_sleep, str(started), LONG), replies.to("running"))
        queued = pool.call(payload(touch, str(marker)), replies.to("queued"))
        wait_for(started.exists)
        pid = int(started.read_text())
        assert pool.kill(queued, TimeoutError("dropped")) is True
        assert pool.kill(running, TimeoutError("too slow")) is True
        replies.wait("running", "queued")
        pool.call(payload(square, 6), replies.to("after"))  # a replacement worker runs it
        replies.wait("after")
        assert replies.value("after") == 36
        assert pool.kill(running, TimeoutError("again")) is False
        wait_for(lambda: pid_gone(pid))
    assert str(replies.got["running"][0]) == "too slow"
    assert str(replies.got["queued"][0]) == "dropped"
    assert not marker.exists()


def test_shutdown_cancelling_pending_tells_their_callbacks(tmp_path: Path) -> None:
    started = tmp_path / "started"
    replies = Replies()
    pool = WorkerPool(max_workers=1)
    pool.call(payload(touch_and_sleep, str(started), 0.2), replies.to("running"))
    for i in range(3):
        pool.call(payload(square, i), replies.to(f"queued-{i}"))
    wait_for(started.exists)
    pool.shutdown(wait=True, cancel_pending=True)
    assert all(isinstance(replies.got[f"queued-{i}"][0], CancelledError) for i in range(3))
    assert isinstance(replies.value("running"), int)  # the running call was let finish


def _workers_started(pool: WorkerPool) -> int:
    with pool._lock:
        return len(pool._workers)


def test_warm_starts_every_worker_before_any_call() -> None:
    with WorkerPool(2) as pool:
        pool.warm()
        wait_for(lambda: _workers_started(pool) == 2)
        pids = {result(pool.submit(payload(os.getpid))) for _ in range(20)}
        assert pids <= {w.process.pid for w in pool._workers} and os.getpid() not in pids
        assert _workers_started(pool) == 2  # the calls found them: none more were started


def test_warm_after_shutdown_starts_nothing() -> None:
    pool = WorkerPool(2)
    pool.shutdown(wait=True)
    pool.warm()
    assert _workers_started(pool) == 0
