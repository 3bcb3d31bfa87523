"""Small pieces of the local Notion server: clock rounding, token bucket, knobs, log."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

from notion_sync.local_api import FixedClock, Knobs, RequestLog, format_time, minute_floor
from notion_sync.local_api.faults import LoggedRequest, TokenBucket, token_fingerprint


def test_minute_floor_and_wire_format():
    moment = datetime(2026, 11, 21, 10, 42, 59, 999999, tzinfo=UTC)
    assert format_time(minute_floor(moment)) == "2026-11-21T10:42:00.000Z"
    other_zone = datetime(2026, 11, 21, 11, 42, 5, tzinfo=timezone(timedelta(hours=1)))
    assert format_time(minute_floor(other_zone)) == "2026-11-21T10:42:00.000Z"
    assert format_time(datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)).endswith("05.678Z")


def test_fixed_clock_advances():
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    clock.advance(90)
    assert clock() == datetime(2026, 1, 1, 0, 1, 30, tzinfo=UTC)


def test_token_bucket_burst_then_wait():
    bucket = TokenBucket(rate=10, burst=3)
    assert [bucket.take() for _ in range(3)] == [None, None, None]
    wait = bucket.take()
    assert wait is not None
    assert 0 < wait <= 0.11
    time.sleep(0.12)
    assert bucket.take() is None


def test_knobs_injection_counts_down_and_matches_routes():
    knobs = Knobs()
    knobs.inject(method="POST", path_prefix="/v1/data_sources", status=503, times=2)
    assert knobs.take_injection("GET", "/v1/data_sources/x") is None
    assert knobs.take_injection("POST", "/v1/pages") is None
    hits = [knobs.take_injection("POST", "/v1/data_sources/x/query") for _ in range(3)]
    assert [h.status if h else None for h in hits] == [503, 503, None]


def test_knobs_rate_limit_disable_and_retry_after():
    knobs = Knobs()
    knobs.set_rate_limit(rate=0.1, burst=1)
    assert knobs.check_rate_limit() is None
    retry = knobs.check_rate_limit()
    assert retry is not None
    assert retry >= 1
    knobs.disable_rate_limit()
    assert knobs.check_rate_limit() is None


def test_request_log_count_filters():
    log = RequestLog()
    for method, path, status in [
        ("GET", "/v1/a", 200),
        ("POST", "/v1/b", 429),
        ("POST", "/v1/b", 200),
    ]:
        log.add(LoggedRequest(method, path, status, 0.0, 0.001, None, "r"))
    assert log.count() == 3
    assert log.count(method="post") == 2
    assert log.count(path_prefix="/v1/b", status=200) == 1
    log.clear()
    assert len(log) == 0


def test_knobs_keep_one_bucket_per_token():
    knobs = Knobs()
    knobs.set_rate_limit(rate=0.1, burst=1)
    assert knobs.check_rate_limit("a") is None
    assert knobs.check_rate_limit("a") is not None
    assert knobs.check_rate_limit("b") is None


def test_knobs_accept_only_allowed_tokens():
    knobs = Knobs()
    assert knobs.token_allowed("anything")
    assert not knobs.token_allowed("")
    knobs.allow_tokens(["daemon", "reviewer"])
    assert knobs.token_allowed("daemon")
    assert not knobs.token_allowed("other")
    knobs.allow_tokens(None)
    assert knobs.token_allowed("other")


def test_request_log_counts_per_token_and_since():
    log = RequestLog()
    log.add(LoggedRequest("GET", "/v1/a", 200, 10.0, 0.0, None, "r", token_fingerprint("x")))
    log.add(LoggedRequest("GET", "/v1/a", 429, 20.0, 0.0, None, "r", token_fingerprint("x")))
    log.add(LoggedRequest("GET", "/v1/a", 200, 30.0, 0.0, None, "r", token_fingerprint("y")))
    assert log.count(token="x") == 2
    assert log.count(token="x", status=429) == 1
    assert log.count(token="x", since=15.0) == 1
    assert log.by_token() == {token_fingerprint("x"): 2, token_fingerprint("y"): 1}
    assert token_fingerprint("x").startswith("tok_")
    assert token_fingerprint("secret-token") != token_fingerprint("secret-token2")
