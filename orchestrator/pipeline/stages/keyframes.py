"""Keyframes stage (Generating Keyframes): render only keyframes that are new or rejected.

A task with N clips has keyframes 1..N+1: clip i runs from keyframe i to i+1, so a
remade keyframe also remakes the clips on both sides of it (video stage).

A keyframe keeps the image type the model answered (PNG or JPEG): its file is named
for it and the type is saved on the row, so Veo is sent the type the bytes really are.
A keyframe the image model's safety filter blocks is recorded at $0 with the reason in
the Error Log, and rendered again with a softened prompt, as often as the channel's
rephrase bound allows for a filtered clip.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notion_sync.ops import BlockSpec
from orchestrator.db.models import Clip, Keyframe, Task
from orchestrator.errors import ContentFiltered
from orchestrator.limits import IMAGE_PROMPT_MAX_CHARS, NOTE_MAX_CHARS, bound, summarise_numbers
from orchestrator.pipeline.blocked import handle_blocked
from orchestrator.pipeline.budget import clip_cost, keyframe_cost
from orchestrator.pipeline.context import PipelineContext, ProviderSet
from orchestrator.pipeline.files import task_ref
from orchestrator.pipeline.gates import reach_gate
from orchestrator.pipeline.ledger import record_charge
from orchestrator.pipeline.notion_out import file_ref, sync_clip_row
from orchestrator.pipeline.queries import aspect_of, load_keyframes
from orchestrator.pipeline.references import load_reference_images
from orchestrator.pipeline.stages.base import Redo, Review, planned_redo
from orchestrator.providers.base import Aspect, Image
from orchestrator.providers.safety import rephrase_for_safety
from orchestrator.state.clips import KeyframeStatus, transition_keyframe
from orchestrator.state.status import stage_named
from storage.keys import keyframe_file_name, keyframe_key, keyframe_reference_file_name

__all__ = [
    "GATE_HINT",
    "STAGE",
    "approve",
    "keyframe_prompt",
    "mark_redo",
    "redo_cost",
    "redo_targets",
    "run",
]

log = structlog.get_logger(__name__)

STAGE = stage_named("keyframes")
GATE_HINT = (
    "Look at the keyframes below. Set Status to {status:keyframes_approved}, or to "
    "{status:keyframes_error} and name the keyframes to redo in Error Log "
    "(e.g. `keyframe 3: warmer light`)."
)
NEEDS_RENDER = (KeyframeStatus.PLANNED, KeyframeStatus.REJECTED)


def keyframe_prompt(kf: Keyframe) -> str:
    note = bound(kf.reviewer_note.strip(), NOTE_MAX_CHARS).text
    prompt = f"{kf.prompt}. Reviewer note: {note}" if note else kf.prompt
    return bound(prompt, IMAGE_PROMPT_MAX_CHARS).text


async def run(ctx: PipelineContext, task_id: int) -> datetime | None:
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
    mime_types = {k.number: k.mime_type for k in keyframes}
    # The creator's reference images go with every keyframe (read once per run).
    references = (
        await load_reference_images(ctx, task_id)
        if any(k.status in NEEDS_RENDER for k in keyframes)
        else ()
    )
    for kf in keyframes:
        if kf.status not in NEEDS_RENDER:
            continue
        previous_type = mime_types.get(kf.number - 1, "image/png")
        previous = work / keyframe_reference_file_name(kf.number - 1, previous_type)
        reference = (
            Image(previous.read_bytes(), mime_type=previous_type) if previous.exists() else None
        )
        image = await _render(ctx, task_id, providers, kf, aspect, reference, references)
        attempt = kf.attempt + 1
        path = work / keyframe_file_name(kf.number, attempt, image.mime_type)
        path.write_bytes(image.data)
        stored = await storage.put(
            keyframe_key(channel.name, ref, kf.number, attempt, image.mime_type),
            path,
            image.mime_type,
        )
        # The newest attempt is also the reference for the next keyframe's look.
        (work / keyframe_reference_file_name(kf.number, image.mime_type)).write_bytes(image.data)
        mime_types[kf.number] = image.mime_type
        async with ctx.sessions() as session, session.begin():
            task = await session.get(Task, task_id)
            row = await session.get(Keyframe, kf.id)
            assert task is not None
            assert row is not None
            await transition_keyframe(session, row, KeyframeStatus.COMPLETE, attempt=attempt)
            row.storage_key = stored.key
            row.public_url = stored.url or None
            row.file_upload_id = stored.file_upload_id
            row.sha256 = stored.sha256
            row.mime_type = image.mime_type
            row.cost_usd += await record_charge(
                session, task, image.charge, kind="keyframe", metrics=ctx.metrics
            )
            await _sync_neighbour_rows(session, task, kf.number)
        rendered.append(kf.number)

    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        assert task is not None
        rows = sorted((await load_keyframes(session, task_id)).values(), key=lambda k: k.number)
        first_round = not task.rounds.get(STAGE.name)
        shown = [k for k in rows if first_round or k.number in rendered]
        body = [
            BlockSpec(
                kind="image",
                text=f"Keyframe {k.number} (attempt {k.attempt})",
                file=file_ref(
                    keyframe_file_name(k.number, k.attempt, k.mime_type),
                    k.public_url,
                    k.file_upload_id,
                ),
            )
            for k in shown
            if k.public_url or k.file_upload_id
        ]
        what = f"{summarise_numbers(rendered, 'keyframe')} rendered" if rendered else "unchanged"
        await reach_gate(
            session,
            task,
            STAGE,
            channel,
            headline=f"Keyframes ready ({what}).",
            body=body,
            hint=GATE_HINT,
        )
    return None


async def _render(
    ctx: PipelineContext,
    task_id: int,
    providers: ProviderSet,
    kf: Keyframe,
    aspect: Aspect,
    reference: Image | None,
    references: tuple[Image, ...] = (),
) -> Image:
    """One keyframe; a safety block is recorded ($0, Error Log) and rephrased, bounded."""
    prompt = keyframe_prompt(kf)
    rephrases = 0
    while True:
        try:
            return await providers.keyframes.render_keyframe(
                prompt, aspect, reference, references=references
            )
        except ContentFiltered as blocked:
            await handle_blocked(
                ctx,
                task_id,
                blocked,
                provider=providers.name,
                kind="keyframe",
                subject=f"keyframe {kf.number} was blocked by the image model",
                softened="prompt",
                fix="Reword the shot (a milder brief or storyboard), then set Status to "
                "Queued to try again",
                rephrases=rephrases,
                max_rephrases=providers.rai_rephrase_retries,
            )
            rephrases += 1
            prompt = rephrase_for_safety(prompt, blocked.reasons, rephrases)
        finally:
            ctx.metrics.provider_calls.labels(provider=providers.name, kind="keyframe").inc()


def redo_targets(review: Review) -> Redo:
    """Keyframes named at the keyframes review (plain numbers count as keyframes), or
    at a later review by a `continuity:`/`keyframe:` line (both ends of its clip)."""
    redo = planned_redo(review, STAGE)
    # A task with N clips has keyframes 1..N+1; name any number past that.
    beyond = sorted(k for k in redo.targets if k not in review.keyframes)
    if not beyond:
        return redo
    return Redo(
        targets=redo.targets,
        reasons=frozenset(
            {
                f"{summarise_numbers(beyond, 'keyframe')} "
                f"{'does' if len(beyond) == 1 else 'do'} not exist "
                f"(this task has keyframes 1 to {len(review.keyframes)})"
            }
        ),
    )


async def mark_redo(session: AsyncSession, review: Review, targets: Mapping[int, str]) -> None:
    for number, note in targets.items():
        kf = review.keyframes[number]
        # One not rendered yet (re-planned in the same review) is made anyway.
        if kf.status == KeyframeStatus.COMPLETE:
            await transition_keyframe(session, kf, KeyframeStatus.REJECTED)
        kf.reviewer_note = note


def redo_cost(providers: ProviderSet, task: Task, n: int) -> float:
    # Each keyframe is the end of one clip and the start of the next.
    return keyframe_cost(providers, n) + clip_cost(providers, task.clip_seconds, 2 * n)


async def approve(session: AsyncSession, task: Task) -> None:
    return None


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
