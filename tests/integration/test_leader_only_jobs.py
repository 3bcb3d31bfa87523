"""On PostgreSQL only the replica holding the advisory lock talks to Notion."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from notion_sync.client import NotionClient
from notion_sync.local_api.server import LocalNotionServer
from orchestrator.config import AppConfig
from orchestrator.daemon.daemon import Daemon
from orchestrator.daemon.leader import LeaderElector
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


async def test_a_new_leader_paces_from_its_first_request_so_a_failover_draws_no_429(
    tmp_path: Path, local_notion: LocalNotionServer, pg_url: str
) -> None:
    """The token is shared: the leader before us may have spent its burst a moment ago.

    The new leader's own bucket, idle while it followed, would allow a full burst on
    top of that; Notion (here the local API, one bucket per token) answers 429.
    """
    rate = 5.0
    token = "failover-pacing-token-0123456789"

    def on_postgres(config: AppConfig) -> AppConfig:
        settings = config.settings.model_copy(update={"database_url": pg_url})
        notion = config.notion.model_copy(
            update={"token": SecretStr(token), "requests_per_second": rate}
        )
        return dataclasses.replace(config, settings=settings, notion=notion)

    async with make_pipeline_env(tmp_path, local_notion, configure=on_postgres) as env:
        local_notion.knobs.set_rate_limit(rate=rate, burst=int(rate), token=token)
        previous = LeaderElector(env.runtime.engine)
        daemon = Daemon(env.runtime)
        try:
            assert await previous.acquire()
            await daemon.poll_notion()
            assert not daemon.leader.is_leader
            assert not daemon._outbox_ready.is_set()
            # The previous leader's last second: its whole burst, on the same token.
            async with NotionClient(env.runtime.config.notion) as previous_client:
                for _ in range(int(rate)):
                    await previous_client.request("GET", "/v1/users/me")
            await previous.release()
            await asyncio.sleep(0.3)  # a failover takes a moment
            since = time.time()
            await daemon.poll_notion()
            assert daemon.leader.is_leader
            # The writes the other replicas queued are ours to send: the drainer looks now.
            assert daemon._outbox_ready.is_set()
            for _ in range(int(rate)):
                await env.runtime.notion.request("GET", "/v1/users/me")
            assert local_notion.request_log.count(token=token, since=since) > int(rate)
            assert local_notion.request_log.count(token=token, status=429, since=since) == 0
        finally:
            await previous.release()
            await daemon.leader.release()
