"""Clip fan-out of a real `reelgate run` (issue 14, benchmark 1).

An N-clip task (18) runs from Queued to Video Ready against the fake Vertex server,
every operation taking L seconds. Two variants: L = 60 s (a realistic Veo latency)
with the daemon's default settings, and L = 8 s with the model's expected latency set
to 8 s (bench.rig.expected_latency_config). For each:
- fan-out ratio = (N x L) / wall, wall from the task's *Generating Video* transition to
  *Video Ready* in the database, and to *Video Ready* visible in Notion (target >= 13);
- operation finished -> first poll that saw it done, median over the N operations,
  against 10 % of L (target: ratio <= 1);
- the baseline, measured in the same run: a 1-clip task on the same daemon first; its
  wall W1 is what one clip costs end to end, so N x W1 / wall is the fan-out measured
  against the pipeline itself rather than against L.

`python -m bench --quick fanout` runs only the second variant with L = 1 s and 3 clips,
and without Notion's rate limit (a check of the rig, not a figure).
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from dataclasses import dataclass

from bench.rig import DAEMON_TOKEN, Rig, expected_latency_config, median, request_kind
from orchestrator.state.status import Status

TARGET_RATIO = 13.0
NOTION_POLL_S = 10.0
TARGET_FIRST_POLL = 0.10  # of L


@dataclass(frozen=True)
class Variant:
    name: str
    latency_s: float
    clips: int
    expected_latency_s: float | None  # None: the daemon's defaults


FULL = (
    Variant("defaults, L=60s", 60.0, 18, None),
    Variant("expected latency 8s, L=8s", 8.0, 18, 8.0),
)
QUICK = (Variant("expected latency 1s, L=1s (quick)", 1.0, 3, 1.0),)


async def _task_walls(rig: Rig, page: str, clips: int, timeout: float) -> dict[str, float]:
    await rig.wait_for(
        lambda: (
            rig.watch is not None and rig.watch.first(page, Status.VIDEO_READY.label) is not None
        ),
        timeout,
        f"{clips}-clip task to show Video Ready in Notion",
    )
    events = await rig.transitions(page)
    started = next(t for s, t in events if s == Status.GENERATING_VIDEO.value)
    ready_db = next(t for s, t in events if s == Status.VIDEO_READY.value)
    assert rig.watch is not None
    ready_notion = rig.watch.first(page, Status.VIDEO_READY.label)
    assert ready_notion is not None
    # What the daemon sent to Notion between the two: the lag, explained.
    lag_requests = Counter(
        f"{e.method} {request_kind(e.path)}"
        for e in rig.notion.request_log.entries(token=DAEMON_TOKEN, since=ready_db)
        if e.time <= ready_notion
    )
    return {
        "wall_db_s": ready_db - started,
        "wall_notion_s": ready_notion - started,
        "lag_requests": dict(lag_requests),
    }


async def _measure(variant: Variant, quick: bool) -> dict[str, object]:
    env: dict[str, str] = {}
    channel: dict[str, str] = {}
    if variant.expected_latency_s is not None:
        env, channel = expected_latency_config(variant.expected_latency_s)
    if not quick:
        # The rig polls Notion every second so tasks start at once; here that read
        # would take 1 of the 2.5 requests/s the writes need while the clips land
        # (the default poll is 60 s). The spans start at Generating Video anyway.
        env = {"REELGATE_NOTION_POLL_SECONDS": f"{NOTION_POLL_S:g}", **env}
    L = variant.latency_s
    # Generous: five waves of a poll schedule, as on main, must still finish.
    timeout = 60 + 12 * L * 1.5 + 10 * variant.clips
    async with Rig(latency_s=L, env=env, channel=channel, fast_notion=quick) as rig:
        rig.start_daemon()
        base_page = rig.create_task("Baseline", 1)
        base = await _task_walls(rig, base_page, 1, timeout)
        page = rig.create_task("Fanout", variant.clips)
        walls = await _task_walls(rig, page, variant.clips, timeout)
        ops = rig.operations_of("Fanout")
        delays = [op.done_polled_at - op.finished_at for op in ops if op.done_polled_at]
        rig.stop(rig.daemons[-1])
        backend = rig.db.backend if rig.db else "?"
        how = (
            "defaults"
            if variant.expected_latency_s is None
            else ("channel " + ", ".join(channel) if channel else "env " + ", ".join(sorted(env)))
        )
    n = variant.clips
    first_poll = median(delays)
    return {
        "variant": variant.name,
        "latency_s": L,
        "clips": n,
        "database": backend,
        "expected_latency_via": how,
        "baseline_1clip_wall_s": round(base["wall_db_s"], 2),
        "wall_db_s": round(walls["wall_db_s"], 2),
        "wall_notion_s": round(walls["wall_notion_s"], 2),
        "ratio_db": round(n * L / walls["wall_db_s"], 2),
        "ratio_notion": round(n * L / walls["wall_notion_s"], 2),
        "ratio_vs_baseline": round(n * base["wall_db_s"] / walls["wall_db_s"], 2),
        "notion_lag_s": round(walls["wall_notion_s"] - walls["wall_db_s"], 2),
        "notion_requests_in_lag": walls["lag_requests"],
        "operations": len(ops),
        "first_poll_median_s": round(first_poll, 2),
        "first_poll_vs_10pct_L": round(first_poll / (TARGET_FIRST_POLL * L), 2),
    }


def _verdict(ok: bool) -> str:
    return "met" if ok else "not met"


async def main(quick: bool = False) -> None:
    rows = []
    for variant in QUICK if quick else FULL:
        started = time.perf_counter()
        row = await _measure(variant, quick)
        row["bench_s"] = round(time.perf_counter() - started, 1)
        rows.append(row)
    print(
        f"{'variant':<34} {'clips':>5} {'L s':>5} {'wall DB':>8} {'wall Notion':>11}"
        f" {'ratio DB':>9} {'ratio Notion':>12} {'vs 1-clip':>9} {'1st poll':>8} {'/10%L':>6}"
    )
    for r in rows:
        print(
            f"{r['variant']:<34} {r['clips']:>5} {r['latency_s']:>5} {r['wall_db_s']:>8}"
            f" {r['wall_notion_s']:>11} {r['ratio_db']:>9} {r['ratio_notion']:>12}"
            f" {r['ratio_vs_baseline']:>9} {r['first_poll_median_s']:>8}"
            f" {r['first_poll_vs_10pct_L']:>6}"
        )
    for r in rows:
        if quick:
            print(f"{r['variant']}: quick mode, no target")
            continue
        ratio_ok = float(r["ratio_db"]) >= TARGET_RATIO  # type: ignore[arg-type]
        notion_ok = float(r["ratio_notion"]) >= TARGET_RATIO  # type: ignore[arg-type]
        poll_ok = float(r["first_poll_vs_10pct_L"]) <= 1.0  # type: ignore[arg-type]
        print(
            f"{r['variant']}: fan-out >= {TARGET_RATIO:g} DB {_verdict(ratio_ok)},"
            f" Notion {_verdict(notion_ok)}; first poll <= 10% of L {_verdict(poll_ok)}"
        )
    for r in rows:
        print(
            f"{r['variant']}: Notion requests while DB showed Video Ready and Notion did not:"
            f" {r['notion_requests_in_lag']}"
        )
    print(json.dumps({"bench": "fanout", "quick": quick, "rows": rows}))


if __name__ == "__main__":
    import asyncio

    asyncio.run(main(quick="--quick" in sys.argv[1:]))
