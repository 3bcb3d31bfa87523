"""Review history: every visit to a review gate, kept in the database and in Notion.

A visit opens when a task reaches a gate (or comes back to it) and closes with a
verdict: the status a person chose (seen by the poller, with who and when), or
`auto` when the channel approves by itself. An approval is written to the page's
"Review history" toggle at once; an error verdict is written when the daemon has
read the notes, so its line says what was asked for:

    Video review, round 2: Error by @Rita Reviewer at 2026-12-01 10:15 UTC
    after 13 min: clips 2, 3 (too dark)

`reelgate report` reads the visits (review time per gate); the leader observes
`reelgate_review_duration_seconds{gate}` when a person's verdict arrives.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notion_sync.ops import TextPart
from orchestrator.db.models import ReviewVisit, Task
from orchestrator.metrics import Metrics
from orchestrator.pipeline.notion_out import history_line
from orchestrator.review import compact_numbers, join_notes
from orchestrator.state.status import STAGES, Status

__all__ = [
    "AUTO",
    "close_visit",
    "format_duration",
    "history_parts",
    "named_of",
    "open_visit",
    "pending_visit",
    "summary_of",
    "write_history",
]

AUTO = "auto"


def format_duration(seconds: float) -> str:
    """45 s, 13 min, 2 h 5 min, 3 d 4 h."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


async def open_visit(
    session: AsyncSession, task: Task, gate: str, round_no: int, now: datetime
) -> ReviewVisit:
    visit = ReviewVisit(
        task_id=task.id, gate=gate, round=round_no, opened_at=now, named={}, summary=""
    )
    session.add(visit)
    return visit


async def _latest(session: AsyncSession, task_id: int, *, open_: bool) -> ReviewVisit | None:
    query = select(ReviewVisit).where(ReviewVisit.task_id == task_id)
    if open_:
        query = query.where(ReviewVisit.verdict.is_(None))
    else:
        query = query.where(
            ReviewVisit.verdict.is_not(None), ReviewVisit.history_written.is_(False)
        )
    row = await session.execute(query.order_by(ReviewVisit.id.desc()).limit(1))
    return row.scalar_one_or_none()


async def close_visit(
    session: AsyncSession,
    task: Task,
    verdict: str,
    by: str | None,
    now: datetime,
    metrics: Metrics | None = None,
) -> ReviewVisit | None:
    """Record the verdict on the task's open visit (None when no visit is open)."""
    visit = await _latest(session, task.id, open_=True)
    if visit is None:
        return None
    visit.verdict = verdict
    visit.verdict_by = by
    visit.verdict_at = now
    visit.duration_s = max(0.0, (now - visit.opened_at).total_seconds())
    if metrics is not None and verdict != AUTO:
        metrics.review_duration_seconds.labels(gate=visit.gate).observe(visit.duration_s)
    return visit


async def pending_visit(session: AsyncSession, task_id: int) -> ReviewVisit | None:
    """The last visit with a verdict whose history line is not written yet."""
    return await _latest(session, task_id, open_=False)


def _verdict_words(visit: ReviewVisit) -> str:
    verdict = visit.verdict or ""
    if verdict == AUTO:
        return "approved automatically"
    try:
        status = Status(verdict)
    except ValueError:
        return verdict
    stage = next((s for s in STAGES if s.name == visit.gate), None)
    if stage is not None and status is stage.approved:
        return "Approved" if status is not Status.DONE else "Done"
    if stage is not None and status is stage.error:
        return "Error"
    return status.label


def history_parts(visit: ReviewVisit, summary: str) -> list[TextPart]:
    """The visit's line: who is a Notion mention, so Notion shows their name."""
    head = f"{visit.gate.capitalize()} review, round {visit.round}: {_verdict_words(visit)}"
    parts = [TextPart(text=head)]
    if visit.verdict != AUTO:
        if visit.verdict_by:
            parts += [TextPart(text=" by "), TextPart(user_id=visit.verdict_by)]
        else:
            parts.append(TextPart(text=" in Notion"))
        when = visit.verdict_at.strftime("%Y-%m-%d %H:%M UTC") if visit.verdict_at else "?"
        parts.append(TextPart(text=f" at {when} after {format_duration(visit.duration_s or 0.0)}"))
    if summary:
        parts.append(TextPart(text=f" ({summary})" if visit.verdict == AUTO else f": {summary}"))
    return parts


def write_history(session: AsyncSession, task: Task, visit: ReviewVisit, summary: str) -> None:
    """Send the visit's line to the page's Review history toggle (once)."""
    if visit.history_written:
        return
    visit.summary = summary
    visit.history_written = True
    history_line(session, task, history_parts(visit, summary))


_NAMED_WORDS = {
    "storyboard": ("shots", "re-plan shot"),
    "keyframes": ("keyframes", "keyframe"),
    "video": ("clips", "clip"),
    "audio": ("narration", "narration of clip"),
}


def named_of(targets: Mapping[str, Mapping[int, str]]) -> dict[str, Any]:
    """Stage targets -> the `named` column: {"shots": [3], "clips": [2, 3], ...}."""
    out: dict[str, Any] = {}
    for stage, items in targets.items():
        if items and stage in _NAMED_WORDS:
            out[_NAMED_WORDS[stage][0]] = sorted(items)
    return out


def summary_of(targets: Mapping[str, Mapping[int, str]]) -> str:
    """`clips 2, 3 (too dark)`; one part per stage with targets."""
    parts: list[str] = []
    for stage in (s.name for s in STAGES):
        items = targets.get(stage) or {}
        if not items or stage not in _NAMED_WORDS:
            continue
        word = _NAMED_WORDS[stage][1]
        plural = "s" if len(items) != 1 else ""
        text = f"{word}{plural} {compact_numbers(items)}"
        notes = join_notes(list(items.values()))
        parts.append(f"{text} ({notes})" if notes else text)
    return "; ".join(parts)
