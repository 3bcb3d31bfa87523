"""Read-only views of the database for `reelgate status` and the demo summary."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from orchestrator.channels import Channels, load_channels
from orchestrator.db.models import Clip, OutboxItem, Task
from orchestrator.db.types import utcnow
from orchestrator.state.clips import USABLE
from orchestrator.state.status import Status

__all__ = ["TaskSummary", "task_summaries"]


@dataclass(frozen=True)
class TaskSummary:
    id: int
    notion_page_id: str
    title: str
    channel: str
    status: str  # Notion label
    clips_done: int
    clips_total: int
    cost_usd: float
    seconds_in_status: float
    # In a working status for longer than the channel's stuck_after allows.
    stuck: bool = False
    # Notion writes of this task that failed for good (`reelgate dead-letters`).
    dead_letters: int = 0

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


async def task_summaries(
    session: AsyncSession, now: datetime | None = None, channels: Channels | None = None
) -> list[TaskSummary]:
    from orchestrator.admin.stuck import is_stuck  # the CLI imports this module at start

    now = now or utcnow()
    channels = channels or load_channels(None)
    dead = dict(
        (
            await session.execute(
                select(OutboxItem.task_id, func.count(OutboxItem.id))
                .where(OutboxItem.dead.is_(True), OutboxItem.sent_at.is_(None))
                .group_by(OutboxItem.task_id)
            )
        ).all()
    )
    done = (
        select(Clip.task_id, func.count(Clip.id).label("done"))
        .where(Clip.status.in_(USABLE))
        .group_by(Clip.task_id)
        .subquery()
    )
    rows = await session.execute(
        select(Task, func.coalesce(done.c.done, 0))
        .outerjoin(done, done.c.task_id == Task.id)
        .order_by(Task.id)
    )
    return [
        TaskSummary(
            id=task.id,
            notion_page_id=task.notion_page_id,
            title=task.title,
            channel=task.channel,
            status=Status(task.status).label,
            clips_done=int(done_count),
            clips_total=task.clip_count,
            cost_usd=round(task.cost_usd, 4),
            seconds_in_status=max(0.0, (now - task.status_changed_at).total_seconds()),
            stuck=is_stuck(channels, task, now),
            dead_letters=int(dead.get(task.id, 0)),
        )
        for task, done_count in rows.all()
    ]
