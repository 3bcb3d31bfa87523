"""The cadence of polling a long-running generation: jittered exponential backoff.

The daemon's operation poller (orchestrator/pipeline/operations.py) spaces the polls
of each in-flight clip with `backoff_delay`, from `REELGATE_CLIP_POLL_INITIAL_SECONDS`
up to `REELGATE_CLIP_POLL_MAX_SECONDS`. Veo takes minutes per clip, hence the
defaults of 10 s growing to 60 s.
"""

from __future__ import annotations

import random

__all__ = ["backoff_delay"]


def backoff_delay(
    attempt: int, *, initial_s: float, max_s: float, jitter: float, rng: random.Random
) -> float:
    """Delay before poll number `attempt` + 1 (0-based): min(max, initial * 2^n), jittered.

    Jitter scales the delay down by up to `jitter` (0..1), so many clips submitted
    together spread out instead of polling in lockstep, and `max_s` is never exceeded.
    """
    base = min(max_s, initial_s * (2.0 ** min(attempt, 62)))
    return base * (1.0 - jitter * rng.random())
