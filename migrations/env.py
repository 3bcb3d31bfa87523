"""Alembic environment: works on PostgreSQL (asyncpg) and SQLite (batch mode)."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from sqlalchemy.engine import Connection

from orchestrator.db.engine import create_engine
from orchestrator.db.models import Base
from orchestrator.db.types import UTCDateTime

config = context.config
target_metadata = Base.metadata


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    # Migrations must not import model code: write our UTC type as plain DateTime.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        render_item=_render_item,
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_new_engine(url: str) -> None:
    engine = create_engine(url)
    async with engine.connect() as conn:
        await conn.run_sync(_configure)
        await conn.commit()
    await engine.dispose()


def run() -> None:
    # `reelgate migrate` hands us a live connection; the alembic CLI gives a URL.
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_with_new_engine(str(config.get_main_option("sqlalchemy.url"))))


run()
