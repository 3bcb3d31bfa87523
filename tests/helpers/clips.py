"""Poll one clip operation until it finishes: a provider's behaviour, without the daemon.

The daemon polls through its operation poller (orchestrator/pipeline/operations.py),
which needs a database. Provider tests only need the loop: poll, back off, retry
transient errors, stop at a deadline.
"""

from __future__ import annotations

import asyncio
import random

from orchestrator.errors import ProviderTransientError
from orchestrator.providers import ClipPending, ClipPoll, ClipProvider, backoff_delay

__all__ = ["poll_until_finished"]


async def poll_until_finished(
    provider: ClipProvider,
    name: str,
    *,
    deadline_s: float = 5.0,
    initial_s: float = 0.01,
    max_s: float = 0.05,
) -> ClipPoll:
    """Poll `name` at once, then with backoff, until it is no longer pending.

    Transient poll errors count as "still pending"; permanent ones propagate. At the
    deadline, after a last poll, the answer is `ClipPending`.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + deadline_s
    rng = random.Random(0)
    polls = 0
    while True:
        try:
            result = await provider.poll_clip(name)
        except ProviderTransientError:
            result = ClipPending()
        if not isinstance(result, ClipPending):
            return result
        remaining = deadline - loop.time()
        if remaining <= 0:
            return result
        delay = backoff_delay(polls, initial_s=initial_s, max_s=max_s, jitter=0.0, rng=rng)
        polls += 1
        await asyncio.sleep(min(delay, remaining))
