"""The Notion poller job: incremental, one request when nothing changed (DESIGN §4)."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import select

from notion_sync.client import NotionClient
from notion_sync.poller import poll_tasks, poll_videos
from orchestrator.db.models import SyncState, Task
from orchestrator.pipeline.context import PipelineContext
from orchestrator.pipeline.sync import apply_task_pages, apply_video_rows
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
        return requests
