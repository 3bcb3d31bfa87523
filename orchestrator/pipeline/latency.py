"""How long a clip of a model is expected to take: the basis of its poll cadence.

First match wins:
1. the channel's `expected_clip_latency_s` (channels file);
2. learned: the median submit-to-stored time of the model's latest clips, once there
   are `REELGATE_CLIP_LATENCY_SAMPLES` of them (`REELGATE_CLIP_LATENCY_LEARNING`);
   read at most once every `LEARNED_REFRESH` per model and process: every poll of
   every operation asks, and a median of the latest clips moves slowly;
3. the model's `expected_latency_s` in the catalogue.
"""

from __future__ import annotations

import random
import statistics
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orchestrator.channels import ChannelConfig
from orchestrator.db.models import Clip
from orchestrator.pipeline.context import PipelineContext
from orchestrator.providers.backoff import poll_delay
from orchestrator.providers.catalogue import CATALOGUE

__all__ = ["LEARNED_REFRESH", "expected_latency", "learned_latency", "next_poll_delay"]

# Used when a model has no catalogued latency (should not happen for video models).
_FALLBACK_S = 60.0
# Clips looked at when learning (the latest stored ones, any model).
_RECENT = 200
# How long a process keeps a model's learned latency before reading it again.
LEARNED_REFRESH = timedelta(seconds=60)


async def learned_latency(session: AsyncSession, model: str, samples: int) -> float | None:
    """Median seconds from submit to stored over the model's latest `samples` clips."""
    rows = (
        await session.execute(
            select(Clip.submitted_at, Clip.generated_at, Clip.quoted_charge)
            .where(Clip.generated_at.is_not(None), Clip.submitted_at.is_not(None))
            .order_by(Clip.generated_at.desc())
            .limit(_RECENT)
        )
    ).all()
    seen = [
        (done - sent).total_seconds()
        for sent, done, quote in rows
        if isinstance(quote, dict) and quote.get("model") == model and done > sent
    ][:samples]
    return statistics.median(seen) if len(seen) >= samples else None


async def expected_latency(
    ctx: PipelineContext, session: AsyncSession, channel: ChannelConfig, model: str | None
) -> float:
    if channel.expected_clip_latency_s is not None:
        return channel.expected_clip_latency_s
    if model and ctx.settings.clip_latency_learning:
        learned = await _learned_recently(ctx, session, model)
        if learned is not None:
            return learned
    entry = CATALOGUE.get(model or "")
    if entry is not None and entry.expected_latency_s > 0:
        return entry.expected_latency_s
    return _FALLBACK_S


async def _learned_recently(
    ctx: PipelineContext, session: AsyncSession, model: str
) -> float | None:
    now = ctx.clock()
    cached: tuple[datetime, float | None] | None = ctx.learned_latencies.get(model)
    if cached is not None and now - cached[0] < LEARNED_REFRESH:
        return cached[1]
    learned = await learned_latency(session, model, ctx.settings.clip_latency_samples)
    ctx.learned_latencies[model] = (now, learned)
    return learned


def next_poll_delay(
    ctx: PipelineContext, polls: int, latency_s: float, rng: random.Random
) -> timedelta:
    """The delay before the next poll of an operation polled `polls` times so far."""
    s = ctx.settings
    return timedelta(
        seconds=poll_delay(
            polls,
            expected_latency_s=latency_s,
            jitter=s.clip_poll_jitter,
            rng=rng,
            first_fraction=s.clip_poll_first_fraction,
            cap_fraction=s.clip_poll_cap_fraction,
            initial_s=s.clip_poll_initial_seconds,
            max_s=s.clip_poll_max_seconds,
        )
    )
