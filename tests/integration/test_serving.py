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
