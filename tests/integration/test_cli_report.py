"""`reelgate report --json` over a seeded history gives the expected figures."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta

from typer.testing import CliRunner

from orchestrator.cli import app
from orchestrator.db import (
    Clip,
    CostEntry,
    Event,
    ReviewVisit,
    Task,
    create_engine,
    session_factory,
    upgrade,
    utcnow,
)

runner = CliRunner()


def _week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


async def _seed(url: str, now: datetime) -> tuple[datetime, datetime]:
    # Two whole ISO weeks, both inside a 30-day window.
    monday = (now - timedelta(days=20)).replace(hour=9, minute=0, second=0, microsecond=0)
    monday -= timedelta(days=monday.weekday())
    week_a, week_b = monday + timedelta(days=1), monday + timedelta(days=8)
    engine = create_engine(url)
    await upgrade(engine)
    async with session_factory(engine)() as session, session.begin():
        a = Task(notion_page_id="a", title="Lighthouse", channel="demo", status="done")
        b = Task(notion_page_id="b", title="Harbour", channel="shorts", status="done")
        stuck = Task(
            notion_page_id="c",
            title="Stuck one",
            status="generating_video",
            status_changed_at=now - timedelta(hours=3),
        )
        waiting = Task(
            notion_page_id="d",
            title="Waiting for notes",
            status="video_error",
            status_changed_at=now - timedelta(hours=5),
            review_input_hash="h",
            review_settled_hash="h",
            review_noted_hash="h",
        )
        at_gate = Task(
            notion_page_id="e",
            title="At a gate",
            status="video_ready",
            status_changed_at=now - timedelta(hours=10),
        )
        session.add_all([a, b, stuck, waiting, at_gate])
        await session.flush()

        def visit(task: Task, gate: str, at: datetime, seconds: float, verdict: str) -> None:
            session.add(
                ReviewVisit(
                    task_id=task.id,
                    gate=gate,
                    round=1,
                    opened_at=at - timedelta(seconds=seconds),
                    verdict=verdict,
                    verdict_by=None if verdict == "auto" else "rita",
                    verdict_at=at,
                    duration_s=seconds,
                    named={},
                )
            )

        # Video reviews: 60, 120 s in week A; 300, 600, 1200 s in week B.
        visit(a, "video", week_a, 60, "video_error")
        visit(a, "video", week_a + timedelta(hours=2), 120, "video_approved")
        visit(b, "video", week_b, 300, "video_error")
        visit(b, "video", week_b + timedelta(hours=1), 600, "video_error")
        visit(b, "video", week_b + timedelta(hours=3), 1200, "video_approved")
        visit(a, "storyboard", week_a, 30, "storyboard_approved")
        visit(b, "storyboard", week_b, 90, "storyboard_approved")
        visit(a, "keyframes", week_a, 0, "auto")  # the channel's, not a person's
        visit(a, "video", now - timedelta(days=45), 99_999, "video_approved")  # too old

        def moves(task: Task, start: datetime, steps: list[tuple[str, float]]) -> None:
            at = start
            for status, after in steps:
                at += timedelta(seconds=after)
                session.add(Event(task_id=task.id, at=at, actor="daemon", to_status=status))

        moves(a, week_a, [("queued", 0), ("planning", 10), ("storyboard_ready", 60)])
        moves(a, week_a, [("generating_video", 3600), ("video_ready", 300)])
        moves(b, week_b, [("queued", 0), ("planning", 5), ("storyboard_ready", 120)])

        for task, attempts in ((a, [1, 2, 3]), (b, [1, 1])):
            for number, attempt in enumerate(attempts, 1):
                session.add(
                    Clip(task_id=task.id, number=number, attempt=attempt, status="approved")
                )
        for task, usd in ((a, 1.5), (a, 2.0), (b, 0.75)):
            session.add(
                CostEntry(
                    task_id=task.id,
                    at=week_b,
                    kind="clip",
                    provider="local",
                    model="m",
                    units=1,
                    unit="clip",
                    usd=usd,
                )
            )
    await engine.dispose()
    return week_a, week_b


def test_report_json_over_a_seeded_history(sqlite_url: str) -> None:
    now = utcnow()
    week_a, week_b = asyncio.run(_seed(sqlite_url, now))
    result = runner.invoke(
        app, ["report", "--since", "30d", "--json"], env={"REELGATE_DATABASE_URL": sqlite_url}
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)

    video = report["review"]["video"]
    assert video["count"] == 5
    assert video["median_s"] == 300.0
    # p90 of 60, 120, 300, 600, 1200 (inclusive quantiles): 600 + 0.6 x 600.
    assert video["p90_s"] == 960.0
    assert video["weekly"] == [
        {"week": _week(week_a), "count": 2, "average_s": 90.0},
        {"week": _week(week_b), "count": 3, "average_s": 700.0},
    ]
    storyboard = report["review"]["storyboard"]
    assert (storyboard["count"], storyboard["median_s"]) == (2, 60.0)
    assert report["review"]["keyframes"]["count"] == 0  # auto-approvals are not reviews

    assert report["working"]["Planning"]["count"] == 2
    assert report["working"]["Planning"]["median_s"] == 90.0  # 60 s and 120 s
    assert report["working"]["Generating Video"]["median_s"] == 300.0

    assert report["regeneration"] == {
        "clips": 5,
        "regenerations": 3,
        "per_clip": 0.6,
        "clips_regenerated": 2,
    }
    assert report["cost"]["channels"] == {"demo": 3.5, "shorts": 0.75}
    assert report["cost"]["total_usd"] == 4.25
    assert [t["title"] for t in report["stuck"]] == ["Stuck one"]
    assert report["stuck"][0]["status"] == "Generating Video"

    text = runner.invoke(
        app, ["report", "--since", "30d"], env={"REELGATE_DATABASE_URL": sqlite_url}
    )
    assert text.exit_code == 0, text.output
    assert "Review time per gate" in text.stdout
    assert "Stuck one" in text.stdout


def test_report_refuses_a_window_it_cannot_read(sqlite_url: str) -> None:
    result = runner.invoke(
        app, ["report", "--since", "last tuesday"], env={"REELGATE_DATABASE_URL": sqlite_url}
    )
    assert result.exit_code == 2
    assert "give a duration (7d, 24h, 90m, 2w) or a date" in result.output
