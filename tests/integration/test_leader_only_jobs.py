"""On PostgreSQL only the replica holding the advisory lock talks to Notion."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from notion_sync.local_api.server import LocalNotionServer
from orchestrator.config import AppConfig
from orchestrator.daemon.daemon import Daemon
from tests.fixtures.pipeline import make_pipeline_env

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]


async def test_only_the_leader_polls_and_drains(
    tmp_path: Path, local_notion: LocalNotionServer, pg_url: str
) -> None:
    def on_postgres(config: AppConfig) -> AppConfig:
        settings = config.settings.model_copy(update={"database_url": pg_url})
        return dataclasses.replace(config, settings=settings)

    async with make_pipeline_env(tmp_path, local_notion, configure=on_postgres) as env:
        env.create_task(clips=2)
        leader, follower = Daemon(env.runtime), Daemon(env.runtime)
        try:
            assert await leader.leader.acquire()
            before = local_notion.request_log.count()
            await follower.poll_notion()
            assert not await follower._drain()
            assert local_notion.request_log.count() == before  # the follower sent nothing
            assert follower.polls == 0
            await leader.poll_notion()
            assert leader.polls == 1
            assert local_notion.request_log.count() > before
            # The leader goes away: the follower takes over on its next tick.
            await leader.leader.release()
            await follower.poll_notion()
            assert follower.polls == 1
        finally:
            await leader.leader.release()
            await follower.leader.release()
