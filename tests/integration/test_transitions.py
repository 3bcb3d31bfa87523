"""transition(): guarded updates + audit events, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from orchestrator.db import Event, Task, create_engine, session_factory, upgrade
from orchestrator.errors import IllegalTransition, StaleState
from orchestrator.state import TRANSITIONS, Status, allowed_moves, transition
from tests.factories import make_task


@pytest.fixture
async def sqlite_sessions(sqlite_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    # The exhaustive walks run on SQLite; PostgreSQL gets the race test below.
    engine = create_engine(sqlite_url)
    await upgrade(engine)
    yield session_factory(engine)
    await engine.dispose()


async def test_every_allowed_edge_succeeds_and_is_audited(
    sqlite_sessions: async_sessionmaker[AsyncSession],
) -> None:
    sessions = sqlite_sessions
    for (current, target), actors in TRANSITIONS.items():
        for actor in sorted(actors):
            task = await make_task(sessions, current)
            async with sessions() as session, session.begin():
                row = await session.get(Task, task.id)
                assert row is not None
                await transition(session, row, target, actor, note="walk")  # type: ignore[arg-type]
            async with sessions() as session:
                row = await session.get(Task, task.id)
                assert row is not None
                assert row.status == target.value
                event = (
                    await session.execute(select(Event).where(Event.task_id == task.id))
                ).scalar_one()
                assert (event.actor, event.from_status, event.to_status, event.note) == (
                    actor,
                    current.value,
                    target.value,
                    "walk",
                )


async def test_every_pair_not_in_the_table_is_refused_naming_the_allowed_moves(
    sqlite_sessions: async_sessionmaker[AsyncSession],
) -> None:
    sessions = sqlite_sessions
    refused = 0
    for current, target in itertools.product(Status, Status):
        for actor in ("human", "daemon"):
            if actor in TRANSITIONS.get((current, target), frozenset()):
                continue
            task = Task(id=1, notion_page_id="x", status=current.value)
            async with sessions() as session:
                with pytest.raises(IllegalTransition) as info:
                    await transition(session, task, target, actor)  # type: ignore[arg-type]
            message = str(info.value)
            assert current.label in message
            assert target.label in message
            for move in allowed_moves(current, actor):  # type: ignore[arg-type]
                assert move.label in message
            assert task.status == current.value
            refused += 1
    assert refused == 24 * 24 * 2 - sum(len(a) for a in TRANSITIONS.values())
    async with sessions() as session:
        assert (await session.execute(select(func.count(Event.id)))).scalar_one() == 0


async def test_stale_expected_status_is_refused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    task = await make_task(sessions, Status.QUEUED)
    async with sessions() as session, session.begin():
        row = await session.get(Task, task.id)
        assert row is not None
        await transition(session, row, Status.PLANNING, "daemon")
    stale = Task(id=task.id, notion_page_id=task.notion_page_id, status=Status.QUEUED.value)
    async with sessions() as session:
        with pytest.raises(StaleState):
            await transition(session, stale, Status.PLANNING, "daemon")


@pytest.mark.postgres
async def test_racing_transitions_on_postgres_exactly_one_wins(pg_engine: AsyncEngine) -> None:
    sessions = session_factory(pg_engine)
    task = await make_task(sessions, Status.QUEUED)
    start = asyncio.Event()

    async def racer() -> bool:
        async with sessions() as session:
            row = await session.get(Task, task.id)
            assert row is not None
            await start.wait()
            try:
                await transition(session, row, Status.PLANNING, "daemon")
            except StaleState:
                await session.rollback()
                return False
            await session.commit()
            return True

    racers = [asyncio.create_task(racer()) for _ in range(8)]
    await asyncio.sleep(0.2)
    start.set()
    results = await asyncio.gather(*racers)
    assert sum(results) == 1
    async with sessions() as session:
        count = (
            await session.execute(select(func.count(Event.id)).where(Event.task_id == task.id))
        ).scalar_one()
    assert count == 1
