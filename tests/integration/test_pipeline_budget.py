"""Channel budgets and review-round limits stop work before money is spent."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
from sqlalchemy import select

from notion_sync.local_api.server import LocalNotionServer
from orchestrator.channels import ChannelConfig, Channels
from orchestrator.config import AppConfig
from orchestrator.db.models import CostEntry
from orchestrator.providers.settings import GoogleSettings
from tests.fakes.vertex import FakeVertex
from tests.fixtures.pipeline import PipelineEnv, make_pipeline_env

pytestmark = pytest.mark.timeout(90)

API_KEY = "AIzaFakeBudgetKey-0123456789abcdef"
SHOTS = [
    ("a lighthouse on black rocks at dusk", "slow push in", "The last night."),
    ("waves climbing the rocks", "pan left", "The sea climbs."),
    ("a keeper on the spiral stairs", "tilt up", "One more time."),
    ("the great lamp over a dark sea", "orbit", "The light sweeps on."),
]

EnvFactory = Callable[[ChannelConfig], AbstractAsyncContextManager[PipelineEnv]]


@pytest.fixture
def google_env(
    tmp_path: Path, local_notion: LocalNotionServer, fake_vertex: FakeVertex
) -> EnvFactory:
    """A pipeline whose channel `x` is the given config, on the fake Vertex server."""

    def configure(config: AppConfig) -> AppConfig:
        google = GoogleSettings(
            _env_file=None,  # type: ignore[call-arg]
            api_key=API_KEY,  # type: ignore[arg-type]
            base_url=fake_vertex.url,
            timeout_ms=10_000,
            read_retry_attempts=1,
        )
        return dataclasses.replace(config, google=google)

    def make(channel: ChannelConfig) -> AbstractAsyncContextManager[PipelineEnv]:
        channels = Channels({"default": ChannelConfig(name="default"), "x": channel}, "test")
        return make_pipeline_env(tmp_path, local_notion, channels=channels, configure=configure)

    return make


def storyboard_json(clips: int) -> str:
    shots = [{"visual_prompt": v, "motion_prompt": m, "narration": n} for v, m, n in SHOTS[:clips]]
    return json.dumps({"title": "The last lighthouse keeper", "shots": shots})


async def ledger(env: PipelineEnv) -> list[CostEntry]:
    async with env.sessions() as session:
        return list((await session.execute(select(CostEntry))).scalars().all())


async def test_estimate_over_budget_fails_before_any_spend(
    google_env: EnvFactory, fake_vertex: FakeVertex
) -> None:
    fake_vertex.json_text = storyboard_json(4)
    channel = ChannelConfig(name="x", provider="google", budget_usd=5.0)
    async with google_env(channel) as env:
        page = env.create_task(clips=4, seconds=8, channel="x")
        await env.settle()

        assert env.status(page) == "Failed"
        # 4 clips x 8 s x $0.20 = $6.40, plus the storyboard (1.5k prompt + 4k output
        # tokens of gemini-3.5-flash = $0.038), 5 keyframes x $0.067 and narration
        # (4 x 8 s x 25 audio tokens x $10/1M = $0.008).
        task = await env.task(page)
        assert task.status == "failed"
        assert task.estimated_cost_usd == pytest.approx(6.40 + 0.038 + 5 * 0.067 + 0.008, abs=0.01)
        note = env.comments(page)[-1]
        assert f"${task.estimated_cost_usd:.2f}" in note
        assert "$5.00" in note
        assert "budget" in note
        props = env.server.admin.page(page)["properties"]
        assert props["Estimated Cost"]["number"] == pytest.approx(task.estimated_cost_usd)

        # Nothing reached Vertex, nothing was recorded as spent.
        assert fake_vertex.requests_for("generate") == []
        assert fake_vertex.requests_for("create") == []
        assert fake_vertex.total_creates == 0
        assert await ledger(env) == []
        assert task.cost_usd == 0.0
        assert [c.attempt for c in await env.clips(page)] in ([], [0, 0, 0, 0])


async def test_regeneration_round_over_budget_is_refused(
    google_env: EnvFactory, fake_vertex: FakeVertex
) -> None:
    fake_vertex.json_text = storyboard_json(2)
    # First pass: the storyboard's tokens (~$0.003) + 3 x $0.067 + 2 x 4 s x $0.20 = ~$1.80
    # (+ narration later).
    # Regenerating both clips would add $1.60: over $2.50.
    channel = ChannelConfig(
        name="x",
        provider="google",
        budget_usd=2.5,
        auto_approve=frozenset({"storyboard", "keyframes"}),
    )
    async with google_env(channel) as env:
        page = env.create_task(clips=2, seconds=4, channel="x")
        await env.drive_to(page, "Video Ready")
        assert fake_vertex.total_creates == 2
        spent = (await env.task(page)).cost_usd
        assert spent == pytest.approx(1.80, abs=0.01)
        entries = len(await ledger(env))

        env.review(page, "Video Error", "Regenerate: all clips - brighter")
        await env.settle()

        assert env.status(page) == "Video Ready"
        note = env.comments(page)[-1]
        assert "budget of $2.50" in note
        assert "Nothing was spent" in note
        assert fake_vertex.total_creates == 2
        assert len(await ledger(env)) == entries
        task = await env.task(page)
        assert task.cost_usd == pytest.approx(spent)
        assert [(c.attempt, c.status) for c in await env.clips(page)] == [
            (1, "complete"),
            (1, "complete"),
        ]

        # The task is still usable: approving goes on to audio.
        env.review(page, "Video Approved")
        await env.settle()
        assert env.status(page) == "Audio Ready"


async def test_review_rounds_beyond_the_channel_maximum_are_refused(
    tmp_path: Path, local_notion: LocalNotionServer
) -> None:
    channel = ChannelConfig(
        name="x", max_review_rounds=1, auto_approve=frozenset({"storyboard", "keyframes"})
    )
    channels = Channels({"default": ChannelConfig(name="default"), "x": channel}, "test")
    async with make_pipeline_env(tmp_path, local_notion, channels=channels) as env:
        page = env.create_task(clips=2, channel="x")
        await env.drive_to(page, "Video Ready")

        env.review(page, "Video Error", "clip 1: warmer")
        await env.settle()
        assert env.status(page) == "Video Ready"
        assert [c.attempt for c in await env.clips(page)] == [2, 1]

        env.review(page, "Video Error", "clip 2: colder")
        await env.settle()
        assert env.status(page) == "Video Ready"
        note = env.comments(page)[-1]
        assert "already had 1 video review rounds" in note
        assert "Nothing was regenerated" in note
        clips = await env.clips(page)
        assert [c.attempt for c in clips] == [2, 1]
        assert clips[1].reviewer_note == ""
        assert (await env.task(page)).status == "video_ready"
