"""Engines and sessions for PostgreSQL (asyncpg) and SQLite (aiosqlite)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

__all__ = ["create_engine", "is_postgres", "ping", "redact_url", "session_factory"]


def redact_url(url: str) -> str:
    """The URL with any password masked, for logs and error messages."""
    return make_url(url).render_as_string(hide_password=True)


async def ping(engine: AsyncEngine) -> None:
    """One `SELECT 1`; DatabaseUnavailable (one line, password masked) if it fails."""
    from orchestrator.errors import DatabaseUnavailable

    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        cause: BaseException = exc
        while True:  # the driver's own words: SQLAlchemy wraps them (.orig)
            inner = getattr(cause, "orig", None) or cause.__cause__
            if not isinstance(inner, BaseException) or inner is cause:
                break
            cause = inner
        detail = (str(cause).strip().splitlines() or [type(cause).__name__])[0][:200]
        where = engine.url.render_as_string(hide_password=True)
        raise DatabaseUnavailable(
            f"cannot reach the database at {where} ({type(cause).__name__}: {detail}). "
            "Check REELGATE_DATABASE_URL (host, port, user, password, database) and that "
            "the server is running and reachable from here"
        ) from exc


def is_postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the poller read while a worker writes; busy_timeout makes writers
    # queue instead of failing with "database is locked".
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(
    engine: AsyncEngine, *, info: dict[str, Any] | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions of `engine`; `info` is shared by every session (e.g. the metrics)."""
    return async_sessionmaker(engine, expire_on_commit=False, info=info or {})
