"""Notion requests per task (issue 14): counted by the local Notion API, never timed.

An 18-clip task runs from Queued to Done in-process (the demo scenario: local
providers, SQLite, a scripted reviewer through notion-client) against the local
API (unpaced here: the counts do not depend on the pace; `make bench` measures
them at Notion's 3 requests/s per token too). The benchmark's own measuring
code is used (bench/bench_notion_writes.py), so the test and `make bench` count
the same way.
"""

from __future__ import annotations

import pytest

from bench.bench_notion_writes import CONSTANT, PER_CLIP, measure

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(900)]

CLIPS = 18


async def test_an_18_clip_task_costs_at_most_3_requests_per_clip_plus_a_constant() -> None:
    figures = await measure(CLIPS, regenerate=[], paced=False)

    assert figures.final_status == "Done"
    # One Videos-row write per visible change: planned (the create), ready, approved.
    assert figures.row_requests <= PER_CLIP * CLIPS, figures.by_route
    assert figures.write_requests <= PER_CLIP * CLIPS + CONSTANT, figures.by_route
    # Every queued write was merged or sent: fewer requests than queued writes.
    assert figures.write_requests < figures.unmerged_requests
    assert figures.rate_limited == 0
