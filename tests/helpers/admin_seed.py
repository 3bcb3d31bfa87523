"""A task with a history, written straight to the database, for the admin commands' tests.

`seed_story(url)` migrates the database at `url` and writes one task in *Generating
Video* with what such a task has after a day's work: transitions (with their
times), a review, clips in several states with operations, charges and storage
keys, keyframes, and Notion writes sent, waiting and dead-lettered.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from notion_sync.ops import Comment, SetTaskStatus, UpdateTask
from orchestrator.db import (
    Clip,
    CostEntry,
    Event,
    Keyframe,
    OutboxItem,
    ReviewLine,
    Task,
    create_engine,
    session_factory,
    upgrade,
    utcnow,
)

PAGE_ID = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
PAGE_URL = "https://www.notion.so/acme/Lighthouse-1a2b3c4d5e6f4a7b8c9d0e1f2a3b4c5d?pvs=4"
OPERATION = "projects/p/locations/us-central1/publishers/google/models/veo/operations/op-{}"


@dataclass(frozen=True)
class Seeded:
    task_id: int
    pending_id: int
    dead_status_id: int
    dead_fields_id: int
    sent_id: int


def _op(op: Any) -> dict[str, Any]:
    return dict(op.model_dump(mode="json"))


async def _seed(url: str, status: str, minutes_in_status: float) -> Seeded:
    engine = create_engine(url)
    await upgrade(engine)
    now = utcnow()
    start = now - timedelta(hours=5)

    def at(minutes: float) -> datetime:
        return start + timedelta(minutes=minutes)

    try:
        async with session_factory(engine)() as session, session.begin():
            task = Task(
                notion_page_id=PAGE_ID,
                notion_url=PAGE_URL,
                title="Lighthouse",
                channel="default",
                status=status,
                brief="A lighthouse keeper's last night before the light is automated.",
                clip_count=3,
                clip_seconds=8,
                estimated_cost_usd=9.9,
                cost_usd=7.05,
                rounds={"storyboard": 2},
                status_changed_at=now - timedelta(minutes=minutes_in_status),
                owner_ids=["user-cory"],
            )
            session.add(task)
            await session.flush()
            moves = [
                (0, "human", None, "draft", "found by Cory Creator"),
                (2, "human", "draft", "queued", "set by Cory Creator"),
                (3, "daemon", "queued", "planning", "estimate $9.90"),
                (4, "daemon", "planning", "storyboard_ready", "3 shots planned"),
                (30, "human", "storyboard_ready", "storyboard_error", "set by Rita Reviewer"),
                (31, "daemon", "storyboard_error", "planning", "regenerate storyboard 2"),
                (32, "daemon", "planning", "storyboard_ready", "re-planned shot 2"),
                (60, "human", "storyboard_ready", "storyboard_approved", "set by Rita Reviewer"),
                (61, "daemon", "storyboard_approved", "generating_keyframes", "next stage"),
                (70, "daemon", "generating_keyframes", "keyframes_ready", "4 keyframes"),
                (71, "daemon", "keyframes_ready", "keyframes_approved", "auto-approved"),
            ]
            for minutes, actor, frm, to, note in moves:
                session.add(
                    Event(
                        task_id=task.id,
                        at=at(minutes),
                        actor=actor,
                        from_status=frm,
                        to_status=to,
                        note=note,
                    )
                )
            session.add(
                Event(
                    task_id=task.id,
                    at=now - timedelta(minutes=minutes_in_status),
                    actor="daemon",
                    from_status="keyframes_approved",
                    to_status=status,
                    note="keyframes approved -> next stage",
                )
            )
            session.add(
                Event(
                    task_id=task.id,
                    at=at(50),
                    kind="revert",
                    actor="daemon",
                    from_status="storyboard_ready",
                    to_status="done",
                    note="refused 'Done' by Rita Reviewer",
                )
            )
            session.add(
                ReviewLine(
                    task_id=task.id,
                    round=1,
                    line_hash="h1",
                    line="Regenerate: shot 2 - more suspense",
                    at=at(30),
                )
            )
            clips = [
                Clip(
                    task_id=task.id,
                    number=1,
                    attempt=2,
                    status="complete",
                    operation_name=OPERATION.format(12),
                    cost_usd=3.2,
                    duration_s=8.0,
                    storage_key="default/lighthouse-1a2b3c4d/clips/clip_01_a2.mp4",
                    thumb_key="default/lighthouse-1a2b3c4d/thumbs/clip_01_a2.jpg",
                    bytes=2_345_678,
                    sha256="ab" * 32,
                    seconds=8,
                ),
                Clip(
                    task_id=task.id,
                    number=2,
                    attempt=1,
                    status="polling",
                    operation_name=OPERATION.format(21),
                    poll_count=7,
                    seconds=8,
                    submitted_at=now - timedelta(minutes=9),
                ),
                Clip(
                    task_id=task.id,
                    number=3,
                    attempt=1,
                    status="failed",
                    operation_name=OPERATION.format(31),
                    seconds=8,
                    error="INVALID_ARGUMENT: image too small",
                ),
            ]
            session.add_all(clips)
            keyframes = [
                Keyframe(
                    task_id=task.id,
                    number=n,
                    attempt=1 if n != 2 else 2,
                    status="complete",
                    cost_usd=0.04,
                    storage_key=f"default/lighthouse-1a2b3c4d/keyframes/kf_{n:02d}.png",
                )
                for n in range(1, 5)
            ]
            session.add_all(keyframes)
            await session.flush()
            ledger = [
                CostEntry(
                    task_id=task.id,
                    kind="storyboard",
                    provider="google",
                    model="gemini-2.5-pro",
                    units=1,
                    unit="request",
                    usd=0.05,
                    at=at(3),
                ),
                *(
                    CostEntry(
                        task_id=task.id,
                        kind="keyframe",
                        provider="google",
                        model="gemini-2.5-flash-image",
                        units=1,
                        unit="image",
                        usd=0.04,
                        at=at(62),
                    )
                    for _ in range(5)
                ),
                CostEntry(
                    task_id=task.id,
                    clip_id=clips[0].id,
                    kind="clip",
                    provider="google",
                    model="veo-3.1-generate-001",
                    units=8,
                    unit="second",
                    usd=0.0,
                    operation_name=OPERATION.format(11),
                    at=at(80),
                ),
                CostEntry(
                    task_id=task.id,
                    clip_id=clips[0].id,
                    kind="clip",
                    provider="google",
                    model="veo-3.1-generate-001",
                    units=8,
                    unit="second",
                    usd=3.2,
                    operation_name=OPERATION.format(12),
                    at=at(95),
                ),
            ]
            session.add_all(ledger)
            sent = OutboxItem(
                task_id=task.id,
                page_id=PAGE_ID,
                kind="update_task",
                op=_op(UpdateTask(page_id=PAGE_ID, fields={"progress": "1/3 clips", "cost": 3.4})),
                created_at=at(96),
                sent_at=at(96),
                attempts=1,
            )
            dead_status = OutboxItem(
                task_id=task.id,
                page_id=PAGE_ID,
                kind="set_task_status",
                op=_op(SetTaskStatus(page_id=PAGE_ID, status_label="Keyframes Ready")),
                created_at=at(70),
                attempts=1,
                dead=True,
                last_error="400 validation_error: Can't edit block that is archived.",
            )
            dead_fields = OutboxItem(
                task_id=task.id,
                page_id=PAGE_ID,
                kind="update_task",
                op=_op(
                    UpdateTask(
                        page_id=PAGE_ID, fields={"progress": "0/3 clips", "estimated_cost": 9.9}
                    )
                ),
                created_at=at(72),
                attempts=8,
                dead=True,
                last_error="503 service_unavailable (8 tries)",
            )
            pending = OutboxItem(
                task_id=task.id,
                page_id=PAGE_ID,
                kind="comment",
                op=_op(Comment(page_id=PAGE_ID, text="clip 3 failed: image too small")),
                created_at=now - timedelta(minutes=12),
                attempts=2,
                next_attempt_at=now + timedelta(seconds=30),
                last_error="429 rate_limited",
            )
            session.add_all([dead_status, dead_fields, sent])
            await session.flush()
            session.add(pending)  # queued last: the newest row
            await session.flush()
            return Seeded(task.id, pending.id, dead_status.id, dead_fields.id, sent.id)
    finally:
        await engine.dispose()


def seed_story(
    url: str, *, status: str = "generating_video", minutes_in_status: float = 100.0
) -> Seeded:
    """Write the task (100 min in Generating Video: stuck at the default 90)."""
    return asyncio.run(_seed(url, status, minutes_in_status))


async def _rows(url: str, model: Any, **where: Any) -> list[Any]:
    from sqlalchemy import select

    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            query = select(model)
            for key, value in where.items():
                query = query.where(getattr(model, key) == value)
            return list((await session.execute(query.order_by(model.id))).scalars().all())
    finally:
        await engine.dispose()


def rows(url: str, model: Any, **where: Any) -> list[Any]:
    """Rows of `model` matching `where` (column == value), by id."""
    return asyncio.run(_rows(url, model, **where))


async def _set(url: str, task_id: int, **values: Any) -> None:
    from sqlalchemy import update

    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            await session.execute(update(Task).where(Task.id == task_id).values(**values))
    finally:
        await engine.dispose()


def set_task(url: str, task_id: int, **values: Any) -> None:
    asyncio.run(_set(url, task_id, **values))
