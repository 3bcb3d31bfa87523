"""The operation poller: follows every in-flight clip operation to its end.

It needs nothing but the operation name saved in the database, so it survives
restarts and runs on every replica. Each due operation is first *claimed*: a guarded
update moves its `next_poll_at` forward by the claim time and names this process in
`poll_owner` (`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, the guarded UPDATE
alone on SQLite), so of several replicas exactly one polls it. Results are stored
(faststart first), charged and shown in the Videos table. Storing is a guarded clip
transition from `polling` (state/clips.py), and the charge is the price fixed at
submit time (`clips.quoted_charge`), never one derived from the returned file; the
ledger's unique operation name makes a second charge impossible anyway.

The cadence follows the model's expected latency (pipeline/latency.py,
providers/backoff.py). The task's worker is woken (its `not_before` set to WOKEN)
only when its last in-flight clip finishes, or when a clip must be submitted again.
Operations of cancelled tasks are still followed and recorded, never resubmitted.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from orchestrator.channels import ChannelConfig
from orchestrator.db.models import Clip, Task
from orchestrator.errors import ProviderPermanentError, ProviderTransientError, StaleState
from orchestrator.media import faststart, probe, thumbnail
from orchestrator.pipeline.context import PipelineContext
from orchestrator.pipeline.files import ensure_local, task_ref
from orchestrator.pipeline.latency import expected_latency, next_poll_delay
from orchestrator.pipeline.ledger import record_charge
from orchestrator.pipeline.notion_out import (
    log_error_line,
    progress_text,
    sync_clip_row,
    update_task_progress,
)
from orchestrator.pipeline.queries import load_keyframes
from orchestrator.providers.base import (
    Charge,
    ClipDone,
    ClipFailed,
    ClipFiltered,
    ClipOutcomeUnknown,
    ClipPending,
)
from orchestrator.providers.catalogue import unbilled
from orchestrator.providers.safety import rephrase_for_safety
from orchestrator.state.claims import WOKEN
from orchestrator.state.clips import IN_FLIGHT, ClipStatus, transition_clip
from reelgate.errors import ReelgateError
from storage.keys import clip_file_name, clip_key, thumb_file_name, thumb_key

__all__ = ["WOKEN", "claim_due", "next_due_at", "poll_due_operations", "quoted_charge"]

log = structlog.get_logger(__name__)
_rng = random.Random()


async def claim_due(ctx: PipelineContext, *, limit: int = 16) -> list[int]:
    """Claim up to `limit` due operations for this process; return their clip ids."""
    now = ctx.clock()
    until = now + timedelta(seconds=ctx.settings.operation_claim_seconds)
    claimed: list[int] = []
    async with ctx.sessions() as session, session.begin():
        due = (
            await session.execute(
                select(Clip.id, Clip.attempt)
                .where(Clip.status == ClipStatus.POLLING, Clip.next_poll_at <= now)
                .order_by(Clip.next_poll_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        for clip_id, attempt in due:
            result = await session.execute(
                update(Clip)
                .where(
                    Clip.id == clip_id,
                    Clip.status == ClipStatus.POLLING,
                    Clip.attempt == attempt,
                    Clip.next_poll_at <= now,
                )
                .values(next_poll_at=until, poll_owner=ctx.process)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(clip_id)
    return claimed


async def next_due_at(ctx: PipelineContext) -> datetime | None:
    """When the next in-flight operation is due for a poll (None: nothing in flight)."""
    async with ctx.sessions() as session:
        due: datetime | None = (
            await session.execute(
                select(func.min(Clip.next_poll_at)).where(Clip.status == ClipStatus.POLLING)
            )
        ).scalar_one_or_none()
    return due


async def poll_due_operations(ctx: PipelineContext, *, limit: int = 16) -> int:
    """Claim and poll every operation whose next poll is due; return how many were polled."""
    due = await claim_due(ctx, limit=limit)
    await poll_claimed(ctx, due)
    return len(due)


async def poll_claimed(ctx: PipelineContext, clip_ids: list[int]) -> None:
    """Poll operations this process claimed (claim_due), a few at a time."""
    # Downloads and remuxes are the slow part, not the polls.
    gate = asyncio.Semaphore(4)

    async def one(clip_id: int) -> None:
        async with gate:
            await _poll_one(ctx, clip_id)

    await asyncio.gather(*(one(i) for i in clip_ids))


def quoted_charge(clip: Clip) -> Charge | None:
    """The price recorded when the clip was submitted (None for clips submitted before)."""
    quote = clip.quoted_charge
    if not isinstance(quote, dict):
        return None
    return Charge(
        provider=str(quote["provider"]),
        model=str(quote["model"]),
        units=float(quote["units"]),
        unit=str(quote["unit"]),
        usd=float(quote["usd"]),
    )


@dataclass(frozen=True)
class _Cadence:
    """What the next poll's time follows, read with the claimed clip (no second read)."""

    channel: ChannelConfig
    model: str | None
    attempt: int
    polls: int  # polls of this operation before this one


async def _poll_one(ctx: PipelineContext, clip_id: int) -> None:
    now = ctx.clock()
    async with ctx.sessions() as session:
        clip = await session.get(Clip, clip_id)
        assert clip is not None
        task = await session.get(Task, clip.task_id)
        assert task is not None
        channel = ctx.channels.get(task.channel)
        name, number, attempt = clip.operation_name or "", clip.number, clip.attempt
        deadline = clip.deadline_at
        quote = quoted_charge(clip)
        cadence = _Cadence(channel, quote.model if quote else None, attempt, clip.poll_count)
        if clip.status != ClipStatus.POLLING or clip.poll_owner != ctx.process:
            # Our claim lapsed and another replica took the operation over.
            log.info("skip_lost_claim", clip_id=clip_id, status=clip.status)
            return
    # Every line below, ours or a library's, carries the clip it is about.
    with structlog.contextvars.bound_contextvars(
        task=task.id, page=task.notion_page_id, clip=number, attempt=attempt, operation=name
    ):
        try:
            await _poll_bound(ctx, clip_id, cadence, name, deadline, now)
        except StaleState as exc:
            # Someone else recorded this operation's result first; ours rolled back.
            log.info("skip_stale_clip", reason=str(exc))
        except ReelgateError as exc:
            if not exc.transient:
                raise
            # E.g. storage refused the finished clip: nothing was recorded, so the
            # operation is polled (and stored) again after a short back-off, not left
            # claimed until the claim time runs out.
            log.warning("store_clip_later", error=str(exc), transient=True)
            await _reschedule(ctx, clip_id, cadence)


async def _poll_bound(
    ctx: PipelineContext,
    clip_id: int,
    cadence: _Cadence,
    name: str,
    deadline: datetime | None,
    now: datetime,
) -> None:
    providers = ctx.providers_for(cadence.channel)
    if deadline is not None and now >= deadline:
        await _finish(
            ctx,
            clip_id,
            ClipStatus.TIMED_OUT,
            f"no result after {ctx.settings.clip_deadline_seconds:.0f}s",
        )
        return
    try:
        result = await providers.clips.poll_clip(name)
    except ProviderTransientError as exc:
        log.warning("poll_clip_failed", error=str(exc), transient=True)
        await _reschedule(ctx, clip_id, cadence)
        return
    except ProviderPermanentError as exc:
        await _finish(ctx, clip_id, ClipStatus.FAILED, str(exc))
        return
    finally:
        ctx.metrics.provider_calls.labels(provider=providers.name, kind="clip_poll").inc()
    if isinstance(result, ClipPending):
        await _reschedule(ctx, clip_id, cadence)
    elif isinstance(result, ClipDone):
        await _store_video(ctx, clip_id, result)
        log.info("finish_clip", outcome="complete")
    elif isinstance(result, ClipFiltered):
        await _filtered(ctx, clip_id, result, providers.rai_rephrase_retries)
    elif isinstance(result, ClipFailed):
        await _failed(ctx, clip_id, result)
    elif isinstance(result, ClipOutcomeUnknown):
        # It may have been generated and billed: flagged like a lost submission.
        ctx.metrics.lost_submissions.inc()
        await _finish(
            ctx,
            clip_id,
            ClipStatus.LOST,
            f"{result.message}; name it at the video review to pay for it again",
        )


async def _reschedule(ctx: PipelineContext, clip_id: int, cadence: _Cadence) -> None:
    """Release our claim and set the next poll: one guarded UPDATE (polls are the
    daemon's steady work while clips render, so each costs as little as it can)."""
    polls = cadence.polls + 1
    async with ctx.sessions() as session, session.begin():
        latency = await expected_latency(ctx, session, cadence.channel, cadence.model)
        # Guarded on our claim: a replica that took the operation over meanwhile keeps it.
        await session.execute(
            update(Clip)
            .where(
                Clip.id == clip_id,
                Clip.status == ClipStatus.POLLING,
                Clip.attempt == cadence.attempt,
                Clip.poll_owner == ctx.process,
            )
            .values(
                poll_count=polls,
                poll_owner=None,
                next_poll_at=ctx.clock() + next_poll_delay(ctx, polls, latency, _rng),
            )
            .execution_options(synchronize_session=False)
        )


async def _wake(
    ctx: PipelineContext, session: AsyncSession, task_id: int, *, force: bool = False
) -> None:
    """Wake the task's worker when its last in-flight clip is done (or `force`)."""
    if not force:
        in_flight = (
            await session.execute(
                select(func.count(Clip.id)).where(
                    Clip.task_id == task_id, Clip.status.in_(IN_FLIGHT)
                )
            )
        ).scalar_one()
        if in_flight:
            return  # the step has nothing to do until the last one is in
    await session.execute(
        update(Task)
        .where(Task.id == task_id)
        .values(not_before=WOKEN)
        .execution_options(synchronize_session=False)
    )
    # This process's idle workers look now (before our commit, at worst they look
    # again after their shortest pause); other replicas' within their idle back-off.
    ctx.work_ready.set()


async def _still_polling(session: AsyncSession, clip_id: int) -> Clip:
    """The clip, if its operation is still ours to record; else StaleState."""
    clip = await session.get(Clip, clip_id)
    assert clip is not None
    if clip.status != ClipStatus.POLLING:
        raise StaleState(f"clip {clip.number} is already {clip.status}")
    return clip


async def _finish(ctx: PipelineContext, clip_id: int, outcome: ClipStatus, reason: str) -> None:
    async with ctx.sessions() as session, session.begin():
        clip = await _still_polling(session, clip_id)
        task = await session.get(Task, clip.task_id)
        assert task is not None
        await transition_clip(session, clip, outcome, poll_owner=None)
        clip.error = reason
        ctx.metrics.clips_finished.labels(outcome=outcome).inc()
        log_error_line(
            session, task, f"clip {clip.number} {outcome.replace('_', ' ')}: {reason}", ctx.clock()
        )
        sync_clip_row(session, task, clip, await load_keyframes(session, task.id))
        await _wake(ctx, session, task.id)
    log.warning("finish_clip", clip_id=clip_id, outcome=outcome, reason=reason)


async def _filtered(ctx: PipelineContext, clip_id: int, result: ClipFiltered, retries: int) -> None:
    reasons = "; ".join(result.reasons) or "no reason given"
    async with ctx.sessions() as session, session.begin():
        clip = await _still_polling(session, clip_id)
        task = await session.get(Task, clip.task_id)
        assert task is not None
        retry = clip.rai_retries < retries
        await transition_clip(
            session,
            clip,
            ClipStatus.PLANNED if retry else ClipStatus.RAI_FILTERED,
            poll_owner=None,
        )
        quote = quoted_charge(clip)
        await record_charge(
            session,
            task,
            unbilled(quote) if quote is not None else result.charge,
            kind="clip",
            metrics=ctx.metrics,
            clip_id=clip.id,
            operation_name=clip.operation_name,
        )
        message = (
            f"clip {clip.number} attempt {clip.attempt} was filtered by the provider's "
            f"safety filter ({reasons}); not billed"
        )
        if retry:
            clip.rai_retries += 1
            clip.prompt = rephrase_for_safety(clip.prompt, result.reasons, clip.rai_retries)
            message += "; retrying once with a softened prompt"
        else:
            clip.error = f"filtered: {reasons}"
            ctx.metrics.clips_finished.labels(outcome="rai_filtered").inc()
            message += (
                f". Reword it and write 'Regenerate: clip {clip.number}' at the video review."
            )
        log_error_line(session, task, message, ctx.clock())
        sync_clip_row(session, task, clip, await load_keyframes(session, task.id))
        await _wake(ctx, session, task.id, force=retry)
    log.warning("filter_clip", clip_id=clip_id, reasons=reasons)


async def _failed(ctx: PipelineContext, clip_id: int, result: ClipFailed) -> None:
    async with ctx.sessions() as session, session.begin():
        clip = await _still_polling(session, clip_id)
        task = await session.get(Task, clip.task_id)
        assert task is not None
        # A finished-with-error operation produced nothing and is not billed, so a
        # transient one may be submitted again (bounded).
        retry = result.transient and clip.attempt <= ctx.settings.clip_failure_retries
        await transition_clip(
            session, clip, ClipStatus.PLANNED if retry else ClipStatus.FAILED, poll_owner=None
        )
        clip.error = f"{result.code}: {result.message}"
        if not retry:
            ctx.metrics.clips_finished.labels(outcome="failed").inc()
        log_error_line(
            session,
            task,
            f"clip {clip.number} attempt {clip.attempt} failed ({clip.error})"
            + ("; retrying" if retry else ""),
            ctx.clock(),
        )
        sync_clip_row(session, task, clip, await load_keyframes(session, task.id))
        await _wake(ctx, session, task.id, force=retry)


async def _store_video(ctx: PipelineContext, clip_id: int, result: ClipDone) -> None:
    async with ctx.sessions() as session:
        clip = await _still_polling(session, clip_id)
        task = await session.get(Task, clip.task_id)
        assert task is not None
        channel = ctx.channels.get(task.channel)
        ref, number, attempt = task_ref(task), clip.number, clip.attempt
    work = ctx.task_dir(task.id)
    path = work / clip_file_name(number, attempt)
    if result.video is not None:
        path.write_bytes(result.video)
    else:
        await ensure_local(path, result.uri)
    # Reviewers press play in Notion: the moov box must come first.
    await faststart(path)
    info = await probe(path)
    thumb = await thumbnail(path, work / thumb_file_name(number, attempt), width=480)
    storage = ctx.storage_for(channel)
    stored = await storage.put(clip_key(channel.name, ref, number, attempt), path, "video/mp4")
    stored_thumb = await storage.put(
        thumb_key(channel.name, ref, number, attempt), thumb, "image/jpeg"
    )
    async with ctx.sessions() as session, session.begin():
        clip = await _still_polling(session, clip_id)
        task = await session.get(Task, task.id)
        assert task is not None
        # Guarded (status polling, same attempt): of two pollers, one stores it.
        await transition_clip(session, clip, ClipStatus.COMPLETE, poll_owner=None)
        clip.storage_key = stored.key
        clip.public_url = stored.url or None
        clip.url_expires_at = stored.url_expires_at
        clip.file_upload_id = stored.file_upload_id
        clip.thumb_key = stored_thumb.key
        clip.thumb_url = stored_thumb.url or None
        clip.duration_s = info.duration_s
        clip.bytes = stored.bytes
        clip.sha256 = stored.sha256
        clip.generated_at = ctx.clock()
        clip.error = None
        # The price fixed at submit from what was submitted, not from the file.
        quote = quoted_charge(clip)
        clip.cost_usd += await record_charge(
            session,
            task,
            quote if quote is not None else result.charge,
            kind="clip",
            metrics=ctx.metrics,
            clip_id=clip.id,
            operation_name=clip.operation_name,
        )
        ctx.metrics.clips_finished.labels(outcome="complete").inc()
        sync_clip_row(session, task, clip, await load_keyframes(session, task.id))
        clips = (await session.execute(select(Clip).where(Clip.task_id == task.id))).scalars().all()
        update_task_progress(
            session,
            task,
            progress=progress_text(list(clips), task.clip_count),
            cost=round(task.cost_usd, 4),
        )
        await _wake(ctx, session, task.id)
