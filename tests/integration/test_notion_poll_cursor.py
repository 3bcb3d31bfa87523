"""After a bulk edit, idle polls go back to one request (the cursor moves on)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from notion_sync.client import NotionClient
from notion_sync.local_api import FixedClock
from notion_sync.local_api.admin import title_value
from notion_sync.local_api.server import LocalNotionServer
from notion_sync.poller import poll_tasks
from notion_sync.schema import StatusOption, setup_notion
from notion_sync.settings import NotionSettings
from orchestrator.state.status import notion_status_options

pytestmark = pytest.mark.timeout(120)


async def test_a_bulk_edited_minute_leaves_the_window(local_notion: LocalNotionServer) -> None:
    clock = FixedClock()
    local_notion.state.clock = clock
    settings = NotionSettings(
        base_url=local_notion.base_url,
        token="t",  # type: ignore[arg-type]
        requests_per_second=100,
    )
    async with NotionClient(settings) as client:
        options = [StatusOption(n, c, g) for n, c, g in notion_status_options()]
        setup = await setup_notion(client, local_notion.root_page_id, options)
        settings = settings.model_copy(update={"tasks_data_source_id": setup.tasks_data_source_id})
        local_notion.admin.seed_pages(
            setup.tasks_data_source_id,
            250,
            lambda i: {"Name": title_value(f"T{i}"), "Status": {"status": {"name": "Draft"}}},
        )
        first = await poll_tasks(client, settings, cursor=None, fingerprints={}, now=clock())
        assert first.requests_made == 3
        prints, cursor, costs = dict(first.fingerprints), first.new_cursor, []
        for _ in range(4):
            clock.advance(timedelta(minutes=1).total_seconds())
            cycle = await poll_tasks(
                client, settings, cursor=cursor, fingerprints=prints, now=clock()
            )
            assert cycle.changed == []
            costs.append(cycle.requests_made)
            cursor = cycle.new_cursor
    assert costs[-2:] == [1, 1]
