"""A faulty HTTP/1.1 proxy on loopback, for putting in front of a real peer (moto's S3).

Each request is read whole (head and body), then, in order of the queued faults:
- ``fail_next(status, times)`` answers it with that status and an S3-style XML error,
  without forwarding it;
- ``drop_next(times)`` closes the connection without a byte of answer (a reset
  mid-request, as a flaky network or a restarting load balancer does);
- otherwise it is forwarded to the upstream server (``Connection: close``, one
  request per upstream connection) and the answer relayed back unchanged.

Counters: ``requests`` (every request seen), ``forwarded``, ``failed``, ``dropped``.
The client sees a real TCP peer; nothing of the client library is patched.

    with FaultyProxy("127.0.0.1", moto_port) as proxy:
        proxy.fail_next(503, times=2)
        client = boto3.client("s3", endpoint_url=proxy.url, ...)
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

__all__ = ["FaultyProxy"]

_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Slow Down", 504: "Timeout"}
_S3_CODES = {500: "InternalError", 502: "BadGateway", 503: "SlowDown", 504: "GatewayTimeout"}


@dataclass
class _Fault:
    kind: Literal["status", "drop"]
    status: int
    remaining: int


class FaultyProxy:
    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.requests = 0
        self.forwarded = 0
        self.failed = 0
        self.dropped = 0
        self._faults: deque[_Fault] = deque()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        # Open client connections, so that stop() closes each one: a keep-alive
        # connection left to the garbage collector is an "unclosed transport" warning.
        self._connections: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()

    # ---- knobs -----------------------------------------------------------------------

    def fail_next(self, status: int = 503, *, times: int = 1) -> None:
        with self._lock:
            self._faults.append(_Fault("status", status, times))

    def drop_next(self, *, times: int = 1) -> None:
        with self._lock:
            self._faults.append(_Fault("drop", 0, times))

    @property
    def faults_left(self) -> int:
        with self._lock:
            return sum(f.remaining for f in self._faults)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    # ---- lifecycle ---------------------------------------------------------------------

    def start(self) -> FaultyProxy:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            self._server = loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", 0)
            )
            self._port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._shutdown())
            loop.close()

        self._thread = threading.Thread(target=run, name="faulty-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("faulty proxy did not start")
        return self

    async def _shutdown(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._connections):
            writer.transport.abort()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._loop = self._thread = None

    def __enter__(self) -> FaultyProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- HTTP --------------------------------------------------------------------------

    def _take(self) -> _Fault | None:
        with self._lock:
            self.requests += 1
            while self._faults and self._faults[0].remaining <= 0:
                self._faults.popleft()
            if not self._faults:
                return None
            fault = self._faults[0]
            fault.remaining -= 1
            return fault

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self._connections.add(writer)
        self._handlers.add(handler)
        try:
            while True:
                request = await _read_request(reader, writer)
                if request is None:
                    return
                fault = self._take()
                if fault is not None and fault.kind == "drop":
                    with self._lock:
                        self.dropped += 1
                    writer.transport.abort()  # RST: no answer at all
                    return
                if fault is not None:
                    with self._lock:
                        self.failed += 1
                    writer.write(_error_response(fault.status))
                    await writer.drain()
                    continue
                with self._lock:
                    self.forwarded += 1
                await self._forward(request, writer)
                return  # Connection: close upstream, so close here too
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._connections.discard(writer)
            self._handlers.discard(handler)
            if not writer.is_closing():
                writer.close()

    async def _forward(self, request: bytes, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(self.upstream_host, self.upstream_port)
        try:
            up_writer.write(request)
            await up_writer.drain()
            while chunk := await up_reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        finally:
            up_writer.close()


async def _read_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes | None:
    """One whole request, rewritten to `Connection: close`; None at end of stream."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head[:-4].split(b"\r\n")
    headers = [
        line for line in lines[1:] if not line.lower().startswith((b"connection:", b"expect:"))
    ]
    length = 0
    chunked = False
    expect = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            length = int(value.strip())
        elif key == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif key == b"expect" and b"100-continue" in value.lower():
            expect = True
    if expect:
        # We read the body ourselves, so we answer the client's "may I send it?".
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
    if chunked:
        body = await _read_chunked(reader)
        headers = [h for h in headers if not h.lower().startswith(b"transfer-encoding:")]
        headers.append(b"Content-Length: " + str(len(body)).encode())
    else:
        body = await reader.readexactly(length) if length else b""
    return b"\r\n".join([lines[0], *headers, b"Connection: close"]) + b"\r\n\r\n" + body


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass  # trailers
            return bytes(body)
        body += await reader.readexactly(size)
        await reader.readexactly(2)


def _error_response(status: int) -> bytes:
    code = _S3_CODES.get(status, "InternalError")
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>injected {status} by the test proxy</Message>"
        "<RequestId>faulty-proxy</RequestId></Error>"
    ).encode()
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
        "Content-Type: application/xml\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    ).encode()
    return head + body
