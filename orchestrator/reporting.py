"""`reelgate report`: how the production line is doing, from the database alone.

- review time per gate (median, p90, and the weekly average review leads track),
  from the review visits (pipeline/history.py); channel auto-approvals excluded;
- time in each working status (Queued, Planning, Generating ...), from the
  transition events: every stay that ended in the window;
- regenerations per clip, over the clips of tasks active in the window;
- cost per task and per channel, from the cost ledger;
- stuck tasks: in a status the daemon should move on from (queued, working,
  approved, or an error with notes it has not answered) for longer than
  `stuck_after`.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from orchestrator.db.models import Clip, CostEntry, Event, ReviewVisit, Task
from orchestrator.pipeline.settle import ERROR_STATUSES
from orchestrator.state.status import STAGES, Status

__all__ = ["build_report", "parse_since", "render_report"]

WORKING: tuple[str, ...] = (Status.QUEUED.value, *(s.working.value for s in STAGES))
_OWED: tuple[str, ...] = (
    *WORKING,
    *(s.approved.value for s in STAGES if s.approved is not Status.DONE),
)
_SINCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: datetime) -> datetime:
    """`7d`, `24h`, `90m`, `2w`, or an ISO date/time (UTC when no zone is given)."""
    if m := _SINCE.match(text):
        return now - timedelta(**{_UNITS[m.group(2).lower()]: float(m.group(1))})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"--since {text!r}: give a duration (7d, 24h, 90m, 2w) or a date (2026-11-24)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)


def _stats(values: Sequence[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "median_s": None, "p90_s": None, "mean_s": None}
    ordered = sorted(values)
    p90 = (
        ordered[0]
        if len(ordered) == 1
        else statistics.quantiles(ordered, n=10, method="inclusive")[8]
    )
    return {
        "count": len(ordered),
        "median_s": round(statistics.median(ordered), 1),
        "p90_s": round(p90, 1),
        "mean_s": round(statistics.fmean(ordered), 1),
    }


def _week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


async def _review(session: AsyncSession, since: datetime, now: datetime) -> dict[str, Any]:
    rows = await session.execute(
        select(ReviewVisit.gate, ReviewVisit.duration_s, ReviewVisit.verdict_at).where(
            ReviewVisit.verdict_at.is_not(None),
            ReviewVisit.verdict_at >= since,
            ReviewVisit.verdict_at <= now,
            ReviewVisit.verdict != "auto",
            ReviewVisit.duration_s.is_not(None),
        )
    )
    by_gate: dict[str, list[tuple[float, datetime]]] = defaultdict(list)
    for gate, duration, at in rows.all():
        if duration is not None and at is not None:
            by_gate[gate].append((float(duration), at))
    out: dict[str, Any] = {}
    for stage in STAGES:
        visits = by_gate.get(stage.name, [])
        weekly: dict[str, list[float]] = defaultdict(list)
        for duration, at in visits:
            weekly[_week(at)].append(duration)
        out[stage.name] = {
            **_stats([d for d, _ in visits]),
            "weekly": [
                {"week": week, "count": len(v), "average_s": round(statistics.fmean(v), 1)}
                for week, v in sorted(weekly.items())
            ],
        }
    return out


async def _working(session: AsyncSession, since: datetime, now: datetime) -> dict[str, Any]:
    events = await session.execute(
        select(Event.task_id, Event.to_status, Event.at)
        .where(Event.kind == "transition", Event.task_id.is_not(None), Event.at <= now)
        .order_by(Event.task_id, Event.at, Event.id)
    )
    stays: dict[str, list[float]] = defaultdict(list)
    previous: tuple[int | None, str | None, datetime] | None = None
    for task_id, to_status, at in events.all():
        if previous is not None and previous[0] == task_id:
            _, status, entered = previous
            if status in WORKING and at >= since:
                stays[status].append((at - entered).total_seconds())
        previous = (task_id, to_status, at)
    return {Status(s).label: _stats(stays.get(s, [])) for s in WORKING}


async def _active_tasks(session: AsyncSession, since: datetime) -> list[int]:
    rows = await session.execute(
        select(Event.task_id).where(Event.at >= since, Event.task_id.is_not(None)).distinct()
    )
    return [int(t) for t in rows.scalars().all() if t is not None]


async def _regeneration(session: AsyncSession, task_ids: Sequence[int]) -> dict[str, Any]:
    if not task_ids:
        return {"clips": 0, "regenerations": 0, "per_clip": 0.0, "clips_regenerated": 0}
    rows = await session.execute(
        select(Clip.attempt).where(Clip.task_id.in_(task_ids), Clip.attempt > 0)
    )
    attempts = [int(a) for a in rows.scalars().all()]
    regenerations = sum(a - 1 for a in attempts)
    return {
        "clips": len(attempts),
        "regenerations": regenerations,
        "per_clip": round(regenerations / len(attempts), 3) if attempts else 0.0,
        "clips_regenerated": sum(1 for a in attempts if a > 1),
    }


async def _cost(session: AsyncSession, since: datetime, now: datetime) -> dict[str, Any]:
    rows = await session.execute(
        select(Task.id, Task.title, Task.channel, func.sum(CostEntry.usd))
        .join(Task, Task.id == CostEntry.task_id)
        .where(CostEntry.at >= since, CostEntry.at <= now)
        .group_by(Task.id, Task.title, Task.channel)
        .order_by(Task.id)
    )
    tasks: list[dict[str, Any]] = [
        {"task": int(i), "title": title, "channel": channel, "usd": round(float(usd or 0), 4)}
        for i, title, channel, usd in rows.all()
    ]
    channels: dict[str, float] = defaultdict(float)
    for row in tasks:
        channels[str(row["channel"])] += float(row["usd"])
    return {
        "total_usd": round(sum(float(r["usd"]) for r in tasks), 4),
        "tasks": tasks,
        "channels": {k: round(v, 4) for k, v in sorted(channels.items())},
    }


async def _stuck(session: AsyncSession, now: datetime, stuck_after: timedelta) -> list[Any]:
    rows = await session.execute(
        select(Task)
        .where(
            Task.status_changed_at < now - stuck_after,
            or_(
                Task.status.in_(_OWED),
                and_(
                    Task.status.in_(ERROR_STATUSES),
                    # Waiting for the reviewer's notes is not the daemon's delay.
                    or_(
                        Task.review_noted_hash.is_(None),
                        Task.review_noted_hash != Task.review_input_hash,
                    ),
                ),
            ),
        )
        .order_by(Task.status_changed_at)
    )
    return [
        {
            "task": t.id,
            "title": t.title,
            "status": Status(t.status).label,
            "since": t.status_changed_at.isoformat(),
            "hours": round((now - t.status_changed_at).total_seconds() / 3600, 1),
        }
        for t in rows.scalars().all()
    ]


async def build_report(
    session: AsyncSession,
    *,
    since: datetime,
    now: datetime,
    stuck_after: timedelta = timedelta(hours=1),
) -> dict[str, Any]:
    """Everything `reelgate report --json` prints."""
    return {
        "since": since.isoformat(),
        "until": now.isoformat(),
        "review": await _review(session, since, now),
        "working": await _working(session, since, now),
        "regeneration": await _regeneration(session, await _active_tasks(session, since)),
        "cost": await _cost(session, since, now),
        "stuck": await _stuck(session, now, stuck_after),
    }


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 172800:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def render_report(report: dict[str, Any]) -> str:
    """The report as text for a terminal."""
    lines = [f"reelgate report, {report['since'][:16]} to {report['until'][:16]} (UTC)", ""]
    lines.append("Review time per gate      n   median     p90   weekly average")
    for gate, row in report["review"].items():
        weekly = ", ".join(f"{w['week']} {_duration(w['average_s'])}" for w in row["weekly"])
        lines.append(
            f"  {gate:<20} {row['count']:>5} {_duration(row['median_s']):>8}"
            f" {_duration(row['p90_s']):>7}   {weekly or '-'}"
        )
    lines += ["", "Time in working statuses  n   median     p90"]
    for status, row in report["working"].items():
        lines.append(
            f"  {status:<20} {row['count']:>5} {_duration(row['median_s']):>8}"
            f" {_duration(row['p90_s']):>7}"
        )
    regen = report["regeneration"]
    lines += [
        "",
        f"Regeneration: {regen['regenerations']} over {regen['clips']} clips "
        f"({regen['per_clip']} per clip; {regen['clips_regenerated']} clips regenerated)",
        "",
        f"Cost: ${report['cost']['total_usd']:.2f}",
    ]
    for channel, usd in report["cost"]["channels"].items():
        lines.append(f"  channel {channel:<18} ${usd:.2f}")
    for task in report["cost"]["tasks"]:
        lines.append(f"  task {task['task']:<5} {task['title'][:30]:<30} ${task['usd']:.2f}")
    lines += ["", f"Stuck tasks: {len(report['stuck'])}"]
    for task in report["stuck"]:
        lines.append(
            f"  task {task['task']:<5} {task['title'][:30]:<30} {task['status']} "
            f"for {task['hours']}h"
        )
    return "\n".join(lines)
