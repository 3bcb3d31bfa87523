"""A step that keeps failing transiently: bounded back-off, told, then Failed.

When a worker's step raises a transient error (the provider unreachable, storage
answering 5xx), the task is tried again after `step_retry_seconds`, doubling on
every failure in a row up to `step_retry_max_seconds`. The count, when the streak
began, the last error and the failing provider live on the task row, written by a
guarded update, so a restart (or another replica) carries on where it was instead
of starting the back-off again.

After `step_failures_before_comment` failures the owner gets one comment saying
what fails and that reelgate keeps trying; the same threshold marks the provider
down for /readyz and `reelgate_provider_up` (orchestrator/daemon/provider_health.py).
The channel's `max_step_failures` ends the streak in Failed, with the reason; a
step that works again clears it (with a comment when the owner was told).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import update

from orchestrator.db.models import Task
from orchestrator.errors import ProviderError, ReelgateError
from orchestrator.pipeline.context import PipelineContext
from orchestrator.pipeline.notion_out import comment
from orchestrator.pipeline.steps import fail_task
from orchestrator.settings import Settings
from orchestrator.state.status import Status

__all__ = ["clear_step_failures", "record_step_failure", "step_retry_delay"]

log = structlog.get_logger(__name__)


def step_retry_delay(failures: int, settings: Settings) -> float:
    """Seconds to wait after `failures` (>= 1) failures in a row: base * 2^(n-1), capped."""
    cap = max(settings.step_retry_max_seconds, settings.step_retry_seconds)
    return float(min(cap, settings.step_retry_seconds * 2.0 ** min(failures - 1, 62)))


def _wait_text(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


def _cleared() -> dict[str, object]:
    return {
        "step_failures": 0,
        "step_failure_status": None,
        "step_failing_since": None,
        "step_failure_error": None,
        "step_failure_provider": None,
    }


async def record_step_failure(
    ctx: PipelineContext, task_id: int, step: str, exc: ReelgateError
) -> datetime | None:
    """Count a transient failure of `step`; return when to try again (None: no retry,
    because the task moved meanwhile or has now been failed)."""
    now = ctx.clock()
    settings = ctx.settings
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        if task is None or task.status != step:
            return None
        channel = ctx.channels.get(task.channel)
        streak = task.step_failure_status == step and task.step_failures > 0
        failures = task.step_failures + 1 if streak else 1
        since = task.step_failing_since if streak and task.step_failing_since else now
        provider = channel.provider if isinstance(exc, ProviderError) else None
        error = str(exc)[:1000]
        # Guarded: only the worker that saw this count (and this status) moves it on.
        result = await session.execute(
            update(Task)
            .where(
                Task.id == task_id,
                Task.status == step,
                Task.step_failures == task.step_failures,
            )
            .values(
                step_failures=failures,
                step_failure_status=step,
                step_failing_since=since,
                step_failure_error=error,
                step_failure_provider=provider,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        what = f"{Status(step).label} ({provider} provider)" if provider else Status(step).label
        limit = channel.max_step_failures
        bound = log.bind(task=task_id, step=step, failures=failures, limit=limit, error=error)
        if provider is not None and failures >= settings.step_failures_before_comment:
            ctx.metrics.provider_up.labels(provider=provider).set(0)
        if failures >= limit:
            await session.refresh(task)
            for key, value in _cleared().items():
                setattr(task, key, value)
            await fail_task(
                session,
                task,
                f"{what} failed {failures} times in a row since "
                f"{since:%Y-%m-%d %H:%M} UTC (the channel's limit, max_step_failures, "
                f"is {limit}), so reelgate stopped trying. Last error: {error}",
            )
            bound.error("fail_step_after_retries")
            return None
        delay = step_retry_delay(failures, settings)
        if failures == settings.step_failures_before_comment:
            comment(
                session,
                task,
                f"{what} is failing: {error}\n"
                f"This happened {failures} times in a row since {since:%H:%M} UTC. "
                f"reelgate keeps trying, waiting longer each time (next try in "
                f"{_wait_text(delay)}); nothing is lost. After {limit} failures in a row "
                f"the task is set to {Status.FAILED.label} with the reason.",
            )
        bound.warning("retry_step_later", delay_s=delay)
        return now + timedelta(seconds=delay)


async def clear_step_failures(ctx: PipelineContext, task_id: int, step: str) -> None:
    """The step ran: end its failure streak (and say so when the owner was told)."""
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        if task is None or task.step_failures == 0:
            return
        failures, provider = task.step_failures, task.step_failure_provider
        told = task.step_failure_status == step and (
            failures >= ctx.settings.step_failures_before_comment
        )
        result = await session.execute(
            update(Task)
            .where(Task.id == task_id, Task.step_failures == failures)
            .values(**_cleared())
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return
        if provider is not None:
            ctx.metrics.provider_up.labels(provider=provider).set(1)
        if told:
            comment(
                session,
                task,
                f"{Status(step).label} works again after {failures} failed tries; "
                "the task carries on.",
                mention_owner=False,
            )
        log.info("recover_step", task=task_id, step=step, failures=failures)
