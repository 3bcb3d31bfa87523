"""The daemon benchmarks run (`python -m bench --quick NAME`) and print their figures.

Each runs a real `reelgate run` in quick mode (small operation latency, few clips)
against the local Notion API and the fake Vertex server, PostgreSQL when reachable.
Only what the figures count is checked here (clips, creates, duplicates, rows):
timing stays in bench/, never in assertions.

Each starts a daemon, the local Notion API and the fake Vertex server (half a minute
on 2 cores), so they carry the `bench` marker: `make bench-smoke` runs them, `make
test` leaves them out (tests/acceptance/test_bench_smoke.py keeps the bench runner
itself in the suite).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.bench, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]


def run_quick(name: str) -> tuple[str, dict[str, Any]]:
    """stdout of `python -m bench --quick NAME`, and its JSON summary line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELGATE_")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", name],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summaries = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(summaries) == 1, done.stdout
    return done.stdout, summaries[0]


def test_fanout_prints_ratios() -> None:
    out, summary = run_quick("bench_fanout")
    assert summary["bench"] == "fanout"
    assert summary["quick"] is True
    [row] = summary["rows"]
    # Every clip of the task was one operation, and each was seen done by a poll.
    assert row["operations"] == row["clips"] == 3
    for key in ("ratio_db", "ratio_notion", "ratio_vs_baseline", "first_poll_vs_10pct_L"):
        assert row[key] > 0, key
    assert "ratio DB" in out
    assert "ratio Notion" in out


def test_partial_regen_prints_creates_and_cost() -> None:
    out, summary = run_quick("bench_partial_regen")
    assert summary["bench"] == "partial_regen"
    rounds = summary["rounds"]
    assert rounds["first"]["creates"] == summary["clips"] == 4
    assert rounds["partial"]["redone"] == summary["rejected"] == [2, 3]
    assert rounds["partial"]["creates"] == 2
    assert rounds["all"]["creates"] == 4
    assert summary["exact"] is True
    assert "partial / all" in out


def test_recovery_prints_times_and_duplicates() -> None:
    out, summary = run_quick("bench_recovery")
    assert summary["bench"] == "recovery"
    [row] = summary["rows"]
    assert row["scenario"] == "mid-submit"
    # Killed with 2 operations in flight and 2 clips not submitted (one held mid-call).
    assert row["in_flight_at_kill"] == 2
    assert row["unsubmitted_at_kill"] == 2
    assert row["duplicate_creates"] == 0
    assert "duplicate creates = 0: met" in out


def test_footprint_prints_cpu_rss_and_requests() -> None:
    out, summary = run_quick("bench_footprint")
    assert summary["bench"] == "footprint"
    idle, waiting, overdue = summary["rows"]
    assert (idle["tasks"], waiting["tasks"], overdue["tasks"]) == (0, 10, 10)
    assert (waiting["state"], overdue["state"]) == ("waiting", "overdue")
    assert idle["operation_polls"] == 0  # nothing to poll with no task
    # Waiting operations are first polled where their submit put it (60 s on).
    assert waiting["operation_polls"] == 0
    assert waiting["rss_mb"] > 0
    assert idle["cpu_pct"] >= 0
    assert "ms of CPU a poll" in out
