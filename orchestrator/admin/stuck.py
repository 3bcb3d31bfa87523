"""Stuck tasks: in a working status for longer than their channel allows.

A channel's `stuck_after` gives the minutes per stage (Generating Video: 90 by
default). A stuck task's owner gets one comment per visit to that status (an
event of kind `stuck` remembers it was sent), `reelgate_stuck_tasks` counts the
stuck tasks, and `reelgate status` flags them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orchestrator.channels import Channels
from orchestrator.db.models import Event, Task
from orchestrator.pipeline.context import PipelineContext
from orchestrator.pipeline.notion_out import comment
from orchestrator.state.status import STAGES, Status

__all__ = [
    "WORKING_STAGES",
    "flag_stuck_tasks",
    "human_duration",
    "is_stuck",
    "stuck_limit",
    "stuck_tasks",
]

log = structlog.get_logger(__name__)

# Working status -> the stage whose stuck_after minutes apply.
WORKING_STAGES: dict[str, str] = {stage.working.value: stage.name for stage in STAGES}


def human_duration(seconds: float) -> str:
    """`95 s`, `14 min`, `1 h 35 min`, `2 d 3 h`: short and exact enough for people."""
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def stuck_limit(channels: Channels, task: Task) -> timedelta | None:
    """How long `task` may stay in its status; None when its status is not working."""
    stage = WORKING_STAGES.get(task.status)
    if stage is None:
        return None
    return timedelta(minutes=channels.get(task.channel).stuck_after.minutes(stage))


def is_stuck(channels: Channels, task: Task, now: datetime) -> bool:
    limit = stuck_limit(channels, task)
    return limit is not None and now - task.status_changed_at > limit


async def stuck_tasks(session: AsyncSession, channels: Channels, now: datetime) -> list[Task]:
    working = (
        (await session.execute(select(Task).where(Task.status.in_(list(WORKING_STAGES)))))
        .scalars()
        .all()
    )
    return [task for task in working if is_stuck(channels, task, now)]


async def flag_stuck_tasks(ctx: PipelineContext) -> int:
    """Comment once on each newly stuck task (leader only: one writer of comments).

    Returns how many were flagged this time."""
    now = ctx.clock()
    flagged = 0
    async with ctx.sessions() as session:
        candidates = [task.id for task in await stuck_tasks(session, ctx.channels, now)]
    for task_id in candidates:
        async with ctx.sessions() as session, session.begin():
            task = await session.get(Task, task_id)
            if task is None or not is_stuck(ctx.channels, task, now):
                continue  # moved on meanwhile
            told = (
                await session.execute(
                    select(Event.id).where(
                        Event.task_id == task.id,
                        Event.kind == "stuck",
                        Event.from_status == task.status,
                        Event.at >= task.status_changed_at,
                    )
                )
            ).first()
            if told is not None:
                continue
            limit = stuck_limit(ctx.channels, task)
            assert limit is not None
            status = Status(task.status)
            stage = WORKING_STAGES[task.status]
            elapsed = human_duration((now - task.status_changed_at).total_seconds())
            allowed = int(limit.total_seconds() // 60)
            note = (
                f"in {status.label} for {elapsed}, over the {allowed} min channel "
                f"'{task.channel}' allows (stuck_after.{stage})"
            )
            session.add(
                Event(
                    task_id=task.id,
                    at=now,
                    kind="stuck",
                    actor="daemon",
                    from_status=task.status,
                    note=note,
                )
            )
            comment(
                session,
                task,
                f"This task has been {note}. reelgate keeps working on it; an admin can "
                f"see why with `reelgate status {task.notion_page_id}`. To stop it, set "
                "Status to Cancelled.",
            )
            flagged += 1
            log.warning(
                "flag_stuck_task",
                task=task.id,
                page=task.notion_page_id,
                status=status.label,
                minutes_allowed=allowed,
            )
    return flagged
