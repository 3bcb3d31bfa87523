"""Incremental polls of the Tasks and Videos data sources.

Stateless: the caller passes the cursor and the fingerprints it last recorded,
and gets back what changed plus the fingerprints to record. Each poll asks for
pages with `last_edited_time on_or_after (cursor - 1 minute)`, oldest first:
Notion rounds edit times *down* to the minute, so an edit made at 12:00:59 reads
12:00:00 and would be missed by a strict `after cursor`. The overlap re-reads the
last minute's pages; fingerprints drop the ones already reported. With nothing
new, the window holds only the last minute's pages, so an idle cycle is one
request whatever the database size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, Literal, TypeVar

import structlog

from notion_sync.client import MAX_PAGE_SIZE, NotionClient
from notion_sync.errors import NotionPermanentError
from notion_sync.mapping import TaskPage, VideoRow, task_from_page, video_from_page
from notion_sync.richtext import plain_text
from notion_sync.schema import property_names
from notion_sync.settings import NotionSettings

__all__ = [
    "DEFAULT_OVERLAP",
    "DEFAULT_REVIEW_STATUSES",
    "PollResult",
    "poll_tasks",
    "poll_videos",
    "read_task_page",
    "read_task_rows",
]

log = structlog.get_logger(__name__)

JSON = dict[str, Any]
T = TypeVar("T", TaskPage, VideoRow)

DEFAULT_OVERLAP = timedelta(minutes=1)
# Videos statuses a reviewer sets; the daemon's own (Generating, Ready...) are not news.
DEFAULT_REVIEW_STATUSES = frozenset({"Regenerate", "Approved"})


@dataclass(frozen=True)
class PollResult(Generic[T]):
    """`changed`: pages to act on, oldest edit first. `fingerprints`: every page in
    the window whose fingerprint differs from the one passed in (reported or not);
    record all of them with `new_cursor` so the next cycle reports each change once.
    """

    changed: list[T]
    new_cursor: datetime | None
    requests_made: int
    fingerprints: dict[str, str] = field(default_factory=dict)
    seen: int = 0


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def _query_window(
    client: NotionClient, data_source_id: str, cursor: datetime | None, overlap: timedelta
) -> tuple[list[JSON], int]:
    # Filter/sort on the page timestamp, not a property (verified shape:
    # {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": ISO}}).
    filter_: JSON | None = None
    if cursor is not None:
        filter_ = {
            "timestamp": "last_edited_time",
            "last_edited_time": {"on_or_after": _iso(cursor - overlap)},
        }
    sorts = [{"timestamp": "last_edited_time", "direction": "ascending"}]
    pages: list[JSON] = []
    requests = 0
    start: str | None = None
    while True:
        result = await client.query_data_source_page(
            data_source_id,
            filter=filter_,
            sorts=sorts,
            start_cursor=start,
            page_size=MAX_PAGE_SIZE,
        )
        requests += 1
        pages.extend(p for p in result.get("results", []) if p.get("object", "page") == "page")
        start = result.get("next_cursor")
        if not result.get("has_more") or not start:
            return pages, requests


async def _read_window(
    client: NotionClient,
    settings: NotionSettings | None,
    kind: Literal["tasks", "videos"],
    data_source_id: str | None,
    cursor: datetime | None,
    overlap: timedelta,
) -> tuple[list[JSON], int, dict[str, str]]:
    """One data source's pages in the window, the requests it took, its property names."""
    settings = settings or client.settings
    ds_id = data_source_id or (
        settings.tasks_data_source_id if kind == "tasks" else settings.videos_data_source_id
    )
    if not ds_id:
        raise NotionPermanentError(f"REELGATE_NOTION_{kind.upper()}_DATA_SOURCE_ID is not set")
    raw, requests = await _query_window(client, ds_id, cursor, overlap)
    return raw, requests, property_names(kind, settings)


def _advance(
    cursor: datetime | None,
    seen: list[datetime | None],
    now: datetime | None,
    overlap: timedelta,
) -> datetime | None:
    """The next cursor: the newest edit seen, but never older than `now - overlap`.

    Without the second bound, a minute in which many pages were edited (an import,
    a bulk change) would stay inside every later window: each idle cycle would
    re-read all of them. With it, that minute leaves the window after two cycles.
    Any edit after `now` carries a minute-rounded time >= `now - overlap`, so
    nothing is missed as long as our clock is within `overlap` of Notion's.
    """
    times = [t for t in seen if t is not None]
    if cursor is not None:
        times.append(cursor)
    if now is not None:
        times.append(now - overlap)
    return max(times) if times else None


async def poll_tasks(
    client: NotionClient,
    settings: NotionSettings | None = None,
    *,
    cursor: datetime | None,
    fingerprints: Mapping[str, str],
    data_source_id: str | None = None,
    overlap: timedelta = DEFAULT_OVERLAP,
    now: datetime | None = None,
) -> PollResult[TaskPage]:
    """Tasks edited since `cursor - overlap` whose fingerprint changed.

    `cursor=None` reads the whole data source (first run). A reported page whose
    Error Log came back truncated (25 items) gets its full text with the
    page-property endpoint; those requests are counted in `requests_made`.
    """
    raw, requests, names = await _read_window(
        client, settings, "tasks", data_source_id, cursor, overlap
    )
    tasks = [task_from_page(p, names) for p in raw]
    changed: list[TaskPage] = []
    new_prints: dict[str, str] = {}
    for task in tasks:
        if fingerprints.get(task.page_id) == task.fingerprint:
            continue
        # The same page may appear once per poll; keep the latest (sorted ascending).
        new_prints[task.page_id] = task.fingerprint
        if task.error_log_truncated and task.error_log_property_id:
            items = await client.retrieve_page_property(task.page_id, task.error_log_property_id)
            requests += _pages_needed(len(items))
            task = task.with_error_log(plain_text(items))
        changed.append(task)
    result = PollResult(
        changed=changed,
        new_cursor=_advance(cursor, [t.last_edited_time for t in tasks], now, overlap),
        requests_made=requests,
        fingerprints=new_prints,
        seen=len(tasks),
    )
    log.debug(
        "poll_tasks",
        seen=result.seen,
        changed=len(changed),
        requests=requests,
        cursor=_iso(result.new_cursor) if result.new_cursor else None,
    )
    return result


def _pages_needed(items: int) -> int:
    # retrieve_page_property paginates at 100 items a request.
    return max(1, -(-items // MAX_PAGE_SIZE))


async def poll_videos(
    client: NotionClient,
    settings: NotionSettings | None = None,
    *,
    cursor: datetime | None,
    fingerprints: Mapping[str, str],
    data_source_id: str | None = None,
    overlap: timedelta = DEFAULT_OVERLAP,
    review_statuses: frozenset[str] = DEFAULT_REVIEW_STATUSES,
    now: datetime | None = None,
) -> PollResult[VideoRow]:
    """Clip rows a reviewer touched: Status moved to a review status (Regenerate,
    Approved) or the Reviewer Note changed. Daemon-set statuses are recorded in
    `fingerprints` but not reported."""
    raw, requests, names = await _read_window(
        client, settings, "videos", data_source_id, cursor, overlap
    )
    rows = [video_from_page(p, names) for p in raw]
    changed: list[VideoRow] = []
    new_prints: dict[str, str] = {}
    for row in rows:
        known = fingerprints.get(row.row_id)
        if known == row.fingerprint:
            continue
        new_prints[row.row_id] = row.fingerprint
        old_status, old_note = VideoRow.split_fingerprint(known)
        new_status, new_note = VideoRow.split_fingerprint(row.fingerprint)
        note_changed = old_note is not None and old_note != new_note
        # First sighting of a row: a non-empty note or a review status is news.
        if known is None:
            note_changed = bool(row.reviewer_note)
        status_news = new_status != old_status and new_status in review_statuses
        if note_changed or status_news:
            changed.append(row)
    return PollResult(
        changed=changed,
        new_cursor=_advance(cursor, [r.last_edited_time for r in rows], now, overlap),
        requests_made=requests,
        fingerprints=new_prints,
        seen=len(rows),
    )


async def read_task_page(
    client: NotionClient, page_id: str, settings: NotionSettings | None = None
) -> TaskPage:
    """One task page, read now (`pages.retrieve`), with its whole Error Log.

    The settle rule's confirming read: unlike a data-source query, retrieving a
    page is never served from an index that may lag behind the last edit.
    """
    names = property_names("tasks", settings or client.settings)
    task = task_from_page(await client.retrieve_page(page_id), names)
    if task.error_log_truncated and task.error_log_property_id:
        items = await client.retrieve_page_property(task.page_id, task.error_log_property_id)
        task = task.with_error_log(plain_text(items))
    return task


async def read_task_rows(
    client: NotionClient,
    task_page_id: str,
    settings: NotionSettings | None = None,
    *,
    data_source_id: str | None = None,
) -> list[VideoRow]:
    """Every Videos row of one task (one request for up to 100 clips)."""
    settings = settings or client.settings
    ds_id = data_source_id or settings.videos_data_source_id
    if not ds_id:
        raise NotionPermanentError("REELGATE_NOTION_VIDEOS_DATA_SOURCE_ID is not set")
    names = property_names("videos", settings)
    rows: list[VideoRow] = []
    start: str | None = None
    while True:
        result = await client.query_data_source_page(
            ds_id,
            filter={"property": names["task"], "relation": {"contains": task_page_id}},
            start_cursor=start,
            page_size=MAX_PAGE_SIZE,
        )
        rows.extend(
            video_from_page(p, names)
            for p in result.get("results", [])
            if p.get("object", "page") == "page"
        )
        start = result.get("next_cursor")
        if not result.get("has_more") or not start:
            return rows
