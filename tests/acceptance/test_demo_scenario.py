"""Acceptance 1: the demo scenario, in-process, on SQLite with local everything.

A reviewer (through the real notion-client) approves storyboard and keyframes,
rejects clips 2 and 3 as too dark, approves the second round, audio and final.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from notion_sync.local_api.server import LocalNotionServer
from orchestrator.config import AppConfig
from orchestrator.demo import REJECTION, run_demo
from orchestrator.media import is_faststart, probe_sync
from tests.helpers.notion_inspect import blocks_of, query_all

EXPECTED_TIMELINE = [
    "Queued",
    "Planning",
    "Storyboard Ready",
    "Storyboard Approved",
    "Generating Keyframes",
    "Keyframes Ready",
    "Keyframes Approved",
    "Generating Video",
    "Video Ready",
    "Video Error",
    "Generating Video",
    "Video Ready",
    "Video Approved",
    "Generating Audio",
    "Audio Ready",
    "Audio Approved",
    "Assembling",
    "Final Ready",
    "Done",
]

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(300)]


def fast_loops(config: AppConfig) -> AppConfig:
    """The demo's cadence, quickened: the scenario is the same, the waits shorter.

    The local API's rate limit is off in these tests, so the daemon's own pacing
    (2.5 req/s, Notion's real budget) would only make them wait: the request
    counts, not their pace, are what the scenario checks.
    """
    settings = config.settings.model_copy(
        update={"notion_poll_seconds": 0.5, "review_settle_seconds": 1.0}
    )
    notion = config.notion.model_copy(update={"requests_per_second": 50.0})
    return dataclasses.replace(config, settings=settings, notion=notion)


def _clip_requests(work_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(work_dir.rglob("request.json"))]


async def test_demo_scenario_end_to_end(tmp_path: Path, local_notion: LocalNotionServer) -> None:
    local_notion.knobs.disable_rate_limit()
    summary = await run_demo(
        tmp_path / "demo",
        clips=4,
        seconds=4,
        server=local_notion,
        configure=fast_loops,
        review_interval_s=0.3,
    )

    assert summary.final_status == "Done"
    assert summary.timeline == EXPECTED_TIMELINE
    # Only the clips the review named were made again, once each.
    assert summary.clips == [
        {"number": 1, "attempts": 1, "status": "approved"},
        {"number": 2, "attempts": 2, "status": "approved"},
        {"number": 3, "attempts": 2, "status": "approved"},
        {"number": 4, "attempts": 1, "status": "approved"},
    ]
    assert summary.provider_calls["clip_create"] == 6
    assert summary.provider_calls["storyboard"] == 1
    assert summary.provider_calls["keyframe"] == 5

    # The reviewer's note reached exactly the regenerated clips' prompts.
    requests = _clip_requests(tmp_path / "demo" / "local-provider")
    assert len(requests) == 6
    noted = [r for r in requests if "too dark" in r["prompt"]]
    assert len(noted) == 2

    # The final video: every clip in order, faststart, narration track.
    final = Path(summary.final_video or "")
    info = probe_sync(final)
    clip_total = sum(
        probe_sync(p).duration_s
        for p in (tmp_path / "demo" / "media").rglob("clip_*_a*.mp4")
        if p.name in {"clip_01_a1.mp4", "clip_02_a2.mp4", "clip_03_a2.mp4", "clip_04_a1.mp4"}
    )
    assert abs(info.duration_s - clip_total) <= 1 / 24 + 1e-6
    assert is_faststart(final)
    assert info.has_audio
    # Every stored clip (both attempts of 2 and 3 kept) plays at once in Notion.
    stored = sorted((tmp_path / "demo" / "media").rglob("clip_*_a*.mp4"))
    assert [p.name for p in stored] == [
        "clip_01_a1.mp4",
        "clip_02_a1.mp4",
        "clip_02_a2.mp4",
        "clip_03_a1.mp4",
        "clip_03_a2.mp4",
        "clip_04_a1.mp4",
    ]
    assert all(is_faststart(p) for p in stored)

    # What Notion shows: one Videos row per clip, updated in place; blocks per round.
    rows = await query_all(local_notion, "Videos")
    by_clip = {r["properties"]["Clip"]["number"]: r for r in rows}
    assert sorted(by_clip) == [1, 2, 3, 4]
    assert {n: r["properties"]["Attempt"]["number"] for n, r in by_clip.items()} == {
        1: 1,
        2: 2,
        3: 2,
        4: 1,
    }
    assert all(r["properties"]["Status"]["select"]["name"] == "Approved" for r in rows)
    assert all(r["properties"]["Video"]["files"] for r in rows)
    blocks = blocks_of(local_notion, summary.task_page_id)
    headings = [
        b["heading_2"]["rich_text"][0]["plain_text"] for b in blocks if b["type"] == "heading_2"
    ]
    assert "Video review — round 1" in headings
    assert "Video review — round 2" in headings
    assert sum(1 for b in blocks if b["type"] == "video") >= 4 + 2 + 1
    page = local_notion.admin.page(summary.task_page_id)
    log_text = "".join(t["plain_text"] for t in page["properties"]["Error Log"]["rich_text"])
    assert REJECTION in log_text
    assert summary.notion_requests > 0
    # Counted per integration (token) from the local API's request log.
    assert summary.daemon_requests > 0
    assert summary.reviewer_requests > 0
    assert summary.setup_requests > 0
    assert (
        summary.daemon_requests + summary.reviewer_requests + summary.setup_requests
        == summary.notion_requests
    )
    assert summary.cost_usd == 0.0
