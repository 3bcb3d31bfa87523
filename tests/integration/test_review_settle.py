"""The settle rule against the local Notion API with the real poller and workers.

Reviewers type in Notion, and Notion saves as they type. These tests play a
reviewer through notion-client and run the leader's jobs (poll, confirming page
reads, outbox) and a worker by hand, on a clock they move: seventy seconds of
typing take a second or two. The settle time is the production default, 45 s.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from notion_client import AsyncClient

from notion_sync.local_api import FixedClock, LocalNotionServer
from orchestrator.config import AppConfig
from orchestrator.daemon.drainer import OutboxDrainer
from orchestrator.daemon.notion_poll import NotionPoller
from orchestrator.daemon.worker import Worker
from orchestrator.db.types import utcnow
from orchestrator.pipeline.operations import poll_due_operations
from tests.fixtures.notion import make_notion_client
from tests.fixtures.pipeline import PipelineEnv, make_pipeline_env

pytestmark = pytest.mark.timeout(240)

SETTLE = 45.0


def _production_settle(config: AppConfig) -> AppConfig:
    settings = config.settings.model_copy(update={"review_settle_seconds": SETTLE})
    return dataclasses.replace(config, settings=settings)


@dataclass
class Harness:
    """The leader's jobs and one worker, stepped on a clock the test moves."""

    env: PipelineEnv
    clock: FixedClock
    reviewer: AsyncClient
    page: str
    poller: NotionPoller
    drainer: OutboxDrainer
    worker: Worker

    @property
    def now(self) -> datetime:
        return self.clock()

    async def tick(self, seconds: float = 5.0) -> None:
        """Time passes; the leader polls and confirms; a worker runs; writes go out."""
        self.clock.advance(seconds)
        await self.poller.poll_once()
        await self.poller.confirm_reviews()
        for _ in range(4):
            if not await self.worker.run_once():
                break
        while await self.drainer.drain_once():
            pass

    async def type_log(self, text: str) -> None:
        await self.reviewer.pages.update(
            page_id=self.page,
            properties={"Error Log": {"rich_text": [{"text": {"content": text}}]}},
        )

    async def set_status(self, label: str) -> None:
        await self.reviewer.pages.update(
            page_id=self.page, properties={"Status": {"status": {"name": label}}}
        )

    async def set_row(self, clip: int, status: str, note: str) -> None:
        rows = await self.reviewer.data_sources.query(
            data_source_id=self.env.videos_ds,
            filter={"property": "Task", "relation": {"contains": self.page}},
        )
        (row,) = [r for r in rows["results"] if r["properties"]["Clip"]["number"] == clip]
        await self.reviewer.pages.update(
            page_id=row["id"],
            properties={
                "Status": {"select": {"name": status}},
                "Reviewer Note": {"rich_text": [{"text": {"content": note}}]},
            },
        )

    async def db_status(self) -> str:
        return (await self.env.task(self.page)).status

    async def finish_generation(self, timeout_s: float = 90.0) -> None:
        """Let the regenerated clips render (real ffmpeg work) until Video Ready."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while await self.db_status() != "video_ready":
            assert loop.time() < deadline, "clips never finished"
            self.clock.advance(5)
            await poll_due_operations(self.env.runtime.ctx)
            await self.tick(0)
            await asyncio.sleep(0.1)
        await self.tick(0)

    def comments(self) -> list[str]:
        return self.env.comments(self.page)


@pytest.fixture
async def harness(tmp_path: Path, local_notion: LocalNotionServer) -> AsyncIterator[Harness]:
    async with make_pipeline_env(tmp_path, local_notion, configure=_production_settle) as env:
        page = env.create_task(clips=3, channel="autopilot")
        await env.settle()  # real time: storyboard and keyframes pass by themselves
        assert env.status(page) == "Video Ready"
        # From here the test owns time, in Notion and in the daemon alike.
        clock = FixedClock(utcnow())
        local_notion.state.clock = clock
        env.runtime.ctx.clock = clock
        reviewer = make_notion_client(local_notion, user="Rita Reviewer")
        ctx = env.runtime.ctx
        try:
            yield Harness(
                env,
                clock,
                reviewer,
                page,
                NotionPoller(ctx, env.runtime.notion),
                OutboxDrainer(ctx.sessions, env.runtime.writer, env.runtime.metrics),
                Worker(ctx, "test-worker"),
            )
        finally:
            await reviewer.aclose()


def _clip_creates(env: PipelineEnv) -> int:
    total = 0
    for metric in env.runtime.metrics.provider_calls.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total") and sample.labels["kind"] == "clip_create":
                total += int(sample.value)
    return total


async def _assert_nothing_acted(h: Harness, creates: int) -> None:
    assert await h.db_status() == "video_error"
    assert [c.status for c in await h.env.clips(h.page)] == ["complete"] * 3
    assert _clip_creates(h.env) == creates
    assert not any("What I read" in c or "could not read" in c for c in h.comments())


# Seventy seconds of typing, as Notion saves it: (text, seconds until the next save).
# The pause after "clips 2," is 35 s: long, but shorter than the settle time.
TYPING: list[tuple[str, float]] = [
    ("R", 5),
    ("Regen", 5),
    ("Regenerate: c", 5),
    ("Regenerate: clips", 5),
    ("Regenerate: clips 2", 5),
    ("Regenerate: clips 2,", 35),
    ("Regenerate: clips 2, 3", 5),
    ("Regenerate: clips 2, 3 - too", 5),
    ("Regenerate: clips 2, 3 - too dark", 0),
]


async def test_status_first_then_seventy_seconds_of_typing(harness: Harness) -> None:
    h = harness
    creates = _clip_creates(h.env)
    await h.set_status("Video Error")
    # The reviewer goes to make coffee before typing: polls come and go, the empty
    # log settles. It waits, says so once, and does not bounce (the bug this fixes).
    for _ in range(12):
        await h.tick(5)
        await _assert_nothing_acted(h, creates)
    assert sum("Waiting for your notes" in c for c in h.comments()) == 1

    started = h.now
    for text, pause in TYPING:
        await h.type_log(text)
        waited = 0.0
        while waited < pause:
            await h.tick(5)
            waited += 5
            await _assert_nothing_acted(h, creates)
    assert (h.now - started).total_seconds() == 70
    final_at = h.now

    while await h.db_status() == "video_error":
        assert (h.now - final_at).total_seconds() < 120, "never acted"
        await h.tick(5)
        if await h.db_status() == "video_error":
            await _assert_nothing_acted(h, creates)
    acted_after = (h.now - final_at).total_seconds()
    assert acted_after >= SETTLE  # the final text, still for the settle time

    await h.finish_generation()
    clips = await h.env.clips(h.page)
    assert [c.attempt for c in clips] == [1, 2, 2]  # exactly the final clips, once
    assert [c.reviewer_note for c in clips] == ["", "too dark", "too dark"]
    assert _clip_creates(h.env) == creates + 2
    comments = h.comments()
    assert sum("Waiting for your notes" in c for c in comments) == 1
    assert sum("What I read" in c for c in comments) == 1
    assert not any("could not read" in c or "back at Video Ready" in c for c in comments)
    moves = [(e.actor, e.from_status, e.to_status) for e in await h.env.events(h.page)]
    # Nothing bounced: the only way out of Video Error was to work on the clips.
    assert [m for m in moves if m[1] == "video_error"] == [
        ("daemon", "video_error", "generating_video")
    ]


async def test_typing_first_then_status(harness: Harness) -> None:
    h = harness
    creates = _clip_creates(h.env)
    for text in ("clip 1", "clip 1: too", "clip 1: too bright"):
        await h.type_log(text)
        await h.tick(5)
    final_at = h.now
    await h.set_status("Video Error")
    await h.tick(5)
    await _assert_nothing_acted(h, creates)
    while await h.db_status() == "video_error":
        assert (h.now - final_at).total_seconds() < 120, "never acted"
        await h.tick(5)
    assert (h.now - final_at).total_seconds() >= SETTLE

    await h.finish_generation()
    assert [c.attempt for c in await h.env.clips(h.page)] == [2, 1, 1]
    assert _clip_creates(h.env) == creates + 1
    comments = h.comments()
    assert not any("Waiting for your notes" in c for c in comments)
    assert sum("What I read" in c for c in comments) == 1


async def test_notes_written_long_before_are_read_with_the_status_change(
    harness: Harness,
) -> None:
    h = harness
    await h.type_log("clip 3: warmer")
    await h.tick(5)
    await h.tick(60)
    h.env.server.request_log.clear()
    await h.set_status("Video Error")
    h.clock.advance(5)
    await h.poller.poll_once()
    assert await h.poller.confirm_reviews() == 0
    # The poll that brought the Status also brought the same notes, read well after
    # they were written: settled without any further read of the page.
    page_reads = [
        e
        for e in h.env.server.request_log.entries(method="GET", path_prefix="/v1/pages/")
        if e.user_id != h.env.server.state.reviewer_id
    ]
    assert page_reads == []
    await h.tick(0)
    assert await h.db_status() == "generating_video"


async def test_a_row_set_to_regenerate_settles_too(harness: Harness) -> None:
    h = harness
    creates = _clip_creates(h.env)
    await h.set_status("Video Error")
    await h.tick(5)
    await h.set_row(2, "Regenerate", "too")
    await h.tick(5)
    await h.set_row(2, "Regenerate", "too dark, and warmer")
    final_at = h.now
    await h.tick(5)
    await _assert_nothing_acted(h, creates)
    while await h.db_status() == "video_error":
        assert (h.now - final_at).total_seconds() < 120, "never acted"
        await h.tick(5)
    assert (h.now - final_at).total_seconds() >= SETTLE
    await h.finish_generation()
    clips = await h.env.clips(h.page)
    assert [c.attempt for c in clips] == [1, 2, 1]
    assert clips[1].reviewer_note == "too dark, and warmer"


async def test_nobody_reviewing_costs_no_extra_request(harness: Harness) -> None:
    h = harness
    await h.set_status("Video Error")
    for _ in range(12):  # a minute: the empty log settles, one comment, then quiet
        await h.tick(5)
    assert sum("Waiting for your notes" in c for c in h.comments()) == 1
    before = h.env.runtime.notion.stats.requests
    assert await h.poller.confirm_reviews() == 0
    h.clock.advance(600)
    assert await h.poller.confirm_reviews() == 0
    assert h.env.runtime.notion.stats.requests == before
    # An idle daemon's idle check does not count the waiting task as work.
    from orchestrator.daemon.daemon import Daemon

    daemon = Daemon(h.env.runtime)
    daemon._poll_started = daemon._last_busy + 1  # a full poll since the last work
    assert await daemon.is_idle()
