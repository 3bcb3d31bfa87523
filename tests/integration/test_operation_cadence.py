"""Issue 14: operations are polled when due, on a cadence from the model's latency;
creates fan out under the model's quota; a task waiting on operations costs nothing.

All counts, no timing: the pipeline and the fake Vertex server run on one fake clock
that the test moves to the next due time, as the operation loop would sleep until it.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from orchestrator.daemon.worker import Worker
from orchestrator.db.models import Clip, Task
from orchestrator.pipeline.context import PipelineContext
from orchestrator.pipeline.latency import LEARNED_REFRESH, expected_latency, learned_latency
from orchestrator.pipeline.operations import (
    claim_due,
    next_due_at,
    poll_claimed,
    poll_due_operations,
)
from orchestrator.pipeline.stages import video
from orchestrator.providers.catalogue import model_entry
from orchestrator.state.claims import WOKEN
from orchestrator.state.clips import ClipStatus
from orchestrator.state.status import Status
from tests.fakes.vertex import FakeVertex
from tests.helpers.replicas import FakeClock, clips_of, migrate, replica, seed_video_task

pytestmark = pytest.mark.timeout(180)

VEO = "veo-3.1-generate-001"
NO_JITTER = {"clip_poll_jitter": 0.0}


async def _run_operation_loop(ctx: PipelineContext, clock: FakeClock) -> int:
    """What the daemon's operation loop does, with the sleeps on the fake clock:
    wake at the next due time, poll what is due. Returns the wake-ups."""
    wakeups = 0
    while (due := await next_due_at(ctx)) is not None:
        clock.set(due)
        wakeups += 1
        await poll_due_operations(ctx, limit=100)
        assert wakeups < 100, "the operations never finished"
    return wakeups


@pytest.mark.parametrize(
    ("channel", "latency_s"),
    [
        pytest.param({}, model_entry(VEO).expected_latency_s, id="catalogue-latency"),
        pytest.param({"expected_clip_latency_s": 8.0}, 8.0, id="channel-latency-8s"),
    ],
)
async def test_polls_follow_the_expected_latency_and_a_finished_clip_waits_under_10_percent(
    sqlite_url: str,
    tmp_path: Path,
    fake_vertex: FakeVertex,
    channel: dict[str, float],
    latency_s: float,
) -> None:
    await migrate(sqlite_url)
    clock = FakeClock()
    fake_vertex.clock = clock.monotonic
    fake_vertex.polls_until_done = 0
    fake_vertex.seconds_until_done = latency_s  # each operation takes exactly L
    async with replica(
        sqlite_url,
        tmp_path,
        "a",
        vertex_url=fake_vertex.url,
        clock=clock,
        channel=channel,
        settings=NO_JITTER,
    ) as ctx:
        task_id = await seed_video_task(ctx, clips=18)
        await video.run(ctx, task_id)
        assert fake_vertex.total_creates == 18  # one step, no waves
        ctx.work_ready.clear()

        wakeups = await _run_operation_loop(ctx, clock)

        clips = await clips_of(ctx, task_id)
        assert {c.status for c in clips} == {ClipStatus.COMPLETE}
        # The last clip in woke this process's idle workers (not their back-off).
        assert ctx.work_ready.is_set()
        polls = [fake_vertex.poll_calls[c.operation_name or ""] for c in clips]
        # First poll at L/2, then 5 %, 10 %, 10 % ... of L: 7 polls, 6 "not done".
        assert polls == [7] * 18
        # All 18 share one schedule: the loop woke 7 times, not every few seconds.
        assert wakeups == 7
        for clip in clips:
            assert clip.generated_at is not None
            assert clip.submitted_at is not None
            waited = (clip.generated_at - clip.submitted_at).total_seconds() - latency_s
            assert 0 <= waited <= 0.1 * latency_s


async def test_latency_is_learned_from_the_models_recent_clips(
    sqlite_url: str, tmp_path: Path, fake_vertex: FakeVertex
) -> None:
    await migrate(sqlite_url)
    clock = FakeClock()
    async with replica(sqlite_url, tmp_path, "a", vertex_url=fake_vertex.url, clock=clock) as ctx:
        task_id = await seed_video_task(ctx, clips=6)
        async with ctx.sessions() as session, session.begin():
            for i, clip in enumerate(await clips_of(ctx, task_id)):
                await session.execute(
                    update(Clip)
                    .where(Clip.id == clip.id)
                    .values(
                        submitted_at=clock.now,
                        generated_at=clock.now + timedelta(seconds=20 + i),
                        quoted_charge={"model": VEO},
                    )
                )
        async with ctx.sessions() as session:
            # The five latest: 25, 24, 23, 22, 21 s.
            assert await learned_latency(session, VEO, 5) == 23.0
            assert await learned_latency(session, VEO, 7) is None  # too few yet
            assert await expected_latency(ctx, session, ctx.channels.default, VEO) == 23.0
            assert await learned_latency(session, "veo-3.1-fast-generate-001", 1) is None

        # Every poll asks for the latency: the process reads it once a minute per model.
        async with ctx.sessions() as session, session.begin():
            await session.execute(
                update(Clip)
                .where(Clip.task_id == task_id)
                .values(generated_at=clock.now + timedelta(seconds=40))
            )
        async with ctx.sessions() as session:
            assert await learned_latency(session, VEO, 5) == 40.0
            assert await expected_latency(ctx, session, ctx.channels.default, VEO) == 23.0
            clock.advance(LEARNED_REFRESH.total_seconds())
            assert await expected_latency(ctx, session, ctx.channels.default, VEO) == 40.0


async def test_a_task_waiting_on_operations_is_not_rerun_until_its_last_clip_finishes(
    sqlite_url: str, tmp_path: Path, fake_vertex: FakeVertex
) -> None:
    await migrate(sqlite_url)
    clock = FakeClock()
    fake_vertex.clock = clock.monotonic
    fake_vertex.polls_until_done = 0
    async with replica(sqlite_url, tmp_path, "a", vertex_url=fake_vertex.url, clock=clock) as ctx:
        task_id = await seed_video_task(ctx, clips=3)
        worker = Worker(ctx, "a-0")
        steps = 0
        steps += await worker.run_once()  # submits all three
        assert fake_vertex.total_creates == 3
        # Waiting: however often the worker looks, there is nothing to run.
        for _ in range(20):
            steps += await worker.run_once()
        assert steps == 1

        # Two clips finish: still nothing to run (the third is in flight).
        clock.advance(100)  # due (first poll at L/2), well before the deadline
        await poll_claimed(ctx, (await claim_due(ctx, limit=2)))
        assert sum([await worker.run_once() for _ in range(5)]) == 0
        async with ctx.sessions() as session:
            task = await session.get(Task, task_id)
            assert task is not None
            assert task.not_before != WOKEN

        # The last one finishes: the poller wakes the task, one step takes it to the gate.
        assert await poll_due_operations(ctx) == 1
        steps += await worker.run_once()
        assert steps == 2
        async with ctx.sessions() as session:
            task = await session.get(Task, task_id)
            assert task is not None
            assert task.status == Status.VIDEO_READY.value
        assert sum([await worker.run_once() for _ in range(5)]) == 0
