"""`python -m bench --quick` still runs (a smoke test: small sizes, nothing timed)."""

from __future__ import annotations

import asyncio

import pytest

from bench.__main__ import cli

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(300)]


async def test_quick_notion_poll_bench_runs_and_reports_one_idle_request(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await asyncio.to_thread(cli, ["--quick", "bench_notion_poll"]) == 0
    out = capsys.readouterr().out
    assert "idle cycle is one request at every size: yes" in out
