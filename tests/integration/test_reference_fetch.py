"""Downloading a reference: every way a link can fail, named for the creator."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from notion_sync.mapping import ReferenceFile
from orchestrator.references import ReferenceUnreachable, fetch_reference
from tests.helpers.references import ImageServer, image_bytes

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
PNG = image_bytes((5, 6, 7))


@pytest.fixture
def images() -> Iterator[ImageServer]:
    with ImageServer() as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5, follow_redirects=True) as http:
        yield http


def link(url: str, *, hosted: str = "external", expires: datetime | None = None) -> ReferenceFile:
    return ReferenceFile(name="x.png", url=url, hosted=hosted, expires_at=expires)  # type: ignore[arg-type]


async def reason(client: httpx.AsyncClient, ref: ReferenceFile, max_bytes: int = 10_000) -> str:
    with pytest.raises(ReferenceUnreachable) as caught:
        await fetch_reference(client, ref, max_bytes=max_bytes, now=NOW)
    return caught.value.reason


async def test_a_good_link_gives_its_bytes(images: ImageServer, client: httpx.AsyncClient) -> None:
    url = images.add("a.png", PNG, "application/octet-stream")  # the label does not matter
    assert await fetch_reference(client, link(url), max_bytes=10_000, now=NOW) == PNG


async def test_http_errors_are_unreachable_with_the_status(
    images: ImageServer, client: httpx.AsyncClient
) -> None:
    assert await reason(client, link(images.url("nothing.png"))) == (
        "unreachable (HTTP 404 Not Found)"
    )
    denied = images.add("signed.png", b"AccessDenied", "application/xml", status=403)
    assert await reason(
        client, link(denied, hosted="notion", expires=NOW + timedelta(hours=1))
    ) == ("unreachable (HTTP 403 Forbidden: the Notion link may have expired)")


async def test_a_dead_host_is_unreachable_without_the_url(client: httpx.AsyncClient) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens there any more.
    said = await reason(client, link(f"http://127.0.0.1:{port}/secret-token/x.png"))
    assert said == "unreachable (ConnectError)"
    assert "secret-token" not in said


async def test_an_expired_notion_link_is_not_even_tried(
    images: ImageServer, client: httpx.AsyncClient
) -> None:
    url = images.add("old.png", PNG)
    expired = link(url, hosted="notion", expires=NOW - timedelta(minutes=5))
    assert await reason(client, expired) == (
        "unreachable (its Notion link expired at 11:55 UTC before it could be downloaded; "
        "a fresh link is read when the page is next changed)"
    )
    assert images.hits["old.png"] == 0
    # A link (external) has no expiry; one still valid is fetched.
    fresh = link(url, hosted="notion", expires=NOW + timedelta(minutes=59))
    assert await fetch_reference(client, fresh, max_bytes=10_000, now=NOW) == PNG


async def test_too_large_is_refused_from_the_header_or_while_reading(
    images: ImageServer, client: httpx.AsyncClient
) -> None:
    big = bytes(50_000)
    declared = images.add("declared.png", big)
    assert await reason(client, link(declared), max_bytes=20_000) == (
        "too large (50 KB; at most 20 KB)"
    )
    streamed = images.add("streamed.png", big, chunked=True)
    assert await reason(client, link(streamed), max_bytes=20_000) == (
        "too large (more than 20 KB; at most 20 KB)"
    )


async def test_only_web_links_are_fetched(client: httpx.AsyncClient) -> None:
    assert await reason(client, link("file:///etc/passwd")) == (
        "unreachable (not an http or https link)"
    )
