"""An idle drainer backs off; a commit that queued a Notion write wakes it.

db/outbox_signal.py: `enqueue` marks its session, the commit runs the callbacks
registered with `on_outbox_commit` (the running daemon's drainer wake-up), a
rollback or a commit without a queued write runs none. Counts, not timing.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from notion_sync.local_api.server import LocalNotionServer
from orchestrator.daemon.daemon import Daemon
from orchestrator.daemon.supervisor import Supervisor
from orchestrator.db import Task, on_outbox_commit, outbox_signal
from orchestrator.metrics import Metrics
from orchestrator.pipeline.notion_out import comment
from tests.fixtures.pipeline import make_pipeline_env


async def test_only_a_committed_outbox_write_runs_the_callbacks(
    tmp_path: Path, local_notion: LocalNotionServer
) -> None:
    async with make_pipeline_env(tmp_path, local_notion) as env:
        env.create_task(clips=1)
        await Daemon(env.runtime).poll_notion()
        sessions = env.runtime.ctx.sessions
        calls: list[str] = []
        unregister = on_outbox_commit(lambda: calls.append("woken"))
        try:
            async with sessions() as session, session.begin():
                task = (await session.execute(select(Task))).scalars().one()
                comment(session, task, "queued and committed")
            assert calls == ["woken"]

            async with sessions() as session:
                await session.begin()
                task = (await session.execute(select(Task))).scalars().one()
                comment(session, task, "queued, rolled back")
                await session.rollback()
            assert calls == ["woken"]

            async with sessions() as session, session.begin():
                task = (await session.execute(select(Task))).scalars().one()
                task.brief = "a change with no Notion write"
            assert calls == ["woken"]
        finally:
            unregister()
        async with sessions() as session, session.begin():
            task = (await session.execute(select(Task))).scalars().one()
            comment(session, task, "queued after unregistering")
        assert calls == ["woken"]


async def test_a_running_daemon_listens_for_outbox_commits_until_it_stops(
    tmp_path: Path, local_notion: LocalNotionServer
) -> None:
    async with make_pipeline_env(tmp_path, local_notion) as env:
        daemon = Daemon(env.runtime, idle_sleep=0.05)
        wake = daemon._outbox_ready.set
        assert wake not in outbox_signal._callbacks
        runner = asyncio.create_task(daemon.run())
        try:
            for _ in range(200):
                if wake in outbox_signal._callbacks:
                    break
                await asyncio.sleep(0.05)
            assert wake in outbox_signal._callbacks
        finally:
            daemon.stop()
            await asyncio.wait_for(runner, 30)
        assert wake not in outbox_signal._callbacks


async def test_a_woken_drainer_waits_its_settle_time_so_a_series_goes_in_one_round() -> None:
    """settle_on_wake: the status writes of a task moving on quickly are queued
    together and only the latest is sent (drainer.superseded_status_writes)."""
    supervisor, stopping, wake, rounds = (
        Supervisor(Metrics()),
        asyncio.Event(),
        asyncio.Event(),
        [0],
    )

    async def idle() -> bool:
        rounds[0] += 1
        return False

    loop = asyncio.create_task(
        supervisor.loop(
            "drain",
            idle,
            every=300.0,
            stopping=stopping,
            wake=wake,
            idle_max=600.0,
            settle_on_wake=300.0,
        )
    )
    for _ in range(100):
        if rounds[0]:
            break
        await asyncio.sleep(0.01)
    wake.set()
    await asyncio.sleep(0.3)
    # Woken, but the next round comes the settle time (300 s) after the wake, not at once.
    assert rounds == [1]
    assert not wake.is_set()
    stopping.set()
    await asyncio.wait_for(loop, 5)
    assert rounds == [1]
