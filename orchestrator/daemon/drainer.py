"""The outbox drainer: sends queued Notion writes in order, at Notion's pace.

Runs only on the leader, so the client's 2.5 req/s limiter holds cluster-wide.

What goes out, and in which order (each round, at most `batch` queued writes):
- **Causal order.** A status write goes out right after the writes of its page
  queued before it (the Videos rows and blocks it announces), ahead of other
  pages' backlog: *Video Ready* shows as soon as its rows are written.
- **Superseded status writes.** Of a page's queued status writes only the latest
  goes out: Notion shows one Status, and a task that moved through five statuses
  while its rows were being written need not replay them at two requests each
  (the look-before-write and the write). The earlier ones are settled unsent, with
  the reason; the latest keeps its place after every write queued before it.
- **Merging.** Writes that may merge (`notion_sync.ops.coalesce`) become one
  request: property updates of one page or one Videos row (the last value wins),
  appends of one toggle or page body (up to 100 children).
- **Held writes.** An intermediate write (`hold_until` in the future: a row's
  keyframes, "Generating", progress) is not sent on its own; it rides along with
  the next write of the same properties, or goes alone once its hold has passed.
A transient failure stops that page's later writes until the retry, so a page
never sees its writes out of order; a permanent failure is dead-lettered with
the reason, and the drain goes on. A write refused because the task page is in
Notion's trash is neither: the task is cancelled and the page's writes are *held*
until a read finds the page restored (pipeline/trash.py sends them then).

Enqueuers only ever insert rows; the drainer marks sent exactly the rows it
merged and sent, so a write queued while a drain is in progress is never lost:
it goes out with the next round.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    stored_merge_key,
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

__all__ = ["OutboxDrainer", "pending_count", "plan_round", "superseded_status_writes"]

log = structlog.get_logger(__name__)


@dataclass
class _Group:
    op: NotionOp
    item_ids: list[int] = field(default_factory=list)
    task_id: int | None = None
    # No create was attempted for any of these rows yet (see `_create_once`).
    fresh: bool = False
    counted: bool = False


def _page_trashed(exc: NotionError) -> bool:
    # Notion's answer to any write to a page in the trash.
    return exc.status == 400 and "is archived" in str(exc)


async def pending_count(session: AsyncSession, *, due_at: datetime | None = None) -> int:
    """Writes not sent yet; with `due_at`, only those due by then (held intermediate
    writes wait for a later write to ride with: they are not work to do now)."""
    query = select(func.count(OutboxItem.id)).where(
        OutboxItem.sent_at.is_(None),
        OutboxItem.dead.is_(False),
        OutboxItem.held.is_(False),
    )
    if due_at is not None:
        query = query.where(OutboxItem.hold_until.is_(None) | (OutboxItem.hold_until <= due_at))
    return int((await session.execute(query)).scalar_one())


@dataclass(frozen=True)
class Pending:
    """What the drainer needs to know of a queued write to plan a round."""

    id: int
    page_id: str
    kind: str
    next_attempt_at: datetime | None = None
    hold_until: datetime | None = None


def superseded_status_writes(pending: Sequence[Pending]) -> list[int]:
    """Queued status writes with a later one queued for the same page.

    Notion shows only the latest, and the latest goes after every write of its page
    queued before it (plan_round), so the rows an earlier status announced still
    precede a Status showing it or any later one.
    """
    latest: dict[str, int] = {}
    for item in pending:
        if item.kind == "set_task_status":
            latest[item.page_id] = max(item.id, latest.get(item.page_id, item.id))
    return sorted(
        item.id
        for item in pending
        if item.kind == "set_task_status" and item.id < latest[item.page_id]
    )


def plan_round(pending: Sequence[Pending], now: datetime, batch: int) -> list[int]:
    """The ids of queued writes to send this round, in the order to send them.

    Held writes whose hold has not passed are left out (they join a chosen write
    of the same properties later); a page waiting for a retry sends nothing queued
    after the write that failed. Status writes come first, each right after the
    writes of its page queued before it; then the rest, oldest first. A status
    write whose earlier writes do not fit in the batch waits for the next round.
    """
    waiting_from: dict[str, int] = {}
    for item in pending:
        if item.next_attempt_at is not None and item.next_attempt_at > now:
            waiting_from.setdefault(item.page_id, item.id)
    eligible = [
        item
        for item in sorted(pending, key=lambda p: p.id)
        if not (item.hold_until is not None and item.hold_until > now)
        and not (item.page_id in waiting_from and item.id >= waiting_from[item.page_id])
    ]
    by_page: dict[str, list[Pending]] = {}
    for item in eligible:
        by_page.setdefault(item.page_id, []).append(item)
    chosen: list[int] = []
    taken: set[int] = set()
    for status in (item for item in eligible if item.kind == "set_task_status"):
        if status.id in taken:
            continue
        prefix = [
            item.id
            for item in by_page[status.page_id]
            if item.id <= status.id and item.id not in taken
        ]
        if len(chosen) + len(prefix) > batch:
            break
        chosen.extend(prefix)
        taken.update(prefix)
    for item in eligible:
        if len(chosen) >= batch:
            break
        if item.id not in taken:
            chosen.append(item.id)
            taken.add(item.id)
    return chosen


def _in_key_order(seq: list[tuple[OutboxItem, NotionOp]]) -> list[tuple[OutboxItem, NotionOp]]:
    """Writes of the same properties in the order they were queued (by id), in the
    places the sequence gives them, so that merging lets the later value win."""
    slots: dict[str, list[int]] = {}
    for position, (_, op) in enumerate(seq):
        key = stored_merge_key(op)
        if key is not None:
            slots.setdefault(key, []).append(position)
    out = list(seq)
    for positions in slots.values():
        ordered = sorted((seq[p] for p in positions), key=lambda pair: pair[0].id)
        for position, pair in zip(positions, ordered, strict=True):
            out[position] = pair
    return out


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
        """Send one round of due writes; return how many outbox rows were settled."""
        now = self._clock()
        async with self._sessions() as session:
            pending = await self._pending(session)
            if not pending:
                # The idle round: one transaction (the gauge counts held writes too).
                self._metrics.outbox_pending.set(await pending_count(session))
                return 0
        # Settled in a transaction of its own, not under the read above (SQLite).
        superseded = await self._supersede(superseded_status_writes(pending), now)
        pending = [item for item in pending if item.id not in superseded]
        async with self._sessions() as session:
            order = plan_round(pending, now, self._batch)
            loaded = await self._load(session, order)
            # (An item settled meanwhile, by a person through `reelgate outbox`, is gone.)
            seq = [
                (loaded[i], op_adapter.validate_python(loaded[i].op)) for i in order if i in loaded
            ]
            keys = {k for _, op in seq if (k := stored_merge_key(op)) is not None}
            # Held writes of the same properties ride along with the chosen ones.
            for item in await self._held(session, keys, now, set(order)):
                seq.append((item, op_adapter.validate_python(item.op)))
        seq = _in_key_order(seq)
        groups = [
            _Group(
                op=merged.op,
                item_ids=[seq[i][0].id for i in merged.sources],
                task_id=seq[merged.sources[0]][0].task_id,
                fresh=all(seq[i][0].attempts == 0 for i in merged.sources),
            )
            for merged in coalesce([op for _, op in seq])
        ]
        settled = len(superseded)
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

    async def _supersede(self, ids: Sequence[int], now: datetime) -> set[int]:
        settled = await self._settle_unsent(ids, now, "superseded by a later status write")
        if settled:
            log.debug("supersede_status_writes", count=len(settled))
        return settled

    async def _settle_unsent(self, ids: Sequence[int], now: datetime, reason: str) -> set[int]:
        """Settle writes that will not be sent, with the reason; returns the ids settled
        (guarded: one settled meanwhile, by a person through `reelgate outbox`, is left)."""
        if not ids:
            return set()
        async with self._sessions() as session, session.begin():
            settled = (
                (
                    await session.execute(
                        update(OutboxItem)
                        .where(
                            OutboxItem.id.in_(list(ids)),
                            OutboxItem.sent_at.is_(None),
                            OutboxItem.dead.is_(False),
                        )
                        .values(sent_at=now, last_error=reason)
                        .returning(OutboxItem.id)
                        .execution_options(synchronize_session=False)
                    )
                )
                .scalars()
                .all()
            )
        return set(settled)

    async def _pending(self, session: AsyncSession) -> list[Pending]:
        rows = await session.execute(
            select(
                OutboxItem.id,
                OutboxItem.page_id,
                OutboxItem.kind,
                OutboxItem.next_attempt_at,
                OutboxItem.hold_until,
            )
            # Writes kept for a page in the trash (`held`) wait for its restore.
            .where(
                OutboxItem.sent_at.is_(None),
                OutboxItem.dead.is_(False),
                OutboxItem.held.is_(False),
            )
            .order_by(OutboxItem.id)
        )
        return [Pending(r.id, r.page_id, r.kind, r.next_attempt_at, r.hold_until) for r in rows]

    async def _load(self, session: AsyncSession, ids: Sequence[int]) -> dict[int, OutboxItem]:
        if not ids:
            return {}
        rows = (
            (
                await session.execute(
                    select(OutboxItem).where(
                        OutboxItem.id.in_(list(ids)),
                        OutboxItem.sent_at.is_(None),
                        OutboxItem.dead.is_(False),
                    )
                )
            )
            .scalars()
            .all()
        )
        return {row.id: row for row in rows}

    async def _held(
        self, session: AsyncSession, keys: set[str], now: datetime, chosen: set[int]
    ) -> Sequence[OutboxItem]:
        if not keys:
            return []
        rows = (
            (
                await session.execute(
                    select(OutboxItem)
                    .where(
                        OutboxItem.sent_at.is_(None),
                        OutboxItem.dead.is_(False),
                        OutboxItem.held.is_(False),
                        OutboxItem.hold_until > now,
                        OutboxItem.merge_key.in_(sorted(keys)),
                    )
                    .order_by(OutboxItem.id)
                )
            )
            .scalars()
            .all()
        )
        return [row for row in rows if row.id not in chosen]

    async def _send(self, group: _Group) -> bool:
        op = group.op
        if isinstance(op, UpsertVideoRow) and op.row_page_id is None:
            op = await self._with_row_id(op)
            if op.row_page_id is None and group.fresh:
                op = await self._create_once(op, group)
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
        await self._settle_unsent(
            group.item_ids, self._clock(), f"superseded: Status was set to {shown!r} in Notion"
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

    async def _create_once(self, op: UpsertVideoRow, group: _Group) -> UpsertVideoRow:
        """A row never tried before is created without the look-up that guards a
        retried create: the attempt is counted first, so after a crash mid-create
        the retry (attempts > 0) looks before it creates, and never doubles a row."""
        async with self._sessions() as session, session.begin():
            counted = (
                await session.execute(
                    update(OutboxItem)
                    .where(OutboxItem.id.in_(group.item_ids), OutboxItem.attempts == 0)
                    .values(attempts=1)
                    .execution_options(synchronize_session=False)
                )
            ).rowcount  # type: ignore[attr-defined]
        if counted != len(group.item_ids):
            return op  # someone else counted meanwhile: look before creating
        group.counted = True
        return op.model_copy(update={"find_existing": False})

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
                .values(
                    sent_at=now,
                    attempts=OutboxItem.attempts + (0 if group.counted else 1),
                    last_error=None,
                )
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
                item.attempts += 0 if group.counted else 1
                item.last_error = str(exc)[:2000]
                retry_after = getattr(exc, "retry_after", None) or 0.0
                delay = max(retry_after, min(300.0, 2.0**item.attempts))
                item.next_attempt_at = now + timedelta(seconds=delay)
                if not exc.transient or item.attempts >= self._max_attempts:
                    item.dead = True
