"""Generating Keyframes: render only the keyframes that are new or were rejected."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notion_sync.ops import BlockSpec
from orchestrator.db.models import Clip, Keyframe, Task
from orchestrator.pipeline.context import PipelineContext
from orchestrator.pipeline.files import task_ref
from orchestrator.pipeline.gates import reach_gate
from orchestrator.pipeline.ledger import record_charge
from orchestrator.pipeline.notion_out import file_ref, sync_clip_row
from orchestrator.pipeline.queries import aspect_of, load_keyframes
from orchestrator.providers.base import Image
from orchestrator.state.status import STAGES
from storage.keys import keyframe_key

__all__ = ["keyframe_prompt", "render_keyframes"]

KEYFRAMES = STAGES[1]
NEEDS_RENDER = ("planned", "rejected")


def keyframe_prompt(kf: Keyframe) -> str:
    note = kf.reviewer_note.strip()
    return f"{kf.prompt}. Reviewer note: {note}" if note else kf.prompt


async def render_keyframes(ctx: PipelineContext, task_id: int) -> None:
    async with ctx.sessions() as session:
        task = await session.get(Task, task_id)
        assert task is not None
        channel = ctx.channels.get(task.channel)
        keyframes = sorted(
            (await load_keyframes(session, task_id)).values(), key=lambda k: k.number
        )
        aspect, ref = aspect_of(task), task_ref(task)
    providers, storage = ctx.providers_for(channel), ctx.storage_for(channel)
    work = ctx.task_dir(task_id)
    rendered: list[int] = []
    for kf in keyframes:
        if kf.status not in NEEDS_RENDER:
            continue
        previous = work / f"kf_{kf.number - 1:02d}.png"
        reference = Image(previous.read_bytes()) if previous.exists() else None
        image = await providers.keyframes.render_keyframe(
            keyframe_prompt(kf),
            aspect,
            reference,
        )
        ctx.metrics.provider_calls.labels(provider=providers.name, kind="keyframe").inc()
        attempt = kf.attempt + 1
        path = work / f"kf_{kf.number:02d}_a{attempt}.png"
        path.write_bytes(image.data)
        stored = await storage.put(
            keyframe_key(channel.name, ref, kf.number, attempt), path, image.mime_type
        )
        # The newest attempt is also the reference for the next keyframe's look.
        (work / f"kf_{kf.number:02d}.png").write_bytes(image.data)
        async with ctx.sessions() as session, session.begin():
            task = await session.get(Task, task_id)
            row = await session.get(Keyframe, kf.id)
            assert task is not None
            assert row is not None
            row.attempt = attempt
            row.status = "complete"
            row.storage_key = stored.key
            row.public_url = stored.url or None
            row.file_upload_id = stored.file_upload_id
            row.sha256 = stored.sha256
            row.cost_usd += await record_charge(
                session, task, image.charge, kind="keyframe", metrics=ctx.metrics
            )
            await _sync_neighbour_rows(session, task, kf.number)
        rendered.append(kf.number)

    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        assert task is not None
        rows = sorted((await load_keyframes(session, task_id)).values(), key=lambda k: k.number)
        first_round = not task.rounds.get(KEYFRAMES.name)
        shown = [k for k in rows if first_round or k.number in rendered]
        body = [
            BlockSpec(
                kind="image",
                text=f"Keyframe {k.number} (attempt {k.attempt})",
                file=file_ref(
                    f"kf_{k.number:02d}_a{k.attempt}.png", k.public_url, k.file_upload_id
                ),
            )
            for k in shown
            if k.public_url or k.file_upload_id
        ]
        what = f"keyframes {', '.join(map(str, rendered))} rendered" if rendered else "unchanged"
        await reach_gate(
            session, task, KEYFRAMES, channel, headline=f"Keyframes ready ({what}).", body=body
        )


async def _sync_neighbour_rows(session: AsyncSession, task: Task, number: int) -> None:
    """Keyframe k is the end of clip k-1 and the start of clip k: refresh both rows."""
    kfs = await load_keyframes(session, task.id)
    clips = (
        await session.execute(
            select(Clip).where(Clip.task_id == task.id, Clip.number.in_([number - 1, number]))
        )
    ).scalars()
    for clip in clips:
        sync_clip_row(session, task, clip, kfs)
