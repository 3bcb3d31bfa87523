"""Estimate before spend: a Draft page is priced within one poll, with no paid call.

The channel uses the google provider against the fake Vertex server, whose request
log must stay empty: pricing is a lookup of model ids, never a request.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from notion_sync.local_api.admin import rich_text
from notion_sync.local_api.server import LocalNotionServer
from orchestrator.channels import ChannelConfig, Channels
from orchestrator.cli import app
from orchestrator.config import AppConfig
from orchestrator.daemon.drainer import OutboxDrainer
from orchestrator.daemon.notion_poll import NotionPoller
from orchestrator.pipeline.budget import clip_cost, estimate_task
from orchestrator.pipeline.estimate import estimate_breakdown
from orchestrator.providers.settings import GoogleSettings
from tests.fakes.vertex import FakeVertex
from tests.fixtures.pipeline import PipelineEnv, make_pipeline_env

pytestmark = pytest.mark.timeout(90)

API_KEY = "AIzaFakeEstimateKey-0123456789abcdef"
CHANNELS_TOML = """
[channels.promo]
provider = "google"
budget_usd = 1.0

[channels.sketch]
provider = "local"
"""


def _google(fake_vertex: FakeVertex) -> GoogleSettings:
    return GoogleSettings(
        _env_file=None,  # type: ignore[call-arg]
        api_key=API_KEY,  # type: ignore[arg-type]
        base_url=fake_vertex.url,
        timeout_ms=10_000,
        read_retry_attempts=1,
    )


@pytest.fixture
async def env(
    tmp_path: Path, local_notion: LocalNotionServer, fake_vertex: FakeVertex
) -> AsyncIterator[PipelineEnv]:
    from orchestrator.channels import parse_channels

    def configure(config: AppConfig) -> AppConfig:
        return dataclasses.replace(config, google=_google(fake_vertex))

    channels: Channels = parse_channels(CHANNELS_TOML, "test.toml")
    async with make_pipeline_env(
        tmp_path, local_notion, channels=channels, configure=configure
    ) as env:
        yield env


async def one_poll(env: PipelineEnv) -> None:
    """Exactly one Notion poll, then send what it queued (as the leader would)."""
    ctx = env.runtime.ctx
    await NotionPoller(ctx, env.runtime.notion).poll_once()
    drainer = OutboxDrainer(ctx.sessions, env.runtime.writer, env.runtime.metrics)
    while await drainer.drain_once():
        pass


def props(env: PipelineEnv, page: str) -> dict[str, Any]:
    return dict(env.server.admin.page(page)["properties"])


def edit(env: PipelineEnv, page: str, properties: dict[str, Any]) -> None:
    env.server.admin.update_page(page, properties, as_user="Cory Creator")


async def test_draft_is_priced_within_one_poll_without_any_provider_call(
    env: PipelineEnv, fake_vertex: FakeVertex
) -> None:
    page = env.create_task(status="Draft", channel="promo", clips=3, seconds=8)
    await one_poll(env)

    providers = env.runtime.ctx.providers_for(env.runtime.ctx.channels.get("promo"))
    expected = estimate_breakdown(providers, 3, 8)
    estimated = props(env, page)["Estimated Cost"]["number"]
    assert estimated == pytest.approx(expected.total_usd)
    assert estimated == pytest.approx(estimate_task(providers, 3, 8))
    # The video seconds dominate: 3 clips x 8 s at the Veo price, and more besides.
    assert estimated > clip_cost(providers, 8, 3) > 0
    assert fake_vertex.requests == []  # no paid call, and no call at all
    assert env.status(page) == "Draft"

    # Someone blanks the number; editing the Brief prices the page again.
    edit(env, page, {"Estimated Cost": {"number": None}})
    edit(env, page, {"Brief": {"rich_text": rich_text("A shorter story about the sea.")}})
    await one_poll(env)
    assert props(env, page)["Estimated Cost"]["number"] == pytest.approx(expected.total_usd)

    # More clips: a new estimate. A local channel: free.
    edit(env, page, {"Clips": {"number": 5}})
    await one_poll(env)
    five = estimate_task(providers, 5, 8)
    assert five > expected.total_usd
    assert props(env, page)["Estimated Cost"]["number"] == pytest.approx(five)
    edit(env, page, {"Channel": {"select": {"name": "sketch"}}})
    await one_poll(env)
    assert props(env, page)["Estimated Cost"]["number"] == 0

    # No Brief: nothing to price, and no stale number left behind.
    edit(env, page, {"Channel": {"select": {"name": "promo"}}, "Brief": {"rich_text": []}})
    await one_poll(env)
    assert props(env, page)["Estimated Cost"]["number"] is None
    assert fake_vertex.requests == []


async def test_queued_over_budget_fails_before_spend_with_the_breakdown(
    env: PipelineEnv, fake_vertex: FakeVertex
) -> None:
    page = env.create_task(status="Draft", channel="promo", clips=4, seconds=8)
    await one_poll(env)
    drafted = props(env, page)["Status Changed"]["date"]["start"]
    assert drafted  # set when the page was first seen

    edit(env, page, {"Status": {"status": {"name": "Queued"}}})
    await env.settle()

    assert env.status(page) == "Failed"
    note = env.comments(page)[-1]
    assert "over the channel budget of $1.00" in note
    # The same breakdown `reelgate estimate` prints, line by line.
    providers = env.runtime.ctx.providers_for(env.runtime.ctx.channels.get("promo"))
    table = estimate_breakdown(providers, 4, 8).table()
    assert table in note
    for item in ("Storyboard", "Keyframes", "Clips", "Narration", "Total"):
        assert item in note
    assert fake_vertex.total_creates == 0
    assert fake_vertex.requests == []

    # Status Changed followed both moves: the creator's (Queued) and the daemon's.
    task = await env.task(page)
    changed = props(env, page)["Status Changed"]["date"]["start"]
    assert datetime.fromisoformat(changed) == task.status_changed_at
    assert datetime.fromisoformat(changed) > datetime.fromisoformat(drafted)
    moves = [(e.actor, e.to_status) for e in await env.events(page) if e.kind == "transition"]
    assert ("human", "queued") in moves
    assert moves[-1] == ("daemon", "failed")


def test_estimate_command_prints_the_breakdown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    channels = tmp_path / "channels.toml"
    channels.write_text(CHANNELS_TOML, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REELGATE_CHANNELS_FILE", str(channels))
    for name in ("REELGATE_GOOGLE_API_KEY", "REELGATE_GOOGLE_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    result = runner.invoke(
        app, ["estimate", "--channel", "promo", "--clips", "4", "--seconds", "8"]
    )
    assert result.exit_code == 0, result.output
    from orchestrator.providers.registry import ProviderRegistry

    registry = ProviderRegistry(_google_settings_without_credentials(), _local_settings(tmp_path))
    providers = registry.for_channel(ChannelConfig(name="promo", provider="google"))
    expected = estimate_breakdown(providers, 4, 8)
    asyncio.run(registry.aclose())
    assert expected.table() in result.stdout
    assert "Budget $1.00: over budget." in result.stdout
    assert "veo" in result.stdout

    bad = runner.invoke(app, ["estimate", "--channel", "promo", "--seconds", "5"])
    assert bad.exit_code == 2
    assert "--seconds must be 4, 6 or 8" in bad.output
    missing = runner.invoke(app, ["estimate", "--channel", "nope"])
    assert missing.exit_code == 2
    assert "no channel 'nope'" in missing.output


def _google_settings_without_credentials() -> GoogleSettings:
    return GoogleSettings(_env_file=None, api_key="x")  # type: ignore[call-arg, arg-type]


def _local_settings(tmp_path: Path) -> Any:
    from orchestrator.providers.local_settings import LocalProviderSettings

    return LocalProviderSettings(work_dir=tmp_path / "local")
