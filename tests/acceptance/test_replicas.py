"""Replicas (issue 10): three `reelgate run` processes on one PostgreSQL database.

They share the local Notion API (served by this test, with Notion's per-token rate
limit switched on at the cluster's configured pace) and run a 6-clip task with the
google provider against the fake Vertex server (operations take seconds, so every
replica's operation poller sees them due). Midway the leader is SIGKILLed. Proven:
- no double claim: every step ran once, every clip was submitted, stored and
  charged once, one Videos row per clip;
- a single Notion writer: only the process holding the leader lock polled Notion
  or sent outbox writes, and the limit held for the cluster (no 429);
- failover: another replica took the lock within the lease time.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import asyncpg
import pytest

from notion_sync.local_api.server import LocalNotionServer
from orchestrator.demo import DEMO_BRIEF
from tests.fakes.vertex import FakeVertex
from tests.helpers.daemons import (
    Daemons,
    base_env,
    google_env,
    log_events,
    make_task,
    make_workspace,
    wait_for,
)
from tests.helpers.notion_inspect import query_all, status_of

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.postgres,
    pytest.mark.timeout(300),
]

TOKEN = "fake-notion-token-for-the-replica-test-01"
API_KEY = "AIzaFakeExpressKey-replicas-0123456789abcd"
CLIPS = 6
REPLICAS = 3
LEASE_S = 10.0
# The cluster's Notion pace (REELGATE_NOTION_REQUESTS_PER_SECOND); the local API
# answers 429 above it for the one integration token all replicas share.
RATE = 12.0
BURST = 12
# The leader's own burst. At the leader's steady pace (RATE, the server's refill) every
# other request on the token comes out of the server's burst: the leader's, and the
# start-up reads of the replicas starting beside it (3 each: the bot user, the two data
# sources). 4 + 2 x 3 <= 12; with the default (8) it depends on timing (CI saw a 429).
LEADER_BURST = 4
# Events of the jobs only the leader may run (DEBUG level).
NOTION_JOBS = ("execute_notion_op", "poll_notion")


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[Daemons]:
    rig = Daemons(tmp_path, {})
    try:
        yield rig
    finally:
        rig.kill_all()


def _at(entry: dict[str, object]) -> float:
    return datetime.fromisoformat(str(entry["timestamp"])).timestamp()


async def test_three_replicas_claim_once_write_notion_once_and_fail_over(
    tmp_path: Path,
    local_notion: LocalNotionServer,
    fake_vertex: FakeVertex,
    pg_url: str,
    daemons: Daemons,
) -> None:
    fake_vertex.latency_s = 0.05
    # Long enough that the leader can be killed after every create was answered and
    # before the operations finish (see `rendering`).
    fake_vertex.seconds_until_done = 6.0
    fake_vertex.json_text = json.dumps(
        {
            "title": "Replicas",
            "shots": [
                {"visual_prompt": f"shot {n}: a beacon", "motion_prompt": "pan", "narration": "On"}
                for n in range(1, CLIPS + 1)
            ],
        }
    )
    workspace = await make_workspace(local_notion, TOKEN)
    local_notion.knobs.set_rate_limit(rate=RATE, burst=BURST)
    limit_from = time.time()
    page = make_task(
        local_notion, workspace, name="Replicas", brief=DEMO_BRIEF, clips=CLIPS, channel="chaos"
    )
    daemons.env = {
        **base_env(tmp_path, local_notion, workspace, TOKEN),
        "REELGATE_DATABASE_URL": pg_url,
        "REELGATE_LOG_LEVEL": "debug",
        "REELGATE_LEASE_SECONDS": str(LEASE_S),
        # The killed leader may hold claims on operation polls: the survivors take
        # them over once the claim runs out (300 s by default), as with the lease.
        "REELGATE_OPERATION_CLAIM_SECONDS": str(LEASE_S),
        "REELGATE_NOTION_REQUESTS_PER_SECOND": str(RATE),
        "REELGATE_NOTION_BURST": str(LEADER_BURST),
        **google_env(tmp_path, fake_vertex.url, API_KEY),
    }
    daemons.run_cli("migrate")
    procs = [daemons.start(REELGATE_WORKER_ID=f"replica-{i}") for i in range(REPLICAS)]
    db = await asyncpg.connect(pg_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:

        def leaders() -> list[int]:
            return [
                i
                for i, proc in enumerate(procs)
                if proc.poll() is None
                and any(True for _ in log_events([daemons.log_of(proc)], "acquire_leadership"))
            ]

        wait_for(lambda: len(leaders()) == 1, 60, "a leader", daemons)
        first = leaders()[0]

        async def rendering() -> bool:
            # Every create answered (a kill mid-create is the chaos tests' case: a
            # create that may have been billed is flagged lost, not done again), and
            # the operations still running.
            submitted, polling = await db.fetchrow(
                "SELECT count(operation_name), count(*) FILTER (WHERE status = 'polling')"
                " FROM clips"
            )
            return int(submitted) == CLIPS and int(polling) > 0

        deadline = time.monotonic() + 120
        while not await rendering():
            states = await db.fetch("SELECT number, status, operation_name FROM clips")
            assert time.monotonic() < deadline, f"no clip ever rendered: {states}\n{daemons.tail()}"
            await asyncio.sleep(0.1)
        daemons.sigkill(procs[first])
        killed_at = time.time()

        wait_for(lambda: len(leaders()) == 1, LEASE_S * 3, "a new leader", daemons)
        second = leaders()[0]
        taken = [
            _at(e)
            for e in log_events([daemons.log_of(procs[second])], "acquire_leadership")
            if _at(e) >= killed_at - 0.5
        ]
        assert taken, daemons.tail()
        failover_s = taken[0] - killed_at
        # Within the lease time: the lock goes with the dead leader's connection.
        assert failover_s < LEASE_S, failover_s

        wait_for(
            lambda: status_of(local_notion, page) == "Video Ready", 180, "Video Ready", daemons
        )
        deadline = time.monotonic() + 60
        while await db.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND NOT dead"):
            assert time.monotonic() < deadline, f"outbox never drained\n{daemons.tail()}"
            await asyncio.sleep(0.2)
        # Followers first: a leader stopped first hands over to a follower for the
        # last seconds, which is a leader's work, not a second writer.
        for proc in sorted(daemons.live(), key=lambda p: p is procs[second]):
            assert daemons.stop(proc) == 0, daemons.tail()

        task_id = await db.fetchval("SELECT id FROM tasks WHERE notion_page_id = $1", page)
        # No double claim: every daemon transition happened once ...
        moves = Counter(
            r["to_status"]
            for r in await db.fetch(
                "SELECT to_status FROM events WHERE task_id = $1 AND kind = 'transition'"
                " AND actor = 'daemon'",
                task_id,
            )
        )
        assert moves, "no daemon transition recorded"
        assert set(moves.values()) == {1}, moves
        # ... every clip was submitted, stored and charged once ...
        clips = await db.fetch(
            "SELECT number, status, attempt, operation_name FROM clips WHERE task_id = $1"
            " ORDER BY number",
            task_id,
        )
        assert [(c["number"], c["status"], c["attempt"]) for c in clips] == [
            (n, "complete", 1) for n in range(1, CLIPS + 1)
        ]
        creates, _ = fake_vertex.counts()
        assert sum(creates.values()) == CLIPS, creates
        charged = await db.fetch(
            "SELECT operation_name FROM cost_ledger WHERE task_id = $1 AND kind = 'clip'", task_id
        )
        assert sorted(r["operation_name"] for r in charged) == sorted(
            c["operation_name"] for c in clips
        )
        # Each finished operation was fetched and stored by one replica, once.
        stored = Counter(
            str(e["key"])
            for e in log_events(daemons.logs, "object_stored")
            if "/clips/" in str(e.get("key", "")) and str(e["key"]).endswith(".mp4")
        )
        assert sorted(stored.values()) == [1] * CLIPS, stored
        keyframe_charges = await db.fetchval(
            "SELECT count(*) FROM cost_ledger WHERE task_id = $1 AND kind = 'keyframe'", task_id
        )
        assert keyframe_charges == CLIPS + 1
        # ... and shown once.
        videos = await query_all(local_notion, "Videos")
        assert sorted(int(r["properties"]["Clip"]["number"]) for r in videos) == list(
            range(1, CLIPS + 1)
        )
        assert await db.fetchval("SELECT count(*) FROM tasks WHERE lease_owner IS NOT NULL") == 0
    finally:
        await db.close()

    # A single Notion writer: only leaders ran the Notion jobs, each while it led.
    jobs = {i: list(log_events([daemons.logs[i]])) for i in range(REPLICAS)}
    for i, entries in jobs.items():
        notion_work = [e for e in entries if e["event"] in NOTION_JOBS]
        acquired = [_at(e) for e in entries if e["event"] == "acquire_leadership"]
        if not acquired:
            assert notion_work == [], f"follower replica-{i} talked to Notion"
            continue
        led_from = min(acquired)
        assert all(_at(e) >= led_from for e in notion_work)
        if i == second:
            assert all(_at(e) >= killed_at - 0.5 for e in notion_work)
    # The cluster kept to the limit: the shared token was never answered 429.
    sent = local_notion.request_log.entries(token=TOKEN, since=limit_from)
    assert sent
    # On failure: the requests around each 429, to tell a start-up from a failover.
    refused = [s for s in sent if s.status == 429]
    assert not refused, (
        "\n".join(
            f"{s.time - limit_from:8.3f}s {s.status} {s.method} {s.path}"
            for s in sent
            if any(abs(s.time - r.time) < 2.0 for r in refused)
        )
        + f"\nkilled at {killed_at - limit_from:.3f}s"
    )
    peak = max(sum(1 for s in sent if e.time <= s.time < e.time + 1.0) for e in sent)
    print(
        f"\nREPLICA FIGURES: replicas={REPLICAS} leader_kills=1 failover_s={failover_s:.2f} "
        f"notion_requests={len(sent)} peak_per_s={peak} limit_per_s={RATE:g}+burst{BURST} "
        f"clips={CLIPS} ledger_clip_rows={len(charged)} transitions={sum(moves.values())}"
    )
