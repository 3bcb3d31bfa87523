"""`reelgate run`: one process composing DESIGN §4.

Periodic work is an APScheduler job; work that goes on while there is some is a loop:
- the Notion poll, URL refresh and gauges: interval jobs (poll and refresh: leader only);
- the outbox drainer (leader only: the Notion rate limit then holds cluster-wide): loop;
- the operation poller (every replica: it only needs operation names in the DB): a
  loop that sleeps until the next operation is due, or until a submit wakes it;
- N worker loops claiming tasks with leases (every replica);
- /healthz, /readyz, /metrics.

Every job and loop runs under one `Supervisor`: a failed run is logged and counted,
and a loop that keeps failing makes /healthz answer 503 naming it.

SIGTERM: stop claiming, let running steps reach their end (a safe point: every
paid operation is already recorded), exit within the grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import and_, func, select

from orchestrator.admin import flag_stuck_tasks, publish_admin_gauges, publish_static_gauges
from orchestrator.daemon.drainer import OutboxDrainer, pending_count
from orchestrator.daemon.leader import LeaderElector
from orchestrator.daemon.notion_poll import NotionPoller
from orchestrator.daemon.runtime import Runtime
from orchestrator.daemon.supervisor import Supervisor, pause
from orchestrator.daemon.worker import Worker
from orchestrator.db.models import Clip, Task
from orchestrator.db.outbox_signal import on_outbox_commit
from orchestrator.db.types import utcnow
from orchestrator.pipeline.operations import next_due_at, poll_due_operations
from orchestrator.pipeline.refresh import refresh_expiring_urls
from orchestrator.pipeline.settle import ERROR_STATUSES
from orchestrator.pipeline.steps import RUNNABLE
from orchestrator.state.claims import readopt_dead
from orchestrator.state.clips import IN_FLIGHT

__all__ = ["Daemon"]

log = structlog.get_logger(__name__)

# A woken drainer waits this long before its round: the statuses a worker moves a task
# through in one go (milliseconds apart) go in one round, where only the latest is
# sent; clip rows stored while the last clips finish start going out at once.
OUTBOX_SETTLE_S = 0.25


class Daemon:
    def __init__(
        self,
        runtime: Runtime,
        *,
        leader: LeaderElector | None = None,
        idle_sleep: float = 0.5,
    ) -> None:
        self.runtime = runtime
        self.ctx = runtime.ctx
        self.leader = leader or LeaderElector(runtime.engine, metrics=runtime.metrics)
        self.poller = NotionPoller(self.ctx, runtime.notion)
        self.drainer = OutboxDrainer(self.ctx.sessions, runtime.writer, runtime.metrics)
        self.supervisor = Supervisor(
            runtime.metrics, unhealthy_after=self.ctx.settings.unhealthy_after_failures
        )
        self._idle_sleep = idle_sleep
        self.stopping = asyncio.Event()
        # Set by a commit in this process that queued a Notion write (db/outbox_signal.py).
        self._outbox_ready = asyncio.Event()
        self._poll_started = 0.0
        self._last_busy = time.monotonic()
        self.polls = 0
        self._seen_requests = 0
        # Rounds of the operation loop (a poll pass or a look at the schedule), for
        # tests and the idle explanation in docs/operations.md.
        self.operation_rounds = 0
        self._seen_429 = 0
        self._seen_retries = 0
        publish_static_gauges(
            runtime.metrics, self.ctx.channels, runtime.config.notion.requests_per_second
        )

    # -- jobs -------------------------------------------------------------------------
    async def poll_notion(self) -> None:
        was_leader = self.leader.is_leader
        if not await self.leader.acquire():
            return
        if not was_leader:
            # The token's last second may have been spent by the leader before us
            # (or by replicas' start-up reads): start at the steady pace, no burst.
            self.runtime.notion.limiter.forgo_burst()
            # Writes the replicas queued meanwhile are ours to send now.
            self._outbox_ready.set()
        started = time.monotonic()
        try:
            await self.poller.poll_once()
            self.polls += 1
            self._poll_started = started
        finally:
            self._publish_notion_stats()

    async def confirm_reviews(self) -> None:
        """The settle rule's page reads (leader only; no request when none is due)."""
        if not self.leader.is_leader:
            return
        try:
            await self.poller.confirm_reviews()
        finally:
            self._publish_notion_stats()

    async def poll_notion_now(self) -> None:
        """A poll out of schedule (a webhook's hint), supervised like the job."""
        await self.supervisor.run("notion_poll", self.poll_notion)

    async def update_gauges(self) -> None:
        async with self.ctx.sessions() as session:
            counts = await session.execute(
                select(Task.status, func.count(Task.id)).group_by(Task.status)
            )
            in_flight = (
                await session.execute(select(func.count(Clip.id)).where(Clip.status.in_(IN_FLIGHT)))
            ).scalar_one()
        self.runtime.metrics.set_task_counts({status: int(n) for status, n in counts.all()})
        self.runtime.metrics.operations_in_flight.set(int(in_flight))
        await publish_admin_gauges(self.ctx)

    async def flag_stuck(self) -> None:
        if self.leader.is_leader:  # one replica writes the comments
            await flag_stuck_tasks(self.ctx)

    async def refresh_urls(self) -> None:
        if self.leader.is_leader:
            await refresh_expiring_urls(self.ctx)

    def _publish_notion_stats(self) -> None:
        stats = self.runtime.notion.stats
        metrics = self.runtime.metrics
        # Prometheus counters only go up: add what the client counted since last time.
        metrics.notion_requests.labels(outcome="sent").inc(stats.requests - self._seen_requests)
        metrics.notion_rate_limited.inc(stats.rate_limited - self._seen_429)
        metrics.notion_retries.inc(stats.retries - self._seen_retries)
        self._seen_requests, self._seen_429 = stats.requests, stats.rate_limited
        self._seen_retries = stats.retries

    async def _drain(self) -> bool:
        if not self.leader.is_leader:
            return False
        sent = await self.drainer.drain_once()
        self._publish_notion_stats()
        return sent > 0

    async def _operations(self) -> bool:
        return await poll_due_operations(self.ctx) > 0

    async def operations_sleep(self) -> float:
        """Seconds until the next operation is due, at most `operation_poll_seconds`."""
        longest = self.ctx.settings.operation_poll_seconds
        due = await next_due_at(self.ctx)
        if due is None:
            return longest
        return max(0.0, min(longest, (due - self.ctx.clock()).total_seconds()))

    async def operations_loop(self) -> None:
        """Poll what is due; then sleep until the next due time or a submit's wake-up."""
        changed = self.ctx.operations_changed
        while not self.stopping.is_set():
            changed.clear()
            self.operation_rounds += 1
            busy = await self.supervisor.run("operations", self._operations)
            if busy:
                self._mark_busy()
                continue
            sleep = await self.supervisor.run("operations", self.operations_sleep)
            if sleep is None:  # failed (logged and counted): the usual longest sleep
                sleep = self.ctx.settings.operation_poll_seconds
            if sleep > 0:
                await pause(sleep, self.stopping, changed)

    # -- idleness -----------------------------------------------------------------------
    async def is_idle(self) -> bool:
        """Nothing runnable, nothing in flight, nothing to send, and Notion read since."""
        # Only a poll that had *finished* before we count may vouch for the counts:
        # one finishing meanwhile may have just added a task we did not see.
        last_full_poll = self._poll_started
        # A task not due for hours waits on a person (a re-plan waiting for its
        # References to be fixed, pipeline/steps.py): that is idle, not work.
        waiting = self.ctx.clock() + timedelta(hours=1)
        async with self.ctx.sessions() as session:
            runnable = (
                await session.execute(
                    select(func.count(Task.id)).where(
                        Task.status.in_([s.value for s in RUNNABLE]),
                        # An X Error that answered its notes waits for a person.
                        ~and_(
                            Task.status.in_(ERROR_STATUSES),
                            Task.review_noted_hash.is_not(None),
                            Task.review_noted_hash == Task.review_input_hash,
                        ),
                        (Task.not_before.is_(None)) | (Task.not_before < waiting),
                    )
                )
            ).scalar_one()
            in_flight = (
                await session.execute(select(func.count(Clip.id)).where(Clip.status.in_(IN_FLIGHT)))
            ).scalar_one()
            outbox = await pending_count(session, due_at=utcnow())
        if runnable or in_flight or outbox:
            self._last_busy = time.monotonic()
            return False
        # A human may have acted since our last write: one full poll after the last
        # activity must find nothing new.
        return last_full_poll > self._last_busy

    # -- lifecycle ----------------------------------------------------------------------
    async def run(self, *, until_idle: bool = False, workers: int | None = None) -> None:
        settings = self.ctx.settings
        count = workers or settings.workers
        supervise = self.supervisor
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(
            supervise.job("notion_poll", self.poll_notion),
            "interval",
            seconds=settings.notion_poll_seconds,
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
            id="notion_poll",
        )
        # Review notes are acted on once still for the settle time: the leader reads
        # the page again when that time is up (a database query until then).
        scheduler.add_job(
            supervise.job("review_settle", self.confirm_reviews),
            "interval",
            seconds=max(0.2, min(5.0, settings.review_settle_seconds / 4)),
            max_instances=1,
            coalesce=True,
            id="review_settle",
        )
        # Presigned URLs last days; an hourly look keeps Notion's copies working.
        scheduler.add_job(
            supervise.job("url_refresh", self.refresh_urls),
            "interval",
            hours=1,
            max_instances=1,
            coalesce=True,
            id="url_refresh",
        )
        scheduler.add_job(
            supervise.job("gauges", self.update_gauges),
            "interval",
            seconds=15,
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
            id="gauges",
        )
        scheduler.add_job(
            supervise.job("stuck_tasks", self.flag_stuck),
            "interval",
            seconds=60,
            max_instances=1,
            coalesce=True,
            id="stuck_tasks",
        )
        scheduler.start()
        stop_outbox_signal = on_outbox_commit(self._outbox_ready.set)
        # The drainer, the operation poller and the workers are loops, not interval
        # jobs: while they find work they go round again at once (a backlog of Notion
        # writes drains at the limiter's pace, due operations are polled without
        # waiting out an interval); only an idle round sleeps.
        # Leases and operation claims of a dead predecessor on this host (SIGKILL,
        # OOM) are freed now rather than waited out (state/claims.py readopt_dead).
        await self.supervisor.run("readopt", self.readopt)  # a failure only costs the wait
        loops = [
            # Idle means idle: an empty outbox is looked at every few seconds, and a
            # write queued here wakes the drainer (db/outbox_signal.py).
            self._supervised_loop(
                "drain",
                self._drain,
                settings.outbox_drain_seconds,
                wake=self._outbox_ready,
                idle_max=max(settings.outbox_drain_seconds, settings.outbox_idle_max_seconds),
                settle_on_wake=min(settings.outbox_drain_seconds, OUTBOX_SETTLE_S),
            ),
            asyncio.create_task(self.operations_loop(), name="reelgate-operations"),
        ]
        worker_tasks = [
            self._supervised_loop(
                f"worker-{i}",
                Worker(self.ctx, f"{self.runtime.config.worker_id}-{i}").run_once,
                self._idle_sleep,
                # Idle means idle: a claim query every few seconds, not twice a second.
                wake=self.ctx.work_ready,
                idle_max=max(self._idle_sleep, settings.worker_idle_max_seconds),
            )
            for i in range(count)
        ]
        log.info("start_daemon", workers=count, until_idle=until_idle)
        try:
            if until_idle:
                while not self.stopping.is_set():
                    if await self.is_idle():
                        log.info("reach_idle")
                        break
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.stopping.wait(), self._idle_sleep)
            else:
                await self.stopping.wait()
        finally:
            self.stopping.set()
            stop_outbox_signal()
            scheduler.shutdown(wait=False)
            _, pending = await asyncio.wait(
                [*worker_tasks, *loops], timeout=settings.shutdown_grace_seconds
            )
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await self.leader.release()
            log.info("stop_daemon", unfinished=len(pending))

    async def readopt(self) -> None:
        """Free what dead processes of this host (or of our replica id) still hold."""
        worker_id = self.ctx.settings.worker_id
        tasks, clips = await readopt_dead(
            self.ctx.sessions,
            replica_prefix=f"{worker_id}-" if worker_id else None,
            now=self.ctx.clock(),
        )
        if tasks or clips:
            log.info("readopt_dead_leases", tasks=tasks, operations=clips)

    def stop(self) -> None:
        self.stopping.set()

    def _supervised_loop(
        self,
        name: str,
        body: Callable[[], Awaitable[bool]],
        every: float,
        *,
        wake: asyncio.Event | None = None,
        idle_max: float | None = None,
        settle_on_wake: float = 0.0,
    ) -> asyncio.Task[None]:
        return asyncio.create_task(
            self.supervisor.loop(
                name,
                body,
                every=every,
                stopping=self.stopping,
                on_busy=self._mark_busy,
                wake=wake,
                idle_max=idle_max,
                settle_on_wake=settle_on_wake,
            ),
            name=f"reelgate-{name}",
        )

    def _mark_busy(self) -> None:
        self._last_busy = time.monotonic()
