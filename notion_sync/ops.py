"""Outbox operations: every Notion write reelgate makes, as JSON-serialisable data.

The orchestrator stores these in its `outbox` table in the same transaction as the
state change that caused them; the drainer merges what may be merged (`coalesce`,
the one home of the merge rules) and hands them to `notion_sync.writer`.
Field names here are *logical* (see `schema.py`); the mapping turns them into the
workspace's configured property names when the op is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

__all__ = [
    "DAEMON_LOG_TOGGLE",
    "MAX_CHILDREN_PER_APPEND",
    "REVIEW_HISTORY_TOGGLE",
    "AppendBlocks",
    "AppendErrorLog",
    "AppendToToggle",
    "BlockSpec",
    "Coalesced",
    "Comment",
    "FileRef",
    "MergeKey",
    "NotionOp",
    "SetTaskStatus",
    "TextPart",
    "UpdateTask",
    "UpsertVideoRow",
    "coalesce",
    "merge",
    "merge_key",
    "op_adapter",
    "page_of",
    "stored_merge_key",
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
    """Write Status. Kept apart from UpdateTask so it is never coalesced away.

    `changed_at` (ISO time of the transition) is written to Status Changed in the
    same request; None leaves it alone (a refused move set back, nothing changed).
    """

    kind: Literal["set_task_status"] = "set_task_status"
    page_id: str
    status_label: str
    changed_at: str | None = None


class AppendErrorLog(BaseModel):
    """Daemon log lines, as older versions queued them.

    The Error Log is the reviewers' alone: these lines now go to the page's
    `DAEMON_LOG_TOGGLE`, exactly like an `AppendToToggle` (never a read-modify-write
    of a property a person may be typing in).
    """

    kind: Literal["append_error_log"] = "append_error_log"
    page_id: str
    lines: list[str]


# Toggles in the task page body that reelgate appends to (found by their title).
DAEMON_LOG_TOGGLE = "reelgate log"
REVIEW_HISTORY_TOGGLE = "Review history"


class TextPart(BaseModel):
    """A piece of a rich-text line: plain text, or a mention of a Notion user."""

    text: str = ""
    user_id: str | None = None


class AppendToToggle(BaseModel):
    """Append lines (one paragraph each) to a toggle block in the page body.

    The toggle is the first top-level toggle titled `title`; it is created at the
    end of the page when there is none. Appending block children adds to what
    is there and rewrites nothing, so it is safe whoever else edits the page.
    """

    kind: Literal["append_to_toggle"] = "append_to_toggle"
    page_id: str
    title: str
    lines: list[list[TextPart]] = Field(default_factory=list)


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
    # False when the drainer knows no create of this row was ever attempted: the
    # writer then skips the look-up that guards against a duplicate row.
    find_existing: bool = True


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
    UpdateTask
    | SetTaskStatus
    | AppendErrorLog
    | AppendToToggle
    | UpsertVideoRow
    | AppendBlocks
    | Comment,
    Field(discriminator="kind"),
]

op_adapter: TypeAdapter[NotionOp] = TypeAdapter(NotionOp)


def page_of(op: NotionOp) -> str:
    """The page an op writes to (a Videos row counts as its task's page): writes
    to one page are sent in the order they were queued."""
    return op.task_page_id if isinstance(op, UpsertVideoRow) else op.page_id


MergeKey = tuple[str, str] | tuple[str, str, int] | tuple[str, str, str]

# Append block children takes at most 100 children per request; merged appends stay
# within one request so a merged append is sent whole or not at all (checked
# 2026-12-01, https://developers.notion.com/reference/request-limits).
MAX_CHILDREN_PER_APPEND = 100


def merge_key(op: NotionOp) -> MergeKey | None:
    """Ops with equal keys may be merged into one write; None: never merged.

    Property updates merge (a task page's fields; a Videos row, named by its task
    page and clip number): they are idempotent sets and Notion only needs the last
    value. Appends merge too, in their order, into one request of at most 100
    children: lines of one toggle, blocks of one page body. Comments are each
    seen by people, so they keep their order and count; of a page's status
    writes the drainer sends only the latest (orchestrator/daemon/drainer.py).
    """
    if isinstance(op, UpdateTask):
        return ("task", op.page_id)
    if isinstance(op, UpsertVideoRow):
        return ("row", op.task_page_id, op.clip_number)
    if isinstance(op, AppendToToggle):
        return ("toggle", op.page_id, op.title)
    if isinstance(op, AppendErrorLog):
        return ("toggle", op.page_id, DAEMON_LOG_TOGGLE)
    if isinstance(op, AppendBlocks):
        return ("blocks", op.page_id)
    return None


def stored_merge_key(op: NotionOp) -> str | None:
    """The key the outbox stores to find pending writes of the same properties:
    only property updates (sets, whose last value wins) are merged across time."""
    if isinstance(op, UpdateTask):
        return f"task:{op.page_id}"
    if isinstance(op, UpsertVideoRow):
        return f"row:{op.task_page_id}:{op.clip_number}"
    return None


def _children(op: NotionOp) -> int:
    if isinstance(op, AppendToToggle | AppendErrorLog):
        return len(op.lines)
    if isinstance(op, AppendBlocks):
        return len(op.blocks)
    return 0


def _toggle_lines(op: NotionOp) -> list[list[TextPart]]:
    if isinstance(op, AppendErrorLog):
        return [[TextPart(text=line)] for line in op.lines]
    assert isinstance(op, AppendToToggle)
    return [list(line) for line in op.lines]


def merge(into: NotionOp, op: NotionOp) -> NotionOp:
    """``op`` applied on top of ``into`` (same merge key): later field values win;
    a Videos row keeps the first known ``row_page_id``; appends are concatenated."""
    if merge_key(into) is None or merge_key(into) != merge_key(op):
        raise ValueError(f"cannot merge {op.kind} into {into.kind}")
    if isinstance(into, UpdateTask) and isinstance(op, UpdateTask):
        return UpdateTask(page_id=into.page_id, fields={**into.fields, **op.fields})
    if isinstance(into, AppendBlocks) and isinstance(op, AppendBlocks):
        return AppendBlocks(page_id=into.page_id, blocks=[*into.blocks, *op.blocks])
    if isinstance(into, AppendToToggle | AppendErrorLog):
        title = into.title if isinstance(into, AppendToToggle) else DAEMON_LOG_TOGGLE
        return AppendToToggle(
            page_id=into.page_id, title=title, lines=[*_toggle_lines(into), *_toggle_lines(op)]
        )
    assert isinstance(into, UpsertVideoRow)
    assert isinstance(op, UpsertVideoRow)
    return into.model_copy(
        update={
            "fields": {**into.fields, **op.fields},
            "row_page_id": into.row_page_id or op.row_page_id,
        }
    )


@dataclass(frozen=True)
class Coalesced:
    """One write to send, and the positions of the queued ops it stands for."""

    op: NotionOp
    sources: tuple[int, ...]


def coalesce(ops: Sequence[NotionOp]) -> list[Coalesced]:
    """Merge each op into the first earlier op with the same `merge_key`.

    The result keeps the order of first appearance; an op that never merges stands
    alone. A merged property update is sent where its first op was queued, so it
    may overtake other kinds of writes to its page (a comment, a status write);
    none of those writes the same properties. Appends merge only while the result
    stays within one request (`MAX_CHILDREN_PER_APPEND`), and blocks of a page body
    never jump over a toggle append of that page (it may create the toggle at the
    end of the body, so the body keeps its order).
    """
    out: list[Coalesced] = []
    by_key: dict[MergeKey, int] = {}
    for position, op in enumerate(ops):
        key = merge_key(op)
        if isinstance(op, AppendToToggle | AppendErrorLog):
            by_key.pop(("blocks", op.page_id), None)
        at = by_key.get(key) if key is not None else None
        if (
            at is not None
            and _children(op)
            and (_children(out[at].op) + _children(op) > MAX_CHILDREN_PER_APPEND)
        ):
            at = None  # full: this append starts the next request
        if at is None:
            if key is not None:
                by_key[key] = len(out)
            out.append(Coalesced(op, (position,)))
        else:
            group = out[at]
            out[at] = Coalesced(merge(group.op, op), (*group.sources, position))
    return out
