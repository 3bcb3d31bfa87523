"""Loading a task's clips and keyframes (shared by every step)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orchestrator.db.models import Clip, Keyframe, Task
from orchestrator.errors import ConfigError
from orchestrator.providers.base import Aspect

__all__ = ["aspect_of", "load_all", "load_clips", "load_keyframes"]


def aspect_of(task: Task) -> Aspect:
    if task.aspect_ratio == "16:9":
        return "16:9"
    if task.aspect_ratio == "9:16":
        return "9:16"
    raise ConfigError(f"Aspect Ratio must be 16:9 or 9:16, not {task.aspect_ratio!r}")


async def load_clips(session: AsyncSession, task_id: int) -> list[Clip]:
    rows = await session.execute(select(Clip).where(Clip.task_id == task_id).order_by(Clip.number))
    return list(rows.scalars().all())


async def load_keyframes(session: AsyncSession, task_id: int) -> dict[int, Keyframe]:
    rows = await session.execute(select(Keyframe).where(Keyframe.task_id == task_id))
    return {k.number: k for k in rows.scalars().all()}


async def load_all(session: AsyncSession, task_id: int) -> tuple[list[Clip], dict[int, Keyframe]]:
    return await load_clips(session, task_id), await load_keyframes(session, task_id)
