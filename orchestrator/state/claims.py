"""Claims and leases: which worker runs which task (DESIGN §4).

PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED` hands each claimer a different row
without waiting. SQLite has no row locks (the clause compiles away), so there the
guarded UPDATE on the lease columns is what keeps two claimers apart.

`not_before` is cleared by a claim; while the step runs, the operation poller may set
it to WOKEN (the task's last clip finished). The release keeps WOKEN instead of the
step's own "look again at" time, so a wake that lands during a step is never lost.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, literal, null, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from orchestrator.db.models import Clip, Task
from orchestrator.db.types import UTCDateTime, utcnow
from orchestrator.state.owners import ProcessToken, is_dead, this_process

__all__ = ["WOKEN", "claim_next", "heartbeat", "readopt_dead", "release"]

# `tasks.not_before` = WOKEN: "look now", set by the operation poller.
WOKEN = datetime(1970, 1, 1, tzinfo=UTC)


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
    process: str | None = None,
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
                .values(
                    lease_owner=owner,
                    lease_expires_at=at + lease,
                    lease_process=process or str(this_process()),
                    not_before=None,
                )
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
        .values(
            lease_owner=None,
            lease_expires_at=None,
            lease_process=None,
            # A wake during the step wins over the step's own back-off.
            not_before=case(
                (Task.not_before == WOKEN, literal(WOKEN, UTCDateTime())),
                else_=literal(not_before, UTCDateTime()) if not_before is not None else null(),
            ),
        )
        .execution_options(synchronize_session=False)
    )


async def readopt_dead(
    sessions: async_sessionmaker[AsyncSession],
    *,
    me: ProcessToken | None = None,
    replica_prefix: str | None = None,
    now: datetime | None = None,
) -> tuple[int, int]:
    """Free the task leases and operation claims of dead processes of this host.

    A daemon SIGKILLed mid-step leaves its lease for `lease_seconds` (120 s by
    default); the restarted daemon frees it at start instead, so the rest of that
    step (e.g. the creates not yet sent) goes out at once. Nothing is resubmitted
    blindly: a clip left `submitting` is still handled by the lost-submission
    policy when the step runs again. `replica_prefix` (a stable REELGATE_WORKER_ID
    followed by "-") also frees leases held under that replica id by any other
    process: a replica that starts with a given id declares its predecessor gone.

    Returns (task leases freed, operation claims freed). Each is a guarded update
    on the exact owner seen, so a lease renewed meanwhile is left alone.
    """
    me = me or this_process()
    at = now or utcnow()
    freed_tasks = freed_clips = 0
    async with sessions() as session, session.begin():
        leases = (
            await session.execute(
                select(Task.id, Task.lease_owner, Task.lease_process).where(
                    Task.lease_owner.is_not(None), Task.lease_expires_at > at
                )
            )
        ).all()
        for task_id, owner, process in leases:
            token = ProcessToken.parse(process)
            same_replica = bool(
                replica_prefix and (owner or "").startswith(replica_prefix) and process != str(me)
            )
            if not same_replica and (token is None or not is_dead(token, me=me)):
                continue
            result = await session.execute(
                update(Task)
                .where(Task.id == task_id, Task.lease_owner == owner)
                .values(lease_owner=None, lease_expires_at=None, lease_process=None)
                .execution_options(synchronize_session=False)
            )
            freed_tasks += int(result.rowcount == 1)  # type: ignore[attr-defined]
        claims = (
            await session.execute(
                select(Clip.id, Clip.poll_owner).where(
                    Clip.poll_owner.is_not(None), Clip.next_poll_at > at
                )
            )
        ).all()
        for clip_id, owner in claims:
            token = ProcessToken.parse(owner)
            if token is None or not is_dead(token, me=me):
                continue
            result = await session.execute(
                update(Clip)
                .where(Clip.id == clip_id, Clip.poll_owner == owner)
                .values(poll_owner=None, next_poll_at=at)
                .execution_options(synchronize_session=False)
            )
            freed_clips += int(result.rowcount == 1)  # type: ignore[attr-defined]
    return freed_tasks, freed_clips
