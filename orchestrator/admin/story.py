"""`reelgate status TASK`: one task's whole story, as data.

The story is a dict of named sections, each made by one loader from the database
(no Notion call: it works while Notion is down). `reelgate status TASK --json`
prints it as is; the CLI renders each section (orchestrator/cli/story_view.py).
To add a section, append a loader to `SECTIONS`; the CLI shows a section it has
no renderer for as a generic table, so nothing added here goes unseen.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orchestrator.admin.outbox import dead_letters, pending_writes
from orchestrator.admin.stuck import is_stuck, stuck_limit
from orchestrator.channels import Channels
from orchestrator.db.models import Clip, CostEntry, Event, Keyframe, ReviewLine, Task
from orchestrator.state.claims import WOKEN
from orchestrator.state.status import STAGES, Status

__all__ = ["SECTIONS", "StoryContext", "task_story"]


@dataclass(frozen=True)
class StoryContext:
    session: AsyncSession
    task: Task
    channels: Channels
    now: datetime


Loader = Callable[[StoryContext], Awaitable[Any]]

_GATES = {stage.ready.value for stage in STAGES}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _label(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return Status(value).label
    except ValueError:
        return value


async def _task(ctx: StoryContext) -> dict[str, Any]:
    task, channel = ctx.task, ctx.channels.get(ctx.task.channel)
    limit = stuck_limit(ctx.channels, task)
    return {
        "id": task.id,
        "page_id": task.notion_page_id,
        "url": task.notion_url,
        "title": task.title,
        "channel": task.channel,
        "status": Status(task.status).label,
        "status_since": _iso(task.status_changed_at),
        "seconds_in_status": round((ctx.now - task.status_changed_at).total_seconds(), 1),
        "stuck": is_stuck(ctx.channels, task, ctx.now),
        "stuck_after_minutes": int(limit.total_seconds() // 60) if limit else None,
        "brief": task.brief,
        "clips": task.clip_count,
        "clip_seconds": task.clip_seconds,
        "aspect_ratio": task.aspect_ratio,
        "estimated_cost_usd": round(task.estimated_cost_usd, 4),
        "cost_usd": round(task.cost_usd, 4),
        "budget_usd": channel.budget_usd,
        "error": task.error,
        "resume_status": _label(task.resume_status),
        "review_rounds": dict(task.rounds),
        "lease_owner": task.lease_owner,
        "lease_expires_at": _iso(task.lease_expires_at),
        # WOKEN (the operation poller's "look now") is shown as no wait at all.
        "not_before": _iso(None if task.not_before == WOKEN else task.not_before),
        "final_key": task.final_key,
        "created_at": _iso(task.created_at),
        "updated_at": _iso(task.updated_at),
    }


async def _ledger(ctx: StoryContext) -> list[CostEntry]:
    rows = await ctx.session.execute(
        select(CostEntry).where(CostEntry.task_id == ctx.task.id).order_by(CostEntry.id)
    )
    return list(rows.scalars().all())


async def _clips(ctx: StoryContext) -> list[dict[str, Any]]:
    clips = (
        (
            await ctx.session.execute(
                select(Clip).where(Clip.task_id == ctx.task.id).order_by(Clip.number)
            )
        )
        .scalars()
        .all()
    )
    charges: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for entry in await _ledger(ctx):
        if entry.clip_id is not None and entry.kind == "clip":
            charges[entry.clip_id].append(
                {
                    "at": _iso(entry.at),
                    "operation_name": entry.operation_name,
                    "model": entry.model,
                    "units": entry.units,
                    "unit": entry.unit,
                    "usd": round(entry.usd, 4),
                }
            )
    return [
        {
            "number": clip.number,
            "status": clip.status,
            "attempt": clip.attempt,
            "seconds": clip.seconds,
            "operation_name": clip.operation_name,
            "submitted_at": _iso(clip.submitted_at),
            "polls": clip.poll_count,
            "error": clip.error,
            "cost_usd": round(clip.cost_usd, 4),
            "storage_key": clip.storage_key,
            "thumb_key": clip.thumb_key,
            "duration_s": clip.duration_s,
            "bytes": clip.bytes,
            "sha256": clip.sha256,
            "narration_status": clip.narration_status,
            "narration_key": clip.narration_key,
            "reviewer_note": clip.reviewer_note,
            "notion_verdict": clip.notion_verdict,
            "notion_row_id": clip.notion_row_id,
            # Every paid operation of this clip, attempt by attempt.
            "charges": charges.get(clip.id, []),
        }
        for clip in clips
    ]


async def _keyframes(ctx: StoryContext) -> list[dict[str, Any]]:
    rows = await ctx.session.execute(
        select(Keyframe).where(Keyframe.task_id == ctx.task.id).order_by(Keyframe.number)
    )
    return [
        {
            "number": kf.number,
            "status": kf.status,
            "attempt": kf.attempt,
            "cost_usd": round(kf.cost_usd, 4),
            "storage_key": kf.storage_key,
        }
        for kf in rows.scalars().all()
    ]


async def _costs(ctx: StoryContext) -> dict[str, Any]:
    by_kind: dict[str, dict[str, float]] = {}
    for entry in await _ledger(ctx):
        row = by_kind.setdefault(entry.kind, {"calls": 0, "usd": 0.0})
        row["calls"] += 1
        row["usd"] = round(row["usd"] + entry.usd, 4)
    return {
        "by_kind": by_kind,
        "ledger_usd": round(sum(r["usd"] for r in by_kind.values()), 4),
        "task_usd": round(ctx.task.cost_usd, 4),
    }


async def _events(ctx: StoryContext) -> list[Event]:
    rows = await ctx.session.execute(
        select(Event).where(Event.task_id == ctx.task.id).order_by(Event.at, Event.id)
    )
    return list(rows.scalars().all())


async def _review(ctx: StoryContext) -> dict[str, Any]:
    verdicts = [
        {
            "at": _iso(e.at),
            "gate": _label(e.from_status),
            "verdict": _label(e.to_status)
            if e.kind != "revert"
            else f"{_label(e.to_status)} (refused, set back)",
            "actor": e.actor,
            "note": e.note,
        }
        for e in await _events(ctx)
        if (e.kind == "transition" and e.from_status in _GATES) or e.kind == "revert"
    ]
    lines = await ctx.session.execute(
        select(ReviewLine).where(ReviewLine.task_id == ctx.task.id).order_by(ReviewLine.id)
    )
    return {
        "rounds": dict(ctx.task.rounds),
        "verdicts": verdicts,
        "lines_acted_on": [
            {"at": _iso(line.at), "round": line.round, "line": line.line}
            for line in lines.scalars().all()
        ],
    }


async def _notion_writes(ctx: StoryContext) -> dict[str, Any]:
    return {
        "pending": [row.as_json() for row in await pending_writes(ctx.session, ctx.task.id)],
        "dead_letters": [row.as_json() for row in await dead_letters(ctx.session, ctx.task.id)],
    }


async def _timeline(ctx: StoryContext) -> dict[str, Any]:
    events = await _events(ctx)
    moves = [e for e in events if e.kind == "transition" and e.to_status]
    # How long each status lasted: until the next transition (the current one: until now).
    lasted: dict[int, float] = {}
    for this, following in zip(moves, [*moves[1:], None], strict=True):
        end = following.at if following is not None else ctx.now
        lasted[this.id] = round(max(0.0, (end - this.at).total_seconds()), 1)
    totals: dict[str, float] = defaultdict(float)
    for move in moves:
        totals[_label(move.to_status) or ""] += lasted[move.id]
    return {
        "events": [
            {
                "at": _iso(e.at),
                "kind": e.kind,
                "actor": e.actor,
                "from": _label(e.from_status),
                "to": _label(e.to_status),
                "note": e.note,
                "seconds_in_status": lasted.get(e.id),
            }
            for e in events
        ],
        "seconds_by_status": {k: round(v, 1) for k, v in totals.items()},
    }


SECTIONS: list[tuple[str, Loader]] = [
    ("task", _task),
    ("clips", _clips),
    ("keyframes", _keyframes),
    ("costs", _costs),
    ("review", _review),
    ("notion_writes", _notion_writes),
    ("timeline", _timeline),
]


async def task_story(
    session: AsyncSession, task: Task, channels: Channels, now: datetime
) -> dict[str, Any]:
    """Every section of the task's story, in order, as JSON-ready data."""
    ctx = StoryContext(session, task, channels, now)
    return {name: await load(ctx) for name, load in SECTIONS}
