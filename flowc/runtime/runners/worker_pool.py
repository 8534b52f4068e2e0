"""A process pool that knows which worker runs which call.

Why not :class:`concurrent.futures.ProcessPoolExecutor`? When one of its workers dies
(segfault, OOM killer, ``os._exit``) it cannot tell which call was running there, so it marks
the whole executor broken and fails *every* pending call with ``BrokenProcessPool``; and it
has no way to stop one runaway call. Here each worker runs one call at a time over its own
pipe, so the pool always knows which call a worker holds:

* a worker that dies mid-call fails only that call (:class:`WorkerDied`) and is replaced;
* :meth:`WorkerPool.kill` terminates the worker of one call (timeouts) and replaces it;
* :meth:`WorkerPool.shutdown` never hangs: a worker that does not exit when asked is killed.

One daemon dispatcher thread owns the processes and pipes. It sleeps in
``multiprocessing.connection.wait`` on every worker pipe, every process sentinel and a wake-up
pipe, so answers, deaths and new work are seen at once, without polling. Other threads only
change the shared bookkeeping under ``_lock`` and wake the dispatcher. Whoever takes a call out
of the bookkeeping (under the lock) settles its future, always *outside* the lock, because
done-callbacks run user code.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import multiprocessing
import multiprocessing.reduction
import multiprocessing.spawn
import os
import pickle
import signal
import threading
import time
import traceback
import weakref
from collections import deque
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, InvalidStateError
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

import cloudpickle

from flowc.runtime.calls import RemoteTraceback

__all__ = ["CallHandle", "WorkerDied", "WorkerPool"]

logger = logging.getLogger("flowc.runtime")

_TERMINATE_GRACE = 0.5  # seconds from SIGTERM to SIGKILL for the worker of a killed call
_EXIT_GRACE = 5.0  # seconds a worker asked to exit (at shutdown) gets before SIGKILL


class WorkerDied(Exception):
    """The worker process running a call exited before answering (killed, segfault, os._exit)."""

    exitcode: int | None

    def __init__(self, exitcode: int | None) -> None:
        self.exitcode = exitcode
        super().__init__(f"worker process died while running the task ({_describe(exitcode)})")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.exitcode,))  # args hold the message, not the exit code


def _describe(exitcode: int | None) -> str:
    if exitcode is None:
        return "exit code unknown"
    if exitcode >= 0:
        return f"exit code {exitcode}"
    try:
        name = signal.Signals(-exitcode).name
    except ValueError:
        name = str(-exitcode)
    return f"exit code {exitcode}, signal {name}"


# --- the pipe between them ------------------------------------------------------------------
# Messages are ids, flags, bytes and strings: the standard pickler is enough, and cheaper than
# ``Connection.send``'s, which builds a fresh ForkingPickler, dispatch table and all, for each.


def _send(conn: Connection, message: Any) -> None:
    conn.send_bytes(pickle.dumps(message, pickle.HIGHEST_PROTOCOL))


def _recv(conn: Connection) -> Any:
    return pickle.loads(conn.recv_bytes())


# --- worker process side ------------------------------------------------------------------


def _run_payload(payload: bytes) -> bytes:
    """Default worker function: call a cloudpickled ``(fn, args, kwargs)``, pickle the result."""
    fn, args, kwargs = cloudpickle.loads(payload)
    return cloudpickle.dumps(fn(*args, **kwargs))


def _pack_exception(exc: BaseException) -> tuple[bytes, str]:
    """Pickle ``exc`` with its traceback text; a RuntimeError stands in if it won't round-trip."""
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        data = cloudpickle.dumps(exc)
        cloudpickle.loads(data)  # some pickle fine but cannot be rebuilt (custom __init__)
    except Exception as err:
        try:
            text = repr(exc)
        except Exception:
            text = f"<{type(exc).__qualname__} instance>"
        stand_in = RuntimeError(f"{text} (unpicklable: {err!r}); worker traceback:\n{tb}")
        data = cloudpickle.dumps(stand_in)
    return data, tb


class _ParentFd:
    """The parent's file descriptor ``fd``, duplicated into the worker as it starts."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __reduce__(self) -> tuple[Any, ...]:
        # Only while a process is being started: the start method sends the descriptor.
        return (_detached, (multiprocessing.reduction.DupFd(self.fd),))


def _detached(dup: Any) -> int:
    return int(dup.detach())


def _worker_main(
    conn: Connection,
    worker_fn: Callable[[bytes], bytes],
    environment: dict[str, str],
    output: tuple[int, int],
) -> None:
    """Worker loop: run one ``(call_id, payload)`` at a time until sent ``None`` or orphaned."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    # A worker forked from the fork server has the server's environment and standard output
    # as they were when the server started; a task must see the parent's as they are now
    # (where spawn would have them): a print goes where the parent's prints go.
    if os.environ != environment:
        os.environ.clear()
        os.environ.update(environment)
    for target, fd in zip((1, 2), output, strict=True):
        os.dup2(fd, target)
        os.close(fd)
    while True:
        try:
            message = _recv(conn)
        except (EOFError, OSError):
            return  # the parent is gone
        if message is None:
            return
        call_id, payload = message
        reply: tuple[int, bool, bytes | tuple[bytes, str]]
        try:
            reply = (call_id, True, worker_fn(payload))
        except BaseException as exc:
            reply = (call_id, False, _pack_exception(exc))
        try:
            _send(conn, reply)
        except (EOFError, OSError):
            return
        except Exception as exc:  # the result itself could not be pickled
            _send(conn, (call_id, False, _pack_exception(exc)))
        del message, payload, reply


# --- parent side ----------------------------------------------------------------------------


def _unpack_exception(data: bytes, tb: str) -> BaseException:
    try:
        exc = cloudpickle.loads(data)
    except Exception as err:
        exc = RuntimeError(f"worker exception could not be unpickled ({err!r}); traceback:\n{tb}")
    if not isinstance(exc, BaseException):
        exc = RuntimeError(f"worker sent a non-exception {exc!r}; traceback:\n{tb}")
    exc.__cause__ = RemoteTraceback(tb)
    return exc


def _settle(future: Future[bytes], outcome: bytes | BaseException) -> None:
    """Set a result or exception, unless the future's owner already settled it."""
    try:
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
    except InvalidStateError:
        pass


#: Given a call's outcome: the worker function's bytes, or why there are none.
OnDone = Callable[["bytes | BaseException"], object]


class _Call:
    """One call: its payload until a worker has it, and where its outcome goes — a Future
    (:meth:`WorkerPool.submit`), or a callback (:meth:`WorkerPool.call`), which spares a
    Future and its condition variable per call."""

    __slots__ = ("future", "on_done", "payload", "call_id", "finished")

    def __init__(
        self, future: Future[bytes] | None, on_done: OnDone | None, payload: bytes, call_id: int
    ) -> None:
        self.future = future
        self.on_done = on_done
        self.payload = payload
        self.call_id = call_id
        self.finished = False

    def start(self) -> bool:
        """Whether it may run now: False if its future was cancelled meanwhile."""
        return self.future.set_running_or_notify_cancel() if self.future is not None else True

    def stands_for(self, target: object) -> bool:
        return self is target or (self.future is not None and self.future is target)

    def cancel(self) -> None:
        if self.future is not None:
            self.future.cancel()
        else:
            self.settle(CancelledError())

    def settle(self, outcome: bytes | BaseException) -> None:
        """Hand the outcome over, once; whoever took the call out of the pool's bookkeeping
        (under its lock) calls this, outside the lock."""
        if self.future is not None:
            _settle(self.future, outcome)
            return
        if self.finished or self.on_done is None:
            return
        self.finished = True
        try:
            self.on_done(outcome)
        except Exception:
            logger.exception("flowc could not hand over the outcome of a worker call")


#: What :meth:`WorkerPool.call` returns: the call, for :meth:`WorkerPool.kill`.
CallHandle = _Call


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    conn: Connection
    call: _Call | None = None
    retiring: bool = False  # takes no more calls: asked to exit, or being killed
    terminate_requested: bool = False  # by kill() or shutdown(kill_running=True)
    terminated: bool = False  # SIGTERM sent
    kill_at: float | None = None  # monotonic time to SIGKILL it if it is still alive
    conn_eof: bool = False  # its pipe hit EOF: it is exiting, its sentinel will tell


class WorkerPool:
    """A process pool that knows which worker runs which call; see the module docstring."""

    def __init__(
        self,
        max_workers: int | None = None,
        mp_context: str | None = None,
        *,
        worker_fn: Callable[[bytes], bytes] = _run_payload,
    ) -> None:
        if max_workers is None:
            max_workers = os.cpu_count() or 1
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {max_workers}")
        self._max_workers = max_workers
        self._ctx = multiprocessing.get_context(mp_context or _default_start_method())
        self._worker_fn = worker_fn  # must pickle by reference: a module-level function
        self._lock = threading.Lock()
        self._pending: deque[_Call] = deque()
        self._workers: list[_Worker] = []  # only the dispatcher adds and removes workers
        self._call_ids = itertools.count()
        self._worker_ids = itertools.count(1)
        self._shutdown = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = multiprocessing.Pipe(duplex=False)
        self._wake_pending = False
        self._warming = False  # start every worker at the next dispatch (see warm)

    @property
    def max_workers(self) -> int:
        return self._max_workers

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown(wait=True)

    def submit(self, payload: bytes) -> Future[bytes]:
        """Queue ``worker_fn(payload)`` for a worker process; the future gets its result."""
        future: Future[bytes] = Future()
        self._enqueue(_Call(future, None, payload, next(self._call_ids)))
        return future

    def call(self, payload: bytes, on_done: OnDone) -> CallHandle:
        """Queue ``worker_fn(payload)``; ``on_done`` gets its bytes, or the exception that
        stands for them (:class:`WorkerDied`, ``CancelledError``, a ``kill``'s), once, on the
        pool's thread. The handle is for :meth:`kill`."""
        call = _Call(None, on_done, payload, next(self._call_ids))
        self._enqueue(call)
        return call

    def warm(self) -> None:
        """Start every worker now, in the background, instead of with the first calls.

        A caller that knows calls are coming (a flow run on this pool) overlaps the workers'
        start — a fork server's first start loads flowc's worker code — with its own work
        before the first call, instead of making that call wait for it.
        """
        with self._lock:
            if self._shutdown:
                return
            self._warming = True
            self._start_dispatcher_locked()
            self._wake_locked()

    def _enqueue(self, call: _Call) -> None:
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot submit to a pool that is shut down")
            self._pending.append(call)
            self._start_dispatcher_locked()
            self._wake_locked()

    def _start_dispatcher_locked(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="flowc-worker-pool")
            self._thread.daemon = True
            self._thread.start()
            _live_pools.add(self)

    def kill(self, target: Future[bytes] | CallHandle, exc: BaseException) -> bool:
        """Stop the call of ``target`` (a future from :meth:`submit`, a handle from
        :meth:`call`) and fail it with ``exc``; False if it already finished.

        A running call's worker is terminated (then SIGKILLed after a short grace) and replaced
        as needed; a queued call is dropped and never runs.
        """
        with self._lock:
            worker = next(
                (w for w in self._workers if w.call is not None and w.call.stands_for(target)),
                None,
            )
            if worker is not None:
                call = worker.call
                worker.call, worker.retiring, worker.terminate_requested = None, True, True
                self._wake_locked()
            else:
                found = next((c for c in self._pending if c.stands_for(target)), None)
                if found is None:
                    return False  # finished, or the dispatcher is settling it right now
                call = found
                self._pending.remove(call)
                if not call.start():
                    return False  # cancelled by its owner meanwhile
        assert call is not None
        call.settle(exc)
        return True

    def shutdown(
        self, wait: bool = True, *, cancel_pending: bool = False, kill_running: bool = False
    ) -> None:
        """Stop accepting calls; workers exit once the queue is empty. Idempotent.

        ``cancel_pending`` cancels queued calls; ``kill_running`` terminates busy workers (their
        futures get :class:`WorkerDied`). With ``wait``, return once every worker has exited.
        """
        with self._lock:
            self._shutdown = True
            cancelled = list(self._pending) if cancel_pending else []
            if cancel_pending:
                self._pending.clear()
            for w in self._workers:
                if kill_running and w.call is not None:
                    w.retiring = w.terminate_requested = True
            thread = self._thread
            if thread is None:
                self._close_locked()
            else:
                self._wake_locked()
        for call in cancelled:
            call.cancel()
        if wait and thread is not None and thread is not threading.current_thread():
            thread.join()

    # --- bookkeeping shared with other threads (lock held) ---------------------------------

    def _wake_locked(self) -> None:
        """Wake the dispatcher. Wake-ups are coalesced, so the pipe never fills and blocks."""
        if not self._wake_pending and not self._closed:
            self._wake_pending = True
            self._wake_w.send_bytes(b"")

    def _close_locked(self) -> None:
        if not self._closed:
            self._closed = True
            self._wake_r.close()
            self._wake_w.close()

    def _pop_runnable_locked(self) -> _Call | None:
        while self._pending:
            call = self._pending.popleft()
            if call.start():
                return call
        return None

    # --- dispatcher thread ------------------------------------------------------------------

    def _run(self) -> None:
        """Dispatcher thread body; should it ever crash, fail every call rather than hang."""
        try:
            while self._step():
                pass
        except BaseException as err:
            self._abort(RuntimeError(f"worker pool dispatcher failed: {err!r}"))
            raise

    def _step(self) -> bool:
        """Hand out work, signal workers, then sleep until an answer, a death or a wake-up."""
        self._dispatch()
        timeout = self._signal_workers()
        with self._lock:
            if self._shutdown and not self._pending and not self._workers:
                self._close_locked()
                return False
            conns = {w.conn: w for w in self._workers if not w.conn_eof}
            sentinels = {w.process.sentinel: w for w in self._workers}
        ready = set(wait([self._wake_r, *conns, *sentinels], timeout))
        if self._wake_r in ready:
            # Drain and re-arm under one lock: a wake-up sent between the two would otherwise
            # be eaten while the flag still says one is pending, and none would be sent again.
            with self._lock:
                while self._wake_r.poll():
                    self._wake_r.recv_bytes()
                self._wake_pending = False
        answers: list[tuple[_Call, bytes | BaseException]] = []
        for conn, worker in conns.items():
            if conn in ready:
                self._receive(worker, answers)
        if answers:
            # Idle workers get their next call before the answers are handed over: settling
            # runs the caller's callbacks, and a worker should not wait on them.
            self._dispatch()
        for call, outcome in answers:
            call.settle(outcome)
        for sentinel, worker in sentinels.items():
            if sentinel in ready:
                self._reap(worker)
        return True

    def _dispatch(self) -> None:
        """Give queued calls to idle workers, starting workers up to ``max_workers``; once shut
        down with nothing queued, ask idle workers to exit."""
        with self._lock:
            live = [w for w in self._workers if not w.retiring]
            idle = sum(w.call is None for w in live)
            missing = min(len(self._pending) - idle, self._max_workers - len(live))
            if self._warming:
                self._warming = False
                missing = self._max_workers - len(live)
        started = [self._start_worker() for _ in range(missing)]  # outside the lock: slow-ish
        messages: list[tuple[_Worker, tuple[int, bytes] | None]] = []
        with self._lock:
            self._workers.extend(started)
            for w in self._workers:
                if w.retiring or w.call is not None:
                    continue
                call = self._pop_runnable_locked()
                if call is not None:
                    w.call = call
                    messages.append((w, (call.call_id, call.payload)))
                    call.payload = b""  # the worker has it now; don't hold it for the call
                elif self._shutdown:
                    w.retiring, w.kill_at = True, time.monotonic() + _EXIT_GRACE
                    messages.append((w, None))
        for w, message in messages:
            try:
                _send(w.conn, message)
            except OSError:
                pass  # it just died: its sentinel fails the call

    def _start_worker(self) -> _Worker:
        parent_conn, child_conn = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(  # type: ignore[attr-defined]  # typeshed: BaseContext
            target=_worker_main,
            args=(child_conn, self._worker_fn, dict(os.environ), (_ParentFd(1), _ParentFd(2))),
            name=f"flowc-worker-{next(self._worker_ids)}",
        )
        _starting_worker.active = True
        try:
            process.start()
        finally:
            _starting_worker.active = False
        child_conn.close()  # the child has its own copy; ours would hide EOF when it dies
        return _Worker(process, parent_conn)

    def _signal_workers(self) -> float | None:
        """Send due SIGTERMs and SIGKILLs; return seconds until the next one is due, if any."""
        now = time.monotonic()
        next_due: float | None = None
        with self._lock:
            for w in self._workers:
                if w.terminate_requested and not w.terminated:
                    w.process.terminate()
                    w.terminated, w.kill_at = True, now + _TERMINATE_GRACE
                if w.kill_at is not None and w.kill_at <= now:
                    w.process.kill()
                    w.kill_at = None
                elif w.kill_at is not None:
                    next_due = w.kill_at if next_due is None else min(next_due, w.kill_at)
        return None if next_due is None else max(0.0, next_due - now)

    def _receive(self, worker: _Worker, answers: list[tuple[_Call, bytes | BaseException]]) -> None:
        """Read one answer and add its call's outcome to ``answers``, unless the call was
        killed meanwhile (``kill`` settled it)."""
        try:
            call_id, ok, body = _recv(worker.conn)
        except (EOFError, OSError):
            worker.conn_eof = True
            return
        with self._lock:
            call = worker.call
            if call is None or call.call_id != call_id:
                return  # kill() took the call and settled its future
            worker.call = None
        answers.append((call, body if ok else _unpack_exception(*body)))

    def _reap(self, worker: _Worker) -> None:
        """``worker`` exited: take an answer it sent before dying (the answer wins), join it,
        and fail the call it still held."""
        answers: list[tuple[_Call, bytes | BaseException]] = []
        while not worker.conn_eof and worker.conn.poll():
            self._receive(worker, answers)
        for answered, outcome in answers:
            answered.settle(outcome)
        worker.process.join()
        with self._lock:
            self._workers.remove(worker)
            call, worker.call = worker.call, None
        exitcode = worker.process.exitcode
        worker.conn.close()
        worker.process.close()
        if call is not None:
            call.settle(WorkerDied(exitcode))

    def _abort(self, error: BaseException) -> None:
        """Last resort after a dispatcher bug: kill every worker and fail every call."""
        with self._lock:
            self._shutdown = True
            calls = [*self._pending, *(w.call for w in self._workers if w.call is not None)]
            self._pending.clear()
            workers, self._workers = self._workers, []
            self._close_locked()
        for w in workers:
            w.process.kill()
            w.process.join(_EXIT_GRACE)
        for call in calls:
            call.settle(error)


#: Modules a fork server loads once, so that every worker forked from it starts warm: the
#: wire and the pool, and what a worker's first task run imports — the engine and its
#: inline runner (which bring asyncio, ~10 ms) and the cache policies a task unpickles with.
PRELOAD = [
    "cloudpickle",
    "flowc.runtime.runners.wire",
    "flowc.runtime.runners.worker_pool",
    "flowc.runtime.engine",
    "flowc.runtime.runners.inline",
    "flowc.cache_policies",
]


def _default_start_method() -> str:
    """``forkserver`` where there is one: a worker then starts as a fork of a small,
    single-threaded server process that has flowc's worker code loaded — safe in a threaded
    parent like ``spawn``, and about ten times faster to start once the server runs (it
    starts with the first pool of a process, and serves every later one). Else ``spawn``."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return "spawn"
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return "forkserver"


# A spawned child normally re-imports the parent's ``__main__`` first, which re-runs a script's
# module-level code — in a flow script without a main guard, the flow itself, in every worker.
# Workers here never need ``__main__``: calls arrive cloudpickled, and cloudpickle sends
# ``__main__`` functions and classes by value. So for the workers this pool starts (and only
# those, marked per thread), the preparation data leaves the main module out.
_starting_worker = threading.local()
_spawn_preparation = multiprocessing.spawn.get_preparation_data


def _preparation_without_main(name: str) -> dict[str, Any]:
    data: dict[str, Any] = _spawn_preparation(name)
    if getattr(_starting_worker, "active", False):
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
    return data


if getattr(multiprocessing.spawn.get_preparation_data, "__module__", None) != __name__:
    multiprocessing.spawn.get_preparation_data = _preparation_without_main

_live_pools: weakref.WeakSet[WorkerPool] = weakref.WeakSet()


@atexit.register
def _shutdown_live_pools() -> None:
    """At interpreter exit nobody waits for results any more: stop every pool's workers.

    Registered after ``multiprocessing.util`` (imported above), so it runs before that
    module's exit hook, which joins non-daemon children and would otherwise hang on ours.
    """
    for pool in list(_live_pools):
        pool.shutdown(wait=True, cancel_pending=True, kill_running=True)
