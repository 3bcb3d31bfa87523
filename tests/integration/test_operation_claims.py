"""Issue 10, case 11: with several replicas, every finished clip is stored once and
charged once, at the price fixed when it was submitted.

Two replicas (two PipelineContexts, each with its own engine and providers) share one
database, as two `reelgate run` processes would; the google provider talks to the fake
Vertex server. Before the fix both replicas polled every due operation (a plain
SELECT), stored it and charged it, and the one that had not submitted the clip priced
it from the returned file (1 s here) instead of the 8 s that were asked for.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text, update
from sqlalchemy.engine import Connection

from orchestrator.db import create_engine, upgrade
from orchestrator.db.migrate import alembic_config
from orchestrator.db.models import Clip, Task
from orchestrator.pipeline.context import PipelineContext
from orchestrator.pipeline.operations import claim_due, poll_claimed, poll_due_operations
from orchestrator.pipeline.stages import video
from orchestrator.providers.catalogue import quote_clip
from orchestrator.state.clips import ClipStatus
from tests.fakes.vertex import FakeVertex
from tests.helpers.replicas import FakeClock, clips_of, ledger, migrate, replica, seed_video_task

pytestmark = pytest.mark.timeout(180)

# What one 8-second clip of the default model costs as submitted (720p, no audio).
EIGHT_SECONDS = quote_clip("veo-3.1-generate-001", 8).usd


async def _make_due(ctx: PipelineContext) -> None:
    async with ctx.sessions() as session, session.begin():
        await session.execute(
            update(Clip).where(Clip.status == ClipStatus.POLLING).values(next_poll_at=ctx.clock())
        )


async def _task_cost(ctx: PipelineContext, task_id: int) -> float:
    async with ctx.sessions() as session:
        task = await session.get(Task, task_id)
        assert task is not None
        return task.cost_usd


async def test_two_replicas_racing_the_same_due_operations_store_and_charge_once(
    pg_url: str, tmp_path: Path, fake_vertex: FakeVertex
) -> None:
    await migrate(pg_url)
    fake_vertex.polls_until_done = 0  # every operation is finished at its first poll
    url = fake_vertex.url
    async with (
        replica(pg_url, tmp_path, "replica-a", vertex_url=url) as a,
        replica(pg_url, tmp_path, "replica-b", vertex_url=url) as b,
    ):
        task_id = await seed_video_task(a, clips=8)
        await video.run(a, task_id)  # replica A submits all 8 (its provider knows 8 s)
        names = [c.operation_name for c in await clips_of(a, task_id)]
        assert fake_vertex.total_creates == 8
        assert all(names)
        await _make_due(a)

        # Both replicas go for the due operations at once, four at a time.
        polled = [0, 0]
        while True:
            rounds = await asyncio.gather(
                poll_due_operations(a, limit=4), poll_due_operations(b, limit=4)
            )
            if not any(rounds):
                break
            polled = [polled[0] + rounds[0], polled[1] + rounds[1]]

        assert sum(polled) == 8
        assert polled[1] > 0  # B, whose provider never saw the creates, stored some
        assert {name: fake_vertex.poll_calls[name] for name in names} == dict.fromkeys(names, 1)
        clips = await clips_of(a, task_id)
        assert {c.status for c in clips} == {ClipStatus.COMPLETE}
        entries = await ledger(a, task_id)
        assert sorted(e.operation_name or "" for e in entries) == sorted(n or "" for n in names)
        # Priced as submitted (8 s), whichever replica stored it; the file is 1 s long.
        assert {round(e.usd, 6) for e in entries} == {EIGHT_SECONDS}
        assert {e.units for e in entries} == {8.0}
        assert await _task_cost(a, task_id) == pytest.approx(8 * EIGHT_SECONDS)
        assert [c.cost_usd for c in clips] == [pytest.approx(EIGHT_SECONDS)] * 8


async def test_a_claim_that_expired_mid_poll_cannot_store_or_charge_again(
    db_url: str, tmp_path: Path, fake_vertex: FakeVertex
) -> None:
    await migrate(db_url)
    fake_vertex.polls_until_done = 0
    clock = FakeClock()
    url = fake_vertex.url
    async with (
        replica(db_url, tmp_path, "replica-a", vertex_url=url, clock=clock) as a,
        replica(db_url, tmp_path, "replica-b", vertex_url=url, clock=clock) as b,
    ):
        task_id = await seed_video_task(a, clips=3)
        await video.run(a, task_id)
        await _make_due(a)
        stale = await claim_due(a)  # A claims all three, then stalls
        assert len(stale) == 3
        assert await claim_due(b) == []  # claimed: B leaves them alone ...

        clock.advance(a.settings.operation_claim_seconds + 1)  # ... until the claim expires
        assert await poll_due_operations(b) == 3
        await poll_claimed(a, stale)  # A wakes up and finishes its stale polls

        entries = await ledger(a, task_id)
        assert len(entries) == 3
        assert await _task_cost(a, task_id) == pytest.approx(3 * EIGHT_SECONDS)
        names = [c.operation_name for c in await clips_of(a, task_id)]
        # B took them over: A, finding its claim gone, did not even poll again.
        assert [fake_vertex.poll_calls[n] for n in names] == [1, 1, 1]
        assert {c.status for c in await clips_of(a, task_id)} == {ClipStatus.COMPLETE}


def _upgrade_to(revision: str) -> object:
    def run(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    return run


async def test_migration_removes_duplicate_charges_and_their_amounts(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade_to("0004"))  # type: ignore[arg-type]
            await conn.execute(
                text(
                    "INSERT INTO tasks (id, notion_page_id, notion_url, title, channel, status,"
                    " brief, clip_count, clip_seconds, aspect_ratio, owner_ids, error_log,"
                    " pending_targets, final_round, review_round, rounds,"
                    " estimated_cost_usd, cost_usd, created_at, updated_at, status_changed_at)"
                    " VALUES (1, 'p', '', '', 'default', 'video_ready', '', 1, 8, '16:9', '[]',"
                    " '', '{}', 0, 0, '{}', 0, 4.8, '2026-12-01', '2026-12-01', '2026-12-01')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO clips (id, task_id, number, attempt, prompt, motion, narration,"
                    " seconds, reviewer_note, start_keyframe_attempt, end_keyframe_attempt,"
                    " poll_count, rai_retries, status, cost_usd, narration_status,"
                    " narration_attempt, narration_note, updated_at)"
                    " VALUES (1, 1, 1, 1, '', '', '', 8, '', 0, 0, 0, 0, 'complete', 3.2,"
                    " 'planned', 0, '', '2026-12-01')"
                )
            )
            for usd, op in ((1.6, "op-1"), (1.6, "op-1"), (1.6, None)):
                await conn.execute(
                    text(
                        "INSERT INTO cost_ledger (task_id, clip_id, at, kind, provider, model,"
                        " units, unit, usd, operation_name) VALUES (1, :clip, '2026-12-01',"
                        " 'clip', 'google', 'veo-3.1-generate-001', 8, 'second', :usd, :op)"
                    ),
                    {"usd": usd, "op": op, "clip": 1 if op else None},
                )
        await upgrade(engine)
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT operation_name FROM cost_ledger"))).all()
            task_cost = (await conn.execute(text("SELECT cost_usd FROM tasks"))).scalar_one()
            clip_cost = (await conn.execute(text("SELECT cost_usd FROM clips"))).scalar_one()
        assert sorted(str(r[0]) for r in rows) == ["None", "op-1"]
        assert task_cost == pytest.approx(3.2)
        assert clip_cost == pytest.approx(1.6)
    finally:
        await engine.dispose()


async def test_the_ledger_takes_one_charge_per_operation(
    db_url: str, tmp_path: Path, fake_vertex: FakeVertex
) -> None:
    from orchestrator.pipeline.ledger import record_charge

    await migrate(db_url)
    async with replica(db_url, tmp_path, "replica-a", vertex_url=fake_vertex.url) as a:
        task_id = await seed_video_task(a, clips=1)
        charge = quote_clip("veo-3.1-generate-001", 8)
        added = []
        for _ in range(2):  # e.g. two pollers whose claims overlapped
            async with a.sessions() as session, session.begin():
                task = await session.get(Task, task_id)
                assert task is not None
                added.append(
                    await record_charge(
                        session, task, charge, kind="clip", metrics=a.metrics, operation_name="op-1"
                    )
                )
        assert added == [EIGHT_SECONDS, 0.0]
        assert len(await ledger(a, task_id)) == 1
        assert await _task_cost(a, task_id) == pytest.approx(EIGHT_SECONDS)
