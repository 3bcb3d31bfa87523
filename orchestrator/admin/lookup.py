"""Find a task the way an admin names it: task id, Notion page id, or the page's URL."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from orchestrator.db.models import Task
from orchestrator.errors import AdminError

__all__ = ["find_task", "page_key"]

_UUID_AT_END = re.compile(
    r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})$"
)


def page_key(ref: str) -> str | None:
    """The 32 hex digits of a Notion page id in `ref`, or None.

    Accepts a page id with or without dashes and a page URL, whose last path
    segment ends with the id (`https://www.notion.so/team/Lighthouse-1a2b...?pvs=4`).
    """
    text = ref.strip().lower()
    if "://" in text or "/" in text:
        text = urlsplit(text if "://" in text else f"https://{text}").path.rstrip("/")
        text = text.rsplit("/", 1)[-1]
    match = _UUID_AT_END.search(text)
    return match.group(1).replace("-", "") if match else None


async def find_task(session: AsyncSession, ref: str) -> Task:
    """The task `ref` names; AdminError (saying what is accepted) when none does."""
    ref = ref.strip()
    task: Task | None = None
    if ref.isdigit() and len(ref) < 19:
        task = await session.get(Task, int(ref))
    else:
        key = page_key(ref)
        if key is not None:
            task = (
                await session.execute(
                    select(Task).where(
                        func.replace(func.lower(Task.notion_page_id), "-", "") == key
                    )
                )
            ).scalar_one_or_none()
    if task is None:
        raise AdminError(
            f"no task matches {ref!r}: give a task id, a Notion page id or the page's URL "
            "(`reelgate status` lists the tasks)"
        )
    return task
