"""Acceptance 2: the demo scenario on the production path.

google-genai (Vertex, express mode) against the strict fake Vertex server (catalogued
model ids only, operations that take seconds), R2 through boto3 against moto's server,
PostgreSQL. Clip 1 is RAI-filtered on its first try (then rephrased, recorded at $0)
and one operation poll answers 503.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from notion_sync.local_api.server import LocalNotionServer
from orchestrator.channels import ChannelConfig, Channels
from orchestrator.config import AppConfig
from orchestrator.db.engine import create_engine, session_factory
from orchestrator.db.models import CostEntry
from orchestrator.demo import run_demo
from orchestrator.media import is_faststart, probe_sync
from orchestrator.providers.settings import GoogleSettings
from tests.acceptance.test_demo_scenario import EXPECTED_TIMELINE
from tests.fakes.vertex import FakeVertex
from tests.fixtures.s3 import MotoS3
from tests.helpers.notion_inspect import query_all

pytestmark = [pytest.mark.acceptance, pytest.mark.postgres, pytest.mark.timeout(300)]

SHOTS = [
    ("a lighthouse on black rocks at dusk, storm clouds", "slow push in", "The last night."),
    ("waves climbing the rocks, spray in the lamp light", "pan left", "The sea climbs."),
    ("a keeper climbing the spiral stairs, lantern in hand", "tilt up", "One more time."),
    ("the great lamp turning over a dark sea", "orbit", "The light sweeps on."),
]
API_KEY = "AIzaFakeExpressKey-0123456789abcdef"


async def test_production_path(
    tmp_path: Path,
    local_notion: LocalNotionServer,
    fake_vertex: FakeVertex,
    moto_s3: MotoS3,
    s3_bucket: str,
    pg_url: str,
) -> None:
    fake_vertex.json_text = json.dumps(
        {
            "title": "The last lighthouse keeper",
            "shots": [
                {"visual_prompt": v, "motion_prompt": m, "narration": n} for v, m, n in SHOTS
            ],
        }
    )
    # Only the original wording is filtered; the rephrased retry passes.
    fake_vertex.filter_prompts(r"^a lighthouse on black rocks at dusk, storm clouds\. Camera")
    fake_vertex.fail_next("poll", 503, times=1)

    def configure(config: AppConfig) -> AppConfig:
        storage = config.storage.model_copy(
            update={
                "backend": "r2",
                "r2_endpoint_url": moto_s3.endpoint_url,
                "r2_access_key_id": moto_s3.access_key_id,
                "r2_secret_access_key": moto_s3.secret_access_key,
                "r2_bucket": s3_bucket,
            }
        )
        google = GoogleSettings(
            api_key=API_KEY,  # type: ignore[arg-type]
            base_url=fake_vertex.url,
            timeout_ms=10_000,
            read_retry_attempts=1,
        )
        settings = config.settings.model_copy(
            update={"database_url": pg_url, "notion_poll_seconds": 0.5}
        )
        notion = config.notion.model_copy(update={"requests_per_second": 50.0})
        return dataclasses.replace(
            config, settings=settings, storage=storage, google=google, notion=notion
        )

    channels = Channels(
        {
            "default": ChannelConfig(name="default"),
            "demo": ChannelConfig(name="demo", provider="google", rai_rephrase_retries=1),
        },
        "test",
    )
    summary = await run_demo(
        tmp_path / "demo",
        clips=4,
        seconds=4,
        server=local_notion,
        channels=channels,
        configure=configure,
        review_interval_s=0.3,
    )

    assert summary.final_status == "Done"
    assert summary.timeline == EXPECTED_TIMELINE
    assert [(c["number"], c["attempts"], c["status"]) for c in summary.clips] == [
        (1, 2, "approved"),
        (2, 2, "approved"),
        (3, 2, "approved"),
        (4, 1, "approved"),
    ]
    # One create per generation: clip 1 twice (filtered, then rephrased), clips 2
    # and 3 twice (the review), clip 4 once. No create was ever repeated.
    assert fake_vertex.total_creates == 7
    assert all(count == 1 for count in fake_vertex.create_calls.values())
    filtered = [p for p in fake_vertex.create_calls if p.startswith("a lighthouse on black rocks")]
    assert len(filtered) == 2  # the original and the rephrased prompt

    engine = create_engine(pg_url)
    try:
        async with session_factory(engine)() as session:
            ledger = (
                (await session.execute(select(CostEntry).where(CostEntry.kind == "clip")))
                .scalars()
                .all()
            )
    finally:
        await engine.dispose()
    assert len(ledger) == 7
    assert sum(1 for e in ledger if e.usd == 0.0) == 1  # the filtered one
    assert all(e.usd > 0 for e in ledger if e.usd != 0.0)
    # Clips, plus 5 keyframes x $0.067 (gemini-3.1-flash-image) and the storyboard's and
    # narration's tokens (a few tenths of a cent each).
    assert summary.cost_usd == pytest.approx(
        sum(e.usd for e in ledger) + 5 * 0.067 + 0.005, abs=0.05
    )
    # Every operation took seconds (the fake's realistic latency), yet each clip was
    # created once and polled until done.
    assert all(op.polls >= 2 for op in fake_vertex.operations.values() if op.outcome == "video")

    # Clips live in R2 (moto): immutable keys, one per attempt that made a video
    # (the filtered attempt made none), earlier attempts kept.
    objects = moto_s3.admin_client().list_objects_v2(Bucket=s3_bucket)["Contents"]
    clip_keys = sorted(o["Key"] for o in objects if "/clips/" in o["Key"])
    assert len(clip_keys) == 6
    assert not any(k.endswith("clip_01_a1.mp4") for k in clip_keys)
    assert any(k.endswith("clip_02_a1.mp4") for k in clip_keys)
    assert any(k.endswith("clip_02_a2.mp4") for k in clip_keys)

    final = Path(summary.final_video or "")
    assert is_faststart(final)
    assert probe_sync(final).has_audio
    # The task page shows what was spent, estimated first.
    page = local_notion.admin.page(summary.task_page_id)
    assert page["properties"]["Cost"]["number"] == pytest.approx(summary.cost_usd, abs=0.01)
    assert page["properties"]["Estimated Cost"]["number"] > 0
    assert page["properties"]["Final Video"]["files"]
    rows = await query_all(local_notion, "Videos")
    assert len(rows) == 4
    assert all(r["properties"]["Video URL"]["url"].startswith(moto_s3.endpoint_url) for r in rows)
    await asyncio.sleep(0)
