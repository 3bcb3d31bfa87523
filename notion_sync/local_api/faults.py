"""Load and fault knobs (auth, rate limit, injected errors, latency) and the request log.

Tests mutate `server.knobs` at runtime; every knob is read per request under a lock.

Rate limits are per integration, i.e. per bearer token, as on Notion: "The rate limit for
incoming requests per integration is an average of three requests per second. Some bursts
beyond the average rate are allowed." (developers.notion.com/reference/request-limits,
checked 2026-12-01). Notion does not publish the burst size; 10 is our guess.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = [
    "ERROR_CODES",
    "Injection",
    "Knobs",
    "LoggedRequest",
    "RequestLog",
    "TokenBucket",
    "token_fingerprint",
]

# Status -> Notion's error code (reference: status codes).
ERROR_CODES: dict[int, str] = {
    400: "validation_error",
    401: "unauthorized",
    403: "restricted_resource",
    404: "object_not_found",
    409: "conflict_error",
    429: "rate_limited",
    500: "internal_server_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


def token_fingerprint(token: str) -> str:
    """A stable, non-secret label for a bearer token: the request log never keeps tokens."""
    return "tok_" + hashlib.sha256(token.encode()).hexdigest()[:12]


class TokenBucket:
    """Average `rate` requests/s with bursts up to `burst`."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def take(self) -> float | None:
        """Take one token; -> None when allowed, else seconds until one is free."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return (1 - self.tokens) / self.rate


@dataclass
class Injection:
    """Answer matching requests with `status` for the next `times` matches (None = always)."""

    status: int
    method: str | None = None
    path_prefix: str = "/v1/"
    times: int | None = 1
    code: str | None = None
    message: str | None = None
    retry_after: int | None = None
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if not path.startswith(self.path_prefix):
            return False
        return self.times is None or self.hits < self.times


@dataclass
class Latency:
    seconds: float
    method: str | None = None
    path_prefix: str = "/"

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return path.startswith(self.path_prefix)


@dataclass
class Knobs:
    """Runtime behaviour switches. Defaults are Notion's: 3 req/s average per token, bursts
    of 10 (the burst size is a guess), any bearer token accepted until `allow_tokens`."""

    rate_limit_enabled: bool = True
    rate: float = 3.0
    burst: int = 10
    # Seconds sent in Retry-After on 429; None = computed from the bucket (at least 1).
    retry_after: int | None = None
    injections: list[Injection] = field(default_factory=list)
    latencies: list[Latency] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # One bucket per token fingerprint; per-token (rate, burst) overrides.
    buckets: dict[str, TokenBucket] = field(default_factory=dict, repr=False)
    token_limits: dict[str, tuple[float, int]] = field(default_factory=dict, repr=False)
    # None = any non-empty bearer token is accepted; else only these (fingerprints).
    accepted: frozenset[str] | None = field(default=None, repr=False)

    # -- auth ----------------------------------------------------------------------

    def allow_tokens(self, tokens: Iterable[str] | None) -> None:
        """Answer every other token with 401 unauthorized, as Notion does (None: accept any)."""
        with self.lock:
            if tokens is None:
                self.accepted = None
            else:
                self.accepted = frozenset(token_fingerprint(t) for t in tokens)

    def token_allowed(self, token: str) -> bool:
        if not token:
            return False
        with self.lock:
            return self.accepted is None or token_fingerprint(token) in self.accepted

    # -- rate limit ----------------------------------------------------------------

    def set_rate_limit(
        self,
        rate: float = 3.0,
        burst: int = 10,
        *,
        retry_after: int | None = None,
        token: str | None = None,
    ) -> None:
        """Every token gets its own bucket of `rate`/`burst`; `token=` sets one token's."""
        with self.lock:
            self.rate_limit_enabled = True
            if token is not None:
                key = token_fingerprint(token)
                self.token_limits[key] = (rate, burst)
                self.buckets.pop(key, None)
                return
            self.rate, self.burst, self.retry_after = rate, burst, retry_after
            self.buckets.clear()

    def disable_rate_limit(self) -> None:
        with self.lock:
            self.rate_limit_enabled = False

    def check_rate_limit(self, token: str = "") -> int | None:
        """Take from `token`'s bucket; -> None when it may proceed, else Retry-After seconds."""
        key = token_fingerprint(token)
        with self.lock:
            if not self.rate_limit_enabled:
                return None
            rate, burst = self.token_limits.get(key, (self.rate, self.burst))
            bucket = self.buckets.get(key)
            if bucket is None or (bucket.rate, bucket.burst) != (rate, burst):
                bucket = self.buckets[key] = TokenBucket(rate, burst)
            wait = bucket.take()
            if wait is None:
                return None
            if self.retry_after is not None:
                return self.retry_after
            return max(1, math.ceil(wait))

    def inject(
        self,
        *,
        status: int,
        method: str | None = None,
        path_prefix: str = "/v1/",
        times: int | None = 1,
        code: str | None = None,
        message: str | None = None,
        retry_after: int | None = None,
    ) -> Injection:
        """E.g. `inject(method="POST", path_prefix="/v1/data_sources", status=503, times=2)`."""
        injection = Injection(
            status=status,
            method=method,
            path_prefix=path_prefix,
            times=times,
            code=code,
            message=message,
            retry_after=retry_after,
        )
        with self.lock:
            self.injections.append(injection)
        return injection

    def take_injection(self, method: str, path: str) -> Injection | None:
        with self.lock:
            for injection in self.injections:
                if injection.matches(method, path):
                    injection.hits += 1
                    return injection
        return None

    def add_latency(
        self, seconds: float, *, method: str | None = None, path_prefix: str = "/"
    ) -> None:
        with self.lock:
            self.latencies.append(Latency(seconds, method, path_prefix))

    def latency_for(self, method: str, path: str) -> float:
        with self.lock:
            return sum(lat.seconds for lat in self.latencies if lat.matches(method, path))

    def clear_faults(self) -> None:
        """Drop injections and latencies (the rate limit settings stay)."""
        with self.lock:
            self.injections.clear()
            self.latencies.clear()


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    status: int
    time: float
    duration: float
    user_id: str | None
    request_id: str
    # `token_fingerprint()` of the bearer token (never the token itself); None without one.
    token: str | None = None


class RequestLog:
    """Every request the server answered, in order; thread-safe.

    `count(token="the-daemon-token")` counts one integration's requests, e.g. its 429s
    with `count(token=..., status=429)`; tokens are compared by fingerprint.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LoggedRequest] = []

    def add(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(
        self,
        method: str | None = None,
        path_prefix: str | None = None,
        status: int | None = None,
        *,
        token: str | None = None,
        since: float | None = None,
    ) -> list[LoggedRequest]:
        """Filter the log; `token` is a bearer token, `since` a `time.time()` value."""
        with self._lock:
            entries = list(self._entries)
        fingerprint = token_fingerprint(token) if token is not None else None
        return [
            e
            for e in entries
            if (method is None or e.method == method.upper())
            and (path_prefix is None or e.path.startswith(path_prefix))
            and (status is None or e.status == status)
            and (fingerprint is None or e.token == fingerprint)
            and (since is None or e.time >= since)
        ]

    def count(
        self,
        method: str | None = None,
        path_prefix: str | None = None,
        status: int | None = None,
        *,
        token: str | None = None,
        since: float | None = None,
    ) -> int:
        return len(self.entries(method, path_prefix, status, token=token, since=since))

    def by_token(self, status: int | None = None) -> dict[str | None, int]:
        """Requests per token fingerprint (optionally only those answered `status`)."""
        return dict(Counter(e.token for e in self.entries(status=status)))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
