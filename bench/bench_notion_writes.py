"""Notion requests per task, end to end (issue 14, bench 2).

The demo scenario with an 18-clip task: a real daemon (SQLite, local providers)
against the local Notion API at Notion's rate, 3 requests/s per token, and a
scripted reviewer who approves storyboard and keyframes, sends 3 clips back once
("Regenerate: clips 2, 3, 5"), then approves the rest up to Done.

Counted from the local API's request log, for the daemon's token only:
- the poller's queries of the Tasks data source (one per poll interval whatever
  the workload; they depend on wall time, not on the task, so they are shown apart);
- every other request: the outbox's writes and the look-ups they need;
- 429s received.
Rate while the outbox is non-empty: the outbox is sampled every 0.25 s; requests
made while it held due writes, over the time it did.

Baseline from the same run: the unmerged write path, i.e. every queued outbox
write sent on its own (a Videos-row create costing its duplicate look-up too),
counted from the outbox table the run filled.
Also: seconds from Video Ready in the database to Video Ready on the Notion page
(both sampled every 0.25 s), for each video round.
Targets: <= 3 requests per clip (+ 2 per regenerated clip) plus a constant;
<= 3 req/s; 0 x 429; Video Ready in Notion <= 5 s after the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import re
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import select

from notion_sync.local_api.server import LocalNotionServer
from orchestrator.config import AppConfig
from orchestrator.daemon.drainer import pending_count
from orchestrator.db.engine import create_engine, session_factory
from orchestrator.db.models import OutboxItem, Task
from orchestrator.db.types import utcnow
from orchestrator.demo import ADMIN_TOKEN, REVIEWER_TOKEN, ReviewScript, run_demo
from orchestrator.state.status import Status

# Notion: "an average of three requests per second" per integration (checked
# 2026-12-01, https://developers.notion.com/reference/request-limits).
NOTION_RATE = 3.0
# Requests not scaling with clips: ~13 status writes (each with its check of what
# Notion shows), gate blocks, comments, task-page fields, toggle look-ups, the
# reviews' reads of the Videos rows (their number depends on when the reviewer
# acts). Measured 60 to 68 (3 and 18 clips, one regeneration round), 2026-12-01.
CONSTANT = 75
PER_CLIP = 3
# A clip sent back once adds two row writes: Regenerate, then Ready again.
PER_REGENERATED_CLIP = 2


@dataclass
class WriteFigures:
    clips: int
    regenerated: int
    final_status: str
    wall_s: float
    requests: int
    poll_requests: int
    write_requests: int
    row_requests: int
    unmerged_requests: int
    outbox_items: int
    rate_busy: float
    busy_s: float
    peak_1s: int
    rate_limited: int
    video_ready_lag_s: list[float] = field(default_factory=list)
    by_route: dict[str, int] = field(default_factory=dict)

    @property
    def per_clip(self) -> float:
        return self.write_requests / self.clips

    @property
    def target(self) -> int:
        return PER_CLIP * self.clips + PER_REGENERATED_CLIP * self.regenerated + CONSTANT

    def ok(self) -> bool:
        return (
            self.write_requests <= self.target
            and self.rate_busy <= NOTION_RATE
            and self.rate_limited == 0
            and all(lag <= 5.0 for lag in self.video_ready_lag_s)
        )


def script(regenerate: list[int]) -> ReviewScript:
    s = Status
    steps: ReviewScript = {
        (s.STORYBOARD_READY.label, 1): (None, s.STORYBOARD_APPROVED.label),
        (s.KEYFRAMES_READY.label, 1): (None, s.KEYFRAMES_APPROVED.label),
        (s.AUDIO_READY.label, 1): (None, s.AUDIO_APPROVED.label),
        (s.FINAL_READY.label, 1): (None, s.DONE.label),
    }
    if regenerate:
        clips = ", ".join(map(str, regenerate))
        steps[(s.VIDEO_READY.label, 1)] = (f"Regenerate: clips {clips}", s.VIDEO_ERROR.label)
        steps[(s.VIDEO_READY.label, 2)] = (None, s.VIDEO_APPROVED.label)
    else:
        steps[(s.VIDEO_READY.label, 1)] = (None, s.VIDEO_APPROVED.label)
    return steps


def _route(path: str) -> str:
    return re.sub(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", "{id}", path)


def _tasks_data_source(server: LocalNotionServer) -> str:
    for ds_id, ds in server.state.data_sources.items():
        title = "".join(t.get("plain_text", "") for t in ds.get("title", []))
        if title == "Tasks" or title.endswith(" Tasks"):
            return str(ds_id)
    raise LookupError("no Tasks data source")


async def _unmerged(db_url: str) -> tuple[int, int]:
    """(outbox items, requests if each were sent alone) for the run's outbox."""
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            items = (await session.execute(select(OutboxItem))).scalars().all()
    finally:
        await engine.dispose()
    cost = 0
    created: set[str] = set()
    for item in items:
        if item.kind == "upsert_video_row":
            key = item.merge_key or str(item.id)
            cost += 1 if key in created else 2  # a create looks for the row first
            created.add(key)
        elif item.kind == "set_task_status":
            cost += 2  # the check of what Notion shows, then the write
        else:
            cost += 1
    return len(items), cost


@dataclass
class _Samples:
    busy: list[tuple[float, float]] = field(default_factory=list)
    # Video Ready rounds: time.time() when the database had it, when Notion showed it.
    ready_in_db: list[float] = field(default_factory=list)
    ready_in_notion: list[float] = field(default_factory=list)


async def _sample(
    db_url: str, server: LocalNotionServer, out: _Samples, stop: asyncio.Event
) -> None:
    """Every 0.25 s: does the outbox hold due writes (intervals of time.time())? Has
    Video Ready reached the database, and Notion's page?"""
    engine = create_engine(db_url)
    start: float | None = None
    db_ready = notion_ready = False
    try:
        sessions = session_factory(engine)
        while not stop.is_set():
            with contextlib.suppress(Exception):  # the database may not exist yet
                async with sessions() as session:
                    due = await pending_count(session, due_at=utcnow())
                    task = (await session.execute(select(Task).limit(1))).scalar_one_or_none()
                t = time.time()
                if due and start is None:
                    start = t
                elif not due and start is not None:
                    out.busy.append((start, t))
                    start = None
                if task is not None:
                    now_ready = task.status == Status.VIDEO_READY.value
                    if now_ready and not db_ready:
                        out.ready_in_db.append(t)
                    db_ready = now_ready
                    prop = server.admin.page(task.notion_page_id)["properties"]["Status"]
                    shown = (prop.get(prop["type"]) or {}).get("name") == Status.VIDEO_READY.label
                    if shown and not notion_ready:
                        out.ready_in_notion.append(t)
                    notion_ready = shown
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.25)
        if start is not None:
            out.busy.append((start, time.time()))
    finally:
        await engine.dispose()


def _unpaced(config: AppConfig) -> AppConfig:
    settings = config.settings.model_copy(
        update={"notion_poll_seconds": 0.5, "review_settle_seconds": 1.0}
    )
    notion = config.notion.model_copy(update={"requests_per_second": 50.0})
    return dataclasses.replace(config, settings=settings, notion=notion)


async def measure(
    clips: int, regenerate: list[int], *, seconds: int = 4, paced: bool = True
) -> WriteFigures:
    """`paced=False` (the tests): no rate limit on either side and short settle times.
    The request counts do not depend on the pace (intermediate writes are held by
    time, not by backlog); the rate and lag figures only mean something paced."""
    data_dir = Path(tempfile.mkdtemp(prefix="bench-notion-writes-"))
    db_url = f"sqlite+aiosqlite:///{data_dir / 'demo' / 'reelgate.db'}"
    samples = _Samples()
    stop = asyncio.Event()
    try:
        with LocalNotionServer(token=[ADMIN_TOKEN, REVIEWER_TOKEN]) as server:
            if paced:
                server.knobs.set_rate_limit(rate=NOTION_RATE, burst=10)
            else:
                server.knobs.disable_rate_limit()
            sampler = asyncio.create_task(_sample(db_url, server, samples, stop))
            started = time.time()
            summary = await run_demo(
                data_dir / "demo",
                clips=clips,
                seconds=seconds,
                server=server,
                script=script(regenerate),
                review_interval_s=0.5 if paced else 0.3,
                timeout_s=1200,
                configure=None if paced else _unpaced,
            )
            stop.set()
            await sampler
            tasks_ds = _tasks_data_source(server)
            log = server.request_log.entries(token=ADMIN_TOKEN, since=started)
            daemon = [e for e in log if e.time >= started]
            polls = [
                e
                for e in daemon
                if e.method == "POST" and e.path == f"/v1/data_sources/{tasks_ds}/query"
            ]
            # Only the daemon's own requests after its setup (run_demo's summary window).
            daemon = daemon[-summary.daemon_requests :] if summary.daemon_requests else []
            polls = [e for e in daemon if e in polls]
            writes = [e for e in daemon if e not in polls]
            rows = [e for e in writes if e.method == "POST" and e.path == "/v1/pages"]
            row_ids = {
                r["id"].replace("-", "") for r in server.admin.pages(_videos_data_source(server))
            }
            rows += [
                e
                for e in writes
                if e.method == "PATCH" and e.path.rsplit("/", 1)[-1].replace("-", "") in row_ids
            ]
            busy = samples.busy
            in_busy = [e for e in writes if any(a <= e.time <= b for a, b in busy)]
            busy_s = sum(b - a for a, b in busy)
            lags = [
                round(n - d, 2)
                for d, n in zip(samples.ready_in_db, samples.ready_in_notion, strict=False)
            ]
            times = sorted(e.time for e in daemon)
            peak = max((sum(1 for u in times if t <= u < t + 1.0) for t in times), default=0)
            items, unmerged = await _unmerged(db_url)
            return WriteFigures(
                clips=clips,
                regenerated=len(regenerate),
                final_status=summary.final_status,
                wall_s=round(summary.elapsed_s, 1),
                requests=len(daemon),
                poll_requests=len(polls),
                write_requests=len(writes),
                row_requests=len(rows),
                unmerged_requests=unmerged,
                outbox_items=items,
                rate_busy=round(len(in_busy) / busy_s, 2) if busy_s else 0.0,
                busy_s=round(busy_s, 1),
                peak_1s=peak,
                rate_limited=summary.daemon_429s,
                video_ready_lag_s=lags,
                by_route=dict(
                    Counter(f"{e.method} {_route(e.path)}" for e in writes).most_common()
                ),
            )
    finally:
        stop.set()
        shutil.rmtree(data_dir, ignore_errors=True)


def _videos_data_source(server: LocalNotionServer) -> str:
    for ds_id, ds in server.state.data_sources.items():
        title = "".join(t.get("plain_text", "") for t in ds.get("title", []))
        if title == "Videos" or title.endswith(" Videos"):
            return str(ds_id)
    raise LookupError("no Videos data source")


def report(f: WriteFigures) -> None:
    print(
        f"{f.clips}-clip task, {f.regenerated} clips regenerated once: {f.final_status} "
        f"in {f.wall_s}s"
    )
    print(f"{'':34} {'measured':>9} {'unmerged':>9} {'ratio':>6} {'target':>8}")
    ratio = f.write_requests / f.unmerged_requests if f.unmerged_requests else 0.0
    print(
        f"{'write requests per task':34} {f.write_requests:>9} {f.unmerged_requests:>9}"
        f" {ratio:>6.2f} {f'<= {f.target}':>8}"
    )
    print(
        f"{'write requests per clip':34} {f.per_clip:>9.2f} {f.unmerged_requests / f.clips:>9.2f}"
        f" {ratio:>6.2f} {f'<= {PER_CLIP}+c':>8}"
    )
    print(f"{'  of which Videos-row writes':34} {f.row_requests:>9}")
    print(f"{'outbox items queued':34} {f.outbox_items:>9}")
    print(f"{'poll requests (wall-time driven)':34} {f.poll_requests:>9}")
    print(
        f"{'req/s while outbox non-empty':34} {f.rate_busy:>9.2f} {'':>9}"
        f" {f.rate_busy / NOTION_RATE:>6.2f} {f'<= {NOTION_RATE:g}':>8}"
    )
    print(f"{'  busy seconds, peak in any 1 s':34} {f.busy_s:>9} {f.peak_1s:>9}")
    lag = ", ".join(f"{x:.1f}" for x in f.video_ready_lag_s) or "-"
    print(f"{'Video Ready: DB -> Notion (s)':34} {lag:>9} {'':>9} {'':>6} {'<= 5':>8}")
    print(f"{'429s received':34} {f.rate_limited:>9} {'':>9} {'':>6} {'0':>8}")
    print(f"meets targets: {'yes' if f.ok() else 'NO'}")


async def main(quick: bool = False) -> None:
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    clips, regen = (3, [2]) if quick else (18, [2, 3, 5])
    figures = await measure(clips, regen)
    report(figures)
    print(json.dumps({"bench": "notion_writes", **asdict(figures), "meets_targets": figures.ok()}))
