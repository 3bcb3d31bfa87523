"""An idle drainer backs off; a commit that queued a Notion write wakes it.

db/outbox_signal.py: `enqueue` marks its session, the commit runs the callbacks
registered with `on_outbox_commit` (the running daemon's drainer wake-up), a
rollback or a commit without a queued write runs none. Counts, not timing.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import event, select

from notion_sync.local_api.server import LocalNotionServer
from orchestrator.daemon.daemon import Daemon
from orchestrator.db import Task, on_outbox_commit, outbox_signal
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


async def test_an_idle_drain_round_is_one_transaction_of_two_reads(
    tmp_path: Path, local_notion: LocalNotionServer
) -> None:
    """Idle means idle: the round that finds the outbox empty reads it once and counts
    what is held (the gauge), in one transaction; no load, no settling, no second one."""
    async with make_pipeline_env(tmp_path, local_notion) as env:
        daemon = Daemon(env.runtime)
        await daemon.poll_notion()
        while await daemon.drainer.drain_once():
            pass  # whatever the first poll queued

        statements: list[str] = []
        checkouts: list[int] = []

        def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
            statements.append(statement.split()[0].upper())

        def checkout(*_args: object) -> None:
            checkouts.append(1)

        sync_engine = env.runtime.engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", count)
        event.listen(sync_engine.pool, "checkout", checkout)
        try:
            assert await daemon.drainer.drain_once() == 0
        finally:
            event.remove(sync_engine, "before_cursor_execute", count)
            event.remove(sync_engine.pool, "checkout", checkout)
        # The pending writes and the gauge's count, on one connection, in one session.
        assert statements == ["SELECT", "SELECT"]
        assert len(checkouts) == 1
