"""Notion -> database: what people changed in Notion becomes transitions.

A Status change is one that differs from the label we last *saw* in Notion (not
from the database status: our own writes may still be queued in the outbox). An
allowed human move is applied as a guarded transition; any other is never
applied: Status is set back and the page gets a comment listing the allowed moves.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notion_sync.mapping import TaskPage, VideoRow
from notion_sync.ops import SetTaskStatus
from orchestrator.db.models import Clip, Event, Task
from orchestrator.pipeline.context import PipelineContext
from orchestrator.pipeline.notion_out import (
    comment,
    enqueue,
    supersede_status_writes,
    update_task_fields,
)
from orchestrator.state.machine import explain_refusal, transition
from orchestrator.state.status import Status, allowed_moves, is_allowed

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
        task.clip_count = int(page.clip_count or defaults.clip_count)
        task.clip_seconds = int(page.clip_seconds or defaults.clip_seconds)
        task.aspect_ratio = page.aspect_ratio or defaults.aspect_ratio


def _editor(page: TaskPage) -> str:
    return f"by {page.last_edited_by}" if page.last_edited_by else "in Notion"


async def apply_task_pages(ctx: PipelineContext, pages: Sequence[TaskPage]) -> None:
    for page in pages:
        async with ctx.sessions() as session, session.begin():
            await _apply_page(ctx, session, page)


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
    bound = log.bind(page=page.page_id, status=label)

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
                f"'{label or '(empty)'}'. It is set to Draft; set Status to Queued to start it.",
            )
        bound.info("adopt_task", task=task.id, as_status=initial.label)
        task.last_seen_fingerprint = page.fingerprint
        task.last_seen_edit_at = page.last_edited_time
        return

    _copy_fields(ctx, task, page)
    task.last_seen_fingerprint = page.fingerprint
    task.last_seen_edit_at = page.last_edited_time
    if page.in_trash and not Status(task.status).terminal:
        await transition(session, task, Status.CANCELLED, "human", "page moved to trash")
        bound.info("cancel_trashed_task", task=task.id)
        return
    if label == task.last_seen_status:
        return  # no Status change (an edit elsewhere on the page, or our own write)
    task.last_seen_status = label
    current = Status(task.status)
    if status is current:
        return
    if status is not None and is_allowed(current, status, "human"):
        await transition(session, task, status, "human", f"set {_editor(page)}")
        await supersede_status_writes(session, task, now)
        if status.value.endswith(("_approved", "_error")) or status is Status.DONE:
            task.review_completed_at = now
            update_task_fields(session, task, review_completed=now.isoformat())
        if status is Status.QUEUED:
            task.not_before = None
            if not task.resume_status:
                # Failed before it started (e.g. a bad Clip Seconds): read the fixed values.
                _copy_fields(ctx, task, page)
        bound.debug("apply_human_move", task=task.id, from_status=current.label)
        return
    # Not allowed: never applied. Put Status back and say why, where they will see it.
    reason = (
        explain_refusal(current, status, "human")
        if status is not None
        else f"'{label}' is not a reelgate status. From {current.label} you can choose: "
        + ", ".join(m.label for m in allowed_moves(current, "human"))
        + "."
    )
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
    bound.warning("revert_human_move", task=task.id, current=current.label)


async def apply_video_rows(ctx: PipelineContext, rows: Sequence[VideoRow]) -> None:
    """Clip rows a reviewer set to Regenerate (with a note) count at the video review."""
    async with ctx.sessions() as session, session.begin():
        for row in rows:
            if ctx.bot_user_id and row.last_edited_by == ctx.bot_user_id:
                continue  # our own write
            clip = (
                await session.execute(select(Clip).where(Clip.notion_row_id == row.row_id))
            ).scalar_one_or_none()
            if clip is None:
                continue
            if row.status == "Regenerate":
                clip.notion_verdict = "Regenerate"
                clip.reviewer_note = row.reviewer_note
            elif clip.notion_verdict and row.status != "Regenerate":
                clip.notion_verdict = None
