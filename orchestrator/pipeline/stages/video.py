"""Video stage (Generating Video): submit each clip exactly once, then wait for the poller.

The create call is the expensive, non-idempotent one. Its protocol:
1. commit the clip as `submitting` (attempt + 1) — before any money moves;
2. call `start_clip` once, never retried;
3. commit the operation name at once (`polling`).
A clip found `submitting` by a later worker crashed between 1 and 3: we cannot know
whether the provider billed it, so by default it is flagged `lost` for a human to
decide (DESIGN §5), and counted. A create whose outcome the provider could not tell
(`SubmitOutcomeUnknown`: a timeout, a dropped connection, a 500/504) is flagged the
same way at once. A create the provider's safety filter refused (`ContentFiltered`)
is a filtered result: $0 in the ledger, the reason in the Error Log, and a softened
resubmission within the channel's rephrase bound. Every one of these moves is a
guarded clip transition (state/clips.py): two workers can never both submit the same
attempt. The operation poller (pipeline/operations.py) takes a clip from `polling` to
its end.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from notion_sync.ops import BlockSpec
from orchestrator.db.models import Clip, Keyframe, Task
from orchestrator.errors import (
    ContentFiltered,
    ProviderPermanentError,
    ProviderTransientError,
    SubmitOutcomeUnknown,
)
from orchestrator.limits import NOTE_MAX_CHARS, VEO_PROMPT_MAX_CHARS, bound, summarise_numbers
from orchestrator.media import contact_sheet
from orchestrator.pipeline.budget import clip_cost
from orchestrator.pipeline.context import PipelineContext, ProviderSet
from orchestrator.pipeline.files import ensure_local, task_ref
from orchestrator.pipeline.gates import reach_gate
from orchestrator.pipeline.ledger import record_blocked
from orchestrator.pipeline.notion_out import (
    comment,
    file_ref,
    log_error_line,
    move,
    sync_clip_row,
    update_task_fields,
)
from orchestrator.pipeline.queries import aspect_of, load_all, load_clips, load_keyframes
from orchestrator.pipeline.stages.base import Redo, Review, planned_redo
from orchestrator.providers.base import ClipRequest, Image
from orchestrator.providers.safety import rephrase_for_safety
from orchestrator.state.clips import FINISHED, IN_FLIGHT, USABLE, ClipStatus, transition_clip
from orchestrator.state.status import Status, stage_named
from storage.keys import (
    clip_file_name,
    contact_sheet_file_name,
    contact_sheet_key,
    keyframe_file_name,
)

__all__ = [
    "GATE_HINT",
    "STAGE",
    "approve",
    "clip_prompt",
    "mark_redo",
    "needs_generation",
    "redo_cost",
    "redo_targets",
    "run",
]

log = structlog.get_logger(__name__)

STAGE = stage_named("video")
GATE_HINT = (
    "Watch the clips below or in the Videos table. Set Status to {status:video_approved}, or to "
    "{status:video_error} and write in Error Log which clips to regenerate "
    "(e.g. `Regenerate: clips 2, 3 - too dark` or `Bad motion: 5, 12`), or set a clip row "
    "to Regenerate. `narrative: shot 3`, `audio: clip 4` or `continuity: clip 4` send "
    "a clip further back (re-plan, narration only, keyframes)."
)
NEEDS_SUBMIT = (ClipStatus.PLANNED, ClipStatus.REJECTED)


def clip_prompt(clip: Clip) -> str:
    parts = [clip.prompt.rstrip(". ")]
    if clip.motion:
        parts.append(f"Camera: {clip.motion.rstrip('. ')}")
    note = clip.reviewer_note.strip()
    # A re-planned shot already carries its note (the storyboard folded it in).
    if note and note.casefold() not in clip.prompt.casefold():
        parts.append(f"Reviewer note: {bound(note, NOTE_MAX_CHARS).text}")
    prompt = ". ".join(parts) + "."
    if len(prompt) <= VEO_PROMPT_MAX_CHARS:
        return prompt
    # Too long for Veo: the shot's own prompt gives way, the camera and note stay.
    tail = ". ".join(parts[1:])
    room = max(200, VEO_PROMPT_MAX_CHARS - len(tail) - 3)
    head = bound(parts[0], room).text
    return bound(". ".join([head, *parts[1:]]) + ".", VEO_PROMPT_MAX_CHARS).text


def needs_generation(clip: Clip, keyframes: dict[int, Keyframe]) -> bool:
    if clip.status in NEEDS_SUBMIT:
        return True
    if clip.status in USABLE:
        start, end = keyframes.get(clip.number), keyframes.get(clip.number + 1)
        # A keyframe made after this clip: the clip no longer joins its neighbours.
        return (start is not None and start.attempt != clip.start_keyframe_attempt) or (
            end is not None and end.attempt != clip.end_keyframe_attempt
        )
    return False


async def run(ctx: PipelineContext, task_id: int) -> datetime | None:
    """Submit what needs generating; at the gate when every clip is finished.

    Returns when to look again (clips still rendering), or None at the gate.
    """
    now = ctx.clock()
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        assert task is not None
        channel = ctx.channels.get(task.channel)
        providers = ctx.providers_for(channel)
        clips, kfs = await load_all(session, task_id)
        await _handle_lost_submissions(ctx, session, task, clips, kfs, now)
        todo = [c.id for c in clips if needs_generation(c, kfs)]
        if todo and channel.budget_usd is not None:
            projected = task.cost_usd + clip_cost(providers, task.clip_seconds, len(todo))
            if projected > channel.budget_usd + 1e-9:
                message = (
                    f"Stopped before spending: {len(todo)} clips would bring this task to "
                    f"${projected:.2f}, over the channel budget of ${channel.budget_usd:.2f}. "
                    "Raise the budget in the channels file, then set Status to "
                    f"{Status.QUEUED.label}."
                )
                task.resume_status = Status.GENERATING_VIDEO.value
                task.error = message
                comment(session, task, message)
                await move(session, task, Status.FAILED, message)
                return None
        in_flight = (
            await session.execute(select(func.count(Clip.id)).where(Clip.status.in_(IN_FLIGHT)))
        ).scalar_one()
    capacity = max(0, ctx.settings.provider_concurrency - int(in_flight))
    for clip_id in todo[:capacity]:
        await _submit(ctx, task_id, clip_id)

    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        assert task is not None
        clips, kfs = await load_all(session, task_id)
        if any(c.status not in FINISHED or needs_generation(c, kfs) for c in clips):
            return ctx.clock() + timedelta(seconds=ctx.settings.operation_poll_seconds)
    await _arrive_at_gate(ctx, task_id)
    return None


async def _handle_lost_submissions(
    ctx: PipelineContext,
    session: AsyncSession,
    task: Task,
    clips: list[Clip],
    kfs: dict[int, Keyframe],
    now: datetime,
) -> None:
    # We hold the task's lease, so nobody is submitting for it right now: a clip
    # still "submitting" belongs to a worker that died mid-call.
    for clip in clips:
        if clip.status != ClipStatus.SUBMITTING or clip.operation_name:
            continue
        await _flag_lost(
            ctx,
            session,
            task,
            clip,
            kfs,
            "the daemon stopped while submitting this clip; the provider may have "
            "started (and billed) it",
            now,
        )


async def _flag_lost(
    ctx: PipelineContext,
    session: AsyncSession,
    task: Task,
    clip: Clip,
    kfs: dict[int, Keyframe],
    reason: str,
    now: datetime,
) -> None:
    """A create that may have been billed without its operation name: the policy decides."""
    ctx.metrics.lost_submissions.inc()
    if ctx.settings.lost_submission_policy == "resubmit":
        log.warning("resubmit_lost_clip", clip=clip.number, attempt=clip.attempt, reason=reason)
        await transition_clip(session, clip, ClipStatus.PLANNED)
        return
    await transition_clip(session, clip, ClipStatus.LOST)
    clip.error = f"{reason}, so it was not resubmitted"
    ctx.metrics.clips_finished.labels(outcome="lost").inc()
    log.warning("flag_lost_clip", clip=clip.number, attempt=clip.attempt, reason=reason)
    log_error_line(
        session,
        task,
        f"clip {clip.number} attempt {clip.attempt}: {clip.error}. "
        f"Write 'Regenerate: clip {clip.number}' at the video review to pay for it again.",
        now,
    )
    sync_clip_row(session, task, clip, kfs)


async def _frame(ctx: PipelineContext, task_id: int, kf: Keyframe) -> Image:
    path = ctx.task_dir(task_id) / keyframe_file_name(kf.number, kf.attempt, kf.mime_type)
    # Sent with the type the keyframe really is (image models may answer JPEG).
    data = (await ensure_local(path, kf.public_url)).read_bytes()
    return Image(data, mime_type=kf.mime_type)


async def _submit(ctx: PipelineContext, task_id: int, clip_id: int) -> None:
    now = ctx.clock()
    async with ctx.sessions() as session:
        clip = await session.get(Clip, clip_id)
        assert clip is not None
        _, kfs = await load_all(session, task_id)
        start, end = kfs[clip.number], kfs[clip.number + 1]
    # Frames first: a missing file must fail the step before the clip is marked
    # "submitting", or it would look like a crash mid-call (lost) with nothing sent.
    start_image, end_image = await _frame(ctx, task_id, start), await _frame(ctx, task_id, end)
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        clip = await session.get(Clip, clip_id)
        assert task is not None
        assert clip is not None
        channel = ctx.channels.get(task.channel)
        _, kfs = await load_all(session, task_id)
        start, end = kfs[clip.number], kfs[clip.number + 1]
        await transition_clip(session, clip, ClipStatus.SUBMITTING, attempt=clip.attempt + 1)
        clip.start_keyframe_attempt = start.attempt
        clip.end_keyframe_attempt = end.attempt
        clip.operation_name = None
        clip.error = None
        clip.poll_count = 0
        prompt, seconds, aspect = clip_prompt(clip), clip.seconds, aspect_of(task)
        number, attempt = clip.number, clip.attempt
        sync_clip_row(session, task, clip, kfs)
    # Committed: from here a crash leaves a visible "submitting" row, never a silent resubmit.
    providers = ctx.providers_for(channel)
    bound = log.bind(clip=number, attempt=attempt)
    # Every line below, ours or a library's, carries the clip it is about.
    with structlog.contextvars.bound_contextvars(clip=number, attempt=attempt):
        try:
            name = await providers.clips.start_clip(
                ClipRequest(
                    start_frame=start_image,
                    end_frame=end_image,
                    prompt=prompt,
                    seconds=seconds,
                    aspect=aspect,
                    negative_prompt=channel.negative_prompt,
                )
            )
        except SubmitOutcomeUnknown as exc:
            # The request may have reached the provider and been billed: flagged like a
            # lost submission (the lost-submission policy decides), never resubmitted
            # silently.
            bound.error("submit_clip_outcome_unknown", error=str(exc))
            await _submit_unknown(ctx, task_id, clip_id, exc)
            return
        except ContentFiltered as exc:
            await _submit_blocked(ctx, task_id, clip_id, exc)
            return
        except (ProviderTransientError, ProviderPermanentError) as exc:
            await _submit_refused(ctx, task_id, clip_id, exc)
            if exc.transient:
                raise
            return
        ctx.metrics.provider_calls.labels(provider=providers.name, kind="clip_create").inc()
        async with ctx.sessions() as session, session.begin():
            task = await session.get(Task, task_id)
            clip = await session.get(Clip, clip_id)
            assert task is not None
            assert clip is not None
            await transition_clip(session, clip, ClipStatus.POLLING, operation_name=name)
            clip.submitted_at = ctx.clock()
            clip.next_poll_at = clip.submitted_at + timedelta(
                seconds=ctx.settings.clip_poll_initial_seconds
            )
            clip.deadline_at = clip.submitted_at + timedelta(
                seconds=ctx.settings.clip_deadline_seconds
            )
        bound.info("submit_clip", operation=name, at=now.isoformat())


async def _submit_unknown(
    ctx: PipelineContext, task_id: int, clip_id: int, exc: SubmitOutcomeUnknown
) -> None:
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        clip = await session.get(Clip, clip_id)
        assert task is not None
        assert clip is not None
        _, kfs = await load_all(session, task_id)
        reason = f"the provider's answer to this create was lost ({exc})"
        await _flag_lost(ctx, session, task, clip, kfs, reason, ctx.clock())


async def _submit_blocked(
    ctx: PipelineContext, task_id: int, clip_id: int, blocked: ContentFiltered
) -> None:
    """The safety filter refused the create's input: filtered, $0, softened within the bound."""
    reasons = "; ".join(blocked.reasons) or "no reason given"
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        clip = await session.get(Clip, clip_id)
        assert task is not None
        assert clip is not None
        providers = ctx.providers_for(ctx.channels.get(task.channel))
        retry = clip.rai_retries < providers.rai_rephrase_retries
        await record_blocked(
            session,
            task,
            blocked,
            provider=providers.name,
            kind="clip",
            metrics=ctx.metrics,
            clip_id=clip.id,
        )
        message = (
            f"clip {clip.number} attempt {clip.attempt} was refused by the provider's "
            f"safety filter before generation ({reasons}); not billed"
        )
        if retry:
            # Nothing was created: the attempt is given back, as for a refused create.
            await transition_clip(session, clip, ClipStatus.PLANNED, attempt=clip.attempt - 1)
            clip.rai_retries += 1
            clip.prompt = rephrase_for_safety(clip.prompt, blocked.reasons, clip.rai_retries)
            message += "; retrying with a softened prompt"
        else:
            await transition_clip(session, clip, ClipStatus.RAI_FILTERED)
            clip.error = f"filtered: {reasons}"
            ctx.metrics.clips_finished.labels(outcome="rai_filtered").inc()
            message += (
                f". Reword it and write 'Regenerate: clip {clip.number}' at the video review."
            )
        log_error_line(session, task, message, ctx.clock())
        _, kfs = await load_all(session, task_id)
        sync_clip_row(session, task, clip, kfs)
    log.warning("filter_clip_input", clip_id=clip_id, reasons=reasons, retry=retry)


async def _submit_refused(
    ctx: PipelineContext,
    task_id: int,
    clip_id: int,
    exc: ProviderTransientError | ProviderPermanentError,
) -> None:
    """The provider refused the create call: nothing started, nothing billed."""
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        clip = await session.get(Clip, clip_id)
        assert task is not None
        assert clip is not None
        # No generation happened: the attempt is given back.
        outcome = ClipStatus.PLANNED if exc.transient else ClipStatus.FAILED
        await transition_clip(session, clip, outcome, attempt=clip.attempt - 1)
        clip.error = str(exc)
        _, kfs = await load_all(session, task_id)
        if not exc.transient:
            ctx.metrics.clips_finished.labels(outcome="failed").inc()
            log_error_line(
                session, task, f"clip {clip.number}: provider refused: {exc}", ctx.clock()
            )
        sync_clip_row(session, task, clip, kfs)


async def _arrive_at_gate(ctx: PipelineContext, task_id: int) -> None:
    async with ctx.sessions() as session:
        task = await session.get(Task, task_id)
        assert task is not None
        channel = ctx.channels.get(task.channel)
        clips, _ = await load_all(session, task_id)
        ref, round_no = task_ref(task), int(task.rounds.get(STAGE.name, 0)) + 1
    usable = [c for c in clips if c.status in USABLE]
    sheet_ref = None
    if usable:
        work = ctx.task_dir(task_id)
        paths = [
            (
                c.number,
                await ensure_local(work / clip_file_name(c.number, c.attempt), c.public_url),
            )
            for c in usable
        ]
        sheet = await contact_sheet(paths, work / contact_sheet_file_name(round_no))
        stored = await ctx.storage_for(channel).put(
            contact_sheet_key(channel.name, ref, round_no), sheet, "image/jpeg"
        )
        sheet_ref = file_ref(sheet.name, stored.url or None, stored.file_upload_id)
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        assert task is not None
        clips, _ = await load_all(session, task_id)
        body: list[BlockSpec] = []
        if sheet_ref is not None:
            body.append(BlockSpec(kind="image", text="Contact sheet", file=sheet_ref))
        for c in clips:
            video = (
                file_ref(clip_file_name(c.number, c.attempt), c.public_url, c.file_upload_id)
                if c.status in USABLE
                else None
            )
            if video is not None:
                body.append(
                    BlockSpec(kind="paragraph", text=f"Clip {c.number} — attempt {c.attempt}")
                )
                body.append(BlockSpec(kind="video", text=f"Clip {c.number}", file=video))
            else:
                body.append(
                    BlockSpec(
                        kind="callout",
                        text=f"Clip {c.number} has no video ({c.status}): {c.error or ''}".strip(),
                    )
                )
        missing = [c.number for c in clips if c.status not in USABLE]
        headline = f"Video ready: {len(clips) - len(missing)}/{len(clips)} clips."
        if missing:
            headline += (
                f" {summarise_numbers(missing).capitalize()} "
                f"{'has' if len(missing) == 1 else 'have'} no video (see the reelgate log "
                "on the page)."
            )
        update_task_fields(
            session, task, progress=f"{len(clips) - len(missing)}/{len(clips)} clips"
        )
        await reach_gate(
            session, task, STAGE, channel, headline=headline, body=body, hint=GATE_HINT
        )


def redo_targets(review: Review) -> Redo:
    """Clips the lines name, and the rows a reviewer set to Regenerate (their notes)."""
    redo = planned_redo(review, STAGE)
    for clip in review.clips:
        if clip.notion_verdict == "Regenerate":
            redo.targets.setdefault(clip.number, clip.reviewer_note)
    return redo


async def mark_redo(session: AsyncSession, review: Review, targets: Mapping[int, str]) -> None:
    for clip in review.clips:
        if clip.number in targets:
            await transition_clip(session, clip, ClipStatus.REJECTED)
            clip.reviewer_note = targets[clip.number]
            clip.rai_retries = 0
            # A row's Regenerate is consumed by the review that acts on it.
            clip.notion_verdict = None
            sync_clip_row(session, review.task, clip, review.keyframes)


def redo_cost(providers: ProviderSet, task: Task, n: int) -> float:
    return clip_cost(providers, task.clip_seconds, n)


async def approve(session: AsyncSession, task: Task) -> None:
    """Video Approved: the clips made are the clips kept (their rows say Approved)."""
    clips = await load_clips(session, task.id)
    for clip in clips:
        if clip.status == ClipStatus.COMPLETE:
            await transition_clip(session, clip, ClipStatus.APPROVED)
    kfs = await load_keyframes(session, task.id)
    for clip in clips:
        if clip.status == ClipStatus.APPROVED:
            sync_clip_row(session, task, clip, kfs)
