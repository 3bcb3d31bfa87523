"""`backoff_delay`: the cadence the daemon's operation poller spaces clip polls with."""

from __future__ import annotations

import random

from orchestrator.providers import backoff_delay


def test_default_backoff_grows_from_10_to_60_seconds() -> None:
    rng = random.Random(0)

    delays = [backoff_delay(n, initial_s=10, max_s=60, jitter=0.0, rng=rng) for n in range(7)]

    assert delays == [10, 20, 40, 60, 60, 60, 60]


def test_jitter_stays_within_bounds_and_spreads() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(n, initial_s=10, max_s=60, jitter=0.2, rng=rng) for n in range(20)]
    for n, d in enumerate(delays):
        base = min(60, 10 * 2**n)
        assert 0.8 * base <= d <= base
    assert len(set(delays)) == len(delays)


def test_huge_attempt_numbers_stay_capped() -> None:
    # A clip polled for days must not overflow the exponent.
    rng = random.Random(0)
    assert backoff_delay(10_000, initial_s=10, max_s=60, jitter=0.0, rng=rng) == 60
