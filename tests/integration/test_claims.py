"""Claims and leases: each runnable task goes to exactly one worker."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from orchestrator.db import Task, session_factory, utcnow
from orchestrator.state import Status, claim_next, heartbeat, release
from tests.factories import make_task
from tests.fixtures.pipeline import PipelineEnv

RUNNABLE = [Status.QUEUED.value]
LEASE = timedelta(seconds=60)


async def test_claim_takes_the_oldest_runnable_task(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await make_task(sessions, Status.VIDEO_READY)  # a gate: not runnable
    first = await make_task(sessions, Status.QUEUED)
    await make_task(sessions, Status.QUEUED)
    claimed = await claim_next(sessions, "w1", RUNNABLE, lease=LEASE)
    assert claimed is not None
    assert claimed.id == first.id
    assert claimed.lease_owner == "w1"


async def test_held_lease_blocks_and_expired_lease_is_reclaimed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    task = await make_task(sessions, Status.QUEUED)
    now = utcnow()
    assert await claim_next(sessions, "w1", RUNNABLE, lease=LEASE, now=now) is not None
    assert await claim_next(sessions, "w2", RUNNABLE, lease=LEASE, now=now) is None
    later = now + LEASE + timedelta(seconds=1)
    reclaimed = await claim_next(sessions, "w2", RUNNABLE, lease=LEASE, now=later)
    assert reclaimed is not None
    assert reclaimed.id == task.id
    assert reclaimed.lease_owner == "w2"
    # The first owner lost the lease: its heartbeat says so.
    async with sessions() as session, session.begin():
        assert not await heartbeat(session, task.id, "w1", lease=LEASE)
        assert await heartbeat(session, task.id, "w2", lease=LEASE)


async def test_release_with_not_before_defers_the_next_claim(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    task = await make_task(sessions, Status.QUEUED)
    now = utcnow()
    assert await claim_next(sessions, "w1", RUNNABLE, lease=LEASE, now=now)
    async with sessions() as session, session.begin():
        await release(session, task.id, "w1", not_before=now + timedelta(seconds=30))
    assert await claim_next(sessions, "w1", RUNNABLE, lease=LEASE, now=now) is None
    again = await claim_next(sessions, "w1", RUNNABLE, lease=LEASE, now=now + timedelta(seconds=31))
    assert again is not None


async def _claim_all(
    sessions: async_sessionmaker[AsyncSession], claimers: int
) -> dict[str, list[int]]:
    claimed: dict[str, list[int]] = {f"w{i}": [] for i in range(claimers)}

    async def worker(name: str) -> None:
        while (task := await claim_next(sessions, name, RUNNABLE, lease=LEASE)) is not None:
            claimed[name].append(task.id)

    await asyncio.gather(*(worker(name) for name in claimed))
    return claimed


@pytest.mark.postgres
async def test_four_claimers_two_hundred_tasks_each_claimed_once_on_postgres(
    pg_engine: AsyncEngine,
) -> None:
    sessions = session_factory(pg_engine)
    async with sessions() as session, session.begin():
        session.add_all(
            Task(notion_page_id=f"page-{i}", status=Status.QUEUED.value) for i in range(200)
        )
    claimed = await _claim_all(sessions, 4)
    ids = [i for got in claimed.values() for i in got]
    assert len(ids) == 200
    assert len(set(ids)) == 200
    # SKIP LOCKED spreads the work: every claimer got some.
    assert all(claimed.values())
    async with sessions() as session:
        owners = (await session.execute(select(Task.lease_owner))).scalars().all()
    assert None not in owners


async def test_concurrent_claimers_never_share_a_task(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        session.add_all(
            Task(notion_page_id=f"page-{i}", status=Status.QUEUED.value) for i in range(40)
        )
    claimed = await _claim_all(sessions, 4)
    ids = [i for got in claimed.values() for i in got]
    assert sorted(ids) == sorted(set(ids))
    assert len(ids) == 40


async def test_a_wake_during_the_step_survives_the_release(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    from sqlalchemy import update

    from orchestrator.state.claims import WOKEN

    task = await make_task(sessions, Status.QUEUED)
    claimed = await claim_next(sessions, "w1", RUNNABLE, lease=LEASE)
    assert claimed is not None
    # The operation poller wakes the task (its last clip finished) while the step runs ...
    async with sessions() as session, session.begin():
        await session.execute(update(Task).where(Task.id == task.id).values(not_before=WOKEN))
    # ... then the step ends, asking to be looked at in an hour: the wake wins.
    async with sessions() as session, session.begin():
        await release(session, task.id, "w1", not_before=utcnow() + timedelta(hours=1))
    async with sessions() as session:
        row = await session.get(Task, task.id)
        assert row is not None
        assert row.not_before == WOKEN
    assert await claim_next(sessions, "w2", RUNNABLE, lease=LEASE) is not None
    # Without a wake, the step's own time holds.
    async with sessions() as session, session.begin():
        await release(session, task.id, "w2", not_before=utcnow() + timedelta(hours=1))
    assert await claim_next(sessions, "w3", RUNNABLE, lease=LEASE) is None


async def test_a_worker_whose_lease_lapsed_never_fails_the_task_another_now_runs(
    pipeline_env: PipelineEnv,
) -> None:
    """A stalled worker's step errs on its stale view ("clip 6 cannot go from
    submitting to submitting": the new owner moved it first); that must not send the
    task the new owner is running to Failed."""
    from orchestrator.daemon.worker import Worker

    ctx = pipeline_env.runtime.ctx
    sessions = ctx.sessions
    task = await make_task(sessions, Status.QUEUED)
    assert await claim_next(sessions, "stalled", RUNNABLE, lease=timedelta(seconds=-1))
    assert await claim_next(sessions, "current", RUNNABLE, lease=LEASE)

    await Worker(ctx, "stalled")._fail(task.id, "clip 6 cannot go from submitting")
    async with sessions() as session:
        row = await session.get(Task, task.id)
        assert row is not None
        assert (row.status, row.lease_owner) == (Status.QUEUED.value, "current")

    await Worker(ctx, "current")._fail(task.id, "a real failure")
    async with sessions() as session:
        row = await session.get(Task, task.id)
        assert row is not None
        assert row.status == Status.FAILED.value
