"""Recovery of a real `reelgate run` after SIGKILL (issue 14, benchmark 4).

Two kills, each on a fresh rig (database, Notion, fake Vertex) with an N-clip task
(18), every operation taking L seconds, creates not throttled (provider concurrency
N, so all N can be in flight), everything else at the daemon's defaults (lease 120 s):

- *in flight*: all N clips submitted (operation names saved), none finished: SIGKILL.
- *mid-submit*: the fake Vertex holds the create call of clip N/2 + 1 (it reached
  Vertex but takes no operation), so the worker is inside its submit step, holding
  the task's lease: SIGKILL. The held call then fails, unseen.

After each kill a new daemon starts at once. Measured from that restart:
- every operation created before the kill polled again (and how late that was past
  the poll the database had scheduled for it: the recovery's own delay);
- every clip that had no operation submitted (or flagged lost: a create that may have
  been billed is left for a human, DESIGN §5);
- duplicate creates: a prompt with two accepted creates (target 0).
The baseline, measured in the same run, is the restarted daemon's start-up: from the
exec to its `start_daemon` log line. Recovery = the later of the submits and the
latest poll past its due time (a poll due after the restart waits for its schedule;
that wait is printed as "all polled" but is not recovery). Ratio = recovery / start-up
(1.0 = nothing to wait for past start-up). Before issue 14 the mid-submit case
waited for the dead worker's lease to expire.

`--quick`: the mid-submit kill only, 4 clips, L = 3 s, lease 3 s, polls every 0.5 s.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass

from bench.rig import MONOTONIC_TO_EPOCH, Rig, started_at
from orchestrator.state.clips import ClipStatus

DEFAULT_LEASE_S = 120.0


@dataclass(frozen=True)
class Mode:
    clips: int
    latency_s: float
    env: dict[str, str]
    lease_s: float


def _mode(quick: bool) -> Mode:
    if quick:
        env = {
            "REELGATE_LEASE_SECONDS": "3",
            "REELGATE_HEARTBEAT_SECONDS": "1",
            "REELGATE_CLIP_POLL_INITIAL_SECONDS": "0.5",
            "REELGATE_CLIP_POLL_MAX_SECONDS": "0.5",
            "REELGATE_OPERATION_POLL_SECONDS": "0.2",
            "REELGATE_PROVIDER_CONCURRENCY": "4",
        }
        return Mode(4, 3.0, env, 3.0)
    return Mode(18, 60.0, {"REELGATE_PROVIDER_CONCURRENCY": "18"}, DEFAULT_LEASE_S)


async def _scenario(name: str, mode: Mode, quick: bool) -> dict[str, object]:
    n = mode.clips
    title = "Recover"
    async with Rig(latency_s=mode.latency_s, env=mode.env, fast_notion=quick) as rig:
        held = rig.vertex.hold_creates(n // 2) if name == "mid-submit" else None
        first = rig.start_daemon()
        page = rig.create_task(title, n)
        timeout = 180 + 5 * n

        async def all_polling() -> bool:
            rows = await rig.clips(page)
            return len(rows) == n and all(s == ClipStatus.POLLING and op for _, s, _, op in rows)

        if held is None:
            await rig.wait_for(all_polling, timeout, "every clip to be polling")
        else:
            await rig.wait_for(held.is_set, timeout, "a create call to be held")
        rig.kill(first)
        rig.vertex.release_creates()
        before = {op for _, _, _, op in await rig.clips(page) if op}
        unsubmitted = {num for num, _, _, op in await rig.clips(page) if not op}
        due = await rig.next_polls(page)
        lease_until = await rig.lease_expiry(page)

        restarted = time.monotonic()
        # The dead worker's lease, if any, from the restart on: what a claim must wait.
        lease_left = max(0.0, lease_until - time.time()) if lease_until else 0.0
        second = rig.start_daemon()
        await rig.wait_for(lambda: started_at(second), 120, "the restarted daemon's start line")
        startup = time.monotonic() - restarted

        def polled_again() -> bool:
            ops = rig.vertex.operations
            return all(any(t >= restarted for t in ops[op].poll_times) for op in before)

        async def all_submitted() -> bool:
            rows = await rig.clips(page)
            return all(op or s == ClipStatus.LOST for num, s, _, op in rows if num in unsubmitted)

        # Submits first: they go out at once, while the polls wait for their due time
        # (waiting for the polls first counted that wait as the submits' delay).
        await rig.wait_for(all_submitted, mode.lease_s + timeout, "every clip submitted")
        submitted_s = time.monotonic() - restarted if unsubmitted else 0.0
        await rig.wait_for(polled_again, mode.lease_s + timeout, "every operation polled again")
        polled_s = max(
            min(t for t in rig.vertex.operations[op].poll_times if t >= restarted) - restarted
            for op in before
        )
        # How late each poll was past the later of the restart and its scheduled time.
        lateness = [
            min(t for t in rig.vertex.operations[op].poll_times if t >= restarted)
            - max(restarted, due.get(op, 0.0) - MONOTONIC_TO_EPOCH)
            for op in before
        ]
        rows = await rig.clips(page)
        lost = sum(1 for _, s, _, _ in rows if s == ClipStatus.LOST)
        prompts = rig.prompts_of(title)
        duplicates = sum(max(0, rig.vertex.accepted_creates[p] - 1) for p in prompts)
        arrived_twice = sum(1 for p in prompts if rig.vertex.create_calls[p] > 1)
        rig.stop(second)
        backend = rig.db.backend if rig.db else "?"
    # The restarted daemon's own delay: the submits, and how late each poll came past
    # the later of the restart and its due time. Polls due later than the restart
    # wait for their schedule (`all_polled_s`), which is not recovery.
    recovery = max(submitted_s, max(lateness, default=0.0))
    return {
        "scenario": name,
        "database": backend,
        "clips": n,
        "latency_s": mode.latency_s,
        "lease_s": mode.lease_s,
        "in_flight_at_kill": len(before),
        "unsubmitted_at_kill": len(unsubmitted),
        "lease_left_at_restart_s": round(lease_left, 2),
        # Submitting resumed only once the dead worker's lease ran out.
        "waited_for_lease": bool(unsubmitted) and lease_left > 1 and submitted_s >= lease_left,
        "startup_s": round(startup, 2),
        "all_polled_s": round(polled_s, 2),
        "poll_past_due_max_s": round(max(lateness, default=0.0), 2),
        "all_submitted_s": round(submitted_s, 2),
        "recovery_s": round(recovery, 2),
        "recovery_vs_startup": round(recovery / startup, 2) if startup else None,
        "lost_flagged": lost,
        "duplicate_creates": duplicates,
        "creates_arrived_twice": arrived_twice,
    }


async def main(quick: bool = False) -> None:
    mode = _mode(quick)
    # Quick: the mid-submit kill alone (it has operations in flight too).
    names = ("mid-submit",) if quick else ("in flight", "mid-submit")
    rows = [await _scenario(name, mode, quick) for name in names]
    print(
        f"{'scenario':<11} {'in flight':>9} {'unsubm.':>7} {'start-up':>8} {'all polled':>10}"
        f" {'past due':>8} {'all subm.':>9} {'recovery':>8} {'/start-up':>9} {'lost':>4}"
        f" {'dup creates':>11}"
    )
    for r in rows:
        print(
            f"{r['scenario']:<11} {r['in_flight_at_kill']:>9} {r['unsubmitted_at_kill']:>7}"
            f" {r['startup_s']:>8} {r['all_polled_s']:>10} {r['poll_past_due_max_s']:>8}"
            f" {r['all_submitted_s']:>9} {r['recovery_s']:>8} {r['recovery_vs_startup']:>9}"
            f" {r['lost_flagged']:>4} {r['duplicate_creates']:>11}"
        )
    no_dupes = all(r["duplicate_creates"] == 0 for r in rows)
    print(f"duplicate creates = 0: {'met' if no_dupes else 'not met'}")
    for r in rows:
        if r["unsubmitted_at_kill"]:
            print(
                f"{r['scenario']}: the dead worker's lease had {r['lease_left_at_restart_s']} s"
                f" left at restart; unsubmitted clips waited for it:"
                f" {'yes' if r['waited_for_lease'] else 'no'}"
            )
    print(json.dumps({"bench": "recovery", "quick": quick, "rows": rows}))


if __name__ == "__main__":
    import asyncio

    asyncio.run(main(quick="--quick" in sys.argv[1:]))
