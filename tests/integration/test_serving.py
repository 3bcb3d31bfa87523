"""reelgate.serving: uvicorn in a thread or in the running loop, on a bound port."""

from __future__ import annotations

import socket

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from reelgate.serving import InLoopServer, ThreadedServer, bind_socket


def make_app() -> Starlette:
    async def echo(request: Request) -> Response:
        return PlainTextResponse(f"got {len(await request.body())} bytes")

    return Starlette(routes=[Route("/", echo, methods=["GET", "POST"])])


def test_threaded_server_binds_port_zero_serves_and_stops() -> None:
    server = ThreadedServer(make_app(), name="test-thread")
    with pytest.raises(RuntimeError, match="test-thread is not started"):
        _ = server.port
    with server:
        port = server.port
        assert port > 0
        assert server.base_url == f"http://127.0.0.1:{port}"
        response = httpx.post(server.base_url + "/", content=b"x" * 5000)
        assert response.text == "got 5000 bytes"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=1)


async def test_in_loop_server_binds_port_zero_serves_and_stops() -> None:
    async with InLoopServer(make_app(), host="0.0.0.0") as server:
        port = server.port
        # A wildcard host is shown as an address this machine can connect to.
        assert server.base_url == f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as client:
            assert (await client.get(server.base_url + "/")).text == "got 0 bytes"
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/", timeout=1)


async def test_a_port_in_use_fails_in_start() -> None:
    with ThreadedServer(make_app()) as first:
        with pytest.raises(OSError):
            ThreadedServer(make_app(), port=first.port).start()
        with pytest.raises(OSError):
            await InLoopServer(make_app(), port=first.port).start()


def test_sockets_are_tcp_so_asyncio_sets_nodelay() -> None:
    # asyncio sets TCP_NODELAY only when the socket's proto is IPPROTO_TCP; with
    # proto 0 every loopback request waited ~40 ms on Nagle + delayed ACK.
    sock = bind_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


def test_starting_twice_is_refused() -> None:
    with ThreadedServer(make_app()) as server, pytest.raises(RuntimeError, match="already"):
        server.start()


@pytest.fixture
def ticks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The counters of every tick (on_tick call) of the servers started from now on
    (servers other tests of this worker left running are not counted)."""
    import uvicorn

    seen: list[int] = []
    on_tick = uvicorn.Server.on_tick
    ours: set[int] = set()
    init = uvicorn.Server.__init__

    def tracked_init(self: uvicorn.Server, *args: object, **kwargs: object) -> None:
        init(self, *args, **kwargs)  # type: ignore[arg-type]
        ours.add(id(self))

    async def counted(self: uvicorn.Server, counter: int) -> bool:
        if id(self) in ours:
            seen.append(counter)
        return await on_tick(self, counter)

    monkeypatch.setattr(uvicorn.Server, "__init__", tracked_init)

    monkeypatch.setattr(uvicorn.Server, "on_tick", counted)
    return seen


async def test_an_idle_server_ticks_once_a_second(ticks: list[int]) -> None:
    """uvicorn's own loop wakes ten times a second; an idle daemon's servers do not."""
    import asyncio

    loop = asyncio.get_running_loop()
    async with InLoopServer(make_app()):
        began = loop.time()
        await asyncio.sleep(1.5)
        idle_ticks, idle_s = len(ticks), loop.time() - began
    # uvicorn's loop: ten ticks a second (15 or more here); ours: the first, then one a
    # second (however long a loaded machine made the sleep).
    assert 1 <= idle_ticks <= int(idle_s) + 2
    assert idle_ticks < 5 * idle_s
    # The Date header still follows the clock: uvicorn refreshes it on these ticks.
    assert all(counter % 10 == 0 for counter in ticks)


async def test_stopping_wakes_an_in_loop_server(
    ticks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from reelgate import serving

    # Were stop not to wake it, the loop would sleep out this tick and stop() would
    # give up (cancel) with only the first tick seen.
    monkeypatch.setattr(serving._NoSignals, "_TICK_S", 3600.0)
    server = InLoopServer(make_app())
    await server.start()
    await server.stop()
    assert len(ticks) == 2  # the first, and the one that saw should_exit


def test_stopping_wakes_a_threaded_server_from_another_thread(
    ticks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from reelgate import serving

    monkeypatch.setattr(serving._NoSignals, "_TICK_S", 3600.0)
    server = ThreadedServer(make_app(), name="test-stop")
    server.start()
    server.stop(timeout_s=30)
    assert len(ticks) == 2
