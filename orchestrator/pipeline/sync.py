"""Notion -> database: what people changed in Notion becomes transitions.

A Status change is one that differs from the label we last *saw* in Notion (not
from the database status: our own writes may still be queued in the outbox). An
allowed human move is applied as a guarded transition; any other is never
applied: Status is set back and the page gets a comment listing the allowed moves.

While a task is a Draft, its Estimated Cost follows the page: filled when it has a
Brief and a known Channel, and written again whenever the Brief, Channel, Clips or Clip
Seconds change. Pricing is a lookup; no provider is called.

Every read also feeds the settle rule (pipeline/settle.py): review notes count
only once they have stopped changing. A verdict at a review gate closes the
gate's visit (pipeline/history.py): who, when, after how long.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import structlog
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from notion_sync.mapping import TaskPage, VideoRow
from notion_sync.ops import SetTaskStatus
from orchestrator.db.models import Clip, Event, OutboxItem, Task
from orchestrator.pipeline.context import PipelineContext
from orchestrator.pipeline.drift import record_drift
from orchestrator.pipeline.estimate import estimate_breakdown
from orchestrator.pipeline.history import close_visit, open_visit, pending_visit, write_history
from orchestrator.pipeline.notion_out import (
    comment,
    enqueue,
    supersede_status_writes,
    update_task_fields,
)
from orchestrator.pipeline.references import follows_page
from orchestrator.pipeline.settle import observe_review_input
from orchestrator.pipeline.stages import stage_for
from orchestrator.pipeline.steps import page_problems
from orchestrator.pipeline.trash import (
    hold_page_writes,
    reconcile_restored_page,
    showed_at_restore,
)
from orchestrator.state.claims import WOKEN
from orchestrator.state.machine import explain_refusal, transition
from orchestrator.state.status import STAGES, Status, allowed_moves, is_allowed
from reelgate.errors import ReelgateError

__all__ = ["apply_task_pages", "apply_video_rows"]

log = structlog.get_logger(__name__)

# While a task has not started, the creator may still edit what it will make.
EDITABLE = (Status.DRAFT, Status.QUEUED)


def _copy_fields(ctx: PipelineContext, task: Task, page: TaskPage) -> None:
    task.title = page.title
    task.notion_url = page.url
    task.owner_ids = list(page.owner_ids)
    task.error_log = page.error_log
    if Status(task.status) in EDITABLE:
        # Empty columns take the channel's defaults; the page wins where it is set.
        defaults = ctx.channels.get(page.channel).defaults
        task.brief = page.brief
        task.channel = page.channel or "default"
        # Only an empty cell takes the default: a typed 0 is refused (page_problems),
        # never silently turned into the channel's clip count.
        task.clip_count = int(defaults.clip_count if page.clip_count is None else page.clip_count)
        task.clip_seconds = int(
            defaults.clip_seconds if page.clip_seconds is None else page.clip_seconds
        )
        task.aspect_ratio = page.aspect_ratio or defaults.aspect_ratio


def _estimate_inputs(task: Task) -> tuple[str, str, int, int]:
    return (task.brief, task.channel, task.clip_count, task.clip_seconds)


def _refresh_estimate(
    ctx: PipelineContext,
    session: AsyncSession,
    task: Task,
    page: TaskPage,
    before: tuple[str, str, int, int] | None,
) -> None:
    """Keep a Draft's Estimated Cost current (`before`: None when the page is new).

    A Queued task is priced by the step that starts it, moments later (steps._start).
    """
    if Status(task.status) is not Status.DRAFT:
        return
    changed = before is None or before != _estimate_inputs(task)
    ready = bool(task.brief.strip()) and bool(page.channel) and page.channel in ctx.channels
    if not ready or page_problems(task):
        # Nothing to price yet (no Brief, an unknown Channel, a bad clip count): an
        # estimate for other values would mislead, so a stale one is cleared.
        if changed and before is not None:
            update_task_fields(session, task, estimated_cost=None)
        return
    try:
        providers = ctx.providers_for(ctx.channels.get(task.channel))
    except ReelgateError as exc:  # e.g. a google channel without credentials
        log.warning("skip_estimate", task=task.id, error=str(exc))
        return
    estimate = estimate_breakdown(providers, task.clip_count, task.clip_seconds)
    if not changed and estimate.total_usd == task.estimated_cost_usd:
        return
    task.estimated_cost_usd = estimate.total_usd
    update_task_fields(session, task, estimated_cost=estimate.total_usd)
    log.info("estimate_task", task=task.id, page=page.page_id, estimate=estimate.summary())


def _editor(page: TaskPage) -> str:
    return f"by {page.last_edited_by}" if page.last_edited_by else "in Notion"


async def apply_task_pages(ctx: PipelineContext, pages: Sequence[TaskPage]) -> None:
    for page in pages:
        async with ctx.sessions() as session, session.begin():
            await _apply_page(ctx, session, page)
            await _follow_references(session, page)
    if pages:
        ctx.work_ready.set()


async def _follow_references(session: AsyncSession, page: TaskPage) -> None:
    """Copy the page's References (and this read's fresh URLs) while they still count.

    After any move the page made: Draft -> Queued copies them as the task starts, and
    a move to Storyboard Error copies what a re-plan is to use (pipeline/references).
    """
    task = (
        await session.execute(select(Task).where(Task.notion_page_id == page.page_id))
    ).scalar_one_or_none()
    if task is None or not follows_page(task):
        return
    task.reference_sources = [ref.to_json() for ref in page.references]
    if Status(task.status) is Status.STORYBOARD_ERROR:
        # A re-plan waiting on bad references looks again now the page changed.
        task.not_before = WOKEN


_READY = {s.ready: s for s in STAGES}
_ERROR = {s.error: s for s in STAGES}


async def _record_verdict(
    ctx: PipelineContext,
    session: AsyncSession,
    task: Task,
    page: TaskPage,
    current: Status,
    status: Status,
) -> None:
    """A person moved the task at or after a gate: the review history records it."""
    now = ctx.clock()
    editor = page.last_edited_by if page.last_edited_by != ctx.bot_user_id else None
    if current in _READY:
        visit = await close_visit(session, task, status.value, editor, now, ctx.metrics)
        if visit is not None and status not in _ERROR:
            # An approval (or a cancel) says all there is to say; an error verdict's
            # line waits until its notes are read.
            write_history(session, task, visit, "")
        return
    if current in _ERROR and status in (_ERROR[current].ready, Status.CANCELLED):
        visit = await pending_visit(session, task.id)
        if visit is not None:
            withdrawn = status is not Status.CANCELLED
            write_history(
                session,
                task,
                visit,
                "withdrawn, nothing regenerated" if withdrawn else "cancelled",
            )
        if status is not Status.CANCELLED:
            stage = _ERROR[current]
            await open_visit(session, task, stage.name, int(task.rounds.get(stage.name, 1)), now)


async def _stale_own_write(
    ctx: PipelineContext, session: AsyncSession, task: Task, page: TaskPage, label: str
) -> bool:
    """Is `label` a Status we wrote before our latest one, read back late?

    Only when our integration was the page's last editor: a person's move makes
    them the last editor, and is never mistaken for ours.
    """
    if not ctx.bot_user_id or page.last_edited_by != ctx.bot_user_id:
        return False
    rows = await session.execute(
        select(OutboxItem.op)
        .where(
            OutboxItem.task_id == task.id,
            OutboxItem.kind == "set_task_status",
            OutboxItem.dead.is_(False),
            # Sent lately, or not recorded as sent yet: the drainer runs beside the
            # poll, and a write that has landed in Notion is read back before the
            # drainer has marked it sent.
            or_(
                OutboxItem.sent_at.is_(None),
                OutboxItem.sent_at >= ctx.clock() - timedelta(minutes=10),
            ),
        )
        .order_by(OutboxItem.id.desc())
        .limit(20)
    )
    labels = [str(op.get("status_label", "")) for op in rows.scalars().all()]
    # Any Status we wrote, the latest included: with several tasks in flight the
    # worker can move a task on (Planning -> Storyboard Ready) before the drainer
    # has sent the newer label, so our latest sent write is read back while the
    # task is already past it.
    return label in labels and label != Status(task.status).label


async def _apply_page(ctx: PipelineContext, session: AsyncSession, page: TaskPage) -> None:
    task = (
        await session.execute(select(Task).where(Task.notion_page_id == page.page_id))
    ).scalar_one_or_none()
    label = page.status_label or ""
    try:
        status: Status | None = Status.from_label(label)
    except KeyError:
        status = None
    now = ctx.clock()
    settle = ctx.settings.review_settle_seconds
    bound = log.bind(page=page.page_id, status=label)
    if page.missing:
        # A property was renamed or deleted: what the page shows for it is unknown,
        # so nothing on it is acted on (an absent Status is not a move, an absent
        # Error Log is not "no notes"). The owner hears once; /readyz names it.
        await record_drift(
            session,
            "tasks",
            page.missing,
            seen=f"reading the task page “{page.title}”",
            now=now,
            settings=ctx.notion_settings,
            task=task,
            metrics=ctx.metrics,
        )
        if task is not None:
            # A review's confirming read waits another settle time, not every tick.
            task.review_input_at = now
        bound.warning("skip_page_schema_drift", missing=list(page.missing))
        return

    if task is None:
        initial = status if status in EDITABLE else Status.DRAFT
        assert initial is not None
        task = Task(notion_page_id=page.page_id, status=initial.value, status_changed_at=now)
        _copy_fields(ctx, task, page)
        task.last_seen_status = label
        session.add(task)
        await session.flush()
        session.add(
            Event(
                task_id=task.id,
                actor="human",
                to_status=initial.value,
                note=f"found {_editor(page)}",
            )
        )
        if status is not initial:
            # A page reelgate never saw, in the middle of the pipeline (e.g. after a
            # database restore): start it from Draft rather than guess its history.
            enqueue(session, task, SetTaskStatus(page_id=page.page_id, status_label=initial.label))
            comment(
                session,
                task,
                f"reelgate has no record of this task, so it cannot continue from "
                f"'{label or '(empty)'}'. It is set to {Status.DRAFT.label}; set Status to "
                f"{Status.QUEUED.label} to start it.",
            )
        bound.info("adopt_task", task=task.id, as_status=initial.label)
        task.last_seen_fingerprint = page.fingerprint
        task.last_seen_edit_at = page.last_edited_time
        await observe_review_input(session, task, now, settle, page_read=True)
        if initial is Status.DRAFT:
            # Time in status starts now; a Queued page gets it from its first move.
            update_task_fields(session, task, status_changed=now.isoformat())
            _refresh_estimate(ctx, session, task, page, None)
        return

    before = _estimate_inputs(task)
    _copy_fields(ctx, task, page)
    task.last_seen_fingerprint = page.fingerprint
    task.last_seen_edit_at = page.last_edited_time
    current = Status(task.status)
    # A reviewer who leaves X Error for Queued says "go ahead with my notes": the
    # read that carried that move carried their final text.
    go_ahead = (
        current in _ERROR
        and status is Status.QUEUED
        and label != task.last_seen_status
        and is_allowed(current, Status.QUEUED, "human")
    )
    await observe_review_input(session, task, now, settle, page_read=True, go_ahead=go_ahead)
    if page.in_trash:
        # Its writes wait for a restore (pipeline/trash.py); nothing else is read.
        await hold_page_writes(session, task, now)
        if not Status(task.status).terminal:
            await transition(session, task, Status.CANCELLED, "human", "page moved to trash")
            bound.info("cancel_trashed_task", task=task.id)
        return
    if task.page_trashed_at is not None:
        # Back from the trash: held writes go out, then the real status and a comment.
        # A Status the restorer set meanwhile is read below like any other move.
        await reconcile_restored_page(session, task, now, status)
    elif status is not None and await showed_at_restore(session, task, status, now):
        # A read made before the real status we wrote after the restore landed.
        task.last_seen_status = label
        enqueue(session, task, SetTaskStatus(page_id=page.page_id, status_label=current.label))
        bound.info("skip_stale_restored_read", task=task.id, shown=label)
        return
    if label == task.last_seen_status:
        # No Status change: an edit elsewhere on the page (or our own write).
        _refresh_estimate(ctx, session, task, page, before)
        return
    if await _stale_own_write(ctx, session, task, page, label):
        # A read made before our later Status writes landed (the drainer runs while
        # we poll): the label is one of ours, superseded. Not a human move: no
        # revert, no comment; the current status is written again in case the page
        # still shows the old one.
        task.last_seen_status = label
        enqueue(session, task, SetTaskStatus(page_id=page.page_id, status_label=current.label))
        bound.info("skip_stale_status_read", task=task.id, shown=label)
        return
    task.last_seen_status = label
    if status is current:
        _refresh_estimate(ctx, session, task, page, before)
        return
    conflict = (
        await _conflicting_verdict(session, task, current, status)
        if status is not None and is_allowed(current, status, "human")
        else None
    )
    if conflict is not None:
        _refuse(session, task, page, current, status, label, conflict)
        bound.warning("refuse_conflicting_verdict", task=task.id, current=current.label)
        return
    if status is not None and is_allowed(current, status, "human"):
        await transition(session, task, status, "human", f"set {_editor(page)}")
        await supersede_status_writes(session, task, now)
        await _record_verdict(ctx, session, task, page, current, status)
        if go_ahead:
            task.resume_status = current.value
        # Status Changed on the board: the daemon writes it for people's moves too.
        fields: dict[str, object] = {"status_changed": task.status_changed_at.isoformat()}
        if status.value.endswith(("_approved", "_error")) or status is Status.DONE:
            task.review_completed_at = now
            fields["review_completed"] = now.isoformat()
        update_task_fields(session, task, **fields)
        if status is Status.QUEUED:
            task.not_before = WOKEN
            if not task.resume_status:
                # Failed before it started (e.g. a bad Clip Seconds): read the fixed values.
                _copy_fields(ctx, task, page)
        bound.debug("apply_human_move", task=task.id, from_status=current.label)
        return
    # Not allowed: never applied. Put Status back and say why, where they will see it.
    if status is not None:
        reason = explain_refusal(current, status, "human")
    else:
        shown = f"'{label}' is not a reelgate status" if label else "Status was emptied"
        reason = (
            f"{shown}. From {current.label} you can choose: "
            + ", ".join(m.label for m in allowed_moves(current, "human"))
            + "."
        )
    if current is Status.CANCELLED and task.resume_status:
        resume = stage_for(Status(task.resume_status)).STAGE.working
        reason += (
            f" {Status.QUEUED.label} resumes it at {resume.label}, reusing everything already made."
        )
    _refuse(session, task, page, current, status, label, reason)
    bound.warning("revert_human_move", task=task.id, current=current.label)


def _refuse(
    session: AsyncSession,
    task: Task,
    page: TaskPage,
    current: Status,
    status: Status | None,
    label: str,
    reason: str,
) -> None:
    """Put Status back to `current` and say why on the page; the refusal is an event."""
    enqueue(session, task, SetTaskStatus(page_id=page.page_id, status_label=current.label))
    comment(session, task, f"Status was set back to {current.label}. {reason}")
    session.add(
        Event(
            task_id=task.id,
            kind="revert",
            actor="daemon",
            from_status=current.value,
            to_status=status.value if status else None,
            note=f"refused '{label}' {_editor(page)}",
        )
    )


async def _conflicting_verdict(
    session: AsyncSession, task: Task, current: Status, status: Status
) -> str | None:
    """Why a verdict contradicts a review already given, or None.

    Video Approved while Videos rows ask for Regenerate: approving would overwrite the
    rows' request without a word, so the move is refused and the way out is named.
    """
    if (current, status) != (Status.VIDEO_READY, Status.VIDEO_APPROVED):
        return None
    rows = (
        (
            await session.execute(
                select(Clip)
                .where(Clip.task_id == task.id, Clip.notion_verdict == "Regenerate")
                .order_by(Clip.number)
            )
        )
        .scalars()
        .all()
    )
    if not rows:
        return None
    numbers = ", ".join(str(c.number) for c in rows)
    notes = "".join(
        f"\n- clip {c.number}: {c.reviewer_note}" for c in rows if c.reviewer_note.strip()
    )
    plural = "s" if len(rows) > 1 else ""
    return (
        f"{Status.VIDEO_APPROVED.label} conflicts with the Videos table: the row{plural} "
        f"of clip{plural} {numbers} {'are' if plural else 'is'} set to Regenerate"
        f"{' (notes below)' if notes else ''}. Nothing was approved or overwritten. "
        f"To regenerate {'them' if plural else 'it'}, set Status to "
        f"{Status.VIDEO_ERROR.label}. To keep the clips as they are, set those rows' "
        f"Status to Ready, then set {Status.VIDEO_APPROVED.label} again.{notes}"
    )


async def apply_video_rows(ctx: PipelineContext, rows: Sequence[VideoRow]) -> None:
    """Clip rows a reviewer set to Regenerate (with a note) count at the video review.

    A changed verdict or note is new review input: the task's settle clock starts
    again (pipeline/settle.py). A read of rows alone never settles the input.
    """
    now = ctx.clock()
    async with ctx.sessions() as session, session.begin():
        touched: dict[int, Task] = {}
        for row in rows:
            if ctx.bot_user_id and row.last_edited_by == ctx.bot_user_id:
                continue  # our own write
            clip = (
                await session.execute(select(Clip).where(Clip.notion_row_id == row.row_id))
            ).scalar_one_or_none()
            if clip is None:
                continue
            before = (clip.notion_verdict, clip.reviewer_note)
            if row.status == "Regenerate":
                clip.notion_verdict = "Regenerate"
                clip.reviewer_note = row.reviewer_note
            elif clip.notion_verdict and row.status != "Regenerate":
                clip.notion_verdict = None
            if (clip.notion_verdict, clip.reviewer_note) != before:
                task = await session.get(Task, clip.task_id)
                if task is not None:
                    touched[task.id] = task
        await session.flush()
        for task in touched.values():
            await observe_review_input(
                session, task, now, ctx.settings.review_settle_seconds, page_read=False
            )
