"""The Notion poller job: incremental, one request when nothing changed (DESIGN §4).

Also the settle rule's confirming reads (`confirm_reviews`, pipeline/settle.py):
only the leader talks to Notion, so it is the leader that reads a task page again
once its review notes have been still for the settle time. With nobody reviewing
nothing is due, and that job makes no request at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select

from notion_sync.client import NotionClient
from notion_sync.errors import NotionPermanentError
from notion_sync.poller import poll_tasks, poll_videos, read_task_page, read_task_rows
from orchestrator.db.models import SyncState, Task
from orchestrator.pipeline.context import PipelineContext
from orchestrator.pipeline.drift import resolve_drift
from orchestrator.pipeline.settle import due_for_confirmation
from orchestrator.pipeline.sync import apply_task_pages, apply_video_rows
from orchestrator.pipeline.trash import due_trash_checks
from orchestrator.state.status import Status

__all__ = ["NotionPoller"]

log = structlog.get_logger(__name__)

# Videos rows only matter while a reviewer is looking at clips.
_VIDEO_REVIEW = (Status.VIDEO_READY.value, Status.VIDEO_ERROR.value)


class NotionPoller:
    def __init__(self, ctx: PipelineContext, client: NotionClient) -> None:
        self._ctx = ctx
        self._client = client

    async def _state(self, key: str) -> SyncState:
        async with self._ctx.sessions() as session:
            state = await session.get(SyncState, key)
            return state or SyncState(key=key, cursor=None, value={})

    async def _save(self, key: str, cursor: Any, value: dict[str, Any] | None = None) -> None:
        async with self._ctx.sessions() as session, session.begin():
            state = await session.get(SyncState, key)
            if state is None:
                state = SyncState(key=key, value={})
                session.add(state)
            state.cursor = cursor
            if value is not None:
                state.value = value

    async def poll_once(self) -> int:
        """One cycle; returns the number of Notion requests it made."""
        now = self._ctx.clock()
        # While a property is known missing: is it back? (2 requests; none otherwise.)
        await resolve_drift(
            self._ctx.sessions, self._client, self._client.settings, metrics=self._ctx.metrics
        )
        tasks_state = await self._state("tasks")
        async with self._ctx.sessions() as session:
            rows = await session.execute(
                select(Task.notion_page_id, Task.last_seen_fingerprint, Task.status)
            )
            fingerprints: dict[str, str] = {}
            reviewing = False
            for page_id, fingerprint, status in rows.all():
                if fingerprint:
                    fingerprints[page_id] = fingerprint
                reviewing = reviewing or status in _VIDEO_REVIEW
        requests = 0
        if reviewing:
            # Rows first: a reviewer sets rows to Regenerate, then the task to Video
            # Error; the worker acting on that move must already see the rows.
            videos_state = await self._state("videos")
            prints = dict(videos_state.value.get("fingerprints", {}))
            videos = await poll_videos(
                self._client, cursor=videos_state.cursor, fingerprints=prints, now=now
            )
            await apply_video_rows(self._ctx, videos.changed)
            prints.update(videos.fingerprints)
            await self._save("videos", videos.new_cursor, {"fingerprints": prints})
            requests += videos.requests_made
        result = await poll_tasks(
            self._client, cursor=tasks_state.cursor, fingerprints=fingerprints, now=now
        )
        await apply_task_pages(self._ctx, result.changed)
        await self._save("tasks", result.new_cursor)
        requests += result.requests_made
        if result.changed:
            log.debug("poll_notion", changed=len(result.changed), requests=requests)
        requests += await self._check_trash(now)
        return requests

    async def _check_trash(self, now: datetime) -> int:
        """Read the task pages in the trash, at most every `trash_check_seconds`.

        A restored page is reconciled by the read (pipeline/trash.py). No page in
        the trash: no request.
        """
        async with self._ctx.sessions() as session:
            pages = [str(p) for p in (await session.execute(due_trash_checks(now))).scalars()]
        if not pages:
            return 0
        state = await self._state("trash")
        last = state.cursor
        interval = timedelta(seconds=self._ctx.settings.trash_check_seconds)
        if isinstance(last, datetime) and now - last < interval:
            return 0
        before = self._client.stats.requests
        for page_id in pages:
            try:
                page = await read_task_page(self._client, page_id)
            except NotionPermanentError as exc:
                # Deleted for good (or no longer shared): nothing to reconcile.
                log.warning("check_trashed_page_failed", page=page_id, error=str(exc))
                continue
            await apply_task_pages(self._ctx, [page])
        await self._save("trash", now)
        return self._client.stats.requests - before

    async def confirm_reviews(self) -> int:
        """Read again each task whose review notes are due for confirmation.

        Returns the number of Notion requests made (0 when nothing is due).
        """
        settle = self._ctx.settings.review_settle_seconds
        if settle <= 0:
            return 0
        now = self._ctx.clock()
        async with self._ctx.sessions() as session:
            due = (await session.execute(due_for_confirmation(now, settle))).scalars().all()
            items = [(t.id, t.notion_page_id, t.status) for t in due]
        before = self._client.stats.requests
        for task_id, page_id, status in items:
            try:
                if status == Status.VIDEO_ERROR.value:
                    # Rows first: the page read then settles rows and text together.
                    await apply_video_rows(self._ctx, await read_task_rows(self._client, page_id))
                page = await read_task_page(self._client, page_id)
            except NotionPermanentError as exc:
                # Gone or unreadable: the regular poll reports what happened to it;
                # look again after another settle time, not on every tick.
                log.warning("confirm_review_failed", task=task_id, error=str(exc))
                async with self._ctx.sessions() as session, session.begin():
                    task = await session.get(Task, task_id)
                    if task is not None:
                        task.review_input_at = now
                continue
            await apply_task_pages(self._ctx, [page])
        requests = self._client.stats.requests - before
        if items:
            log.info("confirm_reviews", tasks=len(items), requests=requests)
        return requests
