"""Audio stage (Generating Audio): one narration line per clip, so a review can redo one line."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from notion_sync.ops import BlockSpec
from orchestrator.db.models import Clip, Task
from orchestrator.limits import summarise_numbers
from orchestrator.pipeline.budget import narration_cost
from orchestrator.pipeline.context import PipelineContext, ProviderSet
from orchestrator.pipeline.files import task_ref
from orchestrator.pipeline.gates import reach_gate
from orchestrator.pipeline.ledger import record_charge
from orchestrator.pipeline.queries import load_clips
from orchestrator.pipeline.stages.base import Redo, Review, planned_redo
from orchestrator.state.clips import NarrationStatus, transition_narration
from orchestrator.state.status import stage_named
from storage.keys import narration_line_file_name, narration_line_key

__all__ = ["GATE_HINT", "STAGE", "approve", "mark_redo", "redo_cost", "redo_targets", "run"]

STAGE = stage_named("audio")
GATE_HINT = (
    "Listen to the narration. Set Status to {status:audio_approved}, or to "
    "{status:audio_error} and name the clips whose narration to redo in Error Log "
    "(e.g. `clip 4: slower`)."
)
NEEDS_NARRATION = (NarrationStatus.PLANNED, NarrationStatus.REJECTED)


async def run(ctx: PipelineContext, task_id: int) -> datetime | None:
    async with ctx.sessions() as session:
        task = await session.get(Task, task_id)
        assert task is not None
        channel = ctx.channels.get(task.channel)
        clips = await load_clips(session, task_id)
        ref = task_ref(task)
    providers, storage = ctx.providers_for(channel), ctx.storage_for(channel)
    work = ctx.task_dir(task_id)
    redone: list[int] = []
    for clip in clips:
        if clip.narration_status not in NEEDS_NARRATION or not clip.narration.strip():
            continue
        narration = await providers.narration.narrate(clip.narration, channel.voice)
        ctx.metrics.provider_calls.labels(provider=providers.name, kind="narration").inc()
        attempt = clip.narration_attempt + 1
        path = work / narration_line_file_name(clip.number, attempt)
        path.write_bytes(narration.wav)
        key = narration_line_key(channel.name, ref, clip.number, attempt)
        stored = await storage.put(key, path, "audio/wav")
        async with ctx.sessions() as session, session.begin():
            task = await session.get(Task, task_id)
            row = await session.get(Clip, clip.id)
            assert task is not None
            assert row is not None
            await transition_narration(
                session, row, NarrationStatus.COMPLETE, narration_attempt=attempt
            )
            row.narration_key = stored.key
            row.narration_url = stored.url or None
            row.narration_seconds = narration.seconds
            await record_charge(
                session,
                task,
                narration.charge,
                kind="narration",
                metrics=ctx.metrics,
                clip_id=row.id,
            )
        redone.append(clip.number)

    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        assert task is not None
        rows = await load_clips(session, task_id)
        body = [
            BlockSpec(
                kind="paragraph",
                text=f"Clip {c.number} narration (take {c.narration_attempt}, "
                f"{c.narration_seconds or 0:.1f}s): {c.narration}",
            )
            for c in rows
            if c.narration_attempt and (not redone or c.number in redone)
        ]
        what = f"{summarise_numbers(redone, 'line')} recorded" if redone else "unchanged"
        await reach_gate(
            session,
            task,
            STAGE,
            channel,
            headline=f"Audio ready ({what}).",
            body=body,
            hint=GATE_HINT,
        )
    return None


def redo_targets(review: Review) -> Redo:
    """Narration lines to redo: named at the audio review, or by an `audio:` line at
    the video review (recorded then, made when this stage runs)."""
    return planned_redo(review, STAGE)


async def mark_redo(session: AsyncSession, review: Review, targets: Mapping[int, str]) -> None:
    for clip in review.clips:
        if clip.number in targets:
            # A line named again before it could be recorded (no narration text) stays rejected.
            if clip.narration_status != NarrationStatus.REJECTED:
                await transition_narration(session, clip, NarrationStatus.REJECTED)
            clip.narration_note = targets[clip.number]


def redo_cost(providers: ProviderSet, task: Task, n: int) -> float:
    return narration_cost(providers, task.clip_seconds, n)


async def approve(session: AsyncSession, task: Task) -> None:
    return None
