"""The admin commands with a running daemon and the local Notion API, as admins use them.

A CLI move reaches Notion through the outbox like any other; a cancelled task
resumes without redoing paid work; dead letters are replayed once the cause is
fixed; a stuck task's owner hears about it once per visit; `reelgate logs` tells
one task's story from the rotated log file, and idle polls add nothing to it.
"""

from __future__ import annotations

import asyncio
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner, Result

from notion_sync.local_api.server import LocalNotionServer
from orchestrator.admin import log_files
from orchestrator.cli import app
from orchestrator.daemon.daemon import Daemon
from orchestrator.db import CostEntry, Task, utcnow
from orchestrator.logging import configure_logging
from tests.fixtures.pipeline import PipelineEnv, make_pipeline_env

pytestmark = pytest.mark.timeout(240)
runner = CliRunner()


async def _cli(env: PipelineEnv, *args: str, **extra_env: str) -> Result:
    """The CLI as an admin runs it (in a thread: it runs its own event loop)."""
    url = env.runtime.config.settings.database_url
    return await asyncio.to_thread(
        runner.invoke,
        app,
        list(args),
        env={"REELGATE_DATABASE_URL": url, "COLUMNS": "160", **extra_env},
    )


async def _attempts_and_charges(env: PipelineEnv, page: str) -> tuple[list[int], int]:
    clips = await env.clips(page)
    task = await env.task(page)
    async with env.sessions() as session:
        charges = (
            await session.execute(
                select(func.count(CostEntry.id)).where(CostEntry.task_id == task.id)
            )
        ).scalar_one()
    return [c.attempt for c in clips], int(charges)


async def test_cli_cancel_and_resume_reach_notion_and_reuse_what_was_made(
    pipeline_env: PipelineEnv,
) -> None:
    env = pipeline_env
    page = env.create_task(clips=2, channel="autopilot")
    await env.settle()
    assert env.status(page) == "Video Ready"
    made = await _attempts_and_charges(env, page)

    cancelled = await _cli(env, "cancel", page)
    assert cancelled.exit_code == 0, cancelled.output
    await env.settle()
    assert env.status(page) == "Cancelled"
    assert any("An admin cancelled this task" in c for c in env.comments(page))

    resumed = await _cli(env, "resume", page)
    assert resumed.exit_code == 0, resumed.output
    assert "resumes at Generating Video" in resumed.stdout
    await env.settle()
    assert env.status(page) == "Video Ready"
    assert any("An admin resumed this task" in c for c in env.comments(page))
    # Back at the gate with the clips it had: nothing submitted or paid again.
    assert await _attempts_and_charges(env, page) == made

    story = json.loads((await _cli(env, "status", page, "--json")).stdout)
    moves = [(e["from"], e["to"], e["actor"]) for e in story["timeline"]["events"]]
    assert ("Video Ready", "Cancelled", "human") in moves
    assert ("Cancelled", "Queued", "human") in moves
    assert ("Queued", "Generating Video", "daemon") in moves
    assert story["notion_writes"] == {"pending": [], "dead_letters": []}
    # A refusal while it waits at the gate names the moves reviewers make in Notion.
    refused = await _cli(env, "retry", page)
    assert refused.exit_code == 1
    assert "Video Approved (in Notion)" in refused.output


async def test_cancelled_in_notion_then_queued_resumes_without_redoing_work(
    pipeline_env: PipelineEnv,
) -> None:
    env = pipeline_env
    page = env.create_task(clips=2, channel="autopilot")
    await env.settle()
    made = await _attempts_and_charges(env, page)
    before = len(env.comments(page))
    env.review(page, "Cancelled")
    await env.settle()
    assert (await env.task(page)).status == "cancelled"
    env.review(page, "Queued")
    await env.settle()
    assert env.status(page) == "Video Ready"
    assert await _attempts_and_charges(env, page) == made
    # Cancelled -> Queued is a move people may make now: nobody is told otherwise.
    since = env.comments(page)[before:]
    assert not any("is not an allowed move" in c for c in since), since


async def test_dead_letters_are_seen_then_replayed_once_the_cause_is_fixed(
    pipeline_env: PipelineEnv,
) -> None:
    env = pipeline_env
    page = env.create_task(clips=2, channel="autopilot")
    # Every property write to the task page fails for good (a renamed property, say).
    env.server.knobs.inject(
        status=400,
        method="PATCH",
        path_prefix=f"/v1/pages/{page}",
        times=None,
        code="validation_error",
        message="Status is not a property that exists.",
    )
    await env.settle()
    task = await env.task(page)
    assert task.status == "video_ready"
    assert env.status(page) == "Queued"  # Notion never heard

    listed = json.loads((await _cli(env, "dead-letters", "--json")).stdout)
    assert listed, "the failed writes are dead letters"
    assert {row["task_id"] for row in listed} == {task.id}
    assert "Status -> Video Ready" in {row["summary"] for row in listed}
    assert all("Status is not a property that exists" in row["error"] for row in listed)
    overview = json.loads((await _cli(env, "status", "--json")).stdout)
    assert overview[0]["dead_letters"] == len(listed)
    daemon = Daemon(env.runtime)
    await daemon.update_gauges()
    assert env.runtime.metrics.outbox_dead_letters._value.get() == len(listed)

    env.server.knobs.clear_faults()  # the property is back
    replayed = await _cli(env, "dead-letters", "--all")
    assert replayed.exit_code == 0, replayed.output
    await env.settle()
    assert env.status(page) == "Video Ready"
    assert json.loads((await _cli(env, "dead-letters", "--json")).stdout) == []
    await daemon.update_gauges()
    assert env.runtime.metrics.outbox_dead_letters._value.get() == 0
    kinds = [e.kind for e in await env.events(page)]
    assert kinds.count("dead_letter_replay") + kinds.count("dead_letter_superseded") == len(listed)


async def test_a_stuck_task_gets_one_comment_per_visit_and_counts_in_the_gauge(
    pipeline_env: PipelineEnv,
) -> None:
    env = pipeline_env
    page = env.create_task(status="Draft", clips=2)
    await env.settle()
    task = await env.task(page)
    start = utcnow()

    async def visit(since: Any) -> None:
        async with env.sessions() as session, session.begin():
            await session.execute(
                update(Task)
                .where(Task.id == task.id)
                .values(status="generating_video", status_changed_at=since)
            )

    await visit(start)
    daemon = Daemon(env.runtime)
    assert await daemon.leader.acquire()
    env.runtime.ctx.clock = lambda: start + timedelta(minutes=80)
    await daemon.flag_stuck()
    await daemon.update_gauges()
    assert env.runtime.metrics.stuck_tasks._value.get() == 0  # 80 min < 90

    env.runtime.ctx.clock = lambda: start + timedelta(minutes=95)
    await daemon.flag_stuck()
    await daemon.flag_stuck()  # the next round says nothing new
    await daemon.update_gauges()
    assert env.runtime.metrics.stuck_tasks._value.get() == 1
    await daemon.drainer.drain_once()
    stuck = [c for c in env.comments(page) if "This task has been in Generating Video" in c]
    assert len(stuck) == 1
    assert "for 1 h 35 min, over the 90 min channel 'demo' allows (stuck_after.video)" in stuck[0]
    assert f"reelgate status {page}" in stuck[0]
    (comment,) = [
        c
        for c in env.server.admin.comments(page)
        if "This task has been" in "".join(t["plain_text"] for t in c["rich_text"])
    ]
    mentioned = [t["mention"]["user"]["id"] for t in comment["rich_text"] if t["type"] == "mention"]
    assert mentioned == [env.server.state.creator_id]

    # A new visit to the status (e.g. after a video review) may be flagged again.
    await visit(start + timedelta(minutes=100))
    env.runtime.ctx.clock = lambda: start + timedelta(minutes=200)
    await daemon.flag_stuck()
    await daemon.drainer.drain_once()
    assert len([c for c in env.comments(page) if "This task has been in" in c]) == 2
    assert [e.kind for e in await env.events(page)].count("stuck") == 2
    await daemon.leader.release()


def _log_entries(path: Path) -> list[dict[str, Any]]:
    entries = []
    for file in log_files(path):  # oldest first
        for line in file.read_text().splitlines():
            if line.startswith("{"):
                entries.append(json.loads(line))
    return entries


async def test_logs_tell_one_tasks_story_from_the_rotated_file_and_idle_polls_add_nothing(
    tmp_path: Path, local_notion: LocalNotionServer, captured_logs: io.StringIO
) -> None:
    log_file = tmp_path / "logs" / "reelgate.log"
    configure_logging(
        level="info",
        json=False,
        stream=captured_logs,
        log_file=log_file,
        log_file_max_bytes=3_000,
        log_file_backups=100,
    )
    async with make_pipeline_env(tmp_path, local_notion) as env:
        first = env.create_task(clips=2, channel="autopilot", title="First")
        second = env.create_task(clips=2, channel="autopilot", title="Second")
        await env.settle()
        assert env.status(first) == env.status(second) == "Video Ready"
        written = len(_log_entries(log_file))
        # An idle daemon polls Notion over and over: none of it is worth an INFO line.
        for _ in range(3):
            await env.settle()
        idle = _log_entries(log_file)[written:]
        assert {e["event"] for e in idle} <= {
            "start_daemon",
            "reach_idle",
            "release_leadership",
            "acquire_leadership",
            "stop_daemon",
        }
        task = await env.task(first)
        events = [e for e in await env.events(first) if e.kind == "transition" and e.from_status]
        async with env.sessions() as session:
            charges = (
                await session.execute(
                    select(func.count(CostEntry.id)).where(CostEntry.task_id == task.id)
                )
            ).scalar_one()
        settings = {"REELGATE_LOG_FILE": str(log_file)}
        result = await _cli(env, "logs", first, "--json", **settings)
        text = await _cli(env, "logs", str(task.id), **settings)
        warnings = await _cli(env, "logs", first, "--level", "warning", **settings)

    assert len(list(log_file.parent.glob("reelgate.log.*"))) >= 2, "the file was rotated"
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(e.get("page") == first or e.get("task") == task.id for e in lines)
    assert not any(e.get("page") == second for e in lines)
    stamps = [e["timestamp"] for e in lines]
    assert stamps == sorted(stamps), "oldest first, across the rotated files"
    # One lifecycle line per transition: from -> to, actor, time in the previous status.
    moves = [e for e in lines if e["event"] == "transition_task"]
    assert [(m["from_status"], m["to_status"]) for m in moves] == [
        (Event_label(e.from_status), Event_label(e.to_status)) for e in events
    ]
    assert all(m["actor"] in ("human", "daemon") for m in moves)
    assert all(isinstance(m["seconds_in_previous"], float) for m in moves)
    # One line per paid call: model, seconds, cost.
    paid = [e for e in lines if e["event"] == "record_charge"]
    assert len(paid) == charges
    clip_charges = [e for e in paid if e["kind"] == "clip"]
    assert len(clip_charges) == 2
    assert all(
        (e["model"], e["seconds"], e["usd"]) == ("local-clip", 4.0, 0.0) for e in clip_charges
    )
    # The same lines for people, found by the task id too.
    assert text.exit_code == 0, text.output
    assert len(text.stdout.splitlines()) == len(lines)
    assert "transition_task  from_status=Queued to_status=Planning actor=daemon" in text.stdout
    assert warnings.exit_code == 0
    assert all(" info " not in line for line in warnings.stdout.splitlines())


def Event_label(value: str | None) -> str:
    from orchestrator.state.status import Status

    return Status(value or "").label


def test_logs_says_how_to_configure_the_log_file(sqlite_url: str, tmp_path: Path) -> None:
    env = {"REELGATE_DATABASE_URL": sqlite_url}
    missing = runner.invoke(app, ["logs", "1"], env=env)
    assert missing.exit_code == 2
    assert "no log file: set REELGATE_LOG_FILE" in missing.output
    absent = runner.invoke(
        app, ["logs", "1"], env={**env, "REELGATE_LOG_FILE": str(tmp_path / "none.log")}
    )
    assert absent.exit_code == 2
    assert "no such log file" in absent.output
    bad_level = runner.invoke(app, ["logs", "1", "--level", "loud"], env=env)
    assert bad_level.exit_code == 2
    assert "--level must be one of debug, info, warning, error, critical" in bad_level.output


def test_logs_reads_stdin_and_matches_the_id_given_when_the_database_is_down() -> None:
    page = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
    stream = "\n".join(
        [
            json.dumps(
                {
                    "timestamp": "2026-12-01T10:00:00.1Z",
                    "level": "info",
                    "event": "transition_task",
                    "task": 7,
                    "page": page,
                    "from_status": "Queued",
                    "to_status": "Planning",
                }
            ),
            "not json at all",
            json.dumps(
                {
                    "timestamp": "2026-12-01T10:00:01.0Z",
                    "level": "info",
                    "event": "transition_task",
                    "task": 8,
                    "page": "other",
                }
            ),
            json.dumps(
                {
                    "timestamp": "2026-12-01T10:00:02.0Z",
                    "level": "warning",
                    "event": "send_notion_op_later",
                    "page": page.replace("-", ""),
                }
            ),
        ]
    )
    down = {"REELGATE_DATABASE_URL": "postgresql+asyncpg://u:pw@127.0.0.1:1/nope"}
    result = runner.invoke(app, ["logs", page, "--file", "-"], input=stream, env=down)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "2026-12-01T10:00:00Z  info     transition_task  from_status=Queued to_status=Planning",
        "2026-12-01T10:00:02Z  warning  send_notion_op_later",
    ]
    assert "the database did not answer" in result.stderr
