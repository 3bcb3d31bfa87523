"""The outbox drainer: sends queued Notion writes in order, at Notion's pace.

Runs only on the leader, so the client's 2.5 req/s limiter holds cluster-wide.
Within a batch, property updates of the same page (and of the same Videos row)
are merged by `notion_sync.ops.coalesce`: they are idempotent sets and Notion
only needs the last value.
A transient failure stops that page's later writes until the retry, so a page
never sees its writes out of order; a permanent failure is dead-lettered with
the reason, and the drain goes on. A write refused because the task page is in
Notion's trash is neither: the task is cancelled and the page's writes are *held*
until a read finds the page restored (pipeline/trash.py sends them then).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notion_sync.errors import NotionError
from notion_sync.mapping import task_from_page
from notion_sync.ops import (
    NotionOp,
    SetTaskStatus,
    UpsertVideoRow,
    coalesce,
    op_adapter,
    page_of,
)
from notion_sync.schema import Kind, missing_property
from notion_sync.writer import NotionWriter, OpResult
from orchestrator.db.models import Clip, OutboxItem, Task
from orchestrator.db.types import utcnow
from orchestrator.errors import StaleState
from orchestrator.metrics import Metrics
from orchestrator.pipeline.drift import record_drift
from orchestrator.pipeline.trash import hold_page_writes
from orchestrator.state.machine import transition
from orchestrator.state.status import Status

__all__ = ["OutboxDrainer", "pending_count"]

log = structlog.get_logger(__name__)


@dataclass
class _Group:
    op: NotionOp
    item_ids: list[int] = field(default_factory=list)
    task_id: int | None = None


def _page_trashed(exc: NotionError) -> bool:
    # Notion's answer to any write to a page in the trash.
    return exc.status == 400 and "is archived" in str(exc)


async def pending_count(session: AsyncSession) -> int:
    return int(
        (
            await session.execute(
                select(func.count(OutboxItem.id)).where(
                    OutboxItem.sent_at.is_(None),
                    OutboxItem.dead.is_(False),
                    OutboxItem.held.is_(False),
                )
            )
        ).scalar_one()
    )


class OutboxDrainer:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        writer: NotionWriter,
        metrics: Metrics,
        *,
        batch: int = 100,
        max_attempts: int = 8,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._writer = writer
        self._metrics = metrics
        self._batch = batch
        self._max_attempts = max_attempts
        self._clock = clock

    async def drain_once(self) -> int:
        """Send one batch of due writes; return how many outbox rows were settled."""
        now = self._clock()
        async with self._sessions() as session:
            items = (
                (
                    await session.execute(
                        select(OutboxItem)
                        .where(
                            OutboxItem.sent_at.is_(None),
                            OutboxItem.dead.is_(False),
                            OutboxItem.held.is_(False),
                        )
                        .order_by(OutboxItem.id)
                        .limit(self._batch)
                    )
                )
                .scalars()
                .all()
            )
        due: list[tuple[OutboxItem, NotionOp]] = []
        waiting_pages: set[str] = set()
        for item in items:
            op = op_adapter.validate_python(item.op)
            page = page_of(op)
            if item.next_attempt_at is not None and item.next_attempt_at > now:
                waiting_pages.add(page)  # keep this page's order: wait for the retry
                continue
            if page in waiting_pages:
                continue
            due.append((item, op))
        groups = [
            _Group(
                op=merged.op,
                item_ids=[due[i][0].id for i in merged.sources],
                task_id=due[merged.sources[0]][0].task_id,
            )
            for merged in coalesce([op for _, op in due])
        ]
        settled = 0
        blocked: set[str] = set()
        for group in groups:
            page = page_of(group.op)
            if page in blocked:
                continue
            if await self._send(group):
                settled += len(group.item_ids)
            else:
                blocked.add(page)
        async with self._sessions() as session:
            self._metrics.outbox_pending.set(await pending_count(session))
        return settled

    async def _send(self, group: _Group) -> bool:
        op = group.op
        if isinstance(op, UpsertVideoRow) and op.row_page_id is None:
            op = await self._with_row_id(op)
        bound = log.bind(op=op.kind, page=page_of(op), task=group.task_id)
        try:
            if isinstance(op, SetTaskStatus) and await self._human_moved_since(op, group):
                bound.info("skip_status_write", reason="Status changed in Notion since")
                return True
            result = await self._writer.execute(op)
        except NotionError as exc:
            if _page_trashed(exc) and not isinstance(op, UpsertVideoRow):
                # Not a dead letter: the page may come back from the trash.
                await self._hold_trashed(group, exc)
                bound.warning("hold_notion_op_page_in_trash", error=str(exc))
                return False
            await self._failed(group, exc)
            missing = missing_property(exc)
            if missing is not None:
                await self._drifted(group, op, missing)
            if exc.transient:
                bound.warning("send_notion_op_later", error=str(exc))
                return False
            bound.error("dead_letter_notion_op", error=str(exc))
            return True
        await self._sent(group, op, result)
        bound.debug("send_notion_op", requests=result.requests)
        return True

    async def _drifted(self, group: _Group, op: NotionOp, name: str) -> None:
        """Notion says a property we write does not exist: renamed or deleted while
        we run. Recorded (readiness, metric), its owner told once; the write is
        dead-lettered and goes out again once the property is back."""
        kind: Kind = "videos" if isinstance(op, UpsertVideoRow) else "tasks"
        settings = self._writer.settings
        ds_id = (
            settings.videos_data_source_id if kind == "videos" else (settings.tasks_data_source_id)
        )
        try:
            # Confirmed from the schema (one request): drift is about the data
            # source, and a stray answer must not start a drift episode.
            source = await self._writer.client.retrieve_data_source(ds_id)
        except NotionError as exc:
            log.warning("confirm_schema_drift_failed", property=name, error=str(exc))
            return
        if name in (source.get("properties") or {}):
            log.warning("skip_schema_drift", property=name, reason="the property exists")
            return
        async with self._sessions() as session, session.begin():
            task = await session.get(Task, group.task_id) if group.task_id is not None else None
            await record_drift(
                session,
                kind,
                [name],
                seen=f"writing to it ({op.kind.replace('_', ' ')})",
                now=self._clock(),
                settings=self._writer.settings,
                task=task,
                metrics=self._metrics,
            )

    async def _human_moved_since(self, op: SetTaskStatus, group: _Group) -> bool:
        """Did someone set Status in Notion after we last looked? Then our write is
        stale: overwriting it would lose their move before the poller sees it. The
        write is dropped; the next poll applies (or refuses) their move."""
        async with self._sessions() as session:
            last_seen = (
                await session.execute(
                    select(Task.last_seen_status).where(Task.notion_page_id == op.page_id)
                )
            ).scalar_one_or_none()
        if last_seen is None:
            return False
        page = await self._writer.client.retrieve_page(op.page_id)
        # An emptied Status reads as None and is remembered as "" (sync.py).
        shown = task_from_page(page, self._writer.task_names).status_label or ""
        if shown in (last_seen, op.status_label):
            return False
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(OutboxItem)
                .where(OutboxItem.id.in_(group.item_ids))
                .values(
                    sent_at=self._clock(),
                    last_error=f"superseded: Status was set to {shown!r} in Notion",
                )
                .execution_options(synchronize_session=False)
            )
        return True

    async def _hold_trashed(self, group: _Group, exc: NotionError) -> None:
        """The task page is in the trash: hold its writes and cancel the task.

        Trashed pages drop out of every query, so the poller never sees them: a write
        refused because the task page is in the trash is how we learn of it.
        """
        now = self._clock()
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(OutboxItem)
                .where(OutboxItem.id.in_(group.item_ids))
                .values(attempts=OutboxItem.attempts + 1, last_error=str(exc)[:2000])
                .execution_options(synchronize_session=False)
            )
            if group.task_id is None:
                await session.execute(
                    update(OutboxItem)
                    .where(OutboxItem.id.in_(group.item_ids))
                    .values(held=True)
                    .execution_options(synchronize_session=False)
                )
                return
            task = await session.get(Task, group.task_id)
            if task is None:
                return
            await hold_page_writes(session, task, now)
        await self._cancel_trashed(group.task_id)

    async def _cancel_trashed(self, task_id: int | None) -> None:
        if task_id is None:
            return
        try:
            async with self._sessions() as session, session.begin():
                task = await session.get(Task, task_id)
                if task is None or Status(task.status).terminal:
                    return
                await transition(session, task, Status.CANCELLED, "human", "page moved to trash")
        except StaleState:
            return  # moved meanwhile; the next refused write tries again
        log.info("cancel_trashed_task", task=task_id)

    async def _with_row_id(self, op: UpsertVideoRow) -> UpsertVideoRow:
        async with self._sessions() as session:
            row_id = (
                await session.execute(
                    select(Clip.notion_row_id)
                    .join(Task, Task.id == Clip.task_id)
                    .where(Task.notion_page_id == op.task_page_id, Clip.number == op.clip_number)
                )
            ).scalar_one_or_none()
        return op.model_copy(update={"row_page_id": row_id}) if row_id else op

    async def _sent(self, group: _Group, op: NotionOp, result: OpResult) -> None:
        now = self._clock()
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(OutboxItem)
                .where(OutboxItem.id.in_(group.item_ids))
                .values(sent_at=now, attempts=OutboxItem.attempts + 1, last_error=None)
                .execution_options(synchronize_session=False)
            )
            if isinstance(op, SetTaskStatus):
                # What Notion now shows: the poller must not mistake it for a human move.
                await session.execute(
                    update(Task)
                    .where(Task.notion_page_id == op.page_id)
                    .values(last_seen_status=op.status_label)
                    .execution_options(synchronize_session=False)
                )
            row_id = result.created_row_id or result.row_id
            if isinstance(op, UpsertVideoRow) and row_id:
                task_id = (
                    await session.execute(
                        select(Task.id).where(Task.notion_page_id == op.task_page_id)
                    )
                ).scalar_one_or_none()
                await session.execute(
                    update(Clip)
                    .where(Clip.task_id == task_id, Clip.number == op.clip_number)
                    .values(notion_row_id=row_id)
                    .execution_options(synchronize_session=False)
                )

    async def _failed(self, group: _Group, exc: NotionError) -> None:
        now = self._clock()
        async with self._sessions() as session, session.begin():
            items = (
                (await session.execute(select(OutboxItem).where(OutboxItem.id.in_(group.item_ids))))
                .scalars()
                .all()
            )
            for item in items:
                item.attempts += 1
                item.last_error = str(exc)[:2000]
                retry_after = getattr(exc, "retry_after", None) or 0.0
                delay = max(retry_after, min(300.0, 2.0**item.attempts))
                item.next_attempt_at = now + timedelta(seconds=delay)
                if not exc.transient or item.attempts >= self._max_attempts:
                    item.dead = True
