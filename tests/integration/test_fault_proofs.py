"""Faults (issue 10): every peer misbehaves; each run ends clear, nothing lost or doubled.

- Notion: a 429 storm with Retry-After, 5xx answers and timeouts (the local Notion
  API's fault knobs), while a task runs to Video Ready.
- Vertex: 429 and 5xx on create and on poll (the fake Vertex server's fault queue).
- S3/R2: 5xx answers and dropped connections (tests/fakes/faulty_proxy.py in front of
  moto's server), first within botocore's attempts, then a storm that outlasts them.

Every retry must be visible: a log line per retry, and a counter per peer
(reelgate_notion_retries_total, reelgate_provider_retries_total /
reelgate_provider_errors_total, reelgate_storage_retries_total).
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from notion_sync.local_api.server import LocalNotionServer
from orchestrator.channels import ChannelConfig, Channels
from orchestrator.config import AppConfig
from orchestrator.db.models import Clip, CostEntry, OutboxItem
from orchestrator.logging import configure_logging
from orchestrator.providers.settings import GoogleSettings
from tests.fakes.faulty_proxy import FaultyProxy
from tests.fakes.vertex import FakeVertex
from tests.fixtures.pipeline import TOKEN, PipelineEnv, make_pipeline_env
from tests.fixtures.s3 import MotoS3

pytestmark = pytest.mark.timeout(120)

API_KEY = "AIzaFakeFaultsKey-0123456789abcdef"
CLIPS = 3


def log_lines(stream: io.StringIO, event: str) -> list[dict[str, Any]]:
    entries = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    return [e for e in entries if e.get("event") == event]


def sample(env: PipelineEnv, name: str, **labels: str) -> float:
    return env.runtime.metrics.registry.get_sample_value(name, labels or None) or 0.0


async def assert_clear(env: PipelineEnv, page: str, *, complete: int = CLIPS) -> list[Clip]:
    """Video Ready, the outbox sent (nothing dead), one charge and one Videos row per clip."""
    assert env.status(page) == "Video Ready"
    clips = await env.clips(page)
    assert [c.status for c in clips].count("complete") == complete
    async with env.sessions() as session:
        waiting = await session.scalar(
            select(func.count(OutboxItem.id)).where(OutboxItem.sent_at.is_(None))
        )
        charged = (
            await session.scalars(select(CostEntry.operation_name).where(CostEntry.kind == "clip"))
        ).all()
    assert waiting == 0
    stored = [c.operation_name for c in clips if c.status == "complete"]
    assert sorted(charged) == sorted(stored)  # type: ignore[type-var]
    rows = list(env.server.admin.pages(env.videos_ds))
    assert sorted(int(r["properties"]["Clip"]["number"]) for r in rows) == [c.number for c in clips]
    return clips


# ---- Notion ------------------------------------------------------------------------

STORM = 5  # consecutive 429s, each with Retry-After: 1


async def test_notion_429_storm_5xx_and_timeouts_end_clear_with_every_retry_counted(
    tmp_path: Path, local_notion: LocalNotionServer, captured_logs: io.StringIO
) -> None:
    configure_logging(level="info", json=True, stream=captured_logs)

    def configure(config: AppConfig) -> AppConfig:
        notion = config.notion.model_copy(
            update={
                "timeout_s": 2.0,
                "max_retries": 10,
                "retry_backoff_s": 0.05,
                "retry_max_wait_s": 5.0,
            }
        )
        return dataclasses.replace(config, notion=notion)

    async with make_pipeline_env(tmp_path, local_notion, configure=configure) as env:
        page = env.create_task(clips=CLIPS, channel="autopilot")
        knobs = local_notion.knobs
        knobs.inject(
            status=429, method="PATCH", path_prefix="/v1/pages", times=STORM, retry_after=1
        )
        knobs.inject(status=503, method="POST", path_prefix="/v1/pages", times=2)
        knobs.inject(status=502, method="PATCH", path_prefix="/v1/blocks", times=1)
        # Data source queries (the poll: a read, safe to resend) hang past the timeout
        # until two have timed out.
        knobs.add_latency(3.0, method="POST", path_prefix="/v1/data_sources")
        stats = env.runtime.notion.stats

        async def lift_latency() -> None:
            while stats.timeouts < 2:  # noqa: ASYNC110 - the client's counter, no event
                await asyncio.sleep(0.05)
            with knobs.lock:
                knobs.latencies.clear()

        lifter = asyncio.create_task(lift_latency())
        await env.settle()
        await lifter

        await assert_clear(env, page)
        log = local_notion.request_log
        assert log.count(token=TOKEN, status=429) == STORM
        assert sum(log.count(token=TOKEN, status=s) for s in (502, 503)) == 3
        assert stats.timeouts >= 2
        # Every failure was sent again by the client (none reached the outbox's retry).
        assert stats.retries == STORM + 3 + stats.timeouts
        retried = log_lines(captured_logs, "retry_notion_request")
        assert len(retried) == stats.retries
        # Retry-After honoured: each 429 waited the second Notion asked for.
        assert [e["wait_s"] for e in retried if e["status"] == 429] == [1.0] * STORM
        assert sample(env, "reelgate_notion_retries_total") == stats.retries
        assert sample(env, "reelgate_notion_rate_limited_total") == STORM


# ---- Vertex ------------------------------------------------------------------------


def google_channels() -> Channels:
    x = ChannelConfig(
        name="x",
        provider="google",
        auto_approve=frozenset({"storyboard", "keyframes"}),  # type: ignore[arg-type]
    )
    return Channels({"default": ChannelConfig(name="default"), "x": x}, "test")


async def test_vertex_429_and_5xx_on_create_and_poll_end_clear(
    tmp_path: Path,
    local_notion: LocalNotionServer,
    fake_vertex: FakeVertex,
    captured_logs: io.StringIO,
) -> None:
    configure_logging(level="info", json=True, stream=captured_logs)
    fake_vertex.json_text = json.dumps(
        {
            "title": "Faults",
            "shots": [
                {"visual_prompt": f"shot {n}: a kite", "motion_prompt": "pan", "narration": "Up"}
                for n in range(1, CLIPS + 1)
            ],
        }
    )
    fake_vertex.polls_until_done = 2
    # The storyboard call meets a 429 (retried: Vertex took nothing).
    fake_vertex.fail_next("generate", 429, times=1)
    # The first clip's create: two 429s (retried), then a 500, after which nobody knows
    # whether Vertex started (and billed) it: flagged, never resubmitted blindly.
    fake_vertex.fail_next("create", 429, times=2)
    fake_vertex.fail_next("create", 500, times=1)
    # Polls: two 503s and a 429; the poller looks again later.
    fake_vertex.fail_next("poll", 503, times=2)
    fake_vertex.fail_next("poll", 429, times=1)

    def configure(config: AppConfig) -> AppConfig:
        google = GoogleSettings(
            _env_file=None,  # type: ignore[call-arg]
            api_key=SecretStr(API_KEY),
            base_url=fake_vertex.url,
            timeout_ms=10_000,
            # No silent retries inside google-genai: every poll retry is ours.
            read_retry_attempts=1,
            rate_limit_initial_s=0.01,
            rate_limit_max_s=0.05,
        )
        settings = config.settings.model_copy(
            update={"clip_poll_initial_seconds": 0.05, "clip_poll_max_seconds": 0.2}
        )
        return dataclasses.replace(config, google=google, settings=settings)

    async with make_pipeline_env(
        tmp_path, local_notion, channels=google_channels(), configure=configure
    ) as env:
        page = env.create_task(clips=CLIPS, channel="x")
        await env.settle()

        clips = await assert_clear(env, page, complete=CLIPS - 1)
        lost = [c for c in clips if c.status == "lost"]
        assert len(lost) == 1
        assert "may exist" in (lost[0].error or "")
        assert f"clip {lost[0].number}" in env.daemon_log(page)
        # One create per clip that made an operation; the lost clip was not resubmitted.
        assert sorted(fake_vertex.accepted_creates.values()) == [1] * (CLIPS - 1)
        assert fake_vertex.total_creates == CLIPS + 2  # the lost clip: two 429s and the 500
        # Every retry and failure in the logs and the metrics.
        assert len(log_lines(captured_logs, "provider_rate_limited")) == 3
        assert (
            sample(
                env, "reelgate_provider_retries_total", provider="google", operation="start_clip"
            )
            == 2
        )
        assert (
            sample(
                env,
                "reelgate_provider_retries_total",
                provider="google",
                operation="plan_storyboard",
            )
            == 1
        )
        assert len(log_lines(captured_logs, "poll_clip_failed")) == 3
        assert (
            sample(env, "reelgate_provider_errors_total", provider="google", kind="clip_poll") == 3
        )
        assert (
            sample(env, "reelgate_provider_errors_total", provider="google", kind="clip_create")
            == 1
        )
        assert sample(env, "reelgate_lost_submissions_total") == 1


# ---- S3 / R2 -----------------------------------------------------------------------


@pytest.fixture
def proxy(moto_s3: MotoS3) -> Any:
    with FaultyProxy(moto_s3.endpoint_url) as running:
        yield running


def r2_config(proxy: FaultyProxy, moto_s3: MotoS3, bucket: str, attempts: int) -> Any:
    def configure(config: AppConfig) -> AppConfig:
        storage = config.storage.model_copy(
            update={
                "backend": "r2",
                "r2_endpoint_url": proxy.url,
                "r2_access_key_id": moto_s3.access_key_id,
                "r2_secret_access_key": moto_s3.secret_access_key,
                "r2_bucket": bucket,
                "r2_max_attempts": attempts,
            }
        )
        # A step whose upload fails (the review contact sheet) is tried again soon.
        settings = config.settings.model_copy(
            update={"step_retry_seconds": 0.2, "step_retry_max_seconds": 1.0}
        )
        return dataclasses.replace(config, storage=storage, settings=settings)

    return configure


# What one run stores: keyframes, clips, their thumbnails and the review contact sheet,
# each once and each a first attempt (nothing was made again).
EXPECTED_OBJECTS = {"keyframes": CLIPS + 1, "clips": CLIPS, "thumbs": CLIPS, "sheets": 1}


def folders(keys: list[str]) -> dict[str, int]:
    assert all("_a1." in k or "_r1." in k for k in keys), keys
    return dict(Counter(k.split("/")[-2] for k in keys))


def bucket_keys(moto_s3: MotoS3, bucket: str) -> list[str]:
    listing = moto_s3.admin_client().list_objects_v2(Bucket=bucket)
    return sorted(o["Key"] for o in listing.get("Contents", []))


async def test_s3_5xx_and_dropped_connections_are_retried_and_counted(
    tmp_path: Path,
    local_notion: LocalNotionServer,
    moto_s3: MotoS3,
    s3_bucket: str,
    proxy: FaultyProxy,
    captured_logs: io.StringIO,
) -> None:
    configure_logging(level="info", json=True, stream=captured_logs)
    proxy.fail_next(503, times=2)
    proxy.drop_next(times=2)
    configure = r2_config(proxy, moto_s3, s3_bucket, attempts=5)
    async with make_pipeline_env(tmp_path, local_notion, configure=configure) as env:
        page = env.create_task(clips=CLIPS, channel="autopilot")
        await env.settle()

        clips = await assert_clear(env, page)
        assert (proxy.failed, proxy.dropped, proxy.faults_left) == (2, 2, 0)
        # Every object is in the bucket once: keyframes, clips and their thumbnails.
        keys = bucket_keys(moto_s3, s3_bucket)
        assert all(c.storage_key in keys for c in clips)
        assert folders(keys) == EXPECTED_OBJECTS
        retried = log_lines(captured_logs, "retry_storage_request")
        assert len(retried) == 4
        reasons = Counter(str(e["reason"]) for e in retried)
        assert reasons["503"] == 2
        assert sum(reasons.values()) - reasons["503"] == 2  # the two dropped connections
        assert (
            sum(
                sample(env, "reelgate_storage_retries_total", backend="r2", reason=r)
                for r in reasons
            )
            == 4
        )
        assert not log_lines(captured_logs, "object_store_call_failed")


async def test_s3_storm_longer_than_the_retries_ends_with_every_clip_stored_once(
    tmp_path: Path,
    local_notion: LocalNotionServer,
    moto_s3: MotoS3,
    s3_bucket: str,
    proxy: FaultyProxy,
    captured_logs: io.StringIO,
) -> None:
    configure_logging(level="info", json=True, stream=captured_logs)
    attempts = 2
    # Clips and thumbnails are stored concurrently: with `attempts` failures for each
    # of them, at least one upload fails outright whatever the interleaving.
    storm = attempts * 2 * CLIPS
    configure = r2_config(proxy, moto_s3, s3_bucket, attempts=attempts)
    async with make_pipeline_env(tmp_path, local_notion, configure=configure) as env:
        page = env.create_task(clips=CLIPS, channel="autopilot")

        async def storm_when_clips_render() -> None:
            # Once clips are submitted, the next uploads are finished clips being stored:
            # the storm outlasts botocore's attempts, so a store fails outright.
            while True:
                async with env.sessions() as session:
                    submitted = await session.scalar(
                        select(func.count(Clip.id)).where(Clip.status != "planned")
                    )
                if submitted:
                    break
                await asyncio.sleep(0.01)
            proxy.fail_next(503, times=storm)

        storming = asyncio.create_task(storm_when_clips_render())
        await env.settle()
        await storming

        await assert_clear(env, page)
        assert proxy.failed == storm
        failed = log_lines(captured_logs, "object_store_call_failed")
        assert failed
        assert all(e["transient"] for e in failed)
        assert len(log_lines(captured_logs, "retry_storage_request")) >= attempts
        assert sample(env, "reelgate_storage_retries_total", backend="r2", reason="503") >= 1
        # The failed store was done again on a later round, charged once (assert_clear).
        assert folders(bucket_keys(moto_s3, s3_bucket)) == EXPECTED_OBJECTS
