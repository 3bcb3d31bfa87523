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

from bench.rig import Rig
from orchestrator.state.status import Status

FULL = (18, (2, 9, 15), 2.0)
QUICK = (4, (2, 3), 0.5)


async def _round(
    rig: Rig, page: str, title: str, after: float, timeout: float
) -> dict[str, object]:
    """Wait for Video Ready after `after`, then read what the round created and charged."""
    assert rig.watch is not None
    watch = rig.watch
    await rig.wait_for(
        lambda: watch.first(page, Status.VIDEO_READY.label, after=after) is not None,
        timeout,
        "Video Ready",
    )
    await rig.wait_for(
        lambda: _db_ready(rig, page), timeout, "the database to agree on Video Ready"
    )
    clips = await rig.clips(page)
    return {
        "creates": sum(rig.vertex.accepted_creates[p] for p in rig.prompts_of(title)),
        "charges": await rig.clip_charges(page),
        "attempts": {n: a for n, _, a, _ in clips},
    }


async def _db_ready(rig: Rig, page: str) -> bool:
    return await rig.status_in_db(page) == Status.VIDEO_READY.value


async def main(quick: bool = False) -> None:
    import time

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
    rounds: list[dict[str, object]] = []
    async with Rig(latency_s=latency, env=env, fast_notion=quick) as rig:
        rig.start_daemon()
        page = rig.create_task("Regen", clips)
        rounds.append(await _round(rig, page, "Regen", 0.0, timeout))
        for line in (
            "Regenerate: clips " + ", ".join(str(n) for n in rejected),
            "Regenerate: all clips",
        ):
            mark = time.time()
            rig.review(page, line, Status.VIDEO_ERROR)
            await rig.wait_for(
                lambda m=mark: (
                    rig.watch is not None
                    and rig.watch.first(page, Status.VIDEO_ERROR.label, after=m) is not None
                ),
                30,
                "Video Error to show",
            )
            rounds.append(await _round(rig, page, "Regen", mark, timeout))
        rig.stop(rig.daemons[-1])
        backend = rig.db.backend if rig.db else "?"

    def delta(i: int) -> dict[str, object]:
        before, after = rounds[i - 1], rounds[i]
        charges_before = before["charges"]
        charges_after = after["charges"]
        assert isinstance(charges_before, list) and isinstance(charges_after, list)
        attempts_before = before["attempts"]
        attempts_after = after["attempts"]
        assert isinstance(attempts_before, dict) and isinstance(attempts_after, dict)
        return {
            "creates": int(after["creates"]) - int(before["creates"]),  # type: ignore[call-overload]
            "usd": round(sum(charges_after[len(charges_before) :]), 4),
            "clips_redone": sorted(
                n for n, a in attempts_after.items() if a != attempts_before.get(n)
            ),
        }

    first = rounds[0]
    charges0 = first["charges"]
    assert isinstance(charges0, list)
    partial, full = delta(1), delta(2)
    creates_ratio = int(partial["creates"]) / max(1, int(full["creates"]))  # type: ignore[call-overload]
    usd_ratio = float(partial["usd"]) / float(full["usd"]) if full["usd"] else float("nan")  # type: ignore[arg-type]
    expected = len(rejected) / clips
    exact = partial["clips_redone"] == list(rejected) and partial["creates"] == len(rejected)
    print(f"{'round':<28} {'creates':>7} {'clip USD':>9} {'clips redone':<30}")
    print(f"{'1: first generation':<28} {first['creates']:>7} {sum(charges0):>9.2f} all {clips}")
    label = f"2: {len(rejected)} of {clips} rejected"
    print(f"{label:<28} {partial['creates']:>7} {partial['usd']:>9.2f} {partial['clips_redone']}")
    label = f"3: all {clips} rejected (base)"
    print(f"{label:<28} {full['creates']:>7} {full['usd']:>9.2f} {len(full['clips_redone'])} clips")  # type: ignore[arg-type]
    print(
        f"partial / all: creates {creates_ratio:.3f}, cost {usd_ratio:.3f}"
        f" (exactly the named clips: {expected:.3f})"
    )
    print(
        f"pays exactly for the named clips: {'met' if exact and abs(usd_ratio - expected) < 1e-6 else 'not met'}"
    )
    print(
        json.dumps(
            {
                "bench": "partial_regen",
                "quick": quick,
                "database": backend,
                "clips": clips,
                "rejected": list(rejected),
                "first_round": {"creates": first["creates"], "usd": round(sum(charges0), 4)},
                "partial": partial,
                "all": full,
                "creates_ratio": round(creates_ratio, 4),
                "cost_ratio": round(usd_ratio, 4),
                "expected_ratio": round(expected, 4),
                "exact": exact,
            }
        )
    )


if __name__ == "__main__":
    import asyncio

    asyncio.run(main(quick="--quick" in sys.argv[1:]))
