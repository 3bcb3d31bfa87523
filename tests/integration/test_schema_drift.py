"""Issue 10, case 5: a Notion property renamed or deleted while the daemon runs.

Real peers only: the daemon against the local Notion API (which answers a write to
a missing property with 400 validation_error "<name> is not a property that
exists.", like Notion), a real SQLite database, `/readyz` over HTTP.
"""

from __future__ import annotations

import asyncio
import json

import httpx
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from orchestrator.cli import app
from orchestrator.daemon.daemon import Daemon
from orchestrator.daemon.health import (
    HealthServer,
    all_ready,
    build_health_app,
    database_readiness,
)
from orchestrator.db.models import OutboxItem
from orchestrator.pipeline.drift import schema_readiness
from tests.fixtures.pipeline import PipelineEnv

runner = CliRunner()

DRIFT_TEXT = 'has no property "Error Log" any more'


async def _cli(env: PipelineEnv, *args: str) -> Result:
    url = env.runtime.config.settings.database_url
    return await asyncio.to_thread(
        runner.invoke, app, list(args), env={"REELGATE_DATABASE_URL": url, "COLUMNS": "200"}
    )


async def _rename(env: PipelineEnv, data_source: str, old: str, new: str) -> None:
    await env.runtime.notion.request(
        "PATCH", f"data_sources/{data_source}", body={"properties": {old: {"name": new}}}
    )


async def _readyz(env: PipelineEnv) -> tuple[int, dict[str, object]]:
    health = HealthServer(
        build_health_app(
            env.runtime.metrics,
            all_ready(
                database_readiness(env.runtime.engine), schema_readiness(env.runtime.ctx.sessions)
            ),
        ),
        port=0,
    )
    await health.start()
    try:
        async with httpx.AsyncClient() as http:
            answer = await http.get(f"http://127.0.0.1:{health.port}/readyz")
        return answer.status_code, answer.json()
    finally:
        await health.stop()


async def test_renamed_error_log_holds_the_review_tells_the_owner_once_and_recovers(
    pipeline_env: PipelineEnv,
) -> None:
    env = pipeline_env
    page = env.create_task(clips=2)
    await env.drive_to(page, "Storyboard Ready")
    before = len(env.comments(page))

    # An admin renames Error Log while the daemon runs; a reviewer then writes their
    # notes in it (under its new name) and asks for a re-plan.
    await _rename(env, env.tasks_ds, "Error Log", "Review Notes")
    env.server.admin.update_page(
        page,
        {
            "Review Notes": {"rich_text": [{"text": {"content": "shot 2: more suspense"}}]},
            "Status": {"status": {"name": "Storyboard Error"}},
        },
        as_user="Rita Reviewer",
    )
    for _ in range(3):  # several polls: still one comment
        await env.settle()

    new = env.comments(page)[before:]
    drift = [c for c in new if DRIFT_TEXT in c]
    assert len(drift) == 1, new
    assert "REELGATE_NOTION_PROPERTY_NAMES" in drift[0]
    assert 'rename the Tasks property back to "Error Log"' in drift[0]
    # Never bounced as "no notes", never reverted: the move waits for the property.
    assert not any("Waiting for your notes" in c for c in new), new
    assert not any("Status was set back" in c for c in new), new
    assert env.status(page) == "Storyboard Error"
    assert (await env.task(page)).status == "storyboard_ready"

    code, body = await _readyz(env)
    assert code == 503
    assert body["missing_properties"] == ['Tasks property "Error Log" is missing']
    assert env.runtime.metrics.notion_schema_drift._value.get() == 1

    # check-notion prints the fix, naming the property it was renamed to.
    check = await asyncio.to_thread(
        runner.invoke,
        app,
        ["check-notion"],
        env={
            "REELGATE_NOTION_BASE_URL": env.server.base_url,
            "REELGATE_NOTION_TOKEN": "t0k3n-for-check",
            "REELGATE_NOTION_TASKS_DATA_SOURCE_ID": env.tasks_ds,
            "REELGATE_NOTION_VIDEOS_DATA_SOURCE_ID": env.videos_ds,
            "REELGATE_NOTION_REQUESTS_PER_SECOND": "100",
        },
    )
    assert check.exit_code == 1, check.output
    assert 'property "Error Log" is missing' in check.stdout
    assert '(to "Review Notes"?)' in check.stdout
    assert """REELGATE_NOTION_PROPERTY_NAMES='{"error_log": "Review Notes"}'""" in check.stdout

    # Renamed back (no page edit follows): the move and the notes are read and acted on.
    await _rename(env, env.tasks_ds, "Review Notes", "Error Log")
    await env.settle()
    await env.settle()
    assert env.status(page) == "Storyboard Ready"
    events = [e.note for e in await env.events(page)]
    assert any("re-plan" in n or "regenerate storyboard" in n for n in events), events
    code, body = await _readyz(env)
    assert code == 200, body
    assert env.runtime.metrics.notion_schema_drift._value.get() == 0


async def test_deleted_videos_property_dead_letters_are_seen_then_replayed(
    pipeline_env: PipelineEnv,
) -> None:
    env = pipeline_env
    # Motion is deleted from the Videos table before the clip rows are written.
    await env.runtime.notion.request(
        "PATCH", f"data_sources/{env.videos_ds}", body={"properties": {"Motion": None}}
    )
    page = env.create_task(clips=3)
    await env.drive_to(page, "Storyboard Ready")

    drift = [c for c in env.comments(page) if 'has no property "Motion"' in c]
    assert len(drift) == 1, env.comments(page)
    assert "REELGATE_NOTION_VIDEO_PROPERTY_NAMES" in drift[0]
    code, body = await _readyz(env)
    assert code == 503
    assert body["missing_properties"] == ['Videos property "Motion" is missing']
    # The refused writes are dead letters, visible in `reelgate status` and metrics.
    overview = json.loads((await _cli(env, "status", "--json")).stdout)
    assert overview[0]["dead_letters"] == 3
    await Daemon(env.runtime).update_gauges()
    assert env.runtime.metrics.outbox_dead_letters._value.get() == 3
    assert env.server.admin.pages(env.videos_ds) == []

    # The property is back: the writes go out by themselves, nothing was lost.
    await env.runtime.notion.request(
        "PATCH",
        f"data_sources/{env.videos_ds}",
        body={"properties": {"Motion": {"rich_text": {}}}},
    )
    await env.settle()
    rows = env.server.admin.pages(env.videos_ds)
    assert sorted(r["properties"]["Clip"]["number"] for r in rows) == [1, 2, 3]
    async with env.sessions() as session:
        dead = (
            await session.execute(
                select(func.count(OutboxItem.id)).where(OutboxItem.dead.is_(True))
            )
        ).scalar_one()
    assert dead == 0
    code, _ = await _readyz(env)
    assert code == 200
    assert len([c for c in env.comments(page) if 'has no property "Motion"' in c]) == 1
