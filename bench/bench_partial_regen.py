"""What a partial regeneration costs (issue 14, benchmark 3): 3 of 18 rejected vs all 18.

A real `reelgate run` takes an 18-clip task to *Video Ready* (round 1). A reviewer
then writes "Regenerate: clips 2, 9, 15" in the Error Log and sets *Video Error*
(round 2), and at the next *Video Ready* "Regenerate: all clips" (round 3: the
baseline, every clip rejected, measured in the same run). For each round: creates the
fake Vertex server accepted, clip charges in the cost ledger, and which clips got a
new attempt. Target: round 2 pays exactly for the named clips, so its creates and
cost are 3/18 of round 3's, and no other clip is touched.

Timing is not the point here: polls are quick and creates are not paced, so the rounds
take seconds. `--quick` runs 4 clips with clips 2 and 3 rejected.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass

from bench.rig import Rig
from orchestrator.state.status import Status

FULL = (18, (2, 9, 15), 2.0)
QUICK = (4, (2, 3), 0.5)
TITLE = "Regen"


@dataclass(frozen=True)
class Snapshot:
    """Totals after a round: creates accepted, clip charges, attempt per clip number."""

    creates: int
    charges: list[float]
    attempts: dict[int, int]


@dataclass(frozen=True)
class Round:
    creates: int
    usd: float
    redone: list[int]

    @staticmethod
    def between(before: Snapshot, after: Snapshot) -> Round:
        return Round(
            creates=after.creates - before.creates,
            usd=round(sum(after.charges[len(before.charges) :]), 4),
            redone=sorted(n for n, a in after.attempts.items() if a != before.attempts.get(n)),
        )


async def _db_ready(rig: Rig, page: str) -> bool:
    return await rig.status_in_db(page) == Status.VIDEO_READY.value


async def _snapshot_at_ready(rig: Rig, page: str, after: float, timeout: float) -> Snapshot:
    """Wait for Video Ready (in Notion after `after`, and in the database), then read totals."""
    watch = rig.watch
    assert watch is not None
    await rig.wait_for(
        lambda: watch.first(page, Status.VIDEO_READY.label, after=after) is not None,
        timeout,
        "Video Ready",
    )
    await rig.wait_for(lambda: _db_ready(rig, page), timeout, "Video Ready in the database")
    clips = await rig.clips(page)
    return Snapshot(
        creates=sum(rig.vertex.accepted_creates[p] for p in rig.prompts_of(TITLE)),
        charges=await rig.clip_charges(page),
        attempts={n: a for n, _, a, _ in clips},
    )


async def main(quick: bool = False) -> None:
    clips, rejected, latency = QUICK if quick else FULL
    env = {
        # Polls come quickly and every clip is created at once: counts, not time.
        "REELGATE_CLIP_POLL_INITIAL_SECONDS": f"{latency}",
        "REELGATE_CLIP_POLL_MAX_SECONDS": "0.5",
        "REELGATE_OPERATION_POLL_SECONDS": "0.2",
        "REELGATE_PROVIDER_CONCURRENCY": str(clips),
        "REELGATE_REVIEW_SETTLE_SECONDS": "0.5",
    }
    timeout = 120 + 10 * clips
    snapshots: list[Snapshot] = []
    async with Rig(latency_s=latency, env=env, fast_notion=quick) as rig:
        rig.start_daemon()
        page = rig.create_task(TITLE, clips)
        snapshots.append(await _snapshot_at_ready(rig, page, 0.0, timeout))
        for line in (
            "Regenerate: clips " + ", ".join(str(n) for n in rejected),
            "Regenerate: all clips",
        ):
            mark = time.time()
            rig.review(page, line, Status.VIDEO_ERROR)
            snapshots.append(await _snapshot_at_ready(rig, page, mark, timeout))
        rig.stop(rig.daemons[-1])
        backend = rig.db.backend if rig.db else "?"

    first = Round(
        snapshots[0].creates, round(sum(snapshots[0].charges), 4), list(range(1, clips + 1))
    )
    partial = Round.between(snapshots[0], snapshots[1])
    full = Round.between(snapshots[1], snapshots[2])
    creates_ratio = partial.creates / max(1, full.creates)
    cost_ratio = partial.usd / full.usd if full.usd else float("nan")
    expected = len(rejected) / clips
    exact = (
        partial.redone == list(rejected)
        and partial.creates == len(rejected)
        and abs(cost_ratio - expected) < 1e-6
    )
    print(f"{'round':<30} {'creates':>7} {'clip USD':>9}  clips redone")
    for label, r in (
        ("1: first generation", first),
        (f"2: {len(rejected)} of {clips} rejected", partial),
        (f"3: all {clips} rejected (baseline)", full),
    ):
        redone = r.redone if len(r.redone) < clips else f"all {clips}"
        print(f"{label:<30} {r.creates:>7} {r.usd:>9.2f}  {redone}")
    print(
        f"partial / all: creates {creates_ratio:.3f}, cost {cost_ratio:.3f}"
        f" (the named clips alone: {expected:.3f})"
    )
    print(f"pays exactly for the named clips: {'met' if exact else 'not met'}")
    print(
        json.dumps(
            {
                "bench": "partial_regen",
                "quick": quick,
                "database": backend,
                "clips": clips,
                "rejected": list(rejected),
                "rounds": {
                    "first": first.__dict__,
                    "partial": partial.__dict__,
                    "all": full.__dict__,
                },
                "creates_ratio": round(creates_ratio, 4),
                "cost_ratio": round(cost_ratio, 4),
                "expected_ratio": round(expected, 4),
                "exact": exact,
            }
        )
    )


if __name__ == "__main__":
    import asyncio

    asyncio.run(main(quick="--quick" in sys.argv[1:]))
