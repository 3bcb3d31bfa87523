"""Issue 14: creates are paced by the model's quota cluster-wide, through the database.

Two replicas (own engines, own pacers and aiolimiters) on one database take create
slots at once; across both, no 60-second window ever holds more than the quota. A 429
from Vertex on one replica holds every replica back. Slots are read on a fake clock
and the waits are recorded, not slept: counts, not timing.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from orchestrator.db import create_engine, session_factory, upgrade
from orchestrator.db.models import ProviderPacing
from orchestrator.pipeline.pacing import WINDOW_S, CreatePacer, next_slot
from orchestrator.pipeline.stages import video
from orchestrator.providers.catalogue import model_entry
from tests.fakes.vertex import FakeVertex
from tests.helpers.replicas import FakeClock, migrate, replica, seed_video_task

pytestmark = pytest.mark.timeout(180)

VEO = "veo-3.1-generate-001"


def most_in_a_window(slots: list[datetime]) -> int:
    """The largest number of slots in any half-open 60 s window [t, t + 60)."""
    times = sorted(s.timestamp() for s in slots)
    return max(sum(1 for u in times if t <= u < t + WINDOW_S) for t in times)


def test_the_default_quota_is_vertexs_published_veo_quota() -> None:
    # "Maximum API requests per minute per project: 50" (Veo 3.1 GA model page),
    # checked 2026-12-01; the catalogue carries it with its source.
    assert model_entry(VEO).requests_per_minute == 50
    assert model_entry("veo-3.1-fast-generate-001").requests_per_minute == 50


def test_next_slot_keeps_every_window_within_the_quota() -> None:
    grants: list[float] = []
    for _ in range(12):
        grants.append(next_slot(grants, 0.0, 5, None))
    assert grants == [0.0] * 5 + [60.0] * 5 + [120.0] * 2
    assert next_slot([], 0.0, 5, 30.0) == 30.0  # a 429 back-off holds everyone


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


async def test_two_replicas_never_exceed_the_quota_together(pg_url: str) -> None:
    await migrate(pg_url)
    clock = FakeClock()
    engines = [create_engine(pg_url), create_engine(pg_url)]
    sleeps = [Sleeps(), Sleeps()]
    pacers = [
        CreatePacer(session_factory(e), clock=clock, sleep=s, rpm_override=5)
        for e, s in zip(engines, sleeps, strict=True)
    ]
    try:
        # Each replica wants 5 creates right now: 10 against a quota of 5 a minute.
        slots = await asyncio.gather(*(p.acquire(VEO) for p in pacers for _ in range(5)))
    finally:
        for e in engines:
            await e.dispose()
    taken = [s for s in slots if s is not None]
    assert len(taken) == 10
    assert most_in_a_window(taken) == 5
    # Five went at once; the other five wait for the first minute to pass.
    assert sorted(s - clock.now for s in taken) == [timedelta(0)] * 5 + [timedelta(minutes=1)] * 5
    assert sorted(sleeps[0].waits + sleeps[1].waits) == [60.0] * 5


async def test_two_replicas_submitting_tasks_at_once_share_one_quota(
    pg_url: str, tmp_path: Path, fake_vertex: FakeVertex
) -> None:
    await migrate(pg_url)
    clock = FakeClock()
    sleeps = [Sleeps(), Sleeps()]
    quota = {"create_requests_per_minute": 5}
    url = fake_vertex.url
    async with (
        replica(
            pg_url, tmp_path, "a", vertex_url=url, clock=clock, settings=quota, sleep=sleeps[0]
        ) as a,
        replica(
            pg_url, tmp_path, "b", vertex_url=url, clock=clock, settings=quota, sleep=sleeps[1]
        ) as b,
    ):
        tasks = [await seed_video_task(a, clips=4), await seed_video_task(a, clips=4, also=(b,))]
        # Each replica runs the video step of its own task, at the same moment.
        await asyncio.gather(video.run(a, tasks[0]), video.run(b, tasks[1]))
    assert sum(fake_vertex.accepted_creates.values()) == 8
    # Slot times: five at once, three a minute later, across both replicas.
    waits = sorted(sleeps[0].waits + sleeps[1].waits)
    assert waits == [60.0] * 3
    slots = [clock.now] * (8 - len(waits)) + [clock.now + timedelta(seconds=w) for w in waits]
    assert most_in_a_window(slots) == 5


async def test_a_429_on_one_replica_backs_off_the_whole_cluster(
    db_url: str, tmp_path: Path, fake_vertex: FakeVertex
) -> None:
    await migrate(db_url)
    clock = FakeClock()
    url = fake_vertex.url
    async with (
        replica(db_url, tmp_path, "a", vertex_url=url, clock=clock) as a,
        replica(db_url, tmp_path, "b", vertex_url=url, clock=clock) as b,
    ):
        task_id = await seed_video_task(a, clips=2)
        # Vertex refuses the first create with 429 RESOURCE_EXHAUSTED ...
        fake_vertex.fail_next("create", 429)
        await video.run(a, task_id)
        # ... A's provider waits and retries (a 429 created nothing) ...
        assert len(fake_vertex.requests_for("create")) == 3
        assert sum(fake_vertex.accepted_creates.values()) == 2
        # ... and the whole cluster was told: B's next slot comes after the back-off.
        async with b.sessions() as session:
            row = (
                await session.execute(select(ProviderPacing).where(ProviderPacing.key == VEO))
            ).scalar_one()
        assert row.backoff_until is not None
        assert row.backoff_until > clock.now
        assert "429" in (row.backoff_reason or "")
        slot = await b.create_pacer.take_slot(VEO, 50)
        assert slot >= row.backoff_until


async def test_an_unpaced_model_takes_no_slot(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    await upgrade(engine)
    try:
        pacer = CreatePacer(session_factory(engine))
        assert pacer.rpm_for("local-clip") is None
        assert await pacer.acquire("local-clip") is None
        assert pacer.rpm_for(VEO) == 50
        assert CreatePacer(session_factory(engine), rpm_override=7).rpm_for(VEO) == 7
    finally:
        await engine.dispose()
