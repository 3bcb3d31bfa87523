"""The settle rule: act on review notes only once they have stopped changing.

Notion saves as people type, so a poll can read `Regenerate: clips 2,` before the
reviewer has finished. A review's input is the task's Error Log plus its Videos
rows set to *Regenerate* (with their notes). The leader, the only process that
reads Notion, records on the task:

- `review_input_hash`, `review_input_at`: the input it last read, and when (our
  clock) it first read it so. Any change starts the clock again.
- `review_settled_hash`: the input that a page read made at least
  `REELGATE_REVIEW_SETTLE_SECONDS` after `review_input_at` found unchanged.
  Notion's `last_edited_time` is rounded down to the minute, so it cannot say how
  long the text has been still; only two reads of our own can.

Workers act on a review only while the input they see hashes to the settled
one (`is_settled`). The read that confirms it is either a page the regular poll
brings back anyway (a Status change after the notes were written costs nothing
extra), or one `pages.retrieve` by `confirm_due_reviews` for a task in an
*X Error* status whose input is due (plus one query of its Videos rows at the
video review). With nobody reviewing, nothing is due: the idle poll stays one
request. A row change alone never settles the input: the Error Log must be read.

A reviewer who sets *X Error* -> *Queued* ("go ahead with my notes") settles the
input they left at once: the read that carried that move carried the final text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from orchestrator.db.models import Clip, Task
from orchestrator.state.claims import WOKEN
from orchestrator.state.status import STAGES

__all__ = [
    "ERROR_STATUSES",
    "due_for_confirmation",
    "is_settled",
    "observe_review_input",
    "review_input_hash",
    "verdict_clips",
]

ERROR_STATUSES: tuple[str, ...] = tuple(s.error.value for s in STAGES)


def review_input_hash(error_log: str, clips: Iterable[Clip]) -> str:
    """What a review reads: the Error Log text and the rows set to a verdict."""
    rows = sorted(
        (c.number, c.notion_verdict or "", c.reviewer_note or "") for c in clips if c.notion_verdict
    )
    payload = json.dumps([error_log, rows], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


async def verdict_clips(session: AsyncSession, task_id: int) -> list[Clip]:
    rows = await session.execute(
        select(Clip).where(Clip.task_id == task_id, Clip.notion_verdict.is_not(None))
    )
    return list(rows.scalars().all())


def is_settled(task: Task, clips: Iterable[Clip], settle_seconds: float) -> bool:
    """May a worker act on the task's review input as it stands in the database?"""
    if settle_seconds <= 0:
        return True
    return task.review_settled_hash == review_input_hash(task.error_log, clips)


async def observe_review_input(
    session: AsyncSession,
    task: Task,
    now: datetime,
    settle_seconds: float,
    *,
    page_read: bool,
    go_ahead: bool = False,
) -> bool:
    """Record what a read of Notion found (after the task's fields were copied).

    `page_read`: the task page itself was read (its Error Log), not only rows.
    `go_ahead`: the reviewer said they are done (*X Error* -> *Queued*).
    Returns True when this read settled the input (the waiting worker is woken).
    """
    current = review_input_hash(task.error_log, await verdict_clips(session, task.id))
    if current != task.review_input_hash or task.review_input_at is None:
        task.review_input_hash = current
        task.review_input_at = now
        if not go_ahead and settle_seconds > 0:
            return False
    if task.review_settled_hash == current or not (page_read or go_ahead):
        return False
    first_seen = task.review_input_at or now
    if go_ahead or settle_seconds <= 0 or now - first_seen >= timedelta(seconds=settle_seconds):
        task.review_settled_hash = current
        task.not_before = WOKEN  # the worker waiting on these notes looks now
        return True
    return False


def due_for_confirmation(now: datetime, settle_seconds: float) -> Select[Task]:
    """Tasks in an *X Error* status whose unconfirmed input has been still long enough."""
    return (
        select(Task)
        .where(
            Task.status.in_(ERROR_STATUSES),
            or_(
                Task.review_input_hash.is_(None),
                Task.review_settled_hash.is_(None),
                Task.review_settled_hash != Task.review_input_hash,
            ),
            or_(
                Task.review_input_at.is_(None),
                Task.review_input_at <= now - timedelta(seconds=settle_seconds),
            ),
        )
        .order_by(Task.review_input_at, Task.id)
    )
