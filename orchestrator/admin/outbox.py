"""Notion writes an admin looks at: what waits, what failed for good, and what to do.

A dead letter is an outbox row the drainer gave up on (`dead`, never sent): a
permanent Notion error, or too many transient ones. Replaying it puts it back in
the queue (the leader's drainer sends it, at Notion's pace, within seconds);
dropping it settles it unsent. Both write an audit event.

Replaying must never move Notion backwards. A dead property write whose fields
were written again later keeps only the fields nobody wrote since; a dead Status
write is replayed with the task's *current* status.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from notion_sync.ops import (
    AppendBlocks,
    AppendErrorLog,
    Comment,
    NotionOp,
    SetTaskStatus,
    UpdateTask,
    UpsertVideoRow,
    merge_key,
    op_adapter,
)
from orchestrator.db.models import Event, OutboxItem, Task
from orchestrator.errors import AdminError
from orchestrator.state.status import Status

__all__ = [
    "OutboxRow",
    "ReplayOutcome",
    "dead_letters",
    "drop_dead_letter",
    "outbox_health",
    "pending_writes",
    "replay_all",
    "replay_dead_letter",
    "summarize_op",
]


@dataclass(frozen=True)
class OutboxRow:
    """One outbox row as admins see it."""

    id: int
    task_id: int | None
    page_id: str
    task_title: str
    kind: str
    summary: str
    created_at: str
    attempts: int
    next_attempt_at: str | None
    error: str | None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ReplayOutcome:
    id: int
    outcome: Literal["queued", "superseded"]
    message: str


def _short(text: str, limit: int = 70) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summarize_op(op: NotionOp) -> str:
    """One line saying what the write does, e.g. `Status -> Video Ready`."""
    if isinstance(op, SetTaskStatus):
        return f"Status -> {op.status_label}"
    if isinstance(op, UpdateTask):
        return _short("set " + ", ".join(f"{k}={v!r}" for k, v in op.fields.items()))
    if isinstance(op, UpsertVideoRow):
        return _short(f"clip {op.clip_number} row: " + ", ".join(sorted(op.fields)))
    if isinstance(op, AppendErrorLog):
        return _short("Error Log += " + " / ".join(op.lines))
    if isinstance(op, AppendBlocks):
        return f"{len(op.blocks)} page block(s)"
    assert isinstance(op, Comment)
    return _short(f"comment: {op.text}")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _row(item: OutboxItem, title: str) -> OutboxRow:
    return OutboxRow(
        id=item.id,
        task_id=item.task_id,
        page_id=item.page_id,
        task_title=title,
        kind=item.kind,
        summary=summarize_op(op_adapter.validate_python(item.op)),
        created_at=item.created_at.isoformat(),
        attempts=item.attempts,
        next_attempt_at=_iso(item.next_attempt_at),
        error=item.last_error,
    )


def _dead() -> list[Any]:
    return [OutboxItem.dead.is_(True), OutboxItem.sent_at.is_(None)]


def _pending() -> list[Any]:
    return [OutboxItem.dead.is_(False), OutboxItem.sent_at.is_(None)]


async def _rows(session: AsyncSession, where: list[Any]) -> list[OutboxRow]:
    result = await session.execute(
        select(OutboxItem, func.coalesce(Task.title, ""))
        .outerjoin(Task, Task.id == OutboxItem.task_id)
        .where(*where)
        .order_by(OutboxItem.id)
    )
    return [_row(item, title) for item, title in result.all()]


async def dead_letters(session: AsyncSession, task_id: int | None = None) -> list[OutboxRow]:
    where = _dead() + ([OutboxItem.task_id == task_id] if task_id is not None else [])
    return await _rows(session, where)


async def pending_writes(session: AsyncSession, task_id: int) -> list[OutboxRow]:
    return await _rows(session, [*_pending(), OutboxItem.task_id == task_id])


async def outbox_health(session: AsyncSession, now: datetime) -> tuple[int, float]:
    """(dead letters not dropped, age in seconds of the oldest unsent write)."""
    dead = (await session.execute(select(func.count(OutboxItem.id)).where(*_dead()))).scalar_one()
    oldest = (
        await session.execute(
            select(OutboxItem.created_at)
            # Writes held for a page in the trash wait for a person, not for Notion.
            .where(*_pending(), OutboxItem.held.is_(False))
            .order_by(OutboxItem.created_at)
            .limit(1)
        )
    ).scalar_one_or_none()
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return int(dead), age


async def _dead_letter(session: AsyncSession, item_id: int) -> OutboxItem:
    item = await session.get(OutboxItem, item_id)
    if item is None or not item.dead or item.sent_at is not None:
        current = [row.id for row in await dead_letters(session)]
        state = (
            "no such outbox row"
            if item is None
            else "already settled"
            if item.sent_at is not None
            else "not dead-lettered (it is still queued)"
        )
        listed = ", ".join(f"#{i}" for i in current) if current else "none"
        raise AdminError(f"#{item_id} is {state}. Dead letters now: {listed}.")
    return item


def _audit(
    session: AsyncSession, item: OutboxItem, kind: str, summary: str, note: str, now: datetime
) -> None:
    session.add(
        Event(
            task_id=item.task_id,
            at=now,
            kind=kind,
            actor="human",
            note=f"outbox #{item.id} {item.kind} ({summary}): {note}"[:2000],
        )
    )


async def _fresh_part(session: AsyncSession, item: OutboxItem, op: NotionOp) -> NotionOp | None:
    """What of a dead write is still worth sending; None: all of it was superseded."""
    if isinstance(op, SetTaskStatus):
        queued_since = (
            await session.execute(
                select(OutboxItem.id).where(
                    OutboxItem.page_id == item.page_id,
                    OutboxItem.kind == item.kind,
                    OutboxItem.id > item.id,
                    *_pending(),
                )
            )
        ).first()
        if queued_since is not None:
            return None  # a newer Status write is on its way
        task = await session.get(Task, item.task_id) if item.task_id is not None else None
        if task is None:
            return op
        return op.model_copy(update={"status_label": Status(task.status).label})
    key = merge_key(op)
    if key is None or not isinstance(op, UpdateTask | UpsertVideoRow):
        return op  # comments, blocks, log lines: each is seen once, in full
    later = (
        (
            await session.execute(
                select(OutboxItem).where(
                    OutboxItem.page_id == item.page_id,
                    OutboxItem.kind == item.kind,
                    OutboxItem.id > item.id,
                    OutboxItem.dead.is_(False),  # sent or still queued
                )
            )
        )
        .scalars()
        .all()
    )
    rewritten: set[str] = set()
    for row in later:
        newer = op_adapter.validate_python(row.op)
        if merge_key(newer) == key and isinstance(newer, UpdateTask | UpsertVideoRow):
            rewritten.update(newer.fields)
    fields = {k: v for k, v in op.fields.items() if k not in rewritten}
    if not fields:
        return None
    return op.model_copy(update={"fields": fields})


async def replay_dead_letter(
    session: AsyncSession, item_id: int, *, by: str, now: datetime
) -> ReplayOutcome:
    """Queue a dead letter again (what is still current of it); the caller commits."""
    item = await _dead_letter(session, item_id)
    op = op_adapter.validate_python(item.op)
    summary = summarize_op(op)
    was = item.last_error or "no error recorded"
    fresh = await _fresh_part(session, item, op)
    if fresh is None:
        item.sent_at = now
        item.last_error = f"superseded: written again later (was: {was})"[:2000]
        _audit(session, item, "dead_letter_superseded", summary, f"by {by}", now)
        return ReplayOutcome(
            item.id,
            "superseded",
            f"#{item.id} {summary}: not replayed, a later write already sets what it "
            "sets; settled.",
        )
    item.op = fresh.model_dump(mode="json")
    item.dead = False
    item.attempts = 0
    item.next_attempt_at = None
    item.last_error = f"replay requested by {by} (was: {was})"[:2000]
    note = f"replay requested by {by}; was: {was}"
    _audit(session, item, "dead_letter_replay", summarize_op(fresh), note, now)
    changed = "" if fresh == op else f" (now: {summarize_op(fresh)})"
    return ReplayOutcome(
        item.id,
        "queued",
        f"#{item.id} {summary}{changed}: queued again; the daemon's leader sends it "
        "within seconds.",
    )


async def replay_all(session: AsyncSession, *, by: str, now: datetime) -> list[ReplayOutcome]:
    """Replay every dead letter, oldest first (newer ones count as later writes)."""
    ids = [row.id for row in await dead_letters(session)]
    if not ids:
        raise AdminError("there are no dead letters to replay")
    outcomes = []
    # Newest first, so an older write sees the newer ones already queued again and
    # keeps only what they do not rewrite; the drainer still sends them in id order.
    for item_id in reversed(ids):
        outcomes.append(await replay_dead_letter(session, item_id, by=by, now=now))
        await session.flush()
    return list(reversed(outcomes))


async def drop_dead_letter(session: AsyncSession, item_id: int, *, by: str, now: datetime) -> str:
    """Settle a dead letter unsent, for good; the caller commits."""
    item = await _dead_letter(session, item_id)
    summary = summarize_op(op_adapter.validate_python(item.op))
    was = item.last_error or "no error recorded"
    item.sent_at = now
    item.last_error = f"dropped by {by} (was: {was})"[:2000]
    _audit(session, item, "dead_letter_drop", summary, f"dropped by {by}; was: {was}", now)
    return f"#{item.id} {summary}: dropped; it will not be sent."
