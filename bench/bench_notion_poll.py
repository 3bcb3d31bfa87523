"""Idle Notion poll cost against database size (DESIGN §4: one request, whatever the size).

For each size, seed that many task pages in the local Notion API (all in one
minute, like an import), let the poller take them in once, then run three idle
cycles a minute apart and measure the last: requests made and wall time. (The
minute of the import stays inside the overlap window for at most two cycles.)
The baseline is the smallest database measured in the same run; the ratio of
requests must stay 1.0 as the database grows.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

from notion_sync.client import NotionClient
from notion_sync.local_api import FixedClock
from notion_sync.local_api.admin import rich_text, title_value
from notion_sync.local_api.server import LocalNotionServer
from notion_sync.poller import poll_tasks
from notion_sync.schema import StatusOption, setup_notion
from notion_sync.settings import NotionSettings
from orchestrator.state.status import notion_status_options

SIZES = (10, 100, 1000, 3000, 10_000)
QUICK_SIZES = (10, 100)


async def _measure(size: int) -> dict[str, float]:
    server = LocalNotionServer()
    server.knobs.disable_rate_limit()
    clock = FixedClock()
    server.state.clock = clock
    server.start()
    try:
        settings = NotionSettings(base_url=server.base_url, token="bench")  # type: ignore[arg-type]
        async with NotionClient(settings) as client:
            options = [StatusOption(n, c, g) for n, c, g in notion_status_options()]
            setup = await setup_notion(client, server.root_page_id, options)
            server.admin.seed_pages(
                setup.tasks_data_source_id,
                size,
                lambda i: {
                    "Name": title_value(f"Task {i}"),
                    "Status": {"status": {"name": "Draft"}},
                    "Brief": {"rich_text": rich_text("bench")},
                },
            )
            settings = settings.model_copy(
                update={"tasks_data_source_id": setup.tasks_data_source_id}
            )
            # The daemon's cadence: one poll a minute, each passing its own clock.
            first = await poll_tasks(client, settings, cursor=None, fingerprints={}, now=clock())
            prints = dict(first.fingerprints)
            cursor = first.new_cursor
            cycles = []
            for _ in range(3):
                clock.advance(timedelta(minutes=1).total_seconds())
                started = time.perf_counter()
                idle = await poll_tasks(
                    client, settings, cursor=cursor, fingerprints=prints, now=clock()
                )
                cycles.append((idle.requests_made, time.perf_counter() - started))
                cursor = idle.new_cursor
            elapsed = cycles[-1][1]
    finally:
        server.stop()
    return {
        "pages": size,
        "first_poll_requests": first.requests_made,
        "idle_requests_by_cycle": [c[0] for c in cycles],
        "idle_requests": cycles[-1][0],
        "idle_ms": round(elapsed * 1000, 2),
    }


async def main(quick: bool = False) -> None:
    rows = [await _measure(size) for size in (QUICK_SIZES if quick else SIZES)]
    base = rows[0]
    print(f"{'pages':>6} {'first poll req':>15} {'idle req':>9} {'idle ms':>8} {'req ratio':>10}")
    for row in rows:
        ratio = row["idle_requests"] / base["idle_requests"]
        row["idle_request_ratio"] = ratio
        print(
            f"{row['pages']:>6} {row['first_poll_requests']:>15} {row['idle_requests']:>9}"
            f" {row['idle_ms']:>8} {ratio:>10.2f}"
        )
    verdict = all(r["idle_requests"] == 1 for r in rows)
    print(f"idle cycle is one request at every size: {'yes' if verdict else 'NO'}")
    print(json.dumps({"bench": "notion_poll", "rows": rows, "one_request_when_idle": verdict}))
