"""The operation poller: follows every in-flight clip operation to its end.

It needs nothing but the operation name saved in the database, so it survives
restarts and runs on any replica. Results are stored (faststart first), costed,
and shown in the Videos table; the task is woken when its last clip finishes.
Operations of cancelled tasks are still followed and recorded, never resubmitted.
Each outcome is a guarded clip transition from `polling` (state/clips.py): should
two pollers ever follow the same operation, only one records its result.
"""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from orchestrator.channels import ChannelConfig
from orchestrator.db.models import Clip, Task
from orchestrator.errors import ProviderPermanentError, ProviderTransientError, StaleState
from orchestrator.media import faststart, probe, thumbnail
from orchestrator.pipeline.context import PipelineContext
from orchestrator.pipeline.files import ensure_local, task_ref
from orchestrator.pipeline.ledger import record_charge
from orchestrator.pipeline.notion_out import (
    log_error_line,
    progress_text,
    sync_clip_row,
    update_task_progress,
)
from orchestrator.pipeline.queries import load_keyframes
from orchestrator.providers.backoff import backoff_delay
from orchestrator.providers.base import (
    ClipDone,
    ClipFailed,
    ClipFiltered,
    ClipOutcomeUnknown,
    ClipPending,
)
from orchestrator.providers.safety import rephrase_for_safety
from orchestrator.state.clips import ClipStatus, transition_clip
from storage.keys import clip_file_name, clip_key, thumb_file_name, thumb_key

__all__ = ["poll_due_operations"]

log = structlog.get_logger(__name__)
_rng = random.Random()


async def poll_due_operations(ctx: PipelineContext, *, limit: int = 16) -> int:
    """Poll every operation whose next poll is due; return how many were polled."""
    async with ctx.sessions() as session:
        due = (
            (
                await session.execute(
                    select(Clip.id)
                    .where(Clip.status == ClipStatus.POLLING, Clip.next_poll_at <= ctx.clock())
                    .order_by(Clip.next_poll_at)
                    .limit(limit)
                )
            )
            .scalars()
            .all()
        )
    # A few at a time: downloads and remuxes are the slow part, not the polls.
    gate = asyncio.Semaphore(4)

    async def one(clip_id: int) -> None:
        async with gate:
            await _poll_one(ctx, clip_id)

    await asyncio.gather(*(one(i) for i in due))
    return len(due)


def _next_poll(ctx: PipelineContext, polls: int) -> timedelta:
    return timedelta(
        seconds=backoff_delay(
            polls,
            initial_s=ctx.settings.clip_poll_initial_seconds,
            max_s=ctx.settings.clip_poll_max_seconds,
            jitter=0.2,
            rng=_rng,
        )
    )


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
    # Every line below, ours or a library's, carries the clip it is about.
    with structlog.contextvars.bound_contextvars(
        task=task.id, page=task.notion_page_id, clip=number, attempt=attempt, operation=name
    ):
        try:
            await _poll_bound(ctx, clip_id, channel, name, deadline, now)
        except StaleState as exc:
            # Someone else recorded this operation's result first; ours rolled back.
            log.info("skip_stale_clip", reason=str(exc))


async def _poll_bound(
    ctx: PipelineContext,
    clip_id: int,
    channel: ChannelConfig,
    name: str,
    deadline: datetime | None,
    now: datetime,
) -> None:
    providers = ctx.providers_for(channel)
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
        await _reschedule(ctx, clip_id)
        return
    except ProviderPermanentError as exc:
        await _finish(ctx, clip_id, ClipStatus.FAILED, str(exc))
        return
    finally:
        ctx.metrics.provider_calls.labels(provider=providers.name, kind="clip_poll").inc()
    if isinstance(result, ClipPending):
        await _reschedule(ctx, clip_id)
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


async def _reschedule(ctx: PipelineContext, clip_id: int) -> None:
    async with ctx.sessions() as session, session.begin():
        clip = await session.get(Clip, clip_id)
        assert clip is not None
        clip.poll_count += 1
        clip.next_poll_at = ctx.clock() + _next_poll(ctx, clip.poll_count)


async def _wake(session: AsyncSession, task_id: int) -> None:
    # The worker waiting on these clips looks again now rather than at its back-off.
    await session.execute(
        update(Task)
        .where(Task.id == task_id)
        .values(not_before=None)
        .execution_options(synchronize_session=False)
    )


async def _finish(ctx: PipelineContext, clip_id: int, outcome: ClipStatus, reason: str) -> None:
    async with ctx.sessions() as session, session.begin():
        clip = await session.get(Clip, clip_id)
        assert clip is not None
        task = await session.get(Task, clip.task_id)
        assert task is not None
        await transition_clip(session, clip, outcome)
        clip.error = reason
        ctx.metrics.clips_finished.labels(outcome=outcome).inc()
        log_error_line(
            session, task, f"clip {clip.number} {outcome.replace('_', ' ')}: {reason}", ctx.clock()
        )
        sync_clip_row(session, task, clip, await load_keyframes(session, task.id))
        await _wake(session, task.id)
    log.warning("finish_clip", clip_id=clip_id, outcome=outcome, reason=reason)


async def _filtered(ctx: PipelineContext, clip_id: int, result: ClipFiltered, retries: int) -> None:
    reasons = "; ".join(result.reasons) or "no reason given"
    async with ctx.sessions() as session, session.begin():
        clip = await session.get(Clip, clip_id)
        assert clip is not None
        task = await session.get(Task, clip.task_id)
        assert task is not None
        retry = clip.rai_retries < retries
        await transition_clip(
            session, clip, ClipStatus.PLANNED if retry else ClipStatus.RAI_FILTERED
        )
        await record_charge(
            session,
            task,
            result.charge,
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
        await _wake(session, task.id)
    log.warning("filter_clip", clip_id=clip_id, reasons=reasons)


async def _failed(ctx: PipelineContext, clip_id: int, result: ClipFailed) -> None:
    async with ctx.sessions() as session, session.begin():
        clip = await session.get(Clip, clip_id)
        assert clip is not None
        task = await session.get(Task, clip.task_id)
        assert task is not None
        # A finished-with-error operation produced nothing and is not billed, so a
        # transient one may be submitted again (bounded).
        retry = result.transient and clip.attempt <= ctx.settings.clip_failure_retries
        await transition_clip(session, clip, ClipStatus.PLANNED if retry else ClipStatus.FAILED)
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
        await _wake(session, task.id)


async def _store_video(ctx: PipelineContext, clip_id: int, result: ClipDone) -> None:
    async with ctx.sessions() as session:
        clip = await session.get(Clip, clip_id)
        assert clip is not None
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
        clip = await session.get(Clip, clip_id)
        task = await session.get(Task, task.id)
        assert clip is not None
        assert task is not None
        await transition_clip(session, clip, ClipStatus.COMPLETE)
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
        clip.cost_usd += await record_charge(
            session,
            task,
            result.charge,
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
        await _wake(session, task.id)
