"""Rate limit, injected 5xx and latency, as notion-client experiences them."""

from __future__ import annotations

import time

import pytest
from notion_client import AsyncClient
from notion_client.client import RetryOptions
from notion_client.errors import APIResponseError, UnknownHTTPResponseError

from notion_sync.local_api import LocalNotionServer
from tests.fixtures.notion import make_notion_client


async def test_rate_limit_answers_429_with_retry_after(local_notion: LocalNotionServer):
    local_notion.knobs.set_rate_limit(rate=0.5, burst=3)
    client = make_notion_client(local_notion, retry=False)
    try:
        for _ in range(3):
            await client.users.me()
        with pytest.raises(APIResponseError) as info:
            await client.users.me()
    finally:
        await client.aclose()
    assert info.value.status == 429
    assert info.value.code == "rate_limited"
    assert int(info.value.headers["retry-after"]) >= 1
    assert local_notion.request_log.count(status=429) == 1


async def test_notion_client_waits_retry_after_then_succeeds(local_notion: LocalNotionServer):
    # One token a second: the search right after users.me finds the bucket empty even
    # on a loaded machine, and the retry after Retry-After (1 s) finds it refilled.
    local_notion.knobs.set_rate_limit(rate=1, burst=1, retry_after=1)
    client = make_notion_client(local_notion)
    try:
        await client.users.me()
        started = time.monotonic()
        me = await client.search(query="")  # 429 first, retried after Retry-After: 1
        elapsed = time.monotonic() - started
    finally:
        await client.aclose()
    assert me["object"] == "list"
    assert elapsed >= 0.95
    assert local_notion.request_log.count(method="POST", path_prefix="/v1/search") == 2
    assert local_notion.request_log.count(status=429) == 1


async def test_rate_limit_average_rate_holds(local_notion: LocalNotionServer):
    local_notion.knobs.set_rate_limit(rate=20, burst=5, retry_after=0)
    client = make_notion_client(local_notion, retry=False)
    ok = limited = 0
    try:
        started = time.monotonic()
        while limited < 20:  # until the bucket has said no often enough
            try:
                await client.users.me()
                ok += 1
            except APIResponseError:
                limited += 1
        elapsed = time.monotonic() - started
    finally:
        await client.aclose()
    # Allowed: the burst plus 20/s over the time it took, whatever this machine's speed.
    assert local_notion.request_log.count(status=429) == limited
    assert 5 <= ok <= 5 + 20 * elapsed + 1


async def test_injected_503_on_post_is_not_retried_by_notion_client(
    local_notion: LocalNotionServer, notion: AsyncClient
):
    _, ds = local_notion.admin.create_database("T", {"Name": {"title": {}}})
    local_notion.knobs.inject(method="POST", path_prefix="/v1/data_sources", status=503, times=2)
    for _ in range(2):
        with pytest.raises(APIResponseError) as info:
            await notion.data_sources.query(ds)
        assert info.value.status == 503
        assert info.value.code == "service_unavailable"
    assert (await notion.data_sources.query(ds))["results"] == []
    assert local_notion.request_log.count(path_prefix="/v1/data_sources", status=503) == 2


async def test_injected_500_on_get_is_retried(local_notion: LocalNotionServer):
    local_notion.knobs.inject(method="GET", path_prefix="/v1/users", status=500, times=2)
    client = make_notion_client(
        local_notion, retry=RetryOptions(max_retries=2, initial_retry_delay_ms=10)
    )
    try:
        me = await client.users.me()
    finally:
        await client.aclose()
    assert me["type"] == "bot"
    assert local_notion.request_log.count(path_prefix="/v1/users/me") == 3


@pytest.mark.parametrize(
    ("status", "code"), [(500, "internal_server_error"), (504, "gateway_timeout")]
)
async def test_injected_api_errors_carry_codes(
    local_notion: LocalNotionServer, status: int, code: str
):
    local_notion.knobs.inject(status=status, times=1)
    client = make_notion_client(local_notion, retry=False)
    try:
        with pytest.raises(APIResponseError) as info:
            await client.users.me()
    finally:
        await client.aclose()
    assert info.value.status == status
    assert info.value.code == code


async def test_injected_502_is_bad_gateway(local_notion: LocalNotionServer):
    # notion-client 3.1 does not know `bad_gateway`, so it surfaces as an unknown error.
    local_notion.knobs.inject(status=502, times=1)
    client = make_notion_client(local_notion, retry=False)
    try:
        with pytest.raises(UnknownHTTPResponseError) as info:
            await client.users.me()
    finally:
        await client.aclose()
    assert info.value.status == 502
    assert '"code":"bad_gateway"' in info.value.body


async def test_added_latency_by_route(local_notion: LocalNotionServer, notion: AsyncClient):
    local_notion.knobs.add_latency(0.3, method="POST", path_prefix="/v1/search")
    started = time.monotonic()
    await notion.search(query="")
    assert time.monotonic() - started >= 0.3
    await notion.users.me()
    local_notion.knobs.clear_faults()
    await notion.search(query="")
    # Server-side durations: only the route with added latency took >= 0.3 s
    # (wall-clock upper bounds would flake on a loaded machine).
    searches = local_notion.request_log.entries(path_prefix="/v1/search")
    me = local_notion.request_log.entries(path_prefix="/v1/users/me")
    assert searches[0].duration >= 0.3
    assert me[0].duration < 0.3
    assert searches[1].duration < 0.3


async def test_rate_limit_is_per_token(local_notion: LocalNotionServer):
    local_notion.knobs.set_rate_limit(rate=0.5, burst=2)
    daemon = make_notion_client(local_notion, auth="daemon-token", retry=False)
    reviewer = make_notion_client(local_notion, auth="reviewer-token", retry=False)
    try:
        for _ in range(2):
            await daemon.users.me()
        with pytest.raises(APIResponseError) as info:
            await daemon.users.me()
        assert info.value.status == 429
        for _ in range(2):  # the reviewer's budget is its own
            await reviewer.users.me()
    finally:
        await daemon.aclose()
        await reviewer.aclose()
    log = local_notion.request_log
    assert log.count(token="daemon-token") == 3
    assert log.count(token="daemon-token", status=429) == 1
    assert log.count(token="reviewer-token", status=429) == 0
    assert log.count(token="reviewer-token") == 2
    # The log keeps fingerprints, never the tokens themselves.
    assert "daemon-token" not in repr(log.entries()) + repr(log.by_token())
    assert sorted(log.by_token().values()) == [2, 3]


async def test_one_token_can_get_its_own_limit(local_notion: LocalNotionServer):
    local_notion.knobs.set_rate_limit(rate=50, burst=50)
    local_notion.knobs.set_rate_limit(rate=0.1, burst=1, token="slow-token")
    slow = make_notion_client(local_notion, auth="slow-token", retry=False)
    fast = make_notion_client(local_notion, auth="fast-token", retry=False)
    try:
        await slow.users.me()
        with pytest.raises(APIResponseError):
            await slow.users.me()
        for _ in range(5):
            await fast.users.me()
    finally:
        await slow.aclose()
        await fast.aclose()
    assert local_notion.request_log.count(status=429) == 1


async def test_only_the_given_tokens_are_accepted():
    server = LocalNotionServer(token=["daemon-token", "reviewer-token"])
    server.knobs.disable_rate_limit()
    with server:
        clients = {
            name: make_notion_client(server, auth=name, retry=False)
            for name in ("daemon-token", "reviewer-token", "intruder")
        }
        try:
            assert (await clients["daemon-token"].users.me())["type"] == "bot"
            assert (await clients["reviewer-token"].users.me())["type"] == "bot"
            with pytest.raises(APIResponseError) as info:
                await clients["intruder"].users.me()
        finally:
            for client in clients.values():
                await client.aclose()
    assert (info.value.status, info.value.code) == (401, "unauthorized")
    assert str(info.value) == "API token is invalid."
    assert server.request_log.count(token="intruder", status=401) == 1
