"""Small helpers to create rows in tests."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from orchestrator.db import Task
from orchestrator.state import Status


async def make_task(
    sessions: async_sessionmaker[AsyncSession],
    status: Status = Status.QUEUED,
    **fields: object,
) -> Task:
    async with sessions() as session, session.begin():
        task = Task(notion_page_id=str(uuid.uuid4()), status=status.value, **fields)
        session.add(task)
    return task
