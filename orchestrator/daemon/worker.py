"""Worker loop: claim a runnable task with a lease, run one step, release."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta

import structlog

from orchestrator.db.models import Task
from orchestrator.errors import ReelgateError, StaleState
from orchestrator.pipeline.context import PipelineContext
from orchestrator.pipeline.step_retry import clear_step_failures, record_step_failure
from orchestrator.pipeline.steps import RUNNABLE, fail_task, run_step
from orchestrator.state.claims import claim_next, heartbeat, release

__all__ = ["Worker"]

log = structlog.get_logger(__name__)
_STATUSES = [s.value for s in RUNNABLE]


class Worker:
    def __init__(self, ctx: PipelineContext, owner: str) -> None:
        self._ctx = ctx
        self.owner = owner
        self._lease = timedelta(seconds=ctx.settings.lease_seconds)

    async def run_once(self) -> bool:
        """Claim and run one step; False when nothing was runnable."""
        task = await claim_next(
            self._ctx.sessions,
            self.owner,
            _STATUSES,
            lease=self._lease,
            now=self._ctx.clock(),
            process=self._ctx.process,
        )
        if task is None:
            return False
        structlog.contextvars.bind_contextvars(task=task.id, page=task.notion_page_id)
        beat = asyncio.create_task(self._heartbeat(task.id))
        not_before = None
        started = time.monotonic()
        step = task.status
        try:
            not_before = await run_step(self._ctx, task.id)
            if task.step_failures:
                await clear_step_failures(self._ctx, task.id, step)
        except StaleState as exc:
            log.info("skip_stale_step", reason=str(exc))
        except ReelgateError as exc:
            if exc.transient:
                # Bounded, persisted back-off; Failed after the channel's limit.
                not_before = await record_step_failure(self._ctx, task.id, step, exc)
            else:
                await self._fail(task.id, f"{step.replace('_', ' ')} failed: {exc}")
        except Exception as exc:  # a bug must not kill the worker: fail the task loudly
            log.exception("crash_step", step=step)
            await self._fail(
                task.id,
                f"{step.replace('_', ' ')} failed unexpectedly: {type(exc).__name__}: {exc}",
            )
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
            async with self._ctx.sessions() as session, session.begin():
                await release(session, task.id, self.owner, not_before=not_before)
            self._ctx.metrics.step_seconds.labels(step=step).observe(time.monotonic() - started)
            structlog.contextvars.unbind_contextvars("task", "page")
        return True

    async def _fail(self, task_id: int, message: str) -> None:
        try:
            async with self._ctx.sessions() as session, session.begin():
                task = await session.get(Task, task_id)
                assert task is not None
                if task.lease_owner != self.owner:
                    # Our lease lapsed mid-step (a stalled process) and another worker
                    # has the task: what failed here is our stale view, not the task.
                    log.warning("skip_fail_lost_lease", task=task_id, error=message)
                    return
                await fail_task(session, task, message)
        except StaleState:
            log.info("skip_fail_moved_task", task=task_id)

    async def _heartbeat(self, task_id: int) -> None:
        while True:
            await asyncio.sleep(self._ctx.settings.heartbeat_seconds)
            async with self._ctx.sessions() as session, session.begin():
                if not await heartbeat(session, task_id, self.owner, lease=self._lease):
                    log.warning("lose_lease", task=task_id)
                    return
