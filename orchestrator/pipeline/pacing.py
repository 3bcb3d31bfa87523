"""Cluster-wide pacing of paid creates, from the model's published quota.

Vertex counts a model's create requests per project per minute (Veo 3.1: 50, see the
catalogue's `requests_per_minute`), whichever replica sends them. So the slots live in
the database: one `provider_pacing` row per model holds the slots handed out recently
(`grants`, epoch seconds, ascending). A create takes the next slot with a guarded
update of that row (`WHERE key = :model AND version = :seen`), the same pattern as
every other claim: two replicas can never take the same slot, and no 60-second window
ever holds more than `rpm` slots. A slot may lie in the future: its taker sleeps until
then, so a burst of 18 creates goes out at once under a 50/min quota, and the 51st
waits for the first one's minute to pass.

In front of the database each process keeps an aiolimiter `AsyncLimiter(rpm, 60)` per
model, so one replica alone never even asks for more than the quota.

A 429 from the provider (quota or shared capacity exhausted) backs off the whole
cluster: `back_off` stores `backoff_until` on the row (only ever moved later) and no
replica is granted a slot before it.

Polls are not paced here: they are not billed, but they count against the project's
request quota, which is why their cadence follows the model's expected latency
(orchestrator/providers/backoff.py) instead of a short fixed interval.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog
from aiolimiter import AsyncLimiter
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from orchestrator.db.models import ProviderPacing
from orchestrator.db.types import utcnow
from orchestrator.errors import StaleState
from orchestrator.providers.catalogue import CATALOGUE

__all__ = ["WINDOW_S", "CreatePacer", "next_slot"]

log = structlog.get_logger(__name__)

# Vertex quotas are per minute.
WINDOW_S = 60.0
# Guarded-update rounds before giving up on a slot (each lost round means another
# replica took one: progress is made cluster-wide).
_ATTEMPTS = 200


def next_slot(grants: list[float], now: float, rpm: int, backoff_until: float | None) -> float:
    """The earliest slot after `grants` that keeps every 60 s window within `rpm`.

    Slots are handed out in ascending order, so it is enough that the slot `rpm`
    places back lies a whole window earlier.
    """
    slot = max(now, backoff_until or now, grants[-1] if grants else now)
    if len(grants) >= rpm:
        slot = max(slot, grants[-rpm] + WINDOW_S)
    return slot


def _epoch(at: datetime) -> float:
    return at.timestamp()


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@dataclass
class CreatePacer:
    """Hands out create slots per model, cluster-wide; see the module docstring."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Callable[[], datetime] = utcnow
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    # REELGATE_CREATE_REQUESTS_PER_MINUTE: replaces every model's catalogued quota
    # (a project with a raised quota, or a test); None: the catalogue's figure.
    rpm_override: int | None = None
    _limiters: dict[str, AsyncLimiter] = field(default_factory=dict)

    def rpm_for(self, model: str) -> int | None:
        """The create quota per minute for `model`; None: not paced (local models)."""
        if self.rpm_override is not None:
            return self.rpm_override
        entry = CATALOGUE.get(model)
        return entry.requests_per_minute if entry is not None else None

    async def acquire(self, model: str) -> datetime | None:
        """Wait for a create slot of `model`; return the slot taken (None: unpaced)."""
        rpm = self.rpm_for(model)
        if rpm is None:
            return None
        limiter = self._limiters.get(model)
        if limiter is None:
            limiter = self._limiters[model] = AsyncLimiter(rpm, WINDOW_S)
        await limiter.acquire()
        slot = await self.take_slot(model, rpm)
        wait = (slot - self.clock()).total_seconds()
        if wait > 0:
            log.info("wait_create_slot", model=model, wait_s=round(wait, 3))
            await self.sleep(wait)
        return slot

    async def take_slot(self, model: str, rpm: int) -> datetime:
        """Reserve the next slot of `model` with a guarded update; return its time."""
        await self._ensure_row(model)
        for _ in range(_ATTEMPTS):
            async with self.sessions() as session, session.begin():
                row = (
                    await session.execute(
                        select(
                            ProviderPacing.version,
                            ProviderPacing.grants,
                            ProviderPacing.backoff_until,
                        ).where(ProviderPacing.key == model)
                    )
                ).one()
                version, grants, backoff = int(row[0]), [float(g) for g in row[1] or []], row[2]
                now = _epoch(self.clock())
                slot = next_slot(grants, now, rpm, _epoch(backoff) if backoff else None)
                kept = [g for g in grants if g > slot - WINDOW_S][-(rpm - 1) :] if rpm > 1 else []
                kept.append(slot)
                following = next_slot(kept, slot, rpm, None)
                result = await session.execute(
                    update(ProviderPacing)
                    .where(ProviderPacing.key == model, ProviderPacing.version == version)
                    .values(
                        version=version + 1,
                        grants=kept,
                        next_slot_at=_at(following),
                        updated_at=self.clock(),
                    )
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    return _at(slot)
        raise StaleState(f"could not take a create slot for {model} after {_ATTEMPTS} rounds")

    async def back_off(self, model: str, seconds: float, reason: str) -> datetime:
        """The provider said 429: no replica creates with `model` for `seconds`."""
        await self._ensure_row(model)
        until = self.clock() + timedelta(seconds=max(0.0, seconds))
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(ProviderPacing)
                .where(
                    ProviderPacing.key == model,
                    or_(
                        ProviderPacing.backoff_until.is_(None),
                        ProviderPacing.backoff_until < until,
                    ),
                )
                .values(backoff_until=until, backoff_reason=reason[:500])
                .execution_options(synchronize_session=False)
            )
        log.warning("back_off_creates", model=model, seconds=round(seconds, 3), reason=reason)
        return until

    async def backoff_until(self, model: str) -> datetime | None:
        async with self.sessions() as session:
            until = (
                await session.execute(
                    select(ProviderPacing.backoff_until).where(ProviderPacing.key == model)
                )
            ).scalar_one_or_none()
        return until if until is not None and until > self.clock() else None

    async def _ensure_row(self, model: str) -> None:
        async with self.sessions() as session:
            found = (
                await session.execute(select(ProviderPacing.key).where(ProviderPacing.key == model))
            ).scalar_one_or_none()
        if found is not None:
            return
        try:
            async with self.sessions() as session, session.begin():
                session.add(ProviderPacing(key=model, version=0, grants=[]))
        except IntegrityError:
            pass  # another replica made it first
