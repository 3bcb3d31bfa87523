"""Recording paid calls: every Charge lands in cost_ledger and on the task's total."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from orchestrator.db.models import CostEntry, Task
from orchestrator.metrics import Metrics
from orchestrator.providers.base import Charge

__all__ = ["record_charge"]


def record_charge(
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
    session.add(
        CostEntry(
            task_id=task.id,
            clip_id=clip_id,
            kind=kind,
            provider=charge.provider,
            model=charge.model,
            units=charge.units,
            unit=charge.unit,
            usd=charge.usd,
            operation_name=operation_name,
        )
    )
    task.cost_usd = round(task.cost_usd + charge.usd, 6)
    metrics.cost_usd.labels(provider=charge.provider, model=charge.model).inc(charge.usd)
    return charge.usd
