"""Nothing stranded, nothing silent (issue 10, cases 1, 2 and 6).

- A task page trashed mid-generation, then restored: its writes are held (never
  dead-lettered), the restore is reconciled with the real status and a comment, and
  Cancelled -> Queued resumes reusing every clip already made.
- Video Approved while Videos rows ask for Regenerate is refused with a comment.
- An unknown Channel never runs on `default`: the task waits in Draft, told why.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import func, select

from notion_sync.local_api.server import LocalNotionServer
from orchestrator.config import AppConfig
from orchestrator.daemon.drainer import OutboxDrainer
from orchestrator.daemon.notion_poll import NotionPoller
from orchestrator.daemon.worker import Worker
from orchestrator.db.models import CostEntry, OutboxItem
from orchestrator.pipeline.notion_out import update_task_fields
from tests.fixtures.pipeline import PipelineEnv, make_pipeline_env

pytestmark = pytest.mark.timeout(240)


def _op_requests(env: PipelineEnv) -> list[str]:
    """Every clip operation the local provider accepted."""
    root = Path(env.runtime.config.local.work_dir) / "ops"
    return sorted(str(p.parent.relative_to(root)) for p in root.glob("**/request.json"))


async def _outbox_counts(env: PipelineEnv) -> dict[str, int]:
    async with env.sessions() as session:
        dead = await session.execute(
            select(func.count(OutboxItem.id)).where(OutboxItem.dead.is_(True))
        )
        held = await session.execute(
            select(func.count(OutboxItem.id)).where(OutboxItem.held.is_(True))
        )
        return {"dead": int(dead.scalar_one()), "held": int(held.scalar_one())}


async def _drain(env: PipelineEnv) -> None:
    drainer = OutboxDrainer(env.sessions, env.runtime.writer, env.runtime.metrics)
    while await drainer.drain_once():
        pass


def _slow_renders(config: AppConfig) -> AppConfig:
    settings = config.settings.model_copy(update={"trash_check_seconds": 0.0})
    return dataclasses.replace(
        config,
        settings=settings,
        local=config.local.model_copy(update={"render_delay_s": 2.0}),
    )


async def test_trashed_then_restored_page_is_reconciled_and_resumes_reusing_paid_clips(
    tmp_path: Path, local_notion: LocalNotionServer
) -> None:
    async with make_pipeline_env(tmp_path, local_notion, configure=_slow_renders) as env:
        page = env.create_task(clips=3)
        await env.drive_to(page, "Keyframes Ready", approve=("Storyboard Ready",))
        env.review(page, "Keyframes Approved")
        await NotionPoller(env.runtime.ctx, env.runtime.notion).poll_once()
        assert await Worker(env.runtime.ctx, "hand").run_once()  # -> Generating Video
        assert await Worker(env.runtime.ctx, "hand").run_once()  # submits every clip
        assert [c.status for c in await env.clips(page)] == ["polling"] * 3
        await _drain(env)
        assert env.status(page) == "Generating Video"

        # Mid-generation, the creator moves the page to the trash.
        env.server.admin.update_page(page, in_trash=True, as_user="Cory Creator")
        # A trashed page drops out of every query: the daemon learns of it from its
        # next write to the page, here the progress line it writes while clips render
        # (sent at once, not after its usual hold, so the clips are still in flight).
        async with env.sessions() as session, session.begin():
            update_task_fields(session, await session.merge(await env.task(page)), progress="0/3")
        await _drain(env)
        await env.settle()

        task = await env.task(page)
        assert task.status == "cancelled"
        assert task.page_trashed_at is not None
        assert task.resume_status == "generating_video"
        clips = await env.clips(page)
        assert [c.status for c in clips] == ["complete"] * 3  # paid for: finished, kept
        counts = await _outbox_counts(env)
        assert counts["dead"] == 0  # held, not dead-lettered
        assert counts["held"] >= 1
        await env.settle()  # held writes are not retried against the trash
        assert await _outbox_counts(env) == counts

        # Restored: the page is told what happened and shows the real status.
        env.server.admin.update_page(page, in_trash=False, as_user="Cory Creator")
        await env.settle()

        assert env.status(page) == "Cancelled"
        note = env.comments(page)[-1]
        assert "This page was restored from the trash" in note
        assert "cancelled the task at Generating Video" in note
        assert "Kept: 3 clips" in note
        assert "set Status to Queued: it resumes at Generating Video" in note
        assert await _outbox_counts(env) == {"dead": 0, "held": 0}
        assert (await env.task(page)).page_trashed_at is None
        rows = [
            r for r in env.server.admin.pages(env.videos_ds) if r["properties"]["Video URL"]["url"]
        ]
        assert len(rows) == 3  # the paid clips stay reachable from Notion

        # A move other than Queued is refused, and the refusal tells the truth.
        env.review(page, "Video Ready")
        await env.settle()
        assert env.status(page) == "Cancelled"
        refusal = env.comments(page)[-1]
        assert "From Cancelled you can choose: Queued." in refusal
        assert "Queued resumes it at Generating Video, reusing everything already made" in (refusal)

        # Cancelled -> Queued resumes where it stopped; nothing is made or paid twice.
        env.review(page, "Queued")
        await env.settle()
        assert env.status(page) == "Video Ready"
        clips = await env.clips(page)
        assert [c.status for c in clips] == ["complete"] * 3
        assert [c.attempt for c in clips] == [1, 1, 1]
        assert len(_op_requests(env)) == 3
        async with env.sessions() as session:
            charged = (
                await session.execute(
                    select(func.count(CostEntry.id)).where(
                        CostEntry.task_id == task.id, CostEntry.kind == "clip"
                    )
                )
            ).scalar_one()
        assert charged == 3


async def test_page_restored_without_a_new_edit_time_is_found_by_the_trash_check(
    tmp_path: Path, local_notion: LocalNotionServer
) -> None:
    async with make_pipeline_env(tmp_path, local_notion, configure=_slow_renders) as env:
        page = env.create_task(clips=2)
        await NotionPoller(env.runtime.ctx, env.runtime.notion).poll_once()
        env.server.admin.update_page(page, in_trash=True, as_user="Cory Creator")
        await env.settle()
        assert (await env.task(page)).status == "cancelled"

        # Restored behind the poll's back: its edit time is older than any cursor.
        env.server.admin.update_page(page, in_trash=False, as_user="Cory Creator")
        stored = next(p for p in env.server.state.pages.values() if p["id"] == page)
        stored["last_edited_time"] = "2026-01-01T00:00:00.000Z"
        await env.settle()

        assert env.status(page) == "Cancelled"
        note = env.comments(page)[-1]
        assert "restored from the trash" in note
        assert "set Status to Queued" in note


async def test_video_approved_over_rows_set_to_regenerate_is_refused_with_the_way_out(
    pipeline_env: PipelineEnv,
) -> None:
    env = pipeline_env
    page = env.create_task(clips=2)
    await env.drive_to(page, "Video Ready", approve=("Storyboard Ready", "Keyframes Ready"))
    env.set_row_status(page, 2, "Regenerate", "the sky is too dark")
    await env.settle()
    env.review(page, "Video Approved")
    await env.settle()

    assert env.status(page) == "Video Ready"
    assert (await env.task(page)).status == "video_ready"
    refusal = env.comments(page)[-1]
    assert "Video Approved conflicts with the Videos table" in refusal
    assert "the row of clip 2 is set to Regenerate" in refusal
    assert "set Status to Video Error" in refusal
    assert "set those rows' Status to Ready, then set Video Approved again" in refusal
    assert "clip 2: the sky is too dark" in refusal
    clips = await env.clips(page)
    assert [c.status for c in clips] == ["complete", "complete"]  # nothing approved
    assert clips[1].notion_verdict == "Regenerate"
    row = next(
        r for r in env.server.admin.pages(env.videos_ds) if r["properties"]["Clip"]["number"] == 2
    )
    assert row["properties"]["Status"]["select"]["name"] == "Regenerate"  # not overwritten
    events = await env.events(page)
    assert events[-1].kind == "revert"

    # The reviewer follows the advice: Video Error redoes the row's clip, with its note.
    env.review(page, "Video Error")
    await env.settle()
    assert env.status(page) == "Video Ready"
    clips = await env.clips(page)
    assert [c.attempt for c in clips] == [1, 2]
    assert clips[1].reviewer_note == "the sky is too dark"


async def test_unknown_channel_waits_in_draft_with_the_known_channels_named(
    pipeline_env: PipelineEnv,
) -> None:
    env = pipeline_env
    page = env.create_task(clips=2, channel="Shorts")
    await env.settle()

    assert env.status(page) == "Draft"
    note = env.comments(page)[-1]
    assert "the Channel 'Shorts' is not one of reelgate's channels" in note
    assert "known: default, demo, autopilot" in note
    assert "then set Status to Queued again" in note
    assert await env.clips(page) == []
    assert _op_requests(env) == []
    async with env.sessions() as session:
        spent = (await session.execute(select(func.count(CostEntry.id)))).scalar_one()
    assert spent == 0

    env.server.admin.update_page(
        page,
        {"Channel": {"select": {"name": "demo"}}, "Status": {"status": {"name": "Queued"}}},
        as_user="Cory Creator",
    )
    await env.settle()
    assert env.status(page) == "Storyboard Ready"
    assert (await env.task(page)).channel == "demo"


async def test_a_read_older_than_the_status_written_after_a_restore_is_not_a_move(
    pipeline_env: PipelineEnv,
) -> None:
    from notion_sync.poller import read_task_page
    from orchestrator.pipeline.sync import apply_task_pages

    env = pipeline_env
    page = env.create_task(clips=2)
    await env.drive_to(page, "Storyboard Ready")
    env.server.admin.update_page(page, in_trash=True, as_user="Cory Creator")
    async with env.sessions() as session, session.begin():
        update_task_fields(session, await session.merge(await env.task(page)), progress="-")
    await _drain(env)  # refused: the task is cancelled, its Status write held
    assert (await env.task(page)).status == "cancelled"
    env.server.admin.update_page(page, in_trash=False, as_user="Cory Creator")

    # Two reads race: both see the page as restored, still showing Storyboard Ready.
    first = await read_task_page(env.runtime.notion, page)
    late = await read_task_page(env.runtime.notion, page)
    await apply_task_pages(env.runtime.ctx, [first])  # reconciles, writes Cancelled
    await _drain(env)
    assert env.status(page) == "Cancelled"
    comments = len(env.comments(page))
    await apply_task_pages(env.runtime.ctx, [late])  # made before Cancelled landed

    assert (await env.task(page)).status == "cancelled"
    await _drain(env)
    assert env.status(page) == "Cancelled"
    assert len(env.comments(page)) == comments  # no "Status was set back" refusal
