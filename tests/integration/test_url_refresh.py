"""Presigned R2 URLs are re-signed and rewritten in the Videos table before expiry."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from notion_sync.local_api.server import LocalNotionServer
from orchestrator.config import AppConfig
from orchestrator.pipeline.refresh import refresh_expiring_urls
from tests.fixtures.pipeline import make_pipeline_env
from tests.fixtures.s3 import MotoS3
from tests.helpers.notion_inspect import query_all

pytestmark = pytest.mark.timeout(180)


async def test_expiring_clip_urls_are_refreshed_in_notion(
    tmp_path: Path, local_notion: LocalNotionServer, moto_s3: MotoS3, s3_bucket: str
) -> None:
    def on_r2(config: AppConfig) -> AppConfig:
        storage = config.storage.model_copy(
            update={
                "backend": "r2",
                "r2_endpoint_url": moto_s3.endpoint_url,
                "r2_access_key_id": moto_s3.access_key_id,
                "r2_secret_access_key": moto_s3.secret_access_key,
                "r2_bucket": s3_bucket,
                "r2_presign_seconds": 3600,
            }
        )
        return dataclasses.replace(config, storage=storage)

    async with make_pipeline_env(tmp_path, local_notion, configure=on_r2) as env:
        page = env.create_task(clips=2)
        await env.drive_to(page, "Video Ready", approve=("Storyboard Ready", "Keyframes Ready"))
        before = {c.number: (c.public_url, c.url_expires_at) for c in await env.clips(page)}
        assert all(expires is not None for _, expires in before.values())

        # Nothing expires within a minute: nothing to do.
        assert await refresh_expiring_urls(env.runtime.ctx, margin=timedelta(minutes=1)) == 0
        # Everything expires within two hours: every clip is re-signed.
        await asyncio.sleep(1.1)  # a new signing time, so a new URL
        assert await refresh_expiring_urls(env.runtime.ctx, margin=timedelta(hours=2)) == 2
        await env.settle()

        after = {c.number: (c.public_url, c.url_expires_at) for c in await env.clips(page)}
        rows = {
            r["properties"]["Clip"]["number"]: r for r in await query_all(local_notion, "Videos")
        }
        for number, (url, expires) in after.items():
            assert url != before[number][0]
            assert expires is not None
            assert expires > (before[number][1] or expires)
            assert rows[number]["properties"]["Video URL"]["url"] == url
            async with httpx.AsyncClient() as client:
                assert (await client.get(url or "")).status_code == 200
