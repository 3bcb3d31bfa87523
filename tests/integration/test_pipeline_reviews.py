"""Reviews that go wrong: illegal moves, unreadable Error Logs."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from notion_sync.ops import SetTaskStatus
from orchestrator.daemon.daemon import Daemon
from orchestrator.db.models import OutboxItem, Task
from orchestrator.pipeline.notion_out import enqueue
from tests.fixtures.pipeline import PipelineEnv

pytestmark = pytest.mark.timeout(240)


async def test_illegal_human_move_is_reverted_with_an_explanation(
    pipeline_env: PipelineEnv,
) -> None:
    env = pipeline_env
    page = env.create_task(clips=2)
    await env.drive_to(page, "Video Ready", approve=("Storyboard Ready", "Keyframes Ready"))

    env.review(page, "Done")  # skipping audio and final is not allowed
    await env.settle()

    assert env.status(page) == "Video Ready"
    task = await env.task(page)
    assert task.status == "video_ready"
    refusal = env.comments(page)[-1]
    assert "Video Ready -> Done is not an allowed move" in refusal
    for allowed in (
        "Video Approved",
        "Video Error",
        "Keyframes Error",
        "Storyboard Error",
        "Cancelled",
    ):
        assert allowed in refusal
    events = await env.events(page)
    assert events[-1].kind == "revert"
    assert "Done" in events[-1].note


async def test_error_log_without_clip_numbers_waits_with_a_comment_then_acts_on_the_fix(
    pipeline_env: PipelineEnv,
) -> None:
    env = pipeline_env
    page = env.create_task(clips=2)
    await env.drive_to(page, "Video Ready", approve=("Storyboard Ready", "Keyframes Ready"))

    env.review(page, "Video Error", "the whole thing feels off somehow")
    await env.settle()

    # Nothing bounces: the task waits in Video Error, the line is quoted once.
    assert env.status(page) == "Video Error"
    note = env.comments(page)[-1]
    assert "> the whole thing feels off somehow — no clip numbers found" in note
    assert "clips 5, 12, 17" in note  # the accepted forms
    assert [c.attempt for c in await env.clips(page)] == [1, 1]
    comments = len(env.comments(page))
    await env.settle()
    assert len(env.comments(page)) == comments  # said once

    # The reviewer fixes the line; once it settles the daemon acts, Status untouched.
    env.write_error_log(page, "clip 2: brighter sky")
    await env.settle()
    assert env.status(page) == "Video Ready"
    clips = await env.clips(page)
    assert [c.attempt for c in clips] == [1, 2]
    assert clips[1].reviewer_note == "brighter sky"


async def test_out_of_range_clip_is_explained(pipeline_env: PipelineEnv) -> None:
    env = pipeline_env
    page = env.create_task(clips=2)
    await env.drive_to(page, "Video Ready", approve=("Storyboard Ready", "Keyframes Ready"))
    env.review(page, "Video Error", "Regenerate: clip 7")
    await env.settle()
    assert env.status(page) == "Video Error"
    assert "> Regenerate: clip 7 — clip 7 is out of range" in env.comments(page)[-1]
    assert [c.attempt for c in await env.clips(page)] == [1, 1]


async def test_metrics_show_tasks_calls_and_outbox(pipeline_env: PipelineEnv) -> None:
    env = pipeline_env
    page = env.create_task(clips=2)
    await env.drive_to(page, "Video Ready", approve=("Storyboard Ready", "Keyframes Ready"))
    await env.daemons[-1].update_gauges()
    text = env.runtime.metrics.render_text()
    assert 'reelgate_tasks{status="video_ready"} 1.0' in text
    assert "reelgate_operations_in_flight 0.0" in text
    assert 'reelgate_provider_calls_total{kind="clip_create",provider="local"} 2.0' in text
    assert "reelgate_outbox_pending 0.0" in text
    assert 'reelgate_transitions_total{actor="human",to="storyboard_approved"} 1.0' in text
    assert 'reelgate_transitions_total{actor="daemon",to="video_ready"} 1.0' in text


async def test_a_queued_status_write_never_overwrites_a_newer_human_move(
    pipeline_env: PipelineEnv,
) -> None:
    from notion_sync.ops import SetTaskStatus
    from orchestrator.daemon.drainer import OutboxDrainer
    from orchestrator.db.models import OutboxItem

    env = pipeline_env
    page = env.create_task(clips=2)
    await env.settle()
    assert env.status(page) == "Storyboard Ready"
    task = await env.task(page)
    # A daemon write still in the outbox when the reviewer cancels in Notion.
    stale = SetTaskStatus(page_id=page, status_label="Storyboard Approved")
    async with env.sessions() as session, session.begin():
        session.add(
            OutboxItem(
                task_id=task.id, page_id=page, kind=stale.kind, op=stale.model_dump(mode="json")
            )
        )
    env.review(page, "Cancelled")
    drainer = OutboxDrainer(env.sessions, env.runtime.writer, env.runtime.metrics)
    await drainer.drain_once()
    assert env.status(page) == "Cancelled"  # their move stands
    await env.settle()
    assert (await env.task(page)).status == "cancelled"


async def test_a_keyframe_past_the_last_one_is_explained(pipeline_env: PipelineEnv) -> None:
    env = pipeline_env
    page = env.create_task(clips=2)  # keyframes 1..3
    await env.drive_to(page, "Keyframes Ready", approve=("Storyboard Ready",))
    env.review(page, "Keyframes Error", "keyframe 4: warmer")
    await env.settle()
    assert env.status(page) == "Keyframes Error"
    assert "keyframe 4 does not exist (this task has keyframes 1 to 3)" in env.comments(page)[-1]
    assert [k.attempt for k in await env.keyframes(page)] == [1, 1, 1]


async def test_a_read_of_our_status_write_still_in_flight_is_not_a_human_move(
    pipeline_env: PipelineEnv,
) -> None:
    """The drainer's write has landed in Notion but its answer is not recorded yet
    (the item is still unsent) when the poll, running beside it, reads the page."""
    env = pipeline_env
    page = env.create_task(clips=2, channel="autopilot")
    await env.settle()
    assert env.status(page) == "Video Ready"
    async with env.sessions() as session, session.begin():
        task = (await session.execute(select(Task).where(Task.notion_page_id == page))).scalar_one()
        # The task's one write of that label is the one in flight (the drainer takes
        # an item, sends it, then records it sent).
        await session.execute(
            delete(OutboxItem).where(
                OutboxItem.task_id == task.id, OutboxItem.kind == "set_task_status"
            )
        )
        enqueue(session, task, SetTaskStatus(page_id=page, status_label="Generating Keyframes"))
    env.server.admin.update_page(
        page, {"Status": {"status": {"name": "Generating Keyframes"}}}, as_user=None
    )
    await Daemon(env.runtime).poll_notion()
    await env.settle()
    assert (await env.task(page)).status == "video_ready"
    assert env.status(page) == "Video Ready"
    assert not any("Status was set back" in c for c in env.comments(page))


async def test_a_late_read_of_our_own_status_write_is_not_a_human_move(
    pipeline_env: PipelineEnv,
) -> None:
    env = pipeline_env
    page = env.create_task(clips=2, channel="autopilot")
    await env.settle()
    assert env.status(page) == "Video Ready"
    # What a poll sees when it reads the page while our Status writes are still
    # landing: one of our earlier labels, written by us.
    env.server.admin.update_page(
        page, {"Status": {"status": {"name": "Generating Keyframes"}}}, as_user=None
    )
    await env.settle()
    assert (await env.task(page)).status == "video_ready"
    assert env.status(page) == "Video Ready"
    assert not any("Status was set back" in c for c in env.comments(page))
    # A person choosing that label is still refused, with the explanation.
    env.review(page, "Generating Keyframes")
    await env.settle()
    assert env.status(page) == "Video Ready"
    assert "Status was set back to Video Ready" in env.comments(page)[-1]
