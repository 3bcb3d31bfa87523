"""Wait for a clip: poll any `ClipProvider` with jittered exponential backoff.

Veo takes minutes per clip, so the default cadence is 10 s growing to 60 s. The
deadline is per clip and counts from the call; when resuming after a restart,
pass the time that is *left* (computed from the persisted submit time). Transient
poll errors are retried until the deadline; permanent ones propagate.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import structlog

from orchestrator.errors import ReelgateError
from orchestrator.providers.base import (
    ClipDone,
    ClipFailed,
    ClipFiltered,
    ClipPending,
    ClipProvider,
)

__all__ = ["ClipOutcome", "TimedOut", "backoff_delay", "wait_for_clip"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class TimedOut:
    """The deadline passed with the operation still pending (or unreadable)."""

    operation_name: str
    polls: int
    elapsed_s: float
    last_error: str | None = None
    state: Literal["timed_out"] = "timed_out"


ClipOutcome = ClipDone | ClipFiltered | ClipFailed | TimedOut


def backoff_delay(
    attempt: int, *, initial_s: float, max_s: float, jitter: float, rng: random.Random
) -> float:
    """Delay before poll number `attempt` + 1 (0-based): min(max, initial * 2^n), jittered.

    Jitter scales the delay down by up to `jitter` (0..1), so many clips submitted
    together spread out instead of polling in lockstep, and `max_s` is never exceeded.
    """
    base = min(max_s, initial_s * (2.0 ** min(attempt, 62)))
    return base * (1.0 - jitter * rng.random())


async def wait_for_clip(
    provider: ClipProvider,
    name: str,
    *,
    initial_s: float = 10.0,
    max_s: float = 60.0,
    deadline_s: float = 900.0,
    jitter: float = 0.2,
    poll_first: bool = False,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
) -> ClipOutcome:
    """Poll `name` until it finishes or `deadline_s` passes.

    `poll_first=True` polls at once (useful after a restart, when the clip may have
    finished long ago); otherwise the first poll comes after the first backoff.
    A final poll happens at the deadline before giving up with `TimedOut`.
    """
    if initial_s <= 0 or max_s < initial_s:
        raise ValueError("need 0 < initial_s <= max_s")
    if not 0.0 <= jitter <= 1.0:
        raise ValueError("jitter must be within [0, 1]")
    rng = rng if rng is not None else random.Random()
    started = clock()
    deadline = started + deadline_s
    bound = log.bind(operation_name=name, provider=provider.name)
    polls = 0
    attempt = 0
    last_error: str | None = None

    async def pause() -> bool:
        nonlocal attempt
        remaining = deadline - clock()
        if remaining <= 0:
            return False
        delay = backoff_delay(attempt, initial_s=initial_s, max_s=max_s, jitter=jitter, rng=rng)
        attempt += 1
        await sleep(min(delay, remaining))
        return True

    if not poll_first and not await pause():
        return TimedOut(name, polls, clock() - started)
    while True:
        try:
            result = await provider.poll_clip(name)
        except ReelgateError as exc:
            if not exc.transient:
                raise
            polls += 1
            last_error = str(exc)
            bound.warning("clip_poll_retrying", polls=polls, error=last_error)
        else:
            polls += 1
            if not isinstance(result, ClipPending):
                bound.info("clip_wait_finished", state=result.state, polls=polls)
                return result
        if not await pause():
            elapsed = clock() - started
            bound.warning("clip_timed_out", polls=polls, elapsed_s=round(elapsed, 3))
            return TimedOut(name, polls, elapsed, last_error)
