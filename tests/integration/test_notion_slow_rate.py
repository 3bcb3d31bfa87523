"""Issue 10, case 4: REELGATE_NOTION_REQUESTS_PER_SECOND below 1 works.

aiolimiter's bucket holds `max_rate` tokens; with `AsyncLimiter(0.5, 1.0)` a
request (one token) never fits and `acquire()` raised "Amount must be a number
between 0 and the maximum capacity" on the first request. The client against the
local Notion API, through notion-client; counts, not timing.
"""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr

from notion_sync.client import NotionClient, rate_limiter
from notion_sync.local_api import LocalNotionServer
from notion_sync.settings import NotionSettings


@pytest.mark.parametrize("rate", [0.5, 0.2, 0.01])
async def test_a_rate_below_one_request_per_second_works(
    local_notion: LocalNotionServer, rate: float
) -> None:
    settings = NotionSettings(
        base_url=local_notion.base_url,
        token=SecretStr("slow-rate-token"),
        requests_per_second=rate,
    )
    async with NotionClient(settings) as client:
        me = await client.request("GET", "/v1/users/me")
        assert me["object"] == "user"
        assert client.stats.requests == 1
        # The average is the rate, the bucket holds the burst; a new client paces
        # from its first request: the next one waits 1/rate seconds.
        assert client.limiter.max_rate / client.limiter.time_period == pytest.approx(rate)
        assert client.limiter.max_rate == settings.burst
        assert not client.limiter.has_capacity()


@pytest.mark.parametrize("rate", [0.5, 0.2, 0.01])
def test_a_rate_below_one_without_a_burst_is_one_request_a_period(rate: float) -> None:
    limiter = rate_limiter(rate, burst=1)
    assert (limiter.max_rate, limiter.time_period) == (1, pytest.approx(1 / rate))


@pytest.mark.parametrize(("rate", "tokens", "period"), [(2.5, 2.5, 1.0), (1.0, 1.0, 1.0)])
def test_a_rate_of_one_or_more_is_a_per_second_bucket(
    rate: float, tokens: float, period: float
) -> None:
    limiter = rate_limiter(rate)
    assert (limiter.max_rate, limiter.time_period) == (tokens, period)


@pytest.mark.parametrize(
    ("rate", "burst", "period"), [(2.5, 8, 3.2), (3.0, 10, 10 / 3), (100.0, 8, 0.08)]
)
async def test_a_burst_is_the_bucket_and_the_average_stays_the_rate(
    rate: float, burst: int, period: float
) -> None:
    limiter = rate_limiter(rate, burst)
    assert limiter.max_rate == burst
    assert limiter.time_period == pytest.approx(period)
    assert limiter.has_capacity(burst)
    assert not limiter.has_capacity(burst + 1)


@pytest.mark.parametrize("burst", [0, 0.5, -2, float("nan")])
def test_a_burst_below_one_request_is_refused(burst: float) -> None:
    with pytest.raises(ValueError, match="at least one request"):
        rate_limiter(2.5, burst)


async def test_a_new_client_starts_paced_and_bursts_only_after_a_quiet_spell(
    local_notion: LocalNotionServer,
) -> None:
    """Another process may have spent the token's burst a moment ago (the setup, a CLI
    command, the leader before): a new client paces from its first request. Once it
    has been quiet, it sends its burst at once, and never more than Notion's bucket
    (the local API: 3/s, bursts of 10) over the run."""
    local_notion.knobs.set_rate_limit(rate=30, burst=10)
    settings = NotionSettings(
        base_url=local_notion.base_url, token=SecretStr("burst-token"), requests_per_second=25
    )
    async with NotionClient(settings) as client:
        await client.request("GET", "/v1/users/me")
        assert not client.limiter.has_capacity(2)  # no burst on top of the first request
        # Quiet for one bucket's worth (burst / rate = 0.32 s): the whole burst is back.
        await asyncio.sleep(client.limiter.time_period + 0.05)
        assert client.limiter.has_capacity(settings.burst)
        for _ in range(settings.burst):
            await client.request("GET", "/v1/users/me")
        assert client.stats.requests == settings.burst + 1
        assert client.stats.rate_limited == 0
    assert local_notion.request_log.count(status=429) == 0


@pytest.mark.parametrize("rate", [0.0, -1.0, float("nan")])
def test_no_limiter_for_a_rate_that_is_not_positive(rate: float) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        rate_limiter(rate)


async def test_forgoing_the_burst_paces_the_very_next_request() -> None:
    """RateLimiter.forgo_burst relies on aiolimiter's bucket fill (`_level`)."""
    limiter = rate_limiter(12.0)
    assert limiter.has_capacity(12)  # a fresh bucket allows a whole burst
    limiter.forgo_burst()
    assert not limiter.has_capacity()
    await asyncio.sleep(0.1)  # more than 1/12 s: one request's worth has leaked
    assert limiter.has_capacity()
    assert not limiter.has_capacity(3)
