"""The database (DESIGN §3). The orchestrator owns it; adapters hold no state.

Money is stored as float USD: amounts are small, summed per task, and shown rounded
to cents; the ledger keeps every paid call so totals can always be recomputed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from orchestrator.db.types import UTCDateTime, utcnow

__all__ = [
    "Base",
    "Clip",
    "CostEntry",
    "Event",
    "Keyframe",
    "OutboxItem",
    "ReviewLine",
    "ReviewVisit",
    "SyncState",
    "Task",
]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notion_page_id: Mapped[str] = mapped_column(String(64), unique=True)
    notion_url: Mapped[str] = mapped_column(String(500), default="")
    title: Mapped[str] = mapped_column(String(500), default="")
    channel: Mapped[str] = mapped_column(String(100), default="default")
    status: Mapped[str] = mapped_column(String(40), index=True)
    brief: Mapped[str] = mapped_column(Text, default="")
    clip_count: Mapped[int] = mapped_column(Integer, default=6)
    clip_seconds: Mapped[int] = mapped_column(Integer, default=8)
    aspect_ratio: Mapped[str] = mapped_column(String(8), default="16:9")
    storyboard: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    owner_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Snapshot of the page's Error Log, kept by the poller: workers never call Notion.
    error_log: Mapped[str] = mapped_column(Text, default="")
    # What a review asked for and the worker has not done yet, e.g.
    # {"storyboard": {"3": "darker mood"}}: survives a crash between the two.
    pending_targets: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    final_round: Mapped[int] = mapped_column(Integer, default=0)
    final_key: Mapped[str | None] = mapped_column(String(500), nullable=True)
    final_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Claims (DESIGN §4): a worker holds a task while its lease is in the future.
    lease_owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    # Earliest time a worker should look at the task again (backoff after a
    # transient error, or while clips are rendering elsewhere).
    not_before: Mapped[datetime | None] = mapped_column(nullable=True)
    review_started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    review_completed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    review_round: Mapped[int] = mapped_column(Integer, default=0)
    rounds: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    estimated_cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    # What the daemon last saw in Notion, so the poller reports each change once.
    last_seen_status: Mapped[str | None] = mapped_column(String(100), nullable=True)
    last_seen_edit_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_seen_fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The page's References (notion_sync.mapping.ReferenceFile.to_json each), kept by
    # the poller while they may still change (Draft, Queued, Storyboard Error), with
    # the URLs of its last read: workers download from them, never calling Notion.
    reference_sources: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default="[]"
    )
    # The reference images downloaded, checked and stored under the task's prefix, one
    # entry per file (orchestrator.pipeline.references.StoredReference.to_json).
    reference_images: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default="[]"
    )
    # Status to resume from after Failed -> Queued (the last good stage).
    resume_status: Mapped[str | None] = mapped_column(String(40), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The settle rule (pipeline/settle.py): the review input (Error Log and the rows
    # set to Regenerate) as the leader last read it, when it first read it so, and
    # the input a page read after the settle time confirmed. Workers act on a
    # review only when the two hashes agree.
    review_input_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    review_input_at: Mapped[datetime | None] = mapped_column(nullable=True)
    review_settled_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The input the daemon last answered with a comment (waiting for notes, or
    # lines it could not read): it waits for the next change instead of repeating.
    review_noted_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # When the task entered the error status whose "waiting for your notes"
    # comment was posted (one such comment per visit).
    review_waiting_since: Mapped[datetime | None] = mapped_column(nullable=True)
    # Back-off of a step that keeps failing transiently (provider unreachable, ...):
    # failures in a row of the step `step_failure_status`, since when, the last error,
    # and the provider when it is the provider that fails (the worker's back-off,
    # /readyz and reelgate_provider_up read these, so a restart keeps them).
    step_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    step_failure_status: Mapped[str | None] = mapped_column(String(40), nullable=True)
    step_failing_since: Mapped[datetime | None] = mapped_column(nullable=True)
    step_failure_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    step_failure_provider: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # Set while the task page is in Notion's trash: its writes are held (not
    # dead-lettered) until a read finds the page restored (pipeline/trash.py).
    page_trashed_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Keyframe(Base):
    """Keyframe *k* of a task; clip *i* runs from keyframe *i* to keyframe *i+1*."""

    __tablename__ = "keyframes"
    __table_args__ = (UniqueConstraint("task_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    prompt: Mapped[str] = mapped_column(Text, default="")
    reviewer_note: Mapped[str] = mapped_column(Text, default="")
    # A state.clips.KeyframeStatus; changed only by state.clips.transition_keyframe.
    status: Mapped[str] = mapped_column(String(20), default="planned")
    storage_key: Mapped[str | None] = mapped_column(String(500), nullable=True)
    public_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    file_upload_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The image's real type (image models may answer JPEG): names its file and is sent
    # to Veo with it.
    mime_type: Mapped[str] = mapped_column(
        String(40), default="image/png", server_default="image/png"
    )
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Clip(Base):
    __tablename__ = "clips"
    __table_args__ = (
        UniqueConstraint("task_id", "number"),
        Index("ix_clips_status_next_poll", "status", "next_poll_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    prompt: Mapped[str] = mapped_column(Text, default="")
    motion: Mapped[str] = mapped_column(Text, default="")
    narration: Mapped[str] = mapped_column(Text, default="")
    seconds: Mapped[int] = mapped_column(Integer, default=8)
    reviewer_note: Mapped[str] = mapped_column(Text, default="")
    # Keyframe attempts this clip was made from: a newer keyframe makes it stale.
    start_keyframe_attempt: Mapped[int] = mapped_column(Integer, default=0)
    end_keyframe_attempt: Mapped[int] = mapped_column(Integer, default=0)
    # Persisted before the first poll: the one thing that makes a paid call resumable.
    operation_name: Mapped[str | None] = mapped_column(String(500), nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(nullable=True)
    poll_count: Mapped[int] = mapped_column(Integer, default=0)
    next_poll_at: Mapped[datetime | None] = mapped_column(nullable=True)
    deadline_at: Mapped[datetime | None] = mapped_column(nullable=True)
    rai_retries: Mapped[int] = mapped_column(Integer, default=0)
    # A state.clips.ClipStatus (its values and allowed moves are listed there);
    # changed only by state.clips.transition_clip, guarded on status and attempt.
    status: Mapped[str] = mapped_column(String(20), default="planned")
    storage_key: Mapped[str | None] = mapped_column(String(500), nullable=True)
    public_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    url_expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    file_upload_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    thumb_key: Mapped[str | None] = mapped_column(String(500), nullable=True)
    thumb_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    bytes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    notion_row_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # A reviewer set this row to Regenerate in the Videos table (with reviewer_note).
    notion_verdict: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # Narration is made per clip so an Audio Error can redo only the named lines.
    # A state.clips.NarrationStatus; changed only by state.clips.transition_narration.
    narration_status: Mapped[str] = mapped_column(String(20), default="planned")
    narration_attempt: Mapped[int] = mapped_column(Integer, default=0)
    narration_note: Mapped[str] = mapped_column(Text, default="")
    narration_key: Mapped[str | None] = mapped_column(String(500), nullable=True)
    narration_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    narration_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    # When this attempt's file was stored (the Videos table's Generated column).
    generated_at: Mapped[datetime | None] = mapped_column(nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Event(Base):
    """The audit trail: every transition (who, from, to, when, note) and notable act."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int | None] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), nullable=True, index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(40), default="transition")
    actor: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(40), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(40), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class CostEntry(Base):
    """Every paid call. Filtered results are recorded at $0."""

    __tablename__ = "cost_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int | None] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), nullable=True, index=True
    )
    clip_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))  # storyboard|keyframe|clip|narration
    provider: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(100))
    units: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20))
    usd: Mapped[float] = mapped_column(Float)
    operation_name: Mapped[str | None] = mapped_column(String(500), nullable=True)


class OutboxItem(Base):
    """A Notion write, stored in the same transaction as the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "dead", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int | None] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), nullable=True, index=True
    )
    page_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(40))
    op: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    dead: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # A write to a task page in the trash: kept, not sent, until the page is restored.
    held: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ReviewLine(Base):
    """One copy of an Error Log line the daemon acted on, per task, gate and round.

    review.lines.new_review_lines counts the live (not retired) rows per hash to
    tell new lines from old; a row is retired when a settled log no longer holds
    its line (review.lines.lines_to_retire).
    """

    __tablename__ = "review_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    line_hash: Mapped[str] = mapped_column(String(64), index=True)
    line: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    stage: Mapped[str] = mapped_column(String(20), default="", server_default="")
    retired_at: Mapped[datetime | None] = mapped_column(nullable=True)


class ReviewVisit(Base):
    """One visit of a task to a review gate: opened, then a verdict by someone.

    `verdict` is the status the reviewer chose (`video_approved`, `video_error`,
    `storyboard_error`, `cancelled`...) or `auto` (the channel auto-approved).
    `named` lists what an error verdict asked for ({"clips": [2, 3], ...}) and
    `summary` says it in words; `history_written` is set once its line is in the
    page's "Review history" toggle.
    """

    __tablename__ = "review_visits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    gate: Mapped[str] = mapped_column(String(20))
    round: Mapped[int] = mapped_column(Integer, default=1)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    verdict: Mapped[str | None] = mapped_column(String(40), nullable=True)
    verdict_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    verdict_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    named: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    summary: Mapped[str] = mapped_column(Text, default="")
    history_written: Mapped[bool] = mapped_column(Boolean, default=False)


class SyncState(Base):
    """Cursors of the Notion pollers (one row per data source)."""

    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    cursor: Mapped[datetime | None] = mapped_column(nullable=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
