"""The cadence of polling a long-running generation: from the model's expected latency.

The daemon's operation poller (orchestrator/pipeline/operations.py) spaces the polls of
each in-flight clip with `poll_delay`. Everything follows L, the clip's expected
latency: the model's `expected_latency_s` in the catalogue (catalogue.py; Veo 3.1 about
two minutes, inside Google's published 11 s to 6 min), a channel's
`expected_clip_latency_s`, or the median recently observed for that model.

- The first poll comes at `FIRST_POLL_FRACTION` x L after the submit: hardly any
  clip is ready sooner, and an earlier poll would only be answered "not done".
- Then the delays grow from `FIRST_BACKOFF_FRACTION` x L, doubling, capped at
  `CAP_FRACTION` x L, so a finished operation waits at most ~10 % of L for its poll.

Polls are not billed, but every one is a request against the project's Vertex
request quota (operations are read through the model's fetchPredictOperation
endpoint), and 18 clips x 7 polls is already ~130 reads per task: that is why the
cadence follows L rather than a short fixed interval.

`REELGATE_CLIP_POLL_INITIAL_SECONDS` / `REELGATE_CLIP_POLL_MAX_SECONDS`, when set,
replace the first delay and the cap with fixed figures (tests, unusual backends).
"""

from __future__ import annotations

import random

__all__ = [
    "CAP_FRACTION",
    "FIRST_BACKOFF_FRACTION",
    "FIRST_POLL_FRACTION",
    "backoff_delay",
    "poll_delay",
]

# Defaults of REELGATE_CLIP_POLL_FIRST_FRACTION / _CAP_FRACTION (fractions of L).
FIRST_POLL_FRACTION = 0.5
CAP_FRACTION = 0.1
# The first back-off delay after the first poll, as a fraction of L.
FIRST_BACKOFF_FRACTION = 0.05


def backoff_delay(
    attempt: int, *, initial_s: float, max_s: float, jitter: float, rng: random.Random
) -> float:
    """Delay before poll number `attempt` + 1 (0-based): min(max, initial * 2^n), jittered.

    Jitter scales the delay down by up to `jitter` (0..1), so many clips submitted
    together spread out instead of polling in lockstep, and `max_s` is never exceeded.
    """
    base = min(max_s, initial_s * (2.0 ** min(attempt, 62)))
    return base * (1.0 - jitter * rng.random())


def poll_delay(
    polls: int,
    *,
    expected_latency_s: float,
    jitter: float,
    rng: random.Random,
    first_fraction: float = FIRST_POLL_FRACTION,
    cap_fraction: float = CAP_FRACTION,
    initial_s: float | None = None,
    max_s: float | None = None,
) -> float:
    """Seconds until the next poll of an operation already polled `polls` times.

    `polls == 0` is the delay from the submit to the first poll.
    """
    latency = max(expected_latency_s, 0.001)
    cap = max_s if max_s is not None else cap_fraction * latency
    if initial_s is not None:
        # Fixed figures (the settings): the classic doubling from initial_s.
        return backoff_delay(polls, initial_s=initial_s, max_s=cap, jitter=jitter, rng=rng)
    if polls == 0:
        return first_fraction * latency
    start = min(cap, FIRST_BACKOFF_FRACTION * latency)
    return backoff_delay(polls - 1, initial_s=start, max_s=cap, jitter=jitter, rng=rng)
