"""The gauges admins alert on, sampled from the database by the daemon's gauges job."""

from __future__ import annotations

from orchestrator.admin.outbox import outbox_health
from orchestrator.admin.stuck import stuck_tasks
from orchestrator.channels import Channels
from orchestrator.metrics import Metrics
from orchestrator.pipeline.context import PipelineContext

__all__ = ["publish_admin_gauges", "publish_static_gauges"]


def publish_static_gauges(metrics: Metrics, channels: Channels, notion_rps: float) -> None:
    """Thresholds from the configuration, so alerts and panels can compare against them."""
    for channel in channels:
        if channel.budget_per_hour_usd is not None:
            metrics.channel_budget_per_hour_usd.labels(channel=channel.name).set(
                channel.budget_per_hour_usd
            )
    metrics.notion_requests_per_second_limit.set(notion_rps)


async def publish_admin_gauges(ctx: PipelineContext) -> None:
    """Dead letters, the oldest unsent write's age and stuck tasks (every replica)."""
    now = ctx.clock()
    async with ctx.sessions() as session:
        dead, oldest_age = await outbox_health(session, now)
        stuck = len(await stuck_tasks(session, ctx.channels, now))
    ctx.metrics.outbox_dead_letters.set(dead)
    ctx.metrics.outbox_oldest_age_seconds.set(oldest_age)
    ctx.metrics.stuck_tasks.set(stuck)
