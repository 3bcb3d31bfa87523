"""Footprint of an idle `reelgate run` (issue 14, benchmark 5): 0 vs 100 tasks waiting.

Fresh rigs, one per row. In the rows with tasks, 100 tasks sit in *Generating Video*
with one clip each whose operation the fake Vertex server keeps pending (as after a
restart: pages in Notion, task, keyframe and clip rows in the database, operation
names saved, the price quoted at submit). A real `reelgate run` starts; after a
warm-up (first Notion poll) a window of W seconds is measured from outside:
- CPU % of the daemon process (utime + stime from /proc, children included);
- its RSS (largest sample in the window, from /proc);
- Notion requests the daemon made (the local API's request log), by kind;
- operation polls the fake Vertex answered.

Two states of the 100 operations, because polling them is work the issue asks for:
- *waiting*: submitted when the daemon starts, their first poll where the submit puts
  it (half the model's expected latency: Veo 3.1, 120 s in the catalogue, so 60 s
  after the submit; the window ends before that). This is "idle with tasks waiting on
  operations": the target is <= 1 % CPU, and no step re-run while the clips render.
- *overdue*: submitted two expected latencies ago, so past their expected latency and
  polled every 10 % of it (12 s, jittered) as the issue's first-poll bound requires.
  The figure printed is the CPU of one poll, (CPU - CPU with 0 tasks) / polls.

The baseline is the same daemon with 0 tasks, measured in the same run: ratios are
100 tasks / 0 tasks. Notion: one request per poll interval (the Tasks query), so the
Notion poll interval is set to 10 s here and the window is 30 s: <= 4 requests (a
30 s window can hold the ticks at 0, 10, 20 and 30 s). Linux only (/proc).

`--quick`: a 2 s window after a 1 s warm-up, 10 tasks.
"""

from __future__ import annotations

import asyncio
import dataclasses
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
from orchestrator.providers.catalogue import CATALOGUE, quote_clip
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


def _latency_s() -> float:
    return CATALOGUE[VIDEO_MODEL].expected_latency_s


async def _seed(rig: Rig, tasks: int, *, overdue: bool) -> None:
    """`tasks` pages in Generating Video, each with one clip whose operation stays pending.

    The clip rows are what a submit writes (stages/video.py): the quoted price, the
    first poll at half the expected latency after the submit; `overdue` moves the
    submit two expected latencies back, so the operations are due now and every 10 %
    of the latency after that.
    """
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
    latency = _latency_s()
    submitted = now - timedelta(seconds=2 * latency) if overdue else now
    first_poll = now if overdue else submitted + timedelta(seconds=0.5 * latency)
    quote = dataclasses.asdict(quote_clip(VIDEO_MODEL, 8, resolution="720p", with_audio=False))
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
                    quoted_charge=quote,
                    submitted_at=submitted,
                    next_poll_at=first_poll,
                    deadline_at=submitted + timedelta(hours=6),
                )
            )


async def _measure(
    tasks: int, warmup_s: float, window_s: float, quick: bool, *, overdue: bool = False
) -> dict[str, object]:
    env = {"REELGATE_NOTION_POLL_SECONDS": f"{NOTION_POLL_S}"}
    async with Rig(latency_s=3600.0, env=env, fast_notion=quick) as rig:
        seeded = time.monotonic()
        await _seed(rig, tasks, overdue=overdue)
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
        "state": "overdue" if overdue else ("waiting" if tasks else "none"),
        "database": backend,
        "window_s": round(elapsed, 1),
        # Seconds from the seed to the window's end: a waiting row's window must end
        # before the first polls the submit scheduled (half the expected latency).
        "window_end_after_seed_s": round(began_mono + elapsed - seeded, 1),
        "cpu_pct": round(100 * cpu_s / elapsed, 2),
        "cpu_s": round(cpu_s, 3),
        "rss_mb": round(max(rss), 1),
        "notion_requests": len(requests),
        "notion_by_kind": dict(kinds),
        "operation_polls": polls,
    }


async def main(quick: bool = False) -> None:
    warmup, window, tasks = (1.0, 2.0, 10) if quick else (15.0, 30.0, 100)
    base = await _measure(0, warmup, window, quick)
    waiting = await _measure(tasks, warmup, window, quick)
    overdue = await _measure(tasks, warmup, window, quick, overdue=True)
    rows = (base, waiting, overdue)
    # A window of W s holds at most floor(W / T) + 1 ticks of a T-second poll.
    allowed = int(window // NOTION_POLL_S) + 1
    print(
        f"{'tasks':>5} {'operations':>10} {'CPU %':>6} {'RSS MB':>7} {'Notion req':>10}"
        f" {'op polls':>8} {'window s':>8}"
    )
    for r in rows:
        print(
            f"{r['tasks']:>5} {r['state']:>10} {r['cpu_pct']:>6} {r['rss_mb']:>7}"
            f" {r['notion_requests']:>10} {r['operation_polls']:>8} {r['window_s']:>8}"
        )
    cpu_ratio = float(waiting["cpu_pct"]) / max(0.01, float(base["cpu_pct"]))  # type: ignore[arg-type]
    rss_ratio = float(waiting["rss_mb"]) / float(base["rss_mb"])  # type: ignore[arg-type]
    print(f"{tasks} tasks waiting / 0 tasks: CPU x{cpu_ratio:.2f}, RSS x{rss_ratio:.2f}")
    polls = int(overdue["operation_polls"])  # type: ignore[call-overload]
    extra_cpu = float(overdue["cpu_s"]) - float(base["cpu_s"])  # type: ignore[arg-type]
    per_poll_ms = 1000 * extra_cpu / polls if polls else float("nan")
    first_poll_s = 0.5 * _latency_s()
    print(
        f"{tasks} operations overdue: {polls} polls in {overdue['window_s']} s"
        f" (each every <= {0.1 * _latency_s():g} s), {per_poll_ms:.1f} ms of CPU a poll"
    )
    for r in rows:
        print(f"Notion requests, {r['state']}: {r['notion_by_kind'] or 'none'}")
    if not quick:
        end = float(waiting["window_end_after_seed_s"])  # type: ignore[arg-type]
        if end >= first_poll_s:
            print(
                f"note: the waiting window ended {end:g} s after the submits, past their"
                f" first poll ({first_poll_s:g} s): its polls are in the figure"
            )
        cpu_ok = float(waiting["cpu_pct"]) <= TARGET_CPU_PCT  # type: ignore[arg-type]
        req_ok = all(int(r["notion_requests"]) <= allowed for r in rows)  # type: ignore[call-overload]
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
                "rows": list(rows),
                "cpu_ratio": round(cpu_ratio, 2),
                "rss_ratio": round(rss_ratio, 2),
                "overdue_cpu_ms_per_poll": round(per_poll_ms, 2),
                "notion_requests_allowed": allowed,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main(quick="--quick" in sys.argv[1:]))
