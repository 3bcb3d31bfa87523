"""Is the generation provider reachable? What /readyz and `reelgate_provider_up` say.

A provider is *down* while some task's step has failed on it at least
`step_failures_before_comment` times in a row and is still backing off
(orchestrator/pipeline/step_retry.py). That streak is kept on the task rows, so
every replica, and a replica just restarted, answers the same; a step that works
again clears it. /readyz answers 503 while a provider is down (the daemon cannot do
its work) and names the provider, since when, how many tasks wait and the last error.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from orchestrator.channels import Channels
from orchestrator.daemon.health import Readiness, ReadinessCheck
from orchestrator.db.models import Task
from orchestrator.metrics import Metrics

__all__ = ["provider_outages", "provider_readiness"]


async def provider_outages(session: AsyncSession, threshold: int) -> dict[str, dict[str, Any]]:
    """provider -> {since, tasks, error} for every provider failing `threshold`+ in a row."""
    failing = (
        Task.step_failure_provider.is_not(None),
        Task.step_failures >= threshold,
        Task.status == Task.step_failure_status,
    )
    rows = await session.execute(
        select(
            Task.step_failure_provider,
            func.count(Task.id),
            func.min(Task.step_failing_since),
            func.max(Task.step_failures),
        )
        .where(*failing)
        .group_by(Task.step_failure_provider)
    )
    out: dict[str, dict[str, Any]] = {}
    for provider, tasks, since, failures in rows.all():
        error = (
            await session.execute(
                select(Task.step_failure_error)
                .where(*failing, Task.step_failure_provider == provider)
                .order_by(Task.step_failures.desc(), Task.id)
                .limit(1)
            )
        ).scalar_one_or_none()
        out[str(provider)] = {
            "status": "down",
            "since": since.isoformat() if since is not None else None,
            "failing_tasks": int(tasks),
            "failures_in_a_row": int(failures),
            "error": (error or "")[:300],
        }
    return out


def provider_readiness(
    sessions: async_sessionmaker[AsyncSession],
    channels: Channels,
    metrics: Metrics,
    *,
    threshold: int,
) -> ReadinessCheck:
    """A readiness check: not ready while a provider is down; sets reelgate_provider_up."""

    async def check() -> Readiness:
        async with sessions() as session:
            down = await provider_outages(session, threshold)
        providers: dict[str, Any] = {name: "up" for name in sorted({c.provider for c in channels})}
        providers.update(down)
        for name in providers:
            metrics.provider_up.labels(provider=name).set(0 if name in down else 1)
        return not down, {"providers": providers}

    return check
