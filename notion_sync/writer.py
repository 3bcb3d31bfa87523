"""Executes outbox ops (notion_sync.ops) against Notion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from notion_sync.client import NotionClient
from notion_sync.errors import NotionPermanentError
from notion_sync.mapping import build_properties, file_objects
from notion_sync.ops import (
    DAEMON_LOG_TOGGLE,
    AppendBlocks,
    AppendErrorLog,
    AppendToToggle,
    BlockSpec,
    Comment,
    NotionOp,
    SetTaskStatus,
    TextPart,
    UpdateTask,
    UpsertVideoRow,
)
from notion_sync.richtext import (
    MAX_RICH_TEXT_ITEMS,
    mention_user,
    plain_text,
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
        # (page id, toggle title) -> block id of toggles found or made.
        self._toggles: dict[tuple[str, str], str] = {}

    async def execute(self, op: NotionOp) -> OpResult:
        before = self.client.stats.requests
        if isinstance(op, UpdateTask):
            result = await self._update_task(op)
        elif isinstance(op, SetTaskStatus):
            result = await self._set_status(op)
        elif isinstance(op, AppendToToggle):
            result = await self._append_to_toggle(op.page_id, op.title, op.lines)
        elif isinstance(op, AppendErrorLog):
            # Older queued daemon lines: to the log toggle, never into the Error Log.
            parts = [[TextPart(text=line)] for line in op.lines]
            result = await self._append_to_toggle(op.page_id, DAEMON_LOG_TOGGLE, parts)
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
        fields: dict[str, Any] = {"status": op.status_label}
        if op.changed_at is not None:
            fields["status_changed"] = op.changed_at
        props = await self._task_properties(fields)
        await self.client.update_page(op.page_id, props)
        return OpResult(op.kind, op.page_id, 0)

    # -- toggles: the daemon's log and the review history ---------------------------

    async def _find_toggle(self, page_id: str, title: str) -> str | None:
        """The first top-level toggle of the page titled `title`."""
        for block in await self.client.list_block_children(page_id):
            body = block.get("toggle")
            if block.get("type") != "toggle" or block.get("in_trash") or not isinstance(body, dict):
                continue
            if plain_text(body.get("rich_text")).strip() == title:
                return str(block["id"])
        return None

    async def _toggle_id(self, page_id: str, title: str) -> str:
        toggle_id = await self._find_toggle(page_id, title)
        if toggle_id is None:
            # Created empty, then filled: a create retried after a lost response
            # finds the toggle and never doubles the lines.
            block = {
                "object": "block",
                "type": "toggle",
                "toggle": {"rich_text": text_items(title)[:1]},
            }
            created = await self.client.append_block_children(page_id, [block])
            toggle_id = str(created["results"][0]["id"])
        self._toggles[(page_id, title)] = toggle_id
        return toggle_id

    async def _append_to_toggle(
        self, page_id: str, title: str, lines: Sequence[Sequence[TextPart]]
    ) -> OpResult:
        """Lines as paragraphs inside the toggle: an append never rewrites anything."""
        blocks = [_line_block(line) for line in lines]
        key = (page_id, title)
        cached = self._toggles.get(key)
        if cached is not None:
            try:
                await self._append_in_chunks(cached, blocks)
                return OpResult("append_to_toggle", page_id, 0)
            except NotionPermanentError as exc:
                if exc.status not in (400, 404):
                    raise
                # Deleted or moved to trash since we last wrote: look for it again.
                del self._toggles[key]
        await self._append_in_chunks(await self._toggle_id(page_id, title), blocks)
        return OpResult("append_to_toggle", page_id, 0)

    async def _append_in_chunks(self, block_id: str, blocks: list[JSON]) -> None:
        for start in range(0, len(blocks), MAX_BLOCKS_PER_APPEND):
            await self.client.append_block_children(
                block_id, blocks[start : start + MAX_BLOCKS_PER_APPEND]
            )

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
        if row_id is None and op.find_existing:
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


def _line_block(parts: Sequence[TextPart]) -> JSON:
    items: list[JSON] = []
    for part in parts:
        if part.user_id:
            items.append(mention_user(part.user_id))
        elif part.text:
            items.extend(text_items(part.text))
    return {
        "object": "block",
        "type": "paragraph",
        "paragraph": {"rich_text": items[:MAX_RICH_TEXT_ITEMS]},
    }


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
