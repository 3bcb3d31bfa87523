"""Storyboard stage (Planning): the storyboard, one clip row and N+1 keyframe rows per task.

A review names shots to re-plan; only those shots, and what follows from them
(their keyframes, clips and narration lines), are made again.

A storyboard call the model's safety filter blocks (promptFeedback.blockReason, a
safety finish reason, a 400 in Vertex's safety wording) is recorded at $0 with the
reason in the Error Log, and made again with a softened brief, as often as the
channel's rephrase bound allows for a filtered clip.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from notion_sync.ops import BlockSpec
from orchestrator.db.models import Clip, Keyframe, Task
from orchestrator.errors import ContentFiltered, ProviderPermanentError
from orchestrator.limits import BRIEF_MAX_CHARS, bound, summarise_numbers
from orchestrator.pipeline.blocked import handle_blocked
from orchestrator.pipeline.budget import clip_cost, keyframe_cost, storyboard_cost
from orchestrator.pipeline.context import PipelineContext, ProviderSet
from orchestrator.pipeline.gates import reach_gate
from orchestrator.pipeline.ledger import record_charge
from orchestrator.pipeline.notion_out import comment, sync_clip_row
from orchestrator.pipeline.queries import aspect_of, load_all
from orchestrator.pipeline.references import load_reference_images, reference_blocks
from orchestrator.pipeline.stages.base import Redo, Review, planned_redo
from orchestrator.providers.base import Aspect, Image, Shot, Storyboard
from orchestrator.providers.safety import rephrase_for_safety
from orchestrator.state.clips import (
    ClipStatus,
    KeyframeStatus,
    NarrationStatus,
    transition_clip,
    transition_keyframe,
    transition_narration,
)
from orchestrator.state.status import stage_named

__all__ = [
    "GATE_HINT",
    "STAGE",
    "approve",
    "closing_keyframe_prompt",
    "mark_redo",
    "redo_cost",
    "redo_targets",
    "run",
]

log = structlog.get_logger(__name__)

STAGE = stage_named("storyboard")
GATE_HINT = (
    "Read the shots below. Set Status to {status:storyboard_approved} to go on, or to "
    "{status:storyboard_error} and write in Error Log which shots to re-plan "
    "(e.g. `Regenerate: shots 2, 3 - more suspense`)."
)


def closing_keyframe_prompt(last_shot_prompt: str) -> str:
    # Clip N ends on keyframe N+1, which no shot starts with: it is the closing image.
    return f"{last_shot_prompt} — closing frame, the scene settles"


def _shot_json(shot: Shot) -> dict[str, object]:
    return {
        "number": shot.number,
        "visual_prompt": shot.visual_prompt,
        "motion_prompt": shot.motion_prompt,
        "narration": shot.narration,
        "seconds": shot.seconds,
    }


async def run(ctx: PipelineContext, task_id: int) -> datetime | None:
    """Plan every shot (first time) or re-plan only the shots a review named."""
    async with ctx.sessions() as session:
        task = await session.get(Task, task_id)
        assert task is not None
        channel = ctx.channels.get(task.channel)
        replan: dict[int, str] = {
            int(k): str(v) for k, v in task.pending_targets.get("storyboard", {}).items()
        }
        clips, _ = await load_all(session, task.id)
        brief, count, seconds = task.brief or task.title, task.clip_count, task.clip_seconds
        aspect = aspect_of(task)
    # The model is given a bounded Brief; the gate comment says what was cut.
    brief_bound = bound(brief, BRIEF_MAX_CHARS)
    brief = brief_bound.text
    providers = ctx.providers_for(channel)
    if not clips or replan:
        # The paid call runs outside any transaction; its result is committed at once.
        references = await load_reference_images(ctx, task_id)
        board = await _plan(
            ctx, task_id, providers, brief, count, seconds, aspect, replan, references
        )
        async with ctx.sessions() as session, session.begin():
            task = await session.get(Task, task_id)
            assert task is not None
            await record_charge(session, task, board.charge, kind="storyboard", metrics=ctx.metrics)
            clips, keyframes = await load_all(session, task.id)
            await _apply(session, task, board, clips, keyframes, replan)
            await session.flush()
            clips, keyframes = await load_all(session, task.id)
            for clip in clips:
                if not replan or clip.number in replan or clip.notion_row_id is None:
                    sync_clip_row(session, task, clip, keyframes)
            task.pending_targets = {
                k: v for k, v in task.pending_targets.items() if k != "storyboard"
            }
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        assert task is not None
        clips, _ = await load_all(session, task.id)
        body = [
            BlockSpec(
                kind="paragraph",
                text=f"Shot {c.number}: {c.prompt} | Motion: {c.motion} | Narration: {c.narration}",
            )
            for c in clips
            if not replan or c.number in replan
        ]
        # What the storyboard (and every keyframe) follows, shown with the shots.
        body += reference_blocks(task)
        what = f"{summarise_numbers(replan, 'shot')} re-planned" if replan else "planned"
        if brief_bound.cut and not replan:
            # Said once, where the creator sees it (a comment) and next to the shots.
            cut = (
                f"{brief_bound.describe('The Brief')} by the storyboard model "
                f"({brief_bound.cut:,} cut). Shorten the Brief to say it all."
            )
            body.insert(0, BlockSpec(kind="callout", text=cut))
            comment(session, task, cut)
        await reach_gate(
            session,
            task,
            STAGE,
            channel,
            headline=f"Storyboard ready ({len(clips)} shots, {what}).",
            body=body,
            hint=GATE_HINT,
        )
    return None


async def _plan(
    ctx: PipelineContext,
    task_id: int,
    providers: ProviderSet,
    brief: str,
    count: int,
    seconds: int,
    aspect: Aspect,
    replan: dict[int, str],
    references: tuple[Image, ...] = (),
) -> Storyboard:
    """The storyboard; a safety block is recorded ($0, Error Log) and rephrased, bounded."""
    rephrases = 0
    while True:
        try:
            return await providers.storyboard.plan_storyboard(
                brief, count, seconds, aspect, notes=replan or None, references=references
            )
        except ContentFiltered as blocked:
            await handle_blocked(
                ctx,
                task_id,
                blocked,
                provider=providers.name,
                kind="storyboard",
                subject="the storyboard was blocked by the model",
                softened="brief",
                fix="Reword the Brief, then set Status to Queued",
                rephrases=rephrases,
                max_rephrases=providers.rai_rephrase_retries,
            )
            rephrases += 1
            brief = rephrase_for_safety(brief, blocked.reasons, rephrases)
        finally:
            ctx.metrics.provider_calls.labels(provider=providers.name, kind="storyboard").inc()


def redo_targets(review: Review) -> Redo:
    """Shots to re-plan: named at the storyboard review, or by a `narrative:` line."""
    return planned_redo(review, STAGE)


async def mark_redo(session: AsyncSession, review: Review, targets: Mapping[int, str]) -> None:
    # Planning reads these (a crash in between keeps them): it re-plans only these shots.
    task = review.task
    pending = {str(k): v for k, v in task.pending_targets.get("storyboard", {}).items()}
    task.pending_targets = {
        **task.pending_targets,
        "storyboard": {**pending, **{str(k): v for k, v in targets.items()}},
    }


def redo_cost(providers: ProviderSet, task: Task, n: int) -> float:
    # A re-planned shot needs its keyframe again, and the clips on both sides of it.
    return (
        storyboard_cost(providers)
        + keyframe_cost(providers, n)
        + clip_cost(providers, task.clip_seconds, min(task.clip_count, n + 1))
    )


async def approve(session: AsyncSession, task: Task) -> None:
    return None


async def _apply(
    session: AsyncSession,
    task: Task,
    board: Storyboard,
    clips: list[Clip],
    keyframes: dict[int, Keyframe],
    replan: dict[int, str],
) -> None:
    by_number = {c.number: c for c in clips}
    shots = list(board.shots)[: task.clip_count]
    if len(shots) < task.clip_count:
        raise ProviderPermanentError(
            f"the storyboard has {len(shots)} shots, the task asks for {task.clip_count}"
        )
    stored = dict(task.storyboard or {"title": board.title, "shots": []})
    stored_shots = {int(s["number"]): s for s in stored.get("shots", [])}
    for shot in shots:
        if replan and shot.number not in replan:
            continue
        stored_shots[shot.number] = _shot_json(shot)
        clip = by_number.get(shot.number)
        if clip is None:
            clip = Clip(
                task_id=task.id,
                number=shot.number,
                status=ClipStatus.PLANNED.value,
                narration_status=NarrationStatus.PLANNED.value,
            )
            session.add(clip)
        else:
            if clip.status != ClipStatus.PLANNED:
                await transition_clip(session, clip, ClipStatus.PLANNED)
            if clip.narration_status != NarrationStatus.PLANNED:
                await transition_narration(session, clip, NarrationStatus.PLANNED)
        clip.prompt = shot.visual_prompt
        clip.motion = shot.motion_prompt
        clip.narration = shot.narration
        clip.seconds = shot.seconds
        clip.reviewer_note = replan.get(shot.number, clip.reviewer_note or "")
        await _plan_keyframe(session, task, keyframes, shot.number, shot.visual_prompt)
        if shot.number == task.clip_count:
            await _plan_keyframe(
                session,
                task,
                keyframes,
                shot.number + 1,
                closing_keyframe_prompt(shot.visual_prompt),
            )
    stored["shots"] = [stored_shots[n] for n in sorted(stored_shots)]
    task.storyboard = stored


async def _plan_keyframe(
    session: AsyncSession, task: Task, keyframes: dict[int, Keyframe], number: int, prompt: str
) -> None:
    kf = keyframes.get(number)
    if kf is None:
        kf = Keyframe(task_id=task.id, number=number, status=KeyframeStatus.PLANNED.value)
        session.add(kf)
        keyframes[number] = kf
    if kf.prompt != prompt:
        if kf.status != KeyframeStatus.PLANNED:
            await transition_keyframe(session, kf, KeyframeStatus.PLANNED)
        kf.prompt = prompt
