"""Generating Audio: one narration line per clip, so a review can redo single lines."""

from __future__ import annotations

from notion_sync.ops import BlockSpec
from orchestrator.db.models import Clip, Task
from orchestrator.pipeline.context import PipelineContext
from orchestrator.pipeline.files import task_ref
from orchestrator.pipeline.gates import reach_gate
from orchestrator.pipeline.ledger import record_charge
from orchestrator.pipeline.queries import load_clips
from orchestrator.state.status import STAGES
from storage.keys import narration_line_key

__all__ = ["narrate_clips"]

AUDIO = STAGES[3]
NEEDS_NARRATION = ("planned", "rejected")


async def narrate_clips(ctx: PipelineContext, task_id: int) -> None:
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
        path = work / f"narration_{clip.number:02d}_n{attempt}.wav"
        path.write_bytes(narration.wav)
        key = narration_line_key(channel.name, ref, clip.number, attempt)
        stored = await storage.put(key, path, "audio/wav")
        async with ctx.sessions() as session, session.begin():
            task = await session.get(Task, task_id)
            row = await session.get(Clip, clip.id)
            assert task is not None
            assert row is not None
            row.narration_attempt = attempt
            row.narration_status = "complete"
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
        what = f"lines {', '.join(map(str, redone))} recorded" if redone else "unchanged"
        await reach_gate(
            session, task, AUDIO, channel, headline=f"Audio ready ({what}).", body=body
        )
