"""Every row of bad_input_rows_lifecycle.ROWS, driven through the local Notion API."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from notion_sync.local_api.server import LocalNotionServer
from orchestrator.channels import ChannelConfig, Channels, load_channels
from orchestrator.config import AppConfig
from orchestrator.daemon.drainer import OutboxDrainer
from orchestrator.daemon.notion_poll import NotionPoller
from orchestrator.daemon.worker import Worker
from orchestrator.db.types import utcnow
from orchestrator.providers.settings import GoogleSettings
from tests.fixtures.pipeline import PipelineEnv, make_pipeline_env
from tests.integration.bad_input_rows_lifecycle import ROWS, Row

pytestmark = pytest.mark.timeout(240)

REFUSALS = ("Status was set back", "Not started", "conflicts with", "is failing", "failed")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _configure(row: Row) -> tuple[Channels | None, Callable[[AppConfig], AppConfig]]:
    if row.setup != "provider_down":

        def quick(config: AppConfig) -> AppConfig:
            settings = config.settings.model_copy(update={"trash_check_seconds": 0.0})
            return dataclasses.replace(config, settings=settings)

        return None, quick

    def down(config: AppConfig) -> AppConfig:
        google = GoogleSettings(
            _env_file=None,  # type: ignore[call-arg]
            api_key="AIzaFakeBadInputKey-0123456789abcdefgh",  # type: ignore[arg-type]
            base_url=f"http://127.0.0.1:{_closed_port()}",
            read_retry_attempts=1,
        )
        settings = config.settings.model_copy(update={"step_failures_before_comment": 1})
        return dataclasses.replace(config, google=google, settings=settings)

    base = load_channels(None)
    x = ChannelConfig(name="x", provider="google", max_step_failures=2)
    return Channels({**{c.name: c for c in base}, "x": x}, "test"), down


async def _drain(env: PipelineEnv) -> None:
    drainer = OutboxDrainer(env.sessions, env.runtime.writer, env.runtime.metrics)
    while await drainer.drain_once():
        pass


async def _act(env: PipelineEnv, row: Row) -> str:
    page = env.create_task(clips=2, channel=row.channel)
    if row.setup == "queued":
        await env.settle()
    elif row.setup == "video_ready":
        await env.drive_to(page, "Video Ready", approve=("Storyboard Ready", "Keyframes Ready"))
        for clip, note in row.rows.items():
            env.set_row_status(page, clip, "Regenerate", note)
        await env.settle()
        if row.cleared:
            for clip in row.rows:
                env.set_row_status(page, clip, "Ready")
            await env.settle()
    elif row.setup == "cancelled":
        await env.drive_to(page, "Storyboard Ready")
        env.review(page, "Cancelled")
        await env.settle()
        assert env.status(page) == "Cancelled"
    elif row.setup == "trash_restore":
        await NotionPoller(env.runtime.ctx, env.runtime.notion).poll_once()
        env.server.admin.update_page(page, in_trash=True, as_user="Cory Creator")
        await env.settle()
        env.server.admin.update_page(page, in_trash=False, as_user="Cory Creator")
        await env.settle()
    elif row.setup == "provider_down":
        ctx = env.runtime.ctx
        await NotionPoller(ctx, env.runtime.notion).poll_once()
        ctx.clock = lambda: utcnow() - timedelta(days=1)  # every retry due at once
        for n in range(3):  # start, then two failed storyboard calls
            assert await Worker(ctx, f"w{n}").run_once()
        await _drain(env)
    if row.then is not None:
        env.review(page, row.then)
        await env.settle()
    return page


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
async def test_bad_input_gets_a_visible_outcome(
    row: Row, tmp_path: Path, local_notion: LocalNotionServer
) -> None:
    channels, configure = _configure(row)
    async with make_pipeline_env(
        tmp_path, local_notion, channels=channels, configure=configure
    ) as env:
        page = await _act(env, row)
        assert env.status(page) == row.status
        comments = env.comments(page)
        if row.says is None:
            assert not [c for c in comments if any(r in c for r in REFUSALS)], comments
        else:
            assert comments, "no comment at all"
            assert row.says in comments[-1], comments[-1]
