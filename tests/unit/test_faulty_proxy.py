"""The test proxy closes every client connection when it stops.

A keep-alive connection left open at stop would be garbage-collected later, during
whichever test runs then, as an "unclosed transport" ResourceWarning that fails it.
"""

from __future__ import annotations

import gc
import socket
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.faulty_proxy import FaultyProxy


@pytest.fixture
def unraisable() -> Iterator[list[Any]]:
    seen: list[Any] = []
    previous = sys.unraisablehook
    sys.unraisablehook = seen.append
    try:
        yield seen
    finally:
        sys.unraisablehook = previous


def test_stopping_closes_the_keep_alive_connections_it_still_holds(
    unraisable: list[Any],
) -> None:
    proxy = FaultyProxy("http://127.0.0.1:9").start()
    proxy.fail_next(503, times=1)
    port = int(proxy.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(b"GET /bucket/key HTTP/1.1\r\nHost: s3\r\nContent-Length: 0\r\n\r\n")
        answer = client.recv(65536)
        assert answer.startswith(b"HTTP/1.1 503")
        # The proxy now waits on this connection for the next request (keep-alive).
        proxy.stop()
        assert client.recv(65536) == b""  # closed by the proxy, not left open
    gc.collect()
    assert [str(u.exc_value) for u in unraisable] == []
