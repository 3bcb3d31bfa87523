"""Migrations build the schema the models describe, on both backends."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from orchestrator.db import Base

TABLES = {
    "tasks",
    "keyframes",
    "clips",
    "events",
    "cost_ledger",
    "outbox",
    "review_lines",
    "review_visits",
    "sync_state",
    "provider_pacing",
    "alembic_version",
}


def _diff(conn: Connection) -> list[Any]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(ctx, Base.metadata))


async def test_upgrade_creates_every_table(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert names == TABLES


async def test_models_and_migrations_agree(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


async def test_upgrade_twice_is_a_no_op(engine: AsyncEngine) -> None:
    from orchestrator.db import upgrade

    await upgrade(engine)
    async with engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []
