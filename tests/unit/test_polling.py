"""`wait_for_clip`: backoff, jitter, deadline and error handling, on a fake clock."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

import pytest

from orchestrator.errors import ProviderPermanentError, ProviderTransientError
from orchestrator.providers import (
    ClipDone,
    ClipFailed,
    ClipPending,
    ClipPoll,
    TimedOut,
    backoff_delay,
    wait_for_clip,
)
from orchestrator.providers.base import Aspect, Image


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


class ScriptedClips:
    """A ClipProvider (the protocol, not our module) that replays a script of polls."""

    name = "scripted"

    def __init__(self, script: Iterable[ClipPoll | Exception], clock: FakeClock) -> None:
        self.script = list(script)
        self.clock = clock
        self.poll_times: list[float] = []

    async def start_clip(
        self,
        start_frame: Image,
        end_frame: Image,
        prompt: str,
        seconds: int,
        aspect: Aspect,
        negative_prompt: str | None = None,
    ) -> str:
        return "op/1"

    async def poll_clip(self, operation_name: str) -> ClipPoll:
        self.poll_times.append(self.clock.now)
        step = self.script.pop(0) if self.script else ClipPending()
        if isinstance(step, Exception):
            raise step
        return step


DONE = ClipDone(video=b"mp4", uri=None, mime_type="video/mp4")


async def test_default_backoff_grows_from_10_to_60_seconds() -> None:
    clock = FakeClock()
    provider = ScriptedClips([ClipPending()] * 6 + [DONE], clock)

    result = await wait_for_clip(provider, "op/1", jitter=0.0, sleep=clock.sleep, clock=clock)

    assert result is DONE
    assert clock.sleeps == [10, 20, 40, 60, 60, 60, 60]


async def test_jitter_stays_within_bounds_and_spreads() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(n, initial_s=10, max_s=60, jitter=0.2, rng=rng) for n in range(20)]
    for n, d in enumerate(delays):
        base = min(60, 10 * 2**n)
        assert 0.8 * base <= d <= base
    assert len(set(delays)) == len(delays)


async def test_poll_first_polls_immediately() -> None:
    clock = FakeClock()
    provider = ScriptedClips([DONE], clock)

    result = await wait_for_clip(provider, "op/1", poll_first=True, sleep=clock.sleep, clock=clock)

    assert result is DONE
    assert clock.sleeps == []
    assert provider.poll_times == [1000.0]


async def test_deadline_gives_timed_out_after_a_final_poll() -> None:
    clock = FakeClock()
    provider = ScriptedClips([], clock)  # pending forever

    result = await wait_for_clip(
        provider, "op/1", deadline_s=100, jitter=0.0, sleep=clock.sleep, clock=clock
    )

    assert isinstance(result, TimedOut)
    assert result.operation_name == "op/1"
    assert result.elapsed_s == pytest.approx(100)
    # 10, 20, 40 then capped by the remaining 30 s; the last poll is at the deadline.
    assert clock.sleeps == [10, 20, 40, 30]
    assert provider.poll_times[-1] == pytest.approx(1100)
    assert result.polls == 4


async def test_transient_errors_are_retried_within_the_deadline() -> None:
    clock = FakeClock()
    provider = ScriptedClips(
        [ProviderTransientError("503"), ProviderTransientError("429"), ClipPending(), DONE],
        clock,
    )

    result = await wait_for_clip(
        provider, "op/1", initial_s=1, max_s=4, jitter=0.0, sleep=clock.sleep, clock=clock
    )

    assert result is DONE
    assert len(provider.poll_times) == 4


async def test_transient_errors_until_the_deadline_keep_the_last_error() -> None:
    clock = FakeClock()
    provider = ScriptedClips([ProviderTransientError("HTTP 503")] * 100, clock)

    result = await wait_for_clip(
        provider, "op/1", initial_s=1, max_s=2, deadline_s=10, sleep=clock.sleep, clock=clock
    )

    assert isinstance(result, TimedOut)
    assert result.last_error == "HTTP 503"


async def test_permanent_errors_propagate() -> None:
    clock = FakeClock()
    provider = ScriptedClips([ProviderPermanentError("HTTP 404")], clock)

    with pytest.raises(ProviderPermanentError):
        await wait_for_clip(provider, "op/1", sleep=clock.sleep, clock=clock)


async def test_failed_and_filtered_outcomes_are_returned() -> None:
    clock = FakeClock()
    failed = ClipFailed(code="INTERNAL", message="x", transient=True)
    provider = ScriptedClips([failed], clock)

    assert await wait_for_clip(provider, "op/1", sleep=clock.sleep, clock=clock) is failed


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"initial_s": 0}, "initial_s"),
        ({"initial_s": 10, "max_s": 5}, "initial_s"),
        ({"jitter": 1.5}, "jitter"),
    ],
)
async def test_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    clock = FakeClock()
    with pytest.raises(ValueError, match=match):
        await wait_for_clip(
            ScriptedClips([], clock), "op/1", sleep=clock.sleep, clock=clock, **kwargs
        )
