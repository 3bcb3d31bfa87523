"""Cluster leader election on a PostgreSQL advisory lock.

Exactly one replica talks to Notion (poller + outbox drainer) so the 3 requests/s
limit holds for the whole cluster. The leader is whoever holds the session-level
advisory lock ``pg_try_advisory_lock(key)`` on a dedicated connection: when that
process dies or its connection drops, PostgreSQL releases the lock by itself and
another replica takes over on its next try. No lease table, no clock skew.

SQLite is single-process by design, so there the elector is always the leader.

Call :meth:`LeaderElector.acquire` on every scheduler tick: it tries to become
leader, or (when already leader) verifies the lock is still held on a live
connection, and returns the current answer.
"""

from __future__ import annotations

import asyncio
from typing import Final

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from orchestrator.errors import ConfigError
from orchestrator.metrics import Metrics

__all__ = ["DEFAULT_LEADER_KEY", "LeaderElector"]

log = structlog.get_logger(__name__)

# b"reelgate" read as a big-endian signed 64-bit integer: fixed, recognisable in
# pg_locks (classid 0x7265656c, objid 0x67617465), and unlikely to collide.
DEFAULT_LEADER_KEY: Final = int.from_bytes(b"reelgate", "big", signed=True)

_TRY_LOCK = text("SELECT pg_try_advisory_lock(:key)")
_UNLOCK = text("SELECT pg_advisory_unlock(:key)")
# A bigint advisory key is stored as classid (high 32 bits) / objid (low 32 bits)
# with objsubid = 1. Asking pg_locks (not just "SELECT 1") also catches the lock
# vanishing while the connection lives, e.g. behind a transaction-mode pooler or
# after someone ran pg_advisory_unlock_all().
_HOLDS_LOCK = text(
    "SELECT count(*) FROM pg_locks"
    " WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted"
    " AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = :key"
)


class LeaderElector:
    """Leader election for one process; see the module docstring."""

    def __init__(
        self,
        engine: AsyncEngine,
        key: int = DEFAULT_LEADER_KEY,
        *,
        metrics: Metrics | None = None,
        statement_timeout_s: float = 10.0,
    ) -> None:
        dialect = engine.dialect.name
        if dialect not in ("postgresql", "sqlite"):
            raise ConfigError(f"leader election supports postgresql and sqlite, not {dialect}")
        if not -(2**63) <= key < 2**63:
            raise ConfigError(f"leader lock key {key} does not fit a PostgreSQL bigint")
        self._engine = engine
        self._key = key
        self._metrics = metrics
        self._timeout_s = statement_timeout_s
        self._postgres = dialect == "postgresql"
        self._conn: AsyncConnection | None = None
        # One statement at a time on the dedicated connection, whichever job asks.
        self._lock = asyncio.Lock()
        self._leader = not self._postgres
        self._publish()

    @property
    def key(self) -> int:
        return self._key

    @property
    def is_leader(self) -> bool:
        """The last known answer; :meth:`acquire` / :meth:`check` refresh it."""
        return self._leader

    async def acquire(self) -> bool:
        """Try to become leader without waiting; when already leader, verify it.

        Returns whether this process is the leader now. Database errors are
        logged and answered with ``False``: losing an election is not a crash.
        """
        if not self._postgres:
            self._set_leader(True, reason="sqlite")
            return True
        async with self._lock:
            if self._leader:
                return await self._verify_locked()
            try:
                async with asyncio.timeout(self._timeout_s):
                    conn = await self._connection()
                    got = bool((await conn.execute(_TRY_LOCK, {"key": self._key})).scalar())
            except Exception as exc:
                log.warning("acquire_leadership_failed", error_type=type(exc).__name__)
                await self._drop_connection()
                return False
            if got:
                self._set_leader(True, reason="lock_acquired")
            return got

    async def check(self) -> bool:
        """Whether this process still holds the lock on a live connection.

        When the connection dropped (or the lock vanished) leadership is lost:
        :attr:`is_leader` turns ``False`` and the connection is discarded.
        """
        if not self._postgres:
            return self._leader
        async with self._lock:
            if not self._leader:
                return False
            return await self._verify_locked()

    async def release(self) -> None:
        """Give up leadership (graceful shutdown) so another replica takes over at once."""
        if not self._postgres:
            self._set_leader(False, reason="released")
            return
        async with self._lock:
            conn = self._conn
            was_leader = self._leader
            self._set_leader(False, reason="released")
            if conn is None:
                return
            self._conn = None
            try:
                if was_leader:
                    async with asyncio.timeout(self._timeout_s):
                        await conn.execute(_UNLOCK, {"key": self._key})
                await conn.close()
            except Exception as exc:
                # Never hand a connection that may still hold the lock back to the
                # pool: invalidating closes it, and PostgreSQL drops the lock.
                log.warning("release_leadership_failed", error_type=type(exc).__name__)
                await _invalidate(conn)

    async def _verify_locked(self) -> bool:
        conn = self._conn
        if conn is None:
            self._set_leader(False, reason="connection_missing")
            return False
        try:
            async with asyncio.timeout(self._timeout_s):
                held = int((await conn.execute(_HOLDS_LOCK, {"key": self._key})).scalar() or 0)
        except Exception as exc:
            log.warning("check_leadership_failed", error_type=type(exc).__name__)
            self._set_leader(False, reason="connection_lost")
            await self._drop_connection()
            return False
        if not held:
            self._set_leader(False, reason="lock_vanished")
            await self._drop_connection()
            return False
        return True

    async def _connection(self) -> AsyncConnection:
        if self._conn is None:
            conn = await self._engine.connect()
            # Autocommit: the lock is session-level, so no transaction needs to
            # stay open (an idle-in-transaction session would pin vacuum and may
            # be killed by idle_in_transaction_session_timeout).
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            self._conn = conn
        return self._conn

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await _invalidate(conn)

    def _set_leader(self, leader: bool, *, reason: str) -> None:
        if leader != self._leader:
            event = "acquire_leadership" if leader else "lose_leadership"
            if reason == "released":
                event = "release_leadership"
            log.info(event, key=self._key, reason=reason)
        self._leader = leader
        self._publish()

    def _publish(self) -> None:
        if self._metrics is not None:
            self._metrics.is_leader.set(1 if self._leader else 0)


async def _invalidate(conn: AsyncConnection) -> None:
    try:
        await conn.invalidate()
        await conn.close()
    except Exception as exc:
        log.debug("close_leader_connection_failed", error_type=type(exc).__name__)
