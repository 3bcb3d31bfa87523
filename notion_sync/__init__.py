"""notion_sync: everything that speaks Notion (client, mapping, poller, writer, schema)."""

from __future__ import annotations

from notion_sync.client import ClientStats, NotionClient
from notion_sync.errors import NotionError, NotionPermanentError, NotionTransientError
from notion_sync.mapping import (
    ReferenceFile,
    TaskPage,
    VideoRow,
    task_from_page,
    video_from_page,
)
from notion_sync.poller import PollResult, poll_tasks, poll_videos, read_task_page, read_task_rows
from notion_sync.schema import (
    TASK_FIELDS,
    VIDEO_FIELDS,
    SchemaReport,
    SetupResult,
    StatusOption,
    check_schema,
    ensure_schema,
    fix_for_missing,
    missing_property,
    property_names,
    setup_notion,
)
from notion_sync.settings import NotionSettings
from notion_sync.writer import NotionWriter, OpResult

__all__ = [
    "TASK_FIELDS",
    "VIDEO_FIELDS",
    "ClientStats",
    "NotionClient",
    "NotionError",
    "NotionPermanentError",
    "NotionSettings",
    "NotionTransientError",
    "NotionWriter",
    "OpResult",
    "PollResult",
    "ReferenceFile",
    "SchemaReport",
    "SetupResult",
    "StatusOption",
    "TaskPage",
    "VideoRow",
    "check_schema",
    "ensure_schema",
    "fix_for_missing",
    "missing_property",
    "poll_tasks",
    "poll_videos",
    "property_names",
    "read_task_page",
    "read_task_rows",
    "setup_notion",
    "task_from_page",
    "video_from_page",
]
