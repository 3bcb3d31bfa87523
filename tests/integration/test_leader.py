"""Leader election: one advisory-lock holder per PostgreSQL database; SQLite always leads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from orchestrator.daemon.leader import DEFAULT_LEADER_KEY, LeaderElector
from orchestrator.db import create_engine
from orchestrator.metrics import Metrics


@pytest.fixture
async def two_engines(pg_url: str) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    # Two engines = two "replicas" with pools of their own on the same database.
    a, b = create_engine(pg_url), create_engine(pg_url)
    yield a, b
    await a.dispose()
    await b.dispose()


def test_default_key_is_fixed() -> None:
    assert int.from_bytes(b"reelgate", "big", signed=True) == DEFAULT_LEADER_KEY


@pytest.mark.postgres
async def test_exactly_one_leader_and_handover_on_release(
    two_engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    metrics_a, metrics_b = Metrics(), Metrics()
    a = LeaderElector(two_engines[0], metrics=metrics_a)
    b = LeaderElector(two_engines[1], metrics=metrics_b)
    try:
        assert await a.acquire() is True
        assert await b.acquire() is False
        assert (a.is_leader, b.is_leader) == (True, False)
        assert metrics_a.registry.get_sample_value("reelgate_is_leader") == 1
        assert metrics_b.registry.get_sample_value("reelgate_is_leader") == 0
        # Re-asking keeps the answers: the leader verifies, the follower retries.
        assert await a.acquire() is True
        assert await a.check() is True
        assert await b.acquire() is False

        await a.release()
        assert a.is_leader is False
        assert metrics_a.registry.get_sample_value("reelgate_is_leader") == 0
        assert await b.acquire() is True
        assert await a.acquire() is False
    finally:
        await a.release()
        await b.release()


@pytest.mark.postgres
async def test_leadership_is_lost_when_the_connection_dies(
    two_engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    a = LeaderElector(two_engines[0])
    b = LeaderElector(two_engines[1])
    try:
        assert await a.acquire() is True
        assert await b.acquire() is False
        # Kill the leader's backend from outside, as a network cut or a DBA would.
        async with two_engines[1].connect() as conn:
            killed = (
                await conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_locks"
                        " WHERE locktype = 'advisory' AND granted"
                        # Advisory locks are per database: never touch other
                        # databases' holders (parallel tests, other daemons).
                        " AND database = (SELECT oid FROM pg_database"
                        " WHERE datname = current_database())"
                        " AND ((classid::bigint << 32) | objid::bigint) = :key"
                    ),
                    {"key": DEFAULT_LEADER_KEY},
                )
            ).all()
            await conn.commit()
        assert killed == [(True,)]
        # pg_terminate_backend only signals: the lock goes when the backend exits.
        deadline = asyncio.get_running_loop().time() + 10
        while not await b.acquire():
            assert asyncio.get_running_loop().time() < deadline, "lock never released"
            await asyncio.sleep(0.05)
        assert await a.check() is False
        assert a.is_leader is False
        assert await a.acquire() is False
    finally:
        await a.release()
        await b.release()


@pytest.mark.postgres
async def test_keys_are_independent_and_lock_vanishing_is_noticed(
    two_engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    a = LeaderElector(two_engines[0], key=-42)
    b = LeaderElector(two_engines[1], key=43)
    try:
        assert await a.acquire() is True
        assert await b.acquire() is True  # another key: another election
        assert await a.check() is True  # negative keys map onto pg_locks too
        # The session survives but the lock is gone (e.g. pg_advisory_unlock_all).
        assert a._conn is not None
        await a._conn.execute(text("SELECT pg_advisory_unlock_all()"))
        assert await a.check() is False
        assert await a.acquire() is True
    finally:
        await a.release()
        await b.release()


async def test_sqlite_is_always_leader(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    metrics = Metrics()
    try:
        a = LeaderElector(engine, metrics=metrics)
        b = LeaderElector(engine)
        assert a.is_leader
        assert b.is_leader
        assert await a.acquire() is True
        assert await b.acquire() is True
        assert await a.check() is True
        assert metrics.registry.get_sample_value("reelgate_is_leader") == 1
        await a.release()
        assert a.is_leader is False
        assert await a.acquire() is True
    finally:
        await engine.dispose()
