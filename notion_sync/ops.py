"""Outbox operations: every Notion write reelgate makes, as JSON-serialisable data.

The orchestrator stores these in its `outbox` table in the same transaction as the
state change that caused them; the drainer hands them to `notion_sync.writer`.
Field names here are *logical* (see `schema.py`); the mapping turns them into the
workspace's configured property names when the op is sent.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

__all__ = [
    "AppendBlocks",
    "AppendErrorLog",
    "BlockSpec",
    "Comment",
    "FileRef",
    "NotionOp",
    "SetTaskStatus",
    "UpdateTask",
    "UpsertVideoRow",
    "coalesce",
    "op_adapter",
]


class FileRef(BaseModel):
    """A file Notion shows: an external URL, or an uploaded file's id."""

    name: str
    url: str | None = None
    file_upload_id: str | None = None


class BlockSpec(BaseModel):
    kind: Literal["heading_2", "heading_3", "paragraph", "image", "video", "divider", "callout"]
    text: str = ""
    file: FileRef | None = None


class UpdateTask(BaseModel):
    """Set task-page properties; `fields` maps logical names to plain values
    (str, int, float, None, ISO dates, or lists of FileRef dicts for files)."""

    kind: Literal["update_task"] = "update_task"
    page_id: str
    fields: dict[str, Any]


class SetTaskStatus(BaseModel):
    """Write Status. Kept apart from UpdateTask so it is never coalesced away."""

    kind: Literal["set_task_status"] = "set_task_status"
    page_id: str
    status_label: str


class AppendErrorLog(BaseModel):
    """Append daemon lines to the Error Log (read, append, write; never rewrite)."""

    kind: Literal["append_error_log"] = "append_error_log"
    page_id: str
    lines: list[str]


class UpsertVideoRow(BaseModel):
    """Create the clip's row in the Videos table, or update it in place.

    `row_page_id` is None until the row exists; the drainer fills it from the
    database at send time, and the writer returns the id of a created row.
    """

    kind: Literal["upsert_video_row"] = "upsert_video_row"
    task_page_id: str
    clip_number: int
    row_page_id: str | None = None
    fields: dict[str, Any]


class AppendBlocks(BaseModel):
    kind: Literal["append_blocks"] = "append_blocks"
    page_id: str
    blocks: list[BlockSpec]


class Comment(BaseModel):
    kind: Literal["comment"] = "comment"
    page_id: str
    text: str
    mention_user_ids: list[str] = Field(default_factory=list)


NotionOp = Annotated[
    UpdateTask | SetTaskStatus | AppendErrorLog | UpsertVideoRow | AppendBlocks | Comment,
    Field(discriminator="kind"),
]

op_adapter: TypeAdapter[NotionOp] = TypeAdapter(NotionOp)


def coalesce(ops: list[NotionOp]) -> list[NotionOp]:
    """Merge consecutive UpdateTask ops for the same page (later values win).

    Only property updates are merged: status writes, comments, blocks and log
    appends are each visible to people, so they keep their order and count.
    """
    merged: list[NotionOp] = []
    for op in ops:
        last = merged[-1] if merged else None
        if (
            isinstance(op, UpdateTask)
            and isinstance(last, UpdateTask)
            and last.page_id == op.page_id
        ):
            merged[-1] = UpdateTask(page_id=op.page_id, fields={**last.fields, **op.fields})
        else:
            merged.append(op)
    return merged
