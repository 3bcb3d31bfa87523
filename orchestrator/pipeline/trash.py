"""A task page moved to Notion's trash, and back.

Notion refuses every write to a page in the trash ("Can't edit block that is
archived"), and a data-source query no longer returns it. So the daemon learns of
the trash from a refused write (daemon/drainer.py) or from a page read that says
`in_trash`, and then:

- cancels the task (a human's move: they threw the page away); what is in flight
  still finishes and is kept, like any cancel;
- *holds* the page's writes (status, progress, comments, body blocks) instead of
  dead-lettering them; Videos rows are pages of their own and are still written.

A page comes back when a read finds it out of the trash: the regular poll (a
restore changes the edit time) or the leader's look at trashed pages every
`trash_check_seconds` (`due_trash_checks`). Then the held writes are sent, in
their order, followed by the real status and one comment saying what happened and
how to resume (Cancelled -> Queued picks up where it stopped, reusing everything
already made).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notion_sync.ops import SetTaskStatus
from orchestrator.db.models import Clip, Event, OutboxItem, Task
from orchestrator.pipeline.notion_out import comment, enqueue
from orchestrator.pipeline.stages import stage_for
from orchestrator.state.status import Status

__all__ = [
    "due_trash_checks",
    "hold_page_writes",
    "reconcile_restored_page",
    "release_strays",
    "showed_at_restore",
]

log = structlog.get_logger(__name__)

# How long after a restore a read may still show the status the page had in the trash.
RESTORE_READ_WINDOW = timedelta(minutes=2)

# How long the leader keeps looking at a trashed page. A bound of ours, not Notion's
# retention (which varies by plan and workspace settings; not verified here). A restore
# after it is still seen by the regular poll when it changes the page's edit time.
# Restoring is `in_trash: false` on the page (developers.notion.com/reference/
# archive-a-page, checked 2026-12-01).
TRASH_KEEPS = timedelta(days=30)


async def hold_page_writes(session: AsyncSession, task: Task, now: datetime) -> int:
    """Mark the task page trashed and hold its unsent writes; returns how many."""
    if task.page_trashed_at is None:
        task.page_trashed_at = now
        session.add(
            Event(
                task_id=task.id,
                kind="trash",
                actor="human",
                from_status=task.status,
                to_status=task.status,
                note="page moved to trash: its Notion writes are held",
            )
        )
        log.info("hold_trashed_page_writes", task=task.id, page=task.notion_page_id)
    result = await session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.task_id == task.id,
            OutboxItem.sent_at.is_(None),
            OutboxItem.dead.is_(False),
            OutboxItem.held.is_(False),
            OutboxItem.kind != "upsert_video_row",
        )
        .values(held=True)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def due_trash_checks(now: datetime) -> Select[Any]:
    """Task pages in the trash that may still come back (looked at for 30 days)."""
    return (
        select(Task.notion_page_id)
        .where(Task.page_trashed_at.is_not(None), Task.page_trashed_at > now - TRASH_KEEPS)
        .order_by(Task.page_trashed_at)
    )


async def reconcile_restored_page(
    session: AsyncSession, task: Task, now: datetime, shown: Status | None = None
) -> None:
    """The page is out of the trash: send what was held, then the truth, with a comment.

    `shown` is the Status the restored page still displays (our writes were held):
    the restore event records it, so a read made before the real status lands is not
    taken for a person's move (`showed_at_restore`)."""
    trashed_at = task.page_trashed_at
    assert trashed_at is not None
    task.page_trashed_at = None
    released = await session.execute(
        update(OutboxItem)
        .where(OutboxItem.task_id == task.id, OutboxItem.held.is_(True))
        .values(held=False, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    held = int(released.rowcount)  # type: ignore[attr-defined]
    current = Status(task.status)
    made = int(
        (
            await session.execute(
                select(func.count(Clip.id)).where(
                    Clip.task_id == task.id, Clip.storage_key.is_not(None)
                )
            )
        ).scalar_one()
    )
    cancelled_by_trash = (
        await session.execute(
            select(Event.id).where(
                Event.task_id == task.id,
                Event.to_status == Status.CANCELLED.value,
                Event.note == "page moved to trash",
                Event.at >= trashed_at - timedelta(minutes=1),
            )
        )
    ).first() is not None
    lines = [
        f"This page was restored from the trash (it was there from "
        f"{trashed_at:%Y-%m-%d %H:%M} UTC)."
    ]
    if current is Status.CANCELLED and cancelled_by_trash:
        where = stage_for(Status(task.resume_status)).STAGE.working if task.resume_status else None
        lines.append(
            "Moving it to the trash cancelled the task"
            + (f" at {where.label}" if where else "")
            + "; work already in flight was finished and kept."
        )
    kept = f"{made} clip{'s' if made != 1 else ''}" if made else "nothing paid for"
    released_text = (
        f"; the {held} page update{'s' if held != 1 else ''} held meanwhile are written now."
        if held
        else "."
    )
    lines.append(f"Kept: {kept} (see the Videos table){released_text}")
    lines.append(f"Status now shows the real state: {current.label}.")
    if current is Status.CANCELLED:
        if task.resume_status:
            resume = stage_for(Status(task.resume_status)).STAGE.working
            lines.append(
                f"To carry on, set Status to {Status.QUEUED.label}: it resumes at "
                f"{resume.label}, reusing everything already made."
            )
        else:
            lines.append(f"To start it again, set Status to {Status.QUEUED.label}.")
    # After the held writes (outbox order): the page ends showing the real status.
    enqueue(session, task, SetTaskStatus(page_id=task.notion_page_id, status_label=current.label))
    comment(session, task, "\n".join(lines))
    session.add(
        Event(
            task_id=task.id,
            at=now,
            kind="restore",
            actor="human",
            from_status=(shown or current).value,
            to_status=current.value,
            note=f"page restored from trash; {held} held writes released",
        )
    )
    log.info("reconcile_restored_page", task=task.id, page=task.notion_page_id, held=held)


async def release_strays(session: AsyncSession) -> int:
    """Release writes held for a page no longer in the trash.

    A worker that loaded its task before the restore may queue a write marked held
    just after the held ones were released; this sends it too (one query per poll).
    """
    result = await session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.sent_at.is_(None),  # ix_outbox_pending: unsent rows only
            OutboxItem.held.is_(True),
            OutboxItem.task_id.in_(select(Task.id).where(Task.page_trashed_at.is_(None))),
        )
        .values(held=False)
        .execution_options(synchronize_session=False)
    )
    released = int(result.rowcount)  # type: ignore[attr-defined]
    if released:
        log.info("release_stray_held_writes", released=released)
    return released


async def showed_at_restore(
    session: AsyncSession, task: Task, shown: Status, now: datetime
) -> bool:
    """Did the page show `shown` when it came back from the trash, moments ago?

    Then a read showing it is older than our write of the real status, not a move."""
    row = (
        await session.execute(
            select(Event.from_status)
            .where(
                Event.task_id == task.id,
                Event.kind == "restore",
                Event.at >= now - RESTORE_READ_WINDOW,
            )
            .order_by(Event.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return row == shown.value and shown.value != task.status
