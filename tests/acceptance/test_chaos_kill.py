"""Chaos (DESIGN §8, issue 10): SIGKILL `reelgate run` at random moments; lose nothing.

Two proofs share the rig in tests/helpers/daemons.py (daemons as subprocesses,
configured only through the environment; the local Notion API, the fake Vertex
server and the database are peers the test can read):

- SQLite, local provider: one kill with every clip in flight, then a restart.
- PostgreSQL, the google provider against the fake Vertex server (operations take
  seconds, every call has network latency), a 12-clip task: kills aimed at the
  moments that matter (a create on the wire, a finished clip being stored, the
  outbox being sent to Notion) and at random ones, until Video Ready. The short run
  is part of `make test`; `make chaos` runs the long one (at least 20 kills).
"""

from __future__ import annotations

import asyncio
import random
import re
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
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

pytestmark = [pytest.mark.acceptance]

TOKEN = "fake-notion-token-for-the-chaos-test-0123"
CLIPS = 3


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[Daemons]:
    rig = Daemons(tmp_path, {})
    try:
        yield rig
    finally:
        rig.kill_all()


def clip_rows(db: Path) -> list[tuple[int, str, int, str | None]]:
    """(number, status, attempt, operation_name) of every clip, by number."""
    import sqlite3

    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        rows = conn.execute(
            "SELECT number, status, attempt, operation_name FROM clips ORDER BY number"
        ).fetchall()
    except sqlite3.OperationalError:  # the daemon holds a write lock, or no table yet
        return []
    finally:
        conn.close()
    return [(int(n), str(s), int(a), op) for n, s, a, op in rows]


@pytest.mark.timeout(240)
async def test_sigkill_mid_generation_loses_nothing_and_pays_once(
    tmp_path: Path, local_notion: LocalNotionServer, daemons: Daemons
) -> None:
    workspace = await make_workspace(local_notion, TOKEN)
    page = make_task(
        local_notion, workspace, name="Chaos", brief=DEMO_BRIEF, clips=CLIPS, channel="autopilot"
    )
    db = tmp_path / "reelgate.db"
    ops_root = tmp_path / "local-provider" / "ops"
    daemons.env = {
        **base_env(tmp_path, local_notion, workspace, TOKEN),
        "REELGATE_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "REELGATE_LOCAL_RENDER_DELAY_S": "3",
    }
    daemons.run_cli("migrate")

    first = daemons.start()

    def in_flight() -> bool:
        rows = clip_rows(db)
        # Every clip submitted (operation name saved) and none finished: mid-generation.
        return len(rows) == CLIPS and all(s == "polling" and op for _, s, _, op in rows)

    wait_for(in_flight, 90, "every clip to be polling", daemons)
    submitted = {n: op for n, _, _, op in clip_rows(db)}
    daemons.sigkill(first)
    assert len(list(ops_root.glob("**/request.json"))) == CLIPS
    assert not list(ops_root.glob("**/clip.mp4"))  # nothing finished before the kill

    second = daemons.start()
    wait_for(lambda: status_of(local_notion, page) == "Video Ready", 120, "Video Ready", daemons)
    assert daemons.stop(second) == 0, daemons.tail()

    rows = clip_rows(db)
    assert [(n, s, a) for n, s, a, _ in rows] == [(n, "complete", 1) for n in range(1, CLIPS + 1)]
    # The operations finished are the ones submitted before the kill: nothing resubmitted.
    assert {n: op for n, _, _, op in rows} == submitted
    requests = list(ops_root.glob("**/request.json"))
    assert len(requests) == CLIPS, [str(p) for p in requests]
    assert len(list(ops_root.glob("**/clip.mp4"))) == CLIPS

    videos = await query_all(local_notion, "Videos")
    numbers = sorted(int(r["properties"]["Clip"]["number"]) for r in videos)
    assert numbers == list(range(1, CLIPS + 1)), numbers  # one row per clip, no duplicates
    assert "resumed_clip_render" in daemons.logs[1].read_text(errors="replace")


# ---- PostgreSQL + google provider + fake Vertex -----------------------------------

CHAOS_CLIPS = 12
SHORT_KILLS = 4  # one per kind of moment: a few kills, well under a minute of work
LONG_KILLS = 24  # `make chaos`: at least 20
API_KEY = "AIzaFakeExpressKey-chaos-0123456789abcdef"
PHASES = ("submit", "store", "drain", "random")
# Patience for an aimed moment (from the daemon's start) before killing anyway
# (counted as "late").
AIM_PATIENCE_S = 15.0
_SHOT = re.compile(r"round (\d+) shot (\d+):")


def storyboard(round_no: int) -> str:
    import json

    shots = [
        {
            "visual_prompt": f"round {round_no} shot {n:02d}: a paper boat in a rain gutter, "
            f"frame {n}",
            "motion_prompt": "slow push in",
            "narration": f"Line {n}.",
        }
        for n in range(1, CHAOS_CLIPS + 1)
    ]
    return json.dumps({"title": f"Chaos round {round_no}", "shots": shots})


class Chaos:
    """Kills daemons at chosen moments, watching the peers and the database."""

    def __init__(
        self,
        daemons: Daemons,
        fake: FakeVertex,
        notion: LocalNotionServer,
        db: asyncpg.Connection,
        rng: random.Random,
    ) -> None:
        self.daemons = daemons
        self.fake = fake
        self.notion = notion
        self.db = db
        self.rng = rng
        self.kills: Counter[str] = Counter()
        self.started = time.monotonic()
        # (seconds since the start, moment) of every kill, for the figures.
        self.timeline: list[tuple[float, str]] = []

    @property
    def total(self) -> int:
        return sum(self.kills.values())

    def _writes(self) -> int:
        return sum(self.notion.request_log.count(method=m, token=TOKEN) for m in ("POST", "PATCH"))

    async def next_phase(self) -> str:
        """The least-hit moment that can still come for the task in hand: a submit
        while clips are left to submit, a store while clips are left to store."""
        row = await self.db.fetchrow(
            "SELECT count(*) AS made,"
            " count(*) FILTER (WHERE status IN ('planned', 'submitting')) AS unsent,"
            " count(*) FILTER (WHERE status <> 'complete') AS unstored"
            " FROM clips WHERE task_id = (SELECT max(id) FROM tasks)"
        )
        possible = [
            phase
            for phase in PHASES
            if not (phase == "submit" and row["made"] and not row["unsent"])
            and not (phase == "store" and row["made"] and not row["unstored"])
        ]
        return min(possible, key=lambda phase: (self.kills[phase], PHASES.index(phase)))

    async def _pending_outbox(self) -> int:
        return int(
            await self.db.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND NOT dead")
        )

    async def _storing(self, since: Counter[str]) -> bool:
        """An operation answered done since `since` whose clip is not stored yet."""
        _, done = self.fake.counts()
        fresh = [name for name, n in done.items() if n > since[name]]
        if not fresh:
            return False
        polling = await self.db.fetchval(
            "SELECT count(*) FROM clips WHERE status = 'polling' AND operation_name = ANY($1)",
            fresh,
        )
        return bool(polling)

    async def _at(
        self, phase: str, creates: int, writes: int, done: Counter[str], waited: bool
    ) -> bool:
        """Whether the daemon is at `phase` now."""
        if phase == "submit":
            # A create is on the wire: its answer (the operation name) has not come back.
            return self.fake.total_creates > creates
        if phase == "store":
            return await self._storing(done)
        if phase == "drain":
            # A Notion write was just answered and more are waiting to be sent.
            return self._writes() > writes and await self._pending_outbox() > 0
        return waited

    async def strike(
        self, proc: subprocess.Popen[bytes], phase: str, finished: Callable[[], bool]
    ) -> str | None:
        """Wait for `phase` and SIGKILL `proc`; None when the task finished first."""
        # The clock starts once the daemon is up: a kill while Python imports proves little.
        log = self.daemons.log_of(proc)
        deadline = time.monotonic() + 120
        while '"start_daemon"' not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"daemon never started\n{self.daemons.tail()}")
            await asyncio.sleep(0.05)
        creates, done = self.fake.counts()
        base_creates, base_writes = sum(creates.values()), self._writes()
        wait = self.rng.uniform(0.5, 4.0)
        started = time.monotonic()
        hit: str | None = None
        while hit is None:
            await asyncio.sleep(0.01)
            elapsed = time.monotonic() - started
            if proc.poll() is not None:
                raise AssertionError(f"daemon exited by itself\n{self.daemons.tail()}")
            if await self._at(phase, base_creates, base_writes, done, elapsed >= wait):
                hit = phase
            elif elapsed >= AIM_PATIENCE_S:
                hit = "late"
            elif finished():
                return None
        self.daemons.sigkill(proc)
        self.kills[hit] += 1
        self.timeline.append((round(time.monotonic() - self.started, 1), hit))
        return hit


async def wait_async(
    condition: Callable[[], bool], timeout: float, what: str, daemons: Daemons
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{daemons.tail()}")
        if not daemons.live():
            raise AssertionError(f"daemon exited while waiting for {what}\n{daemons.tail()}")
        await asyncio.sleep(0.2)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "target_kills",
    [
        pytest.param(SHORT_KILLS, id="short", marks=pytest.mark.timeout(180)),
        pytest.param(LONG_KILLS, id="long", marks=[pytest.mark.chaos, pytest.mark.timeout(1800)]),
    ],
)
async def test_chaos_postgres_google_sigkill_until_video_ready(
    tmp_path: Path,
    local_notion: LocalNotionServer,
    fake_vertex: FakeVertex,
    pg_url: str,
    daemons: Daemons,
    target_kills: int,
) -> None:
    started = time.monotonic()
    # Vertex over a real network: every call waits, operations take seconds.
    fake_vertex.latency_s = 0.15
    workspace = await make_workspace(local_notion, TOKEN)
    daemons.env = {
        **base_env(tmp_path, local_notion, workspace, TOKEN),
        "REELGATE_DATABASE_URL": pg_url,
        **google_env(tmp_path, fake_vertex.url, API_KEY),
        # A create killed on the wire may have been billed: resubmitted, and counted.
        "REELGATE_LOST_SUBMISSION_POLICY": "resubmit",
    }
    daemons.run_cli("migrate")
    db = await asyncpg.connect(pg_url.replace("postgresql+asyncpg://", "postgresql://"))
    chaos = Chaos(daemons, fake_vertex, local_notion, db, random.Random(target_kills))
    rounds: list[tuple[int, str]] = []
    try:
        while True:
            round_no = len(rounds) + 1
            fake_vertex.json_text = storyboard(round_no)
            page = make_task(
                local_notion,
                workspace,
                name=f"Chaos round {round_no}",
                brief=DEMO_BRIEF,
                clips=CHAOS_CLIPS,
                channel="chaos",
            )
            rounds.append((round_no, page))

            def ready(page: str = page) -> bool:
                return status_of(local_notion, page) == "Video Ready"

            while not ready():
                live = daemons.live() or [daemons.start()]
                if chaos.total >= target_kills:
                    await wait_async(ready, 240, f"Video Ready (round {round_no})", daemons)
                    break
                phase = await chaos.next_phase()
                if await chaos.strike(live[0], phase, ready) is None:
                    break
            if chaos.total >= target_kills:
                break
        # Let the last writes reach Notion, then a graceful stop releases every lease.
        last = daemons.live() or [daemons.start()]

        async def drained() -> bool:
            return await chaos._pending_outbox() == 0

        deadline = time.monotonic() + 120
        while not await drained():
            assert time.monotonic() < deadline, f"outbox never drained\n{daemons.tail()}"
            await asyncio.sleep(0.2)
        assert daemons.stop(last[0]) == 0, daemons.tail()
        figures = await check_rounds(db, local_notion, fake_vertex, daemons, rounds)
    finally:
        await db.close()
    figures["kills"] = dict(chaos.kills)
    figures["kills_total"] = chaos.total
    figures["kill_times_s"] = chaos.timeline
    figures["daemons_started"] = len(daemons.procs)
    figures["wall_s"] = round(time.monotonic() - started, 1)
    print(f"\nCHAOS FIGURES ({'long' if target_kills == LONG_KILLS else 'short'}): {figures}")
    assert chaos.total >= target_kills


def _norm(page_id: object) -> str:
    return str(page_id).replace("-", "")


async def check_rounds(
    db: asyncpg.Connection,
    notion: LocalNotionServer,
    fake: FakeVertex,
    daemons: Daemons,
    rounds: list[tuple[int, str]],
) -> dict[str, object]:
    """The invariants, per task; returns the figures measured."""
    creates, _ = fake.counts()
    by_clip: Counter[tuple[int, int]] = Counter()
    for prompt, n in creates.items():
        match = _SHOT.search(prompt)
        assert match, prompt
        by_clip[int(match[1]), int(match[2])] += n
    # A flag is logged before its transaction commits: a kill in between logs it again
    # for the same attempt. Count the attempts flagged.
    lost_flags: Counter[tuple[str, int]] = Counter(
        (page, clip)
        for page, clip, _ in {
            (_norm(e.get("page")), int(e["clip"]), int(e["attempt"]))
            for e in log_events(daemons.logs, "resubmit_lost_clip")
        }
    )
    videos = await query_all(notion, "Videos")
    lost_billed = 0
    ledger_total = 0
    for round_no, page in rounds:
        task_id = await db.fetchval("SELECT id FROM tasks WHERE notion_page_id = $1", page)
        assert status_of(notion, page) == "Video Ready"
        assert await db.fetchval("SELECT status FROM tasks WHERE id = $1", task_id) == "video_ready"
        clips = await db.fetch(
            "SELECT id, number, status, attempt, operation_name, public_url FROM clips"
            " WHERE task_id = $1 ORDER BY number",
            task_id,
        )
        # Every clip complete, exactly once.
        assert [(c["number"], c["status"]) for c in clips] == [
            (n, "complete") for n in range(1, CHAOS_CLIPS + 1)
        ]
        for clip in clips:
            flags = lost_flags[(_norm(page), clip["number"])]
            made = by_clip[round_no, clip["number"]]
            # One create per clip; a create killed on the wire is flagged, then resubmitted.
            assert 1 <= made <= 1 + flags, (round_no, clip["number"], made, flags)
            assert clip["attempt"] == 1 + flags
            lost_billed += made - 1
        # Ledger rows equal operations: one charge per stored clip operation.
        charged = await db.fetch(
            "SELECT operation_name FROM cost_ledger WHERE task_id = $1 AND kind = 'clip'", task_id
        )
        assert sorted(r["operation_name"] for r in charged) == sorted(
            c["operation_name"] for c in clips
        )
        ledger_total += len(charged)
        # Notion matches the database: one Videos row per clip, showing the stored attempt.
        rows = [
            r
            for r in videos
            if _norm(page) in [_norm(rel["id"]) for rel in r["properties"]["Task"]["relation"]]
        ]
        shown = sorted(
            (
                int(r["properties"]["Clip"]["number"]),
                int(r["properties"]["Attempt"]["number"]),
                r["properties"]["Status"]["select"]["name"],
                r["properties"]["Video URL"]["url"],
            )
            for r in rows
        )
        assert shown == [(c["number"], c["attempt"], "Ready", c["public_url"]) for c in clips], (
            shown
        )
    # The outbox is empty (nothing dead either) and no lease is left.
    assert await db.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0
    assert await db.fetchval("SELECT count(*) FROM tasks WHERE lease_owner IS NOT NULL") == 0
    return {
        "tasks": len(rounds),
        "clips": len(rounds) * CHAOS_CLIPS,
        "creates": sum(by_clip.values()),
        "lost_submissions_flagged": sum(lost_flags.values()),
        "lost_submissions_billed": lost_billed,
        "clip_ledger_rows": ledger_total,
        "items_lost": 0,
        # Not asserted (reported in issue 10's proof): a daemon's own status write whose
        # "last seen" record died with the process, read back as a person's move.
        "reverted_own_writes": sum(1 for _ in log_events(daemons.logs, "revert_human_move")),
    }
