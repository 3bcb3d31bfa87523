"""A task's life off the happy path: crashes mid-submit, cancel, failure and retry,
bad page values, trash."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from sqlalchemy import select, update

from notion_sync.local_api.server import LocalNotionServer
from orchestrator.config import AppConfig
from orchestrator.daemon.drainer import OutboxDrainer
from orchestrator.daemon.notion_poll import NotionPoller
from orchestrator.daemon.worker import Worker
from orchestrator.db.models import Clip, CostEntry, Keyframe
from tests.fixtures.pipeline import PipelineEnv, make_pipeline_env

pytestmark = pytest.mark.timeout(240)

APPROVE_EARLY = ("Storyboard Ready", "Keyframes Ready")


def _op_requests(env: PipelineEnv) -> dict[str, dict[str, object]]:
    """Every clip operation the local provider accepted: operation name -> request."""
    root = Path(env.runtime.config.local.work_dir) / "ops"
    return {
        str(p.parent.relative_to(root)): json.loads(p.read_text())
        for p in root.glob("**/request.json")
    }


async def _poll_and_step(env: PipelineEnv) -> None:
    """One Notion poll and one worker step, by hand (no daemon running)."""
    await NotionPoller(env.runtime.ctx, env.runtime.notion).poll_once()
    assert await Worker(env.runtime.ctx, "hand").run_once()


async def _drain(env: PipelineEnv) -> None:
    drainer = OutboxDrainer(env.sessions, env.runtime.writer, env.runtime.metrics)
    while await drainer.drain_once():
        pass


async def _to_generating_video(env: PipelineEnv, page: str) -> None:
    """Keyframes approved and the task in Generating Video, before any clip is submitted."""
    await env.drive_to(page, "Keyframes Ready", approve=("Storyboard Ready",))
    env.review(page, "Keyframes Approved")
    await _poll_and_step(env)
    assert (await env.task(page)).status == "generating_video"
    assert all(c.status == "planned" and c.attempt == 0 for c in await env.clips(page))


async def _crash_mid_submit(env: PipelineEnv, page: str, number: int) -> None:
    """What a worker killed between committing `submitting` and saving the name leaves."""
    task = await env.task(page)
    async with env.sessions() as session, session.begin():
        await session.execute(
            update(Clip)
            .where(Clip.task_id == task.id, Clip.number == number)
            .values(status="submitting", attempt=Clip.attempt + 1, operation_name=None)
        )


async def test_lost_submission_is_flagged_not_resubmitted_until_a_reviewer_asks(
    pipeline_env: PipelineEnv,
) -> None:
    env = pipeline_env
    page = env.create_task(clips=3)
    await _to_generating_video(env, page)
    await _crash_mid_submit(env, page, 2)

    await env.settle()

    assert env.status(page) == "Video Ready"
    clips = await env.clips(page)
    assert [c.status for c in clips] == ["complete", "lost", "complete"]
    assert clips[1].attempt == 1
    assert clips[1].operation_name is None
    ops = _op_requests(env)
    assert sorted(ops) == sorted(str(c.operation_name) for c in (clips[0], clips[2]))
    assert "clip 2 attempt 1: the daemon stopped while submitting" in env.daemon_log(page)
    assert "Regenerate: clip 2" in env.daemon_log(page)
    assert env.error_log(page) == ""  # the reviewers' property: the daemon never writes it
    row = next(
        r for r in env.server.admin.pages(env.videos_ds) if r["properties"]["Clip"]["number"] == 2
    )
    assert row["properties"]["Status"]["select"]["name"] == "Failed"
    assert "Clip 2 has no video" in env.comments(page)[-1]

    # A human decides to pay again.
    env.review(page, "Video Error", "Regenerate: clip 2")
    await env.settle()

    assert env.status(page) == "Video Ready"
    clips = await env.clips(page)
    assert [c.status for c in clips] == ["complete", "complete", "complete"]
    assert [c.attempt for c in clips] == [1, 2, 1]
    assert len(_op_requests(env)) == 3


async def test_lost_submission_is_resubmitted_under_the_resubmit_policy(
    tmp_path: Path, local_notion: LocalNotionServer
) -> None:
    def configure(config: AppConfig) -> AppConfig:
        settings = config.settings.model_copy(update={"lost_submission_policy": "resubmit"})
        return dataclasses.replace(config, settings=settings)

    async with make_pipeline_env(tmp_path, local_notion, configure=configure) as env:
        page = env.create_task(clips=3)
        await _to_generating_video(env, page)
        await _crash_mid_submit(env, page, 2)

        await env.settle()

        assert env.status(page) == "Video Ready"
        clips = await env.clips(page)
        assert [c.status for c in clips] == ["complete", "complete", "complete"]
        assert [c.attempt for c in clips] == [1, 2, 1]
        assert len(_op_requests(env)) == 3


async def test_cancel_mid_generation_finishes_and_records_what_is_in_flight(
    tmp_path: Path, local_notion: LocalNotionServer
) -> None:
    def configure(config: AppConfig) -> AppConfig:
        return dataclasses.replace(
            config, local=config.local.model_copy(update={"render_delay_s": 2.0})
        )

    async with make_pipeline_env(tmp_path, local_notion, configure=configure) as env:
        page = env.create_task(clips=3)
        await _to_generating_video(env, page)
        assert await Worker(env.runtime.ctx, "hand").run_once()  # submits every clip
        clips = await env.clips(page)
        assert [c.status for c in clips] == ["polling"] * 3
        await _drain(env)
        assert env.status(page) == "Generating Video"

        env.review(page, "Cancelled")
        await env.settle()

        assert env.status(page) == "Cancelled"
        task = await env.task(page)
        assert task.status == "cancelled"
        clips = await env.clips(page)
        # Paid for, so finished and kept: nothing in flight is thrown away.
        assert [c.status for c in clips] == ["complete"] * 3
        assert all(c.storage_key and c.sha256 and c.attempt == 1 for c in clips)
        async with env.sessions() as session:
            charged = (
                await session.execute(
                    select(CostEntry.operation_name).where(
                        CostEntry.task_id == task.id, CostEntry.kind == "clip"
                    )
                )
            ).scalars()
            assert sorted(str(n) for n in charged) == sorted(str(c.operation_name) for c in clips)
        assert len(_op_requests(env)) == 3
        events = await env.events(page)
        cancel_at = max(i for i, e in enumerate(events) if e.to_status == "cancelled")
        assert events[cancel_at].actor == "human"
        assert not [e for e in events[cancel_at + 1 :] if e.kind == "transition"]

        await env.settle()  # later cycles change nothing
        assert env.status(page) == "Cancelled"
        assert len(_op_requests(env)) == 3


async def test_failed_task_set_to_queued_resumes_at_the_stage_that_failed(
    pipeline_env: PipelineEnv,
) -> None:
    env = pipeline_env
    page = env.create_task(clips=3)
    await env.drive_to(page, "Keyframes Ready", approve=("Storyboard Ready",))
    task = await env.task(page)
    # Keyframe 4 (the end of clip 3) vanished from this machine and its URL is dead.
    kfs = await env.keyframes(page)
    good_url = kfs[3].public_url
    assert good_url
    (env.runtime.ctx.task_dir(task.id) / "kf_04_a1.png").unlink()
    async with env.sessions() as session, session.begin():
        await session.execute(
            update(Keyframe)
            .where(Keyframe.id == kfs[3].id)
            .values(public_url="http://127.0.0.1:9/kf_04_a1.png")
        )

    env.review(page, "Keyframes Approved")
    await env.settle(timeout_s=45)

    assert env.status(page) == "Failed"
    failure = env.comments(page)[-1]
    assert "kf_04_a1.png" in failure
    assert "Set Status to Queued" in failure
    clips = await env.clips(page)
    assert [c.status for c in clips[:2]] == ["complete", "complete"]
    first_ops = [c.operation_name for c in clips[:2]]

    async with env.sessions() as session, session.begin():
        await session.execute(
            update(Keyframe).where(Keyframe.id == kfs[3].id).values(public_url=good_url)
        )
    retry_from = len(await env.events(page))
    env.review(page, "Queued")
    await env.settle()

    assert env.status(page) == "Video Ready"
    events = (await env.events(page))[retry_from:]
    assert [e.to_status for e in events if e.kind == "transition"][:2] == [
        "queued",
        "generating_video",
    ]
    assert "planning" not in [e.to_status for e in events]
    assert [k.attempt for k in await env.keyframes(page)] == [1, 1, 1, 1]
    clips = await env.clips(page)
    assert [c.status for c in clips] == ["complete"] * 3
    assert [c.attempt for c in clips] == [1, 1, 1]
    assert [c.operation_name for c in clips[:2]] == first_ops
    assert len(_op_requests(env)) == 3
    async with env.sessions() as session:
        kinds = (
            await session.execute(select(CostEntry.kind).where(CostEntry.task_id == task.id))
        ).scalars()
        assert sorted(kinds) == ["clip"] * 3 + ["keyframe"] * 4 + ["storyboard"]


async def test_invalid_page_values_fail_with_a_fix_it_comment_then_run_once_fixed(
    pipeline_env: PipelineEnv,
) -> None:
    env = pipeline_env
    page = env.create_task(clips=2, seconds=5)
    await env.settle()

    assert env.status(page) == "Failed"
    assert "Clip Seconds must be 4, 6 or 8" in env.comments(page)[-1]
    assert await env.clips(page) == []

    env.server.admin.update_page(
        page,
        {"Clip Seconds": {"number": 4}, "Status": {"status": {"name": "Queued"}}},
        as_user="Cory Creator",
    )
    await env.settle()

    assert env.status(page) == "Storyboard Ready"
    task = await env.task(page)
    assert task.clip_seconds == 4
    assert [c.seconds for c in await env.clips(page)] == [4, 4]


async def test_moving_a_queued_page_to_trash_cancels_the_task(pipeline_env: PipelineEnv) -> None:
    env = pipeline_env
    page = env.create_task(clips=2)
    await NotionPoller(env.runtime.ctx, env.runtime.notion).poll_once()
    assert (await env.task(page)).status == "queued"

    env.server.admin.update_page(page, in_trash=True, as_user="Cory Creator")
    await env.settle()

    task = await env.task(page)
    assert task.status == "cancelled"
    events = await env.events(page)
    assert (events[-1].actor, events[-1].to_status) == ("human", "cancelled")
    assert "trash" in events[-1].note
    # Trashed pages never show up in a query: the daemon learns of it from its first
    # refused write, so at most the storyboard is planned; nothing is rendered.
    assert all(k.attempt == 0 for k in await env.keyframes(page))
    assert _op_requests(env) == {}

    await env.settle()  # and it stays cancelled
    assert (await env.task(page)).status == "cancelled"
