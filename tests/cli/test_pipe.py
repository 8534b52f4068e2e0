"""The stdout relay: every byte reaches a reader that stays; none fails once it has gone.

The relay is tested on a pipe of the test's own (the test's stdout is pytest's); the real
``flowc`` behind a closed pipe is tested in tests/cli/test_reliability.py.
"""

from __future__ import annotations

import os
import threading

from flowc.cli.pipe import _Relay


def _pipe_with_relay() -> tuple[int, int, _Relay]:
    read_end, write_end = os.pipe()
    return read_end, write_end, _Relay(write_end)


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_everything_written_before_stop_arrives_in_order() -> None:
    read_end, write_end, relay = _pipe_with_relay()
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(_read_all(read_end)))
    reader.start()
    lines = [f"line {i}\n".encode() for i in range(20_000)]
    for line in lines:
        os.write(write_end, line)
    relay.stop()
    os.close(write_end)  # now the original pipe again: the reader sees its end
    reader.join()
    os.close(read_end)
    assert received == [b"".join(lines)]


def test_writes_after_the_reader_left_succeed_and_are_dropped() -> None:
    read_end, write_end, relay = _pipe_with_relay()
    os.write(write_end, b"first\n")
    assert os.read(read_end, 6) == b"first\n"
    os.close(read_end)  # `head -1` has its line
    for _ in range(1000):  # far more than a pipe holds: none of these may fail or block
        assert os.write(write_end, b"x" * 1024) == 1024
    relay.stop()
    assert relay.reader_gone
    assert os.write(write_end, b"after stop\n") == 11  # /dev/null now, not a broken pipe
    os.close(write_end)
