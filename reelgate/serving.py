"""Run an ASGI app under uvicorn: in a background thread, or in the running loop.

- :class:`ThreadedServer`: uvicorn on its own event loop in a daemon thread, for
  code that is not async (test fixtures, the local media server, the local Notion
  API); ``start()`` / ``stop()`` or ``with``.
- :class:`InLoopServer`: uvicorn as a task in the *running* event loop, so handlers
  can await the owner's engine and state (the daemon's health port);
  ``await start()`` / ``await stop()`` or ``async with``.
- :func:`serve_forever`: the foreground server of a CLI command, stopped by Ctrl-C.

Both servers bind their socket before uvicorn starts: ``port=0`` picks a free port,
``.port`` and ``.base_url`` are known once ``start`` returns, and a port in use
raises ``OSError`` from ``start`` (uvicorn itself would call ``sys.exit``). Neither
installs signal handlers: their owner decides when they stop.

The socket is made from ``getaddrinfo``'s answer, so its protocol is IPPROTO_TCP.
asyncio sets TCP_NODELAY only on accepted sockets whose ``proto`` says TCP, and
``socket.socket(AF_INET, SOCK_STREAM)`` has proto 0: without NODELAY, Nagle's
algorithm and delayed ACKs add ~40 ms to loopback requests whose response uvicorn
writes in two parts (measured 2026-12-01, uvicorn 0.54: 44.6 ms -> 1.3 ms per POST).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Self

import structlog
import uvicorn

__all__ = ["InLoopServer", "ThreadedServer", "bind_socket", "serve_forever"]

log = structlog.get_logger(__name__)

_WILDCARD_HOSTS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}


def bind_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket for ``host:port`` (``port=0``: a free one), not yet listening."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def _config(app: Any, graceful_shutdown_s: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        # None: leave logging to the process's own (structlog / JSON) configuration.
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="off",
        ws="none",
        timeout_graceful_shutdown=graceful_shutdown_s,
    )


class _NoSignals(uvicorn.Server):
    """uvicorn without its signal handling: the owner stops the server.

    uvicorn's own main loop wakes every 0.1 s to notice ``should_exit`` (uvicorn 0.3x
    to 0.54, ``Server.main_loop``): ten wake-ups a second per server in an idle
    daemon. This one ticks once a second (the Date header's resolution) and is woken
    at once when ``should_exit`` is set, from any thread.
    """

    _TICK_S = 1.0

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    @property  # type: ignore[override]
    def should_exit(self) -> bool:
        return bool(self.__dict__.get("_should_exit", False))

    @should_exit.setter
    def should_exit(self, value: bool) -> None:
        self.__dict__["_should_exit"] = value
        loop: asyncio.AbstractEventLoop | None = self.__dict__.get("_tick_loop")
        wake: asyncio.Event | None = self.__dict__.get("_tick_wake")
        if value and loop is not None and wake is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(wake.set)

    async def main_loop(self) -> None:
        wake = asyncio.Event()
        self.__dict__["_tick_wake"] = wake
        self.__dict__["_tick_loop"] = asyncio.get_running_loop()
        # uvicorn's on_tick refreshes the Date header when counter % 10 == 0.
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 10) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self._TICK_S)
            should_exit = await self.on_tick(counter)


class _Listener:
    """What both servers share: the app, the bound socket, the address."""

    def __init__(
        self, app: Any, *, host: str, port: int, name: str, graceful_shutdown_s: int
    ) -> None:
        self.app = app
        self.host = host
        self.name = name
        self._requested_port = port
        self._graceful_shutdown_s = graceful_shutdown_s
        self._socket: socket.socket | None = None
        self._server: _NoSignals | None = None

    @property
    def port(self) -> int:
        """The bound port (the real one when constructed with ``port=0``)."""
        if self._socket is None:
            raise RuntimeError(f"{self.name} is not started")
        return int(self._socket.getsockname()[1])

    @property
    def base_url(self) -> str:
        """``http://host:port`` to reach the server from this machine (a wildcard
        host is shown as loopback), without a trailing slash."""
        host = _WILDCARD_HOSTS.get(self.host, self.host)
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}"

    def _prepare(self) -> tuple[_NoSignals, socket.socket]:
        if self._server is not None:
            raise RuntimeError(f"{self.name} already started")
        self._socket = bind_socket(self.host, self._requested_port)
        self._server = _NoSignals(_config(self.app, self._graceful_shutdown_s))
        return self._server, self._socket

    def _close_socket(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


class ThreadedServer(_Listener):
    """An ASGI app under uvicorn in a background thread with its own event loop."""

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "http-server",
        graceful_shutdown_s: int = 1,
    ) -> None:
        super().__init__(
            app, host=host, port=port, name=name, graceful_shutdown_s=graceful_shutdown_s
        )
        self._thread: threading.Thread | None = None

    def start(self, timeout_s: float = 10.0) -> Self:
        server, sock = self._prepare()
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=self.name, daemon=True
        )
        self._thread = thread
        thread.start()
        deadline = time.monotonic() + timeout_s
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} failed to start")
            time.sleep(0.005)
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        server, thread = self._server, self._thread
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout_s)
            if thread.is_alive() and server is not None:
                server.force_exit = True
                thread.join(1.0)
        self._server = None
        self._thread = None
        self._close_socket()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class InLoopServer(_Listener):
    """An ASGI app under uvicorn as a task in the running event loop."""

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "http-server",
        graceful_shutdown_s: int = 1,
    ) -> None:
        super().__init__(
            app, host=host, port=port, name=name, graceful_shutdown_s=graceful_shutdown_s
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self, timeout_s: float = 10.0) -> Self:
        server, sock = self._prepare()
        task = asyncio.create_task(server.serve(sockets=[sock]), name=self.name)
        self._task = task
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not server.started:
            if task.done() or loop.time() > deadline:
                error = task.exception() if task.done() and not task.cancelled() else None
                await self.stop()
                raise RuntimeError(f"{self.name} failed to start") from error
            await asyncio.sleep(0.005)
        return self

    async def stop(self) -> None:
        server, task = self._server, self._task
        self._server = None
        self._task = None
        if server is not None:
            server.should_exit = True
        if task is not None:
            try:
                # uvicorn checks should_exit every 0.1 s, then waits for open
                # requests up to its graceful shutdown timeout.
                await asyncio.wait_for(task, timeout=self._graceful_shutdown_s + 2)
            except TimeoutError:
                if server is not None:
                    server.force_exit = True
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            except Exception:
                log.warning("stop_http_server_failed", server=self.name, exc_info=True)
        self._close_socket()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


def serve_forever(app: Any, *, host: str, port: int) -> None:
    """Serve in the foreground until Ctrl-C / SIGTERM (uvicorn's own handlers)."""
    sock = bind_socket(host, port)
    try:
        uvicorn.Server(_config(app, graceful_shutdown_s=1)).run(sockets=[sock])
    finally:
        sock.close()
