"""What Notion shows about a task: every write goes through the outbox.

Ops are stored in the same transaction as the state change that caused them and
sent later by the drainer at Notion's pace; nothing here talks to Notion.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from notion_sync.ops import (
    DAEMON_LOG_TOGGLE,
    REVIEW_HISTORY_TOGGLE,
    AppendBlocks,
    AppendToToggle,
    BlockSpec,
    Comment,
    FileRef,
    NotionOp,
    SetTaskStatus,
    TextPart,
    UpdateTask,
    UpsertVideoRow,
    stored_merge_key,
)
from orchestrator.db.models import Clip, Keyframe, OutboxItem, Task
from orchestrator.db.outbox_signal import mark_outbox_write
from orchestrator.db.types import utcnow
from orchestrator.limits import NOTION_FIELD_MAX_CHARS, bound, bound_comment
from orchestrator.review.lines import log_line
from orchestrator.state.clips import USABLE, ClipStatus
from orchestrator.state.labels import render_labels
from orchestrator.state.machine import transition
from orchestrator.state.status import Actor, Status
from storage.keys import clip_file_name, keyframe_file_name, thumb_file_name

__all__ = [
    "CLIP_ROW_STATUS",
    "INTERMEDIATE_ROW_HOLD",
    "PROGRESS_HOLD",
    "blocks",
    "clip_row_fields",
    "comment",
    "enqueue",
    "file_ref",
    "history_line",
    "log_daemon_line",
    "log_error_line",
    "move",
    "progress_text",
    "supersede_status_writes",
    "sync_clip_row",
    "update_task_fields",
    "update_task_progress",
]

# Clip state in the database -> Status option of its row in the Videos table.
CLIP_ROW_STATUS: dict[ClipStatus, str] = {
    ClipStatus.PLANNED: "Planned",
    ClipStatus.SUBMITTING: "Generating",
    ClipStatus.POLLING: "Generating",
    ClipStatus.COMPLETE: "Ready",
    ClipStatus.APPROVED: "Approved",
    ClipStatus.REJECTED: "Regenerate",
    ClipStatus.RAI_FILTERED: "Filtered",
    ClipStatus.TIMED_OUT: "Failed",
    ClipStatus.FAILED: "Failed",
    ClipStatus.LOST: "Failed",
}


# A Videos row is written when a reviewer needs the change: planned (created),
# ready (file, thumbnail, duration) and the verdict. Other changes (keyframes
# attached, "Generating") are intermediate: held in the outbox until the row's next
# write takes them along, and sent alone only if none comes within this time.
INTERMEDIATE_ROW_HOLD = timedelta(minutes=30)
# Progress and cost while clips finish: at most about one task-page write per this.
PROGRESS_HOLD = timedelta(seconds=10)


def enqueue(
    session: AsyncSession, task: Task, op: NotionOp, *, hold: timedelta | None = None
) -> None:
    """Queue `op`; with `hold`, it is an intermediate write that waits that long for
    a later write of the same properties to be sent with (the drainer merges them)."""
    session.add(
        OutboxItem(
            task_id=task.id,
            page_id=task.notion_page_id,
            kind=op.kind,
            op=op.model_dump(mode="json"),
            # A task page in the trash refuses every write: keep them for its restore
            # (pipeline/trash.py). Videos rows are pages of their own and still go.
            held=task.page_trashed_at is not None and not isinstance(op, UpsertVideoRow),
            merge_key=stored_merge_key(op),
            hold_until=utcnow() + hold if hold is not None else None,
        )
    )
    mark_outbox_write(session)


async def move(
    session: AsyncSession,
    task: Task,
    to: Status,
    note: str = "",
    *,
    actor: Actor = "daemon",
    now: datetime | None = None,
) -> None:
    """A daemon transition, mirrored to the Notion Status column (and Status Changed,
    in the same write, so a formula can show the time in status)."""
    await transition(session, task, to, actor, note, now=now)
    changed = task.status_changed_at.isoformat() if task.status_changed_at else None
    enqueue(
        session,
        task,
        SetTaskStatus(page_id=task.notion_page_id, status_label=to.label, changed_at=changed),
    )


async def supersede_status_writes(session: AsyncSession, task: Task, now: datetime) -> None:
    """A human just set Status: unsent daemon Status writes are stale; drop them."""
    await session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.task_id == task.id,
            OutboxItem.kind == "set_task_status",
            OutboxItem.sent_at.is_(None),
            OutboxItem.dead.is_(False),
        )
        .values(sent_at=now, last_error="superseded by a human status change")
        .execution_options(synchronize_session=False)
    )


def comment(session: AsyncSession, task: Task, text: str, *, mention_owner: bool = True) -> None:
    """Comment on the task page; `{status:<value>}` in `text` shows the board's label."""
    mentions = list(task.owner_ids) if mention_owner else []
    # Every comment reelgate writes passes here: bounded to what people can read
    # (and far inside Notion's 100 x 2,000-character cap), saying what was cut.
    body = bound_comment(render_labels(text))
    enqueue(
        session,
        task,
        Comment(page_id=task.notion_page_id, text=body, mention_user_ids=mentions),
    )


def log_daemon_line(session: AsyncSession, task: Task, message: str, now: datetime) -> None:
    """Append one line to the daemon's own log: the "reelgate log" toggle in the page body.

    Never the Error Log: that property is the reviewers', and writing a property
    means reading it first and writing it whole, which could erase what someone
    is typing. Appending a block inside a toggle rewrites nothing.
    """
    enqueue(
        session,
        task,
        AppendToToggle(
            page_id=task.notion_page_id,
            title=DAEMON_LOG_TOGGLE,
            lines=[[TextPart(text=log_line(now, render_labels(message)))]],
        ),
    )


# The name callers used when these lines went into the Error Log.
log_error_line = log_daemon_line


def history_line(session: AsyncSession, task: Task, parts: Sequence[TextPart]) -> None:
    """Append one line (a verdict) to the page's "Review history" toggle; `[]` makes
    the toggle appear (it is created where it is first needed)."""
    enqueue(
        session,
        task,
        AppendToToggle(
            page_id=task.notion_page_id,
            title=REVIEW_HISTORY_TOGGLE,
            lines=[list(parts)] if parts else [],
        ),
    )


def update_task_fields(session: AsyncSession, task: Task, **fields: Any) -> None:
    enqueue(session, task, UpdateTask(page_id=task.notion_page_id, fields=fields))


def update_task_progress(session: AsyncSession, task: Task, **fields: Any) -> None:
    """Task-page fields that change as each clip finishes (progress, cost): held
    briefly so a burst of finishing clips makes one write (see `enqueue`)."""
    enqueue(
        session, task, UpdateTask(page_id=task.notion_page_id, fields=fields), hold=PROGRESS_HOLD
    )


def progress_text(clips: Sequence[Clip], total: int) -> str:
    done = sum(1 for c in clips if c.status in USABLE)
    return f"{done}/{total} clips"


def file_ref(name: str, url: str | None, file_upload_id: str | None) -> FileRef | None:
    if not url and not file_upload_id:
        return None
    return FileRef(name=name, url=url or None, file_upload_id=file_upload_id)


def _files(ref: FileRef | None) -> list[dict[str, Any]]:
    return [ref.model_dump()] if ref else []


def _cell(text: str | None) -> str | None:
    return None if text is None else bound(text, NOTION_FIELD_MAX_CHARS, marker=True).text


def clip_row_fields(clip: Clip, keyframes: dict[int, Keyframe]) -> dict[str, Any]:
    start, end = keyframes.get(clip.number), keyframes.get(clip.number + 1)
    fields: dict[str, Any] = {
        "title": f"Clip {clip.number:02d}",
        "clip": clip.number,
        # Text cells stay readable: one rich-text item each, the cut said in the cell.
        "prompt": _cell(clip.prompt),
        "motion": _cell(clip.motion),
        "narration": _cell(clip.narration),
        "status": CLIP_ROW_STATUS.get(ClipStatus(clip.status), "Planned"),
        "attempt": clip.attempt,
        "cost": round(clip.cost_usd, 4),
        "reviewer_note": _cell(clip.reviewer_note),
    }
    for logical, kf in (("start_keyframe", start), ("end_keyframe", end)):
        if kf is not None:
            ref = (
                file_ref(
                    keyframe_file_name(kf.number, kf.attempt, kf.mime_type),
                    kf.public_url,
                    kf.file_upload_id,
                )
                if kf.attempt
                else None  # not rendered yet
            )
            fields[logical] = _files(ref)
    if clip.status in USABLE:
        video = file_ref(
            clip_file_name(clip.number, clip.attempt), clip.public_url, clip.file_upload_id
        )
        fields["video"] = _files(video)
        fields["video_url"] = clip.public_url
        fields["duration"] = round(clip.duration_s or 0.0, 2)
        if clip.generated_at is not None:
            fields["generated"] = clip.generated_at.isoformat()
        if clip.thumb_url:
            fields["thumbnail"] = _files(
                file_ref(thumb_file_name(clip.number, clip.attempt), clip.thumb_url, None)
            )
    return fields


def sync_clip_row(
    session: AsyncSession,
    task: Task,
    clip: Clip,
    keyframes: dict[int, Keyframe],
    *,
    intermediate: bool = False,
) -> None:
    """Create or update the clip's row in the Videos table (in place, by row id).

    Each write carries the whole row, so a held `intermediate` write (keyframes
    attached, "Generating") loses nothing when the row's next write replaces it.
    """
    enqueue(
        session,
        task,
        UpsertVideoRow(
            task_page_id=task.notion_page_id,
            clip_number=clip.number,
            row_page_id=clip.notion_row_id,
            fields=clip_row_fields(clip, keyframes),
        ),
        hold=INTERMEDIATE_ROW_HOLD if intermediate else None,
    )


def blocks(session: AsyncSession, task: Task, specs: Iterable[BlockSpec]) -> None:
    specs = list(specs)
    if specs:
        enqueue(session, task, AppendBlocks(page_id=task.notion_page_id, blocks=specs))
