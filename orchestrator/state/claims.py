"""Claims and leases: which worker runs which task (DESIGN §4).

PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED` hands each claimer a different row
without waiting. SQLite has no row locks (the clause compiles away), so there the
guarded UPDATE on the lease columns is what keeps two claimers apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from orchestrator.db.models import Task
from orchestrator.db.types import utcnow

__all__ = ["claim_next", "heartbeat", "release"]


def _claimable(statuses: Iterable[str], now: datetime) -> list[object]:
    return [
        Task.status.in_(list(statuses)),
        or_(Task.lease_expires_at.is_(None), Task.lease_expires_at < now),
        or_(Task.not_before.is_(None), Task.not_before <= now),
    ]


async def claim_next(
    sessions: async_sessionmaker[AsyncSession],
    owner: str,
    statuses: Iterable[str],
    *,
    lease: timedelta,
    now: datetime | None = None,
    attempts: int = 5,
) -> Task | None:
    """Lease the oldest runnable task to `owner`, or return None."""
    statuses = list(statuses)
    for _ in range(attempts):
        at = now or utcnow()
        async with sessions() as session, session.begin():
            candidate = (
                select(Task.id)
                .where(*_claimable(statuses, at))  # type: ignore[arg-type]
                .order_by(Task.status_changed_at, Task.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            task_id = (await session.execute(candidate)).scalar_one_or_none()
            if task_id is None:
                return None
            result = await session.execute(
                update(Task)
                .where(Task.id == task_id, *_claimable(statuses, at))  # type: ignore[arg-type]
                .values(lease_owner=owner, lease_expires_at=at + lease)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                task = await session.get(Task, task_id, populate_existing=True)
                return task
        # Lost the race for that row (SQLite): look again.
    return None


async def heartbeat(session: AsyncSession, task_id: int, owner: str, *, lease: timedelta) -> bool:
    """Extend the lease if `owner` still holds it; False means the lease was lost."""
    result = await session.execute(
        update(Task)
        .where(Task.id == task_id, Task.lease_owner == owner)
        .values(lease_expires_at=utcnow() + lease)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def release(
    session: AsyncSession, task_id: int, owner: str, *, not_before: datetime | None = None
) -> None:
    await session.execute(
        update(Task)
        .where(Task.id == task_id, Task.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None, not_before=not_before)
        .execution_options(synchronize_session=False)
    )
