"""Footprint of an idle `reelgate run` (issue 14, benchmark 5): 0 vs 100 tasks waiting.

Two fresh rigs. In the second, 100 tasks sit in *Generating Video* with one clip each
whose operation the fake Vertex server keeps pending (as after a restart: pages in
Notion, task, keyframe and clip rows in the database, operation names saved). A real
`reelgate run` starts; after a warm-up (first Notion poll, first operation polls)
a window of W seconds is measured from outside:
- CPU % of the daemon process (utime + stime from /proc, children included);
- its RSS (largest sample in the window, from /proc);
- Notion requests the daemon made (the local API's request log), by kind;
- operation polls the fake Vertex answered.
The baseline is the same daemon with 0 tasks, measured in the same run: ratios are
100 tasks / 0 tasks. Targets (issue 14): <= 1 % CPU with the tasks waiting, and one
Notion request per poll interval (the Tasks query), so the Notion poll interval is
set to 10 s here and the window is 30 s: <= 4 requests (a 30 s window can hold the
ticks at 0, 10, 20 and 30 s). Linux only (/proc).

`--quick`: a 2 s window after a 1 s warm-up, 10 tasks.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from bench.rig import CHANNEL, DAEMON_TOKEN, VIDEO_MODEL, Daemon, Rig, request_kind, started_at
from notion_sync.local_api.admin import rich_text, title_value
from orchestrator.db import Clip, Keyframe, Task, session_factory, utcnow
from orchestrator.state.clips import ClipStatus, KeyframeStatus
from orchestrator.state.status import Status

NOTION_POLL_S = 10.0
TARGET_CPU_PCT = 1.0


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime, stime, cutime, cstime (fields 14-17 of proc(5)); fields[0] is the state.
    return sum(int(f) for f in fields[11:15])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _seed(rig: Rig, tasks: int) -> None:
    """`tasks` pages in Generating Video, each with one clip whose operation stays pending."""
    assert rig.setup is not None
    label = Status.GENERATING_VIDEO.label
    pages = rig.notion.admin.seed_pages(
        rig.setup.tasks_data_source_id,
        tasks,
        lambda i: {
            "Name": title_value(f"Waiting {i}"),
            "Status": {"status": {"name": label}},
            "Channel": {"select": {"name": CHANNEL}},
            "Brief": {"rich_text": rich_text("waits on Veo")},
            "Clips": {"number": 1},
            "Clip Seconds": {"number": 8},
        },
        as_user="Cory Creator",
    )
    now = utcnow()
    async with session_factory(rig.engine)() as session, session.begin():
        for i, page in enumerate(pages):
            prompt = f"Waiting {i} shot 1: the keeper waits."
            task = Task(
                notion_page_id=page,
                title=f"Waiting {i}",
                channel=CHANNEL,
                status=Status.GENERATING_VIDEO.value,
                brief="waits on Veo",
                clip_count=1,
                clip_seconds=8,
                last_seen_status=label,
                status_changed_at=now,
            )
            session.add(task)
            await session.flush()
            for number in (1, 2):
                session.add(
                    Keyframe(
                        task_id=task.id,
                        number=number,
                        attempt=1,
                        prompt=prompt,
                        status=KeyframeStatus.COMPLETE.value,
                    )
                )
            session.add(
                Clip(
                    task_id=task.id,
                    number=1,
                    attempt=1,
                    prompt=prompt,
                    seconds=8,
                    start_keyframe_attempt=1,
                    end_keyframe_attempt=1,
                    status=ClipStatus.POLLING.value,
                    operation_name=rig.vertex.seed_pending_operation(VIDEO_MODEL, prompt),
                    submitted_at=now,
                    next_poll_at=now,
                    deadline_at=now + timedelta(hours=6),
                )
            )


async def _measure(tasks: int, warmup_s: float, window_s: float, quick: bool) -> dict[str, object]:
    env = {"REELGATE_NOTION_POLL_SECONDS": f"{NOTION_POLL_S}"}
    async with Rig(latency_s=3600.0, env=env, fast_notion=quick) as rig:
        await _seed(rig, tasks)
        daemon: Daemon = rig.start_daemon()
        await rig.wait_for(lambda: started_at(daemon), 120, "the daemon's start line")
        await asyncio.sleep(warmup_s)
        tick = os.sysconf("SC_CLK_TCK")
        began, began_ticks = time.time(), _cpu_ticks(daemon.pid)
        began_mono = time.monotonic()
        rss = [_rss_mb(daemon.pid)]
        while time.monotonic() - began_mono < window_s:
            await asyncio.sleep(min(1.0, window_s / 3))
            rss.append(_rss_mb(daemon.pid))
        elapsed = time.monotonic() - began_mono
        ended, cpu_s = time.time(), (_cpu_ticks(daemon.pid) - began_ticks) / tick
        requests = [
            e
            for e in rig.notion.request_log.entries(token=DAEMON_TOKEN, since=began)
            if e.time < ended
        ]
        kinds = Counter(f"{e.method} {request_kind(e.path)}" for e in requests)
        polls = sum(
            1
            for op in rig.vertex.operations.values()
            for t in op.poll_times
            if began_mono <= t < began_mono + elapsed
        )
        rig.stop(daemon)
        backend = rig.db.backend if rig.db else "?"
    return {
        "tasks": tasks,
        "database": backend,
        "window_s": round(elapsed, 1),
        "cpu_pct": round(100 * cpu_s / elapsed, 2),
        "rss_mb": round(max(rss), 1),
        "notion_requests": len(requests),
        "notion_by_kind": dict(kinds),
        "operation_polls": polls,
    }


async def main(quick: bool = False) -> None:
    warmup, window, tasks = (1.0, 2.0, 10) if quick else (20.0, 30.0, 100)
    base = await _measure(0, warmup, window, quick)
    busy = await _measure(tasks, warmup, window, quick)
    # A window of W s holds at most floor(W / T) + 1 ticks of a T-second poll.
    allowed = int(window // NOTION_POLL_S) + 1
    print(
        f"{'tasks waiting':>13} {'CPU %':>6} {'RSS MB':>7} {'Notion req':>10} {'op polls':>8}"
        f" {'window s':>8}"
    )
    for r in (base, busy):
        print(
            f"{r['tasks']:>13} {r['cpu_pct']:>6} {r['rss_mb']:>7} {r['notion_requests']:>10}"
            f" {r['operation_polls']:>8} {r['window_s']:>8}"
        )
    cpu_ratio = float(busy["cpu_pct"]) / max(0.01, float(base["cpu_pct"]))  # type: ignore[arg-type]
    rss_ratio = float(busy["rss_mb"]) / float(base["rss_mb"])  # type: ignore[arg-type]
    print(f"{tasks} tasks / 0 tasks: CPU x{cpu_ratio:.2f}, RSS x{rss_ratio:.2f}")
    for r in (base, busy):
        print(f"Notion requests with {r['tasks']} tasks: {r['notion_by_kind'] or 'none'}")
    if not quick:
        cpu_ok = float(busy["cpu_pct"]) <= TARGET_CPU_PCT  # type: ignore[arg-type]
        req_ok = int(busy["notion_requests"]) <= allowed  # type: ignore[call-overload]
        print(
            f"CPU <= {TARGET_CPU_PCT:g} % with {tasks} tasks waiting:"
            f" {'met' if cpu_ok else 'not met'};"
            f" Notion requests <= {allowed} (one per {NOTION_POLL_S:g} s poll):"
            f" {'met' if req_ok else 'not met'}"
        )
    print(
        json.dumps(
            {
                "bench": "footprint",
                "quick": quick,
                "rows": [base, busy],
                "cpu_ratio": round(cpu_ratio, 2),
                "rss_ratio": round(rss_ratio, 2),
                "notion_requests_allowed": allowed,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main(quick="--quick" in sys.argv[1:]))
