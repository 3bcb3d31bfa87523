"""Executes outbox ops (notion_sync.ops) against Notion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from notion_sync.client import NotionClient
from notion_sync.errors import NotionPermanentError
from notion_sync.mapping import TRUNCATED_ITEMS, build_properties, file_objects
from notion_sync.ops import (
    AppendBlocks,
    AppendErrorLog,
    BlockSpec,
    Comment,
    NotionOp,
    SetTaskStatus,
    UpdateTask,
    UpsertVideoRow,
)
from notion_sync.richtext import (
    MAX_RICH_TEXT_ITEMS,
    mention_user,
    pack_plain,
    plain_text,
    request_item,
    text_items,
)
from notion_sync.schema import TASK_FIELDS, VIDEO_FIELDS, property_names, status_column_type
from notion_sync.settings import NotionSettings

__all__ = ["MAX_BLOCKS_PER_APPEND", "NotionWriter", "OpResult", "block_payload"]

log = structlog.get_logger(__name__)

JSON = dict[str, Any]

# Append-block-children takes at most 100 children per request (request limits).
MAX_BLOCKS_PER_APPEND = 100


@dataclass(frozen=True)
class OpResult:
    """What an op did. `created_row_id` is set when UpsertVideoRow created a row
    (the drainer stores it as the clip's Notion row id)."""

    kind: str
    page_id: str
    requests: int
    created_row_id: str | None = None
    row_id: str | None = None


class NotionWriter:
    def __init__(self, client: NotionClient, settings: NotionSettings | None = None) -> None:
        self.client = client
        self.settings = settings or client.settings
        self.task_names = property_names("tasks", self.settings)
        self.video_names = property_names("videos", self.settings)
        self._status_type: str | None = None

    async def execute(self, op: NotionOp) -> OpResult:
        before = self.client.stats.requests
        if isinstance(op, UpdateTask):
            result = await self._update_task(op)
        elif isinstance(op, SetTaskStatus):
            result = await self._set_status(op)
        elif isinstance(op, AppendErrorLog):
            result = await self._append_error_log(op)
        elif isinstance(op, UpsertVideoRow):
            result = await self._upsert_video_row(op)
        elif isinstance(op, AppendBlocks):
            result = await self._append_blocks(op)
        elif isinstance(op, Comment):
            result = await self._comment(op)
        else:  # pragma: no cover - the union is closed
            raise NotionPermanentError(f"unknown op {type(op).__name__}", code="bad_op")
        used = self.client.stats.requests - before
        log.debug("execute_notion_op", kind=op.kind, page_id=result.page_id, requests=used)
        return OpResult(
            kind=op.kind,
            page_id=result.page_id,
            requests=used,
            created_row_id=result.created_row_id,
            row_id=result.row_id,
        )

    # -- status ------------------------------------------------------------------

    async def status_type(self) -> str:
        """`status` or `select`, read once from the Tasks data source."""
        if self._status_type is None:
            ds_id = self.settings.tasks_data_source_id
            if not ds_id:
                raise NotionPermanentError("REELGATE_NOTION_TASKS_DATA_SOURCE_ID is not set")
            source = await self.client.retrieve_data_source(ds_id)
            self._status_type = status_column_type(source, self.settings)
        return self._status_type

    async def _task_properties(self, fields: dict[str, Any]) -> JSON:
        overrides = {"status": await self.status_type()} if "status" in fields else None
        return build_properties(fields, TASK_FIELDS, self.task_names, type_overrides=overrides)

    async def _update_task(self, op: UpdateTask) -> OpResult:
        await self.client.update_page(op.page_id, await self._task_properties(op.fields))
        return OpResult(op.kind, op.page_id, 0)

    async def _set_status(self, op: SetTaskStatus) -> OpResult:
        props = await self._task_properties({"status": op.status_label})
        await self.client.update_page(op.page_id, props)
        return OpResult(op.kind, op.page_id, 0)

    # -- error log -----------------------------------------------------------------

    async def _read_rich_text(self, page_id: str, logical: str) -> list[JSON]:
        page = await self.client.retrieve_page(page_id)
        name = self.task_names[logical]
        prop = page.get("properties", {}).get(name)
        if prop is None:
            raise NotionPermanentError(
                f'Tasks: property "{name}" is missing — add a Text property named "{name}"',
                code="schema_mismatch",
            )
        items: list[JSON] = list(prop.get("rich_text") or [])
        if len(items) >= TRUNCATED_ITEMS and prop.get("id"):
            # The page payload stops at 25 items; the property endpoint has them all.
            paged = await self.client.retrieve_page_property(page_id, str(prop["id"]))
            items = [i["rich_text"] for i in paged if isinstance(i.get("rich_text"), dict)]
        return items

    async def _append_error_log(self, op: AppendErrorLog) -> OpResult:
        existing = await self._read_rich_text(op.page_id, "error_log")
        old_text = plain_text(existing)
        addition = "\n".join(op.lines)
        if old_text and not old_text.endswith("\n"):
            addition = "\n" + addition
        # Keep the human's items as they are (links, mentions, formatting) and add ours.
        kept = [request_item(i) for i in existing]
        items: list[JSON]
        if all(k is not None for k in kept):
            items = [k for k in kept if k is not None] + text_items(addition)
        else:
            items = pack_plain([old_text, addition])
        if len(items) > MAX_RICH_TEXT_ITEMS:
            # Too many small items: fall back to plain text packed into 2000-char items.
            items = pack_plain([old_text, addition])
        if len(items) > MAX_RICH_TEXT_ITEMS:
            # Past 100 x 2000 characters Notion cannot hold it; drop the oldest text.
            whole = old_text + addition
            keep_chars = MAX_RICH_TEXT_ITEMS * 2000 - 200
            log.warning("trim_error_log", page_id=op.page_id, dropped=len(whole) - keep_chars)
            items = pack_plain(["[earlier log trimmed]\n", whole[-keep_chars:]])
        name = self.task_names["error_log"]
        await self.client.update_page(op.page_id, {name: {"rich_text": items}})
        return OpResult(op.kind, op.page_id, 0)

    # -- videos --------------------------------------------------------------------

    async def _find_video_row(self, task_page_id: str, clip_number: int) -> str | None:
        ds_id = self.settings.videos_data_source_id
        result = await self.client.query_data_source_page(
            ds_id,
            filter={
                "and": [
                    {"property": self.video_names["task"], "relation": {"contains": task_page_id}},
                    {"property": self.video_names["clip"], "number": {"equals": clip_number}},
                ]
            },
            page_size=1,
        )
        rows = result.get("results") or []
        return str(rows[0]["id"]) if rows else None

    async def _upsert_video_row(self, op: UpsertVideoRow) -> OpResult:
        ds_id = self.settings.videos_data_source_id
        if not ds_id:
            raise NotionPermanentError("REELGATE_NOTION_VIDEOS_DATA_SOURCE_ID is not set")
        fields = dict(op.fields)
        fields["clip"] = op.clip_number
        fields["task"] = [op.task_page_id]
        row_id = op.row_page_id
        if row_id is None:
            # A create retried after a lost response (or a drainer crash before it
            # stored the id) must not make a second row: look for it first.
            row_id = await self._find_video_row(op.task_page_id, op.clip_number)
        if row_id is not None:
            props = build_properties(fields, VIDEO_FIELDS, self.video_names)
            await self.client.update_page(row_id, props)
            return OpResult(op.kind, row_id, 0, row_id=row_id)
        fields.setdefault("title", f"Clip {op.clip_number:02d}")
        props = build_properties(fields, VIDEO_FIELDS, self.video_names)
        page = await self.client.create_page(
            {"parent": {"type": "data_source_id", "data_source_id": ds_id}, "properties": props}
        )
        new_id = str(page["id"])
        return OpResult(op.kind, new_id, 0, created_row_id=new_id, row_id=new_id)

    # -- blocks --------------------------------------------------------------------

    async def _append_blocks(self, op: AppendBlocks) -> OpResult:
        blocks = [b for spec in op.blocks for b in block_payload(spec)]
        for start in range(0, len(blocks), MAX_BLOCKS_PER_APPEND):
            await self.client.append_block_children(
                op.page_id, blocks[start : start + MAX_BLOCKS_PER_APPEND]
            )
        return OpResult(op.kind, op.page_id, 0)

    # -- comments ------------------------------------------------------------------

    async def _comment(self, op: Comment) -> OpResult:
        items: list[JSON] = []
        for user_id in op.mention_user_ids:
            items.append(mention_user(user_id))
            items.append({"type": "text", "text": {"content": " "}})
        items.extend(text_items(op.text))
        if len(items) > MAX_RICH_TEXT_ITEMS:
            log.warning("truncate_comment", page_id=op.page_id, items=len(items))
            items = items[:MAX_RICH_TEXT_ITEMS]
        await self.client.create_comment(op.page_id, items)
        return OpResult(op.kind, op.page_id, 0)


def _rich(text: str) -> list[JSON]:
    items = text_items(text)
    return items[:MAX_RICH_TEXT_ITEMS]


def _media(kind: str, spec: BlockSpec) -> JSON:
    if spec.file is None:
        raise NotionPermanentError(f"{kind} block needs a file", code="bad_op")
    (obj,) = file_objects([spec.file])
    # Block files take {"type": "external", "external": {"url"}} or
    # {"type": "file_upload", "file_upload": {"id"}}; no `name` key (that is for files properties).
    obj.pop("name", None)
    if spec.text:
        obj["caption"] = _rich(spec.text)
    return {"object": "block", "type": kind, kind: obj}


def block_payload(spec: BlockSpec) -> Sequence[JSON]:
    """One BlockSpec -> block objects (a long paragraph may become several)."""
    if spec.kind == "divider":
        return [{"object": "block", "type": "divider", "divider": {}}]
    if spec.kind in ("image", "video"):
        return [_media(spec.kind, spec)]
    items = text_items(spec.text)
    chunks = [
        items[i : i + MAX_RICH_TEXT_ITEMS] for i in range(0, len(items), MAX_RICH_TEXT_ITEMS)
    ] or [[]]
    out: list[JSON] = []
    for chunk in chunks:
        body: JSON = {"rich_text": chunk}
        if spec.kind == "callout":
            body["icon"] = {"type": "emoji", "emoji": "🎬"}
        out.append({"object": "block", "type": spec.kind, spec.kind: body})
    return out
