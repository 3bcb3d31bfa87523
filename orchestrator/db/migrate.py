"""Run alembic migrations from code, on an async engine."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations
from orchestrator.db.engine import create_engine

__all__ = ["alembic_config", "upgrade", "upgrade_to_head"]


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(next(iter(migrations.__path__)))))
    return cfg


def _upgrade_sync(connection: Connection) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


async def upgrade(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade_sync)


def upgrade_to_head(url: str) -> None:
    async def run() -> None:
        engine = create_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
