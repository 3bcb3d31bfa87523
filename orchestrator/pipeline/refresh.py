"""Re-sign presigned media URLs before they expire, and rewrite them in Notion.

R2 presigned GETs live at most 7 days (SigV4's limit); a review can last longer.
The leader runs this every hour: clips whose URL expires within the margin get a
fresh URL for the video, its thumbnail and its keyframes, and their Videos row is
rewritten in place. Backends with permanent URLs (public base, local) are skipped.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import select

from orchestrator.db.models import Clip, Task
from orchestrator.pipeline.context import PipelineContext
from orchestrator.pipeline.notion_out import sync_clip_row
from orchestrator.pipeline.queries import load_keyframes
from storage.base import ExpiringURLs

__all__ = ["refresh_expiring_urls"]

log = structlog.get_logger(__name__)


async def refresh_expiring_urls(
    ctx: PipelineContext, *, margin: timedelta = timedelta(days=1), limit: int = 200
) -> int:
    """Refresh what expires before now + margin; return how many clips were refreshed."""
    horizon = ctx.clock() + margin
    async with ctx.sessions() as session, session.begin():
        clips = (
            (
                await session.execute(
                    select(Clip)
                    .where(Clip.url_expires_at.is_not(None), Clip.url_expires_at < horizon)
                    .order_by(Clip.url_expires_at)
                    .limit(limit)
                )
            )
            .scalars()
            .all()
        )
        refreshed = 0
        for clip in clips:
            task = await session.get(Task, clip.task_id)
            if task is None or clip.storage_key is None:
                continue
            storage = ctx.storage_for(ctx.channels.get(task.channel))
            if not isinstance(storage, ExpiringURLs):
                continue
            fresh = await storage.url_for_with_expiry(clip.storage_key)
            clip.public_url = fresh.url
            clip.url_expires_at = fresh.expires_at
            if clip.thumb_key:
                clip.thumb_url = (await storage.url_for_with_expiry(clip.thumb_key)).url
            keyframes = await load_keyframes(session, task.id)
            for number in (clip.number, clip.number + 1):
                kf = keyframes.get(number)
                if kf is not None and kf.storage_key:
                    kf.public_url = (await storage.url_for_with_expiry(kf.storage_key)).url
            sync_clip_row(session, task, clip, keyframes)
            refreshed += 1
    if refreshed:
        log.info("refresh_media_urls", clips=refreshed)
    return refreshed
