"""Recording paid calls: every Charge lands in cost_ledger and on the task's total.

A charge for a provider operation carries its name, and `cost_ledger.operation_name`
is unique: the row is inserted with ON CONFLICT DO NOTHING (PostgreSQL and SQLite),
and only a row that went in is added to the task's total. A result stored twice can
therefore never be paid twice.

A call the provider's safety filter blocked is recorded too, at $0 (`record_blocked`),
so the ledger shows every attempt.
"""

from __future__ import annotations

import structlog
from sqlalchemy import insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from orchestrator.db.models import CostEntry, Task
from orchestrator.errors import ContentFiltered
from orchestrator.metrics import Metrics
from orchestrator.providers.base import Charge
from orchestrator.providers.catalogue import CATALOGUE

__all__ = ["record_blocked", "record_charge"]

log = structlog.get_logger(__name__)


def _media_seconds(charge: Charge) -> float | None:
    """Seconds of video or speech the call made (what it is priced by), if timed."""
    if charge.unit == "second":
        return charge.units
    if charge.unit == "minute":
        return round(charge.units * 60, 3)
    return None


async def record_charge(
    session: AsyncSession,
    task: Task,
    charge: Charge | None,
    *,
    kind: str,
    metrics: Metrics,
    clip_id: int | None = None,
    operation_name: str | None = None,
) -> float:
    """Add the charge to the ledger and the task's cost; return its USD."""
    if charge is None:
        return 0.0
    row = {
        "task_id": task.id,
        "clip_id": clip_id,
        "kind": kind,
        "provider": charge.provider,
        "model": charge.model,
        "units": charge.units,
        "unit": charge.unit,
        "usd": charge.usd,
        "operation_name": operation_name,
    }
    if operation_name is None:
        await session.execute(insert(CostEntry).values(row))
    else:
        dialect = session.get_bind().dialect.name
        build = pg_insert if dialect == "postgresql" else sqlite_insert
        inserted = (
            await session.execute(
                build(CostEntry)
                .values(row)
                .on_conflict_do_nothing(index_elements=["operation_name"])
                .returning(CostEntry.id)
            )
        ).scalar_one_or_none()
        if inserted is None:
            log.warning("skip_duplicate_charge", task=task.id, kind=kind, operation=operation_name)
            return 0.0
    # Several clips of one task finish concurrently: add in SQL, never read-modify-write.
    total = (
        await session.execute(
            update(Task)
            .where(Task.id == task.id)
            .values(cost_usd=Task.cost_usd + charge.usd)
            .returning(Task.cost_usd)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one()
    set_committed_value(task, "cost_usd", float(total))
    metrics.cost_usd.labels(provider=charge.provider, model=charge.model).inc(charge.usd)
    metrics.channel_cost_usd.labels(channel=task.channel).inc(charge.usd)
    # One line per paid call (a filtered clip shows up at $0).
    log.info(
        "record_charge",
        task=task.id,
        kind=kind,
        provider=charge.provider,
        model=charge.model,
        seconds=_media_seconds(charge),
        units=charge.units,
        unit=charge.unit,
        usd=round(charge.usd, 4),
        task_usd=round(float(total), 4),
    )
    return charge.usd


async def record_blocked(
    session: AsyncSession,
    task: Task,
    blocked: ContentFiltered,
    *,
    provider: str,
    kind: str,
    metrics: Metrics,
    clip_id: int | None = None,
) -> None:
    """A call the safety filter blocked: in the ledger at $0 (nothing is billed)."""
    entry = CATALOGUE.get(blocked.model)
    charge = Charge(
        provider=provider,
        model=blocked.model,
        units=0.0,
        unit=entry.unit if entry is not None else "request",
        usd=0.0,
    )
    await record_charge(session, task, charge, kind=kind, metrics=metrics, clip_id=clip_id)
