"""The one door to Notion: rate-limited, retried, errors mapped onto our tree.

Exactly one retry layer. notion-client 3.x retries 429 (and 5xx on GET/DELETE) by
itself, twice, honouring Retry-After. We switch that off (`ClientOptions.retry=False`
sets its `_max_retries` to 0) and retry here instead with tenacity, so that every
attempt passes through our rate limiter, is counted in `stats`, and the total is
bounded by `settings.max_retries` rather than `max_retries * 3`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any

import httpx
import structlog
from aiolimiter import AsyncLimiter
from notion_client import AsyncClient
from notion_client.client import ClientOptions
from notion_client.errors import (
    HTTPResponseError,
    InvalidPathParameterError,
    RequestTimeoutError,
)
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
)

from notion_sync.errors import NotionError, NotionPermanentError, NotionTransientError
from notion_sync.settings import NotionSettings

__all__ = ["ClientStats", "NotionClient", "RateLimiter", "rate_limiter"]

log = structlog.get_logger(__name__)

JSON = dict[str, Any]

# Notion caps page_size at 100 for every paginated endpoint.
MAX_PAGE_SIZE = 100


class RateLimiter(AsyncLimiter):
    """aiolimiter's leaky bucket, plus `forgo_burst` for a process taking over a token.

    With `start_paced`, a new client sends its first request at once and the next at
    the steady pace, without a burst: it (a CLI command, the setup, a daemon starting)
    cannot know what other processes spent on the same token a moment ago, so its
    burst builds up only while it is quiet.
    """

    def __init__(self, max_rate: float, time_period: float = 60, *, start_paced: bool = False):
        super().__init__(max_rate, time_period)
        self._start_paced = start_paced

    async def acquire(self, amount: float = 1) -> None:
        if self._start_paced:
            self._start_paced = False
            # The first request goes at once, the next at the steady pace.
            self.forgo_burst(leave=1.0)
        await super().acquire(amount)

    def forgo_burst(self, *, leave: float = 0.0) -> None:
        """Act as if the whole burst had just been spent (but `leave` requests): pace
        from now on, no burst.

        A replica that becomes the leader shares the integration token with the leader
        before it, whose last second of requests Notion still counts. Its own bucket,
        idle until now, would allow a full burst on top of those: a 429 at every
        failover. aiolimiter (1.3) has no public way to fill the bucket, and acquiring
        `max_rate` at once would queue behind every smaller acquire; `_level` is the
        bucket's fill (tests/integration/test_notion_slow_rate.py pins the behaviour).
        """
        self._leak()
        self._level = max(0.0, float(self.max_rate) - leave)


def rate_limiter(
    requests_per_second: float, burst: float | None = None, *, start_paced: bool = False
) -> RateLimiter:
    """A token bucket averaging `requests_per_second`, allowing `burst` at once, for any
    positive rate.

    aiolimiter's `AsyncLimiter(max_rate, time_period)` holds `max_rate` tokens, leaks
    `max_rate / time_period` a second, and every request takes one, so a `max_rate`
    below 1 can never be met: `acquire()` raises "Amount must be a number between 0
    and the maximum capacity". The bucket holds `burst` tokens (at least one) and its
    period is scaled to keep the average: 2.5 req/s with a burst of 8 is
    AsyncLimiter(8, 3.2). Without `burst`: one second's worth (at least one token;
    0.2 req/s is one request per 5 s).
    """
    if not requests_per_second > 0:  # also refuses NaN
        raise ValueError(f"requests per second must be positive, got {requests_per_second!r}")
    if burst is not None and not burst >= 1:
        raise ValueError(f"a burst must allow at least one request, got {burst!r}")
    capacity = burst if burst is not None else max(1.0, requests_per_second)
    return RateLimiter(capacity, capacity / requests_per_second, start_paced=start_paced)


@dataclass
class ClientStats:
    """Counters for the demo summary and /metrics. `requests` counts HTTP attempts
    (retries included), so it matches what the server saw."""

    requests: int = 0
    rate_limited: int = 0
    server_errors: int = 0
    timeouts: int = 0
    retries: int = 0


def _parse_retry_after(value: str | None) -> float | None:
    # Notion documents Retry-After as seconds ("an integer number of seconds (in
    # decimal)"); accept fractions and the HTTP-date form too.
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class NotionClient:
    """Async Notion client. Use as `async with NotionClient(settings) as client:`."""

    def __init__(
        self,
        settings: NotionSettings,
        *,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.settings = settings
        self._token = settings.token.get_secret_value()
        self._sdk = AsyncClient(
            options=ClientOptions(
                auth=self._token or None,
                base_url=settings.base_url.rstrip("/"),
                timeout_ms=int(settings.timeout_s * 1000),
                # notion-client's own retry loop off: ours is the only one (see module doc).
                retry=False,
                # Its console logger would duplicate our structlog events.
                log_level=logging.CRITICAL,
            )
        )
        # One token bucket per client: the leader owns the only client that writes.
        self.limiter = limiter or rate_limiter(
            settings.requests_per_second, settings.burst, start_paced=True
        )
        self.stats = ClientStats()
        self._sleep: Callable[[float], Awaitable[None]] = sleep or asyncio.sleep

    async def __aenter__(self) -> NotionClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._sdk.aclose()

    # -- the one request method ------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: JSON | None = None,
        query: JSON | None = None,
        form_data: JSON | None = None,
    ) -> JSON:
        """Send one API call (with retries). `path` may be "/v1/pages/x" or "pages/x"."""
        rel = path.lstrip("/")
        if rel.startswith("v1/"):
            rel = rel[3:]
        method = method.upper()
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(NotionTransientError),
            stop=stop_after_attempt(self.settings.max_retries + 1),
            wait=self._wait,
            before_sleep=self._before_sleep,
            reraise=True,
            sleep=self._sleep,
        )
        async for attempt in retrying:
            with attempt:
                return await self._send_once(method, rel, body, query, form_data)
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        cap = self.settings.retry_max_wait_s
        if isinstance(exc, NotionTransientError) and exc.retry_after is not None:
            return min(exc.retry_after, cap)
        # Exponential back-off with jitter: base * 2^(n-1) * [0.5, 1.5).
        base = self.settings.retry_backoff_s * (2 ** (state.attempt_number - 1))
        return float(min(base * (0.5 + random.random()), cap))

    def _before_sleep(self, state: RetryCallState) -> None:
        self.stats.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "retry_notion_request",
            attempt=state.attempt_number,
            wait_s=round(state.upcoming_sleep, 3),
            status=getattr(exc, "status", None),
            code=getattr(exc, "code", None),
        )

    async def _send_once(
        self,
        method: str,
        rel: str,
        body: JSON | None,
        query: JSON | None,
        form_data: JSON | None,
    ) -> JSON:
        await self.limiter.acquire()
        self.stats.requests += 1
        where = f"{method} /v1/{rel}"
        try:
            result = await self._sdk.request(
                path=rel, method=method, query=query, body=body, form_data=form_data
            )
        except HTTPResponseError as exc:
            raise self._map_http_error(where, exc) from exc
        except RequestTimeoutError as exc:
            self.stats.timeouts += 1
            raise NotionTransientError(
                f"Notion {where} timed out after {self.settings.timeout_s:g}s",
                code="timeout",
            ) from exc
        except httpx.TransportError as exc:
            # Connection refused/reset, read errors: notion-client lets these through raw.
            raise NotionTransientError(
                self._scrub(f"Notion {where} failed: {type(exc).__name__}: {exc}"),
                code="connection_error",
            ) from exc
        except InvalidPathParameterError as exc:
            raise NotionPermanentError(self._scrub(f"Notion {where}: {exc}")) from exc
        if not isinstance(result, dict):
            raise NotionPermanentError(f"Notion {where} returned a non-object body")
        return result

    def _map_http_error(self, where: str, exc: HTTPResponseError) -> NotionError:
        status = exc.status
        code = exc.code.value if hasattr(exc.code, "value") else str(exc.code)
        message = self._scrub(f"Notion {where} -> {status} {code}: {exc}")
        if status == 429:
            self.stats.rate_limited += 1
            retry_after = _parse_retry_after(exc.headers.get("retry-after"))
            return NotionTransientError(message, status=status, code=code, retry_after=retry_after)
        if status >= 500 or status == 408:
            self.stats.server_errors += 1
            retry_after = _parse_retry_after(exc.headers.get("retry-after"))
            return NotionTransientError(message, status=status, code=code, retry_after=retry_after)
        return NotionPermanentError(message, status=status, code=code)

    def _scrub(self, text: str) -> str:
        # Defence in depth: a proxy or server could echo the Authorization header.
        if self._token and self._token in text:
            text = text.replace(self._token, "***")
        return text

    # -- pagination ------------------------------------------------------------

    async def paginate(
        self,
        method: str,
        path: str,
        *,
        body: JSON | None = None,
        query: JSON | None = None,
    ) -> AsyncIterator[JSON]:
        """Yield each `results` item across pages (POST: cursor in body; GET: in query)."""
        cursor: str | None = None
        while True:
            if method.upper() == "GET":
                q = dict(query or {})
                q.setdefault("page_size", MAX_PAGE_SIZE)
                if cursor:
                    q["start_cursor"] = cursor
                page = await self.request(method, path, query=q)
            else:
                b = dict(body or {})
                b.setdefault("page_size", MAX_PAGE_SIZE)
                if cursor:
                    b["start_cursor"] = cursor
                page = await self.request(method, path, body=b, query=query)
            for item in page.get("results", []):
                yield item
            cursor = page.get("next_cursor")
            if not page.get("has_more") or not cursor:
                return

    # -- typed conveniences ----------------------------------------------------

    async def retrieve_page(self, page_id: str) -> JSON:
        return await self.request("GET", f"pages/{page_id}")

    async def create_page(self, body: JSON) -> JSON:
        return await self.request("POST", "pages", body=body)

    async def update_page(self, page_id: str, properties: JSON) -> JSON:
        return await self.request("PATCH", f"pages/{page_id}", body={"properties": properties})

    async def retrieve_page_property(self, page_id: str, property_id: str) -> list[JSON]:
        """All items of a paginated page property (title/rich_text/relation/people).

        Retrieve-a-page returns at most 25 items of such a property; this endpoint is
        the documented way to read the rest.
        """
        items: list[JSON] = []
        async for item in self.paginate("GET", f"pages/{page_id}/properties/{property_id}"):
            items.append(item)
        return items

    async def retrieve_data_source(self, data_source_id: str) -> JSON:
        return await self.request("GET", f"data_sources/{data_source_id}")

    async def update_data_source(self, data_source_id: str, body: JSON) -> JSON:
        return await self.request("PATCH", f"data_sources/{data_source_id}", body=body)

    async def query_data_source_page(
        self,
        data_source_id: str,
        *,
        filter: JSON | None = None,
        sorts: list[JSON] | None = None,
        start_cursor: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> JSON:
        body: JSON = {"page_size": page_size}
        if filter is not None:
            body["filter"] = filter
        if sorts is not None:
            body["sorts"] = sorts
        if start_cursor:
            body["start_cursor"] = start_cursor
        return await self.request("POST", f"data_sources/{data_source_id}/query", body=body)

    async def retrieve_database(self, database_id: str) -> JSON:
        return await self.request("GET", f"databases/{database_id}")

    async def create_database(self, body: JSON) -> JSON:
        return await self.request("POST", "databases", body=body)

    async def append_block_children(self, block_id: str, children: list[JSON]) -> JSON:
        return await self.request(
            "PATCH", f"blocks/{block_id}/children", body={"children": children}
        )

    async def list_block_children(self, block_id: str) -> list[JSON]:
        return [b async for b in self.paginate("GET", f"blocks/{block_id}/children")]

    async def create_comment(self, page_id: str, rich_text: list[JSON]) -> JSON:
        return await self.request(
            "POST", "comments", body={"parent": {"page_id": page_id}, "rich_text": rich_text}
        )
