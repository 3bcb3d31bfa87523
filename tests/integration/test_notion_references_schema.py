"""The References property is optional: advised by check-notion, added by setup-notion."""

from __future__ import annotations

from pydantic import SecretStr

from notion_sync.client import NotionClient
from notion_sync.local_api.server import LocalNotionServer
from notion_sync.schema import SetupResult, StatusOption, check_schema, setup_notion
from notion_sync.settings import NotionSettings
from orchestrator.state.status import notion_status_options

OPTIONS = [StatusOption(name, colour, group) for name, colour, group in notion_status_options()]
ADVICE = (
    'Tasks: property "References" is missing — add a Files & media property named '
    '"References" (optional; `reelgate setup-notion` adds it)'
)


def make_settings(server: LocalNotionServer) -> NotionSettings:
    return NotionSettings(  # type: ignore[call-arg]
        _env_file=None,
        base_url=server.base_url,
        token=SecretStr("test-token"),
        requests_per_second=1000.0,
        retry_backoff_s=0.01,
    )


async def _setup(server: LocalNotionServer) -> tuple[NotionSettings, SetupResult]:
    base = make_settings(server)
    async with NotionClient(base) as client:
        setup = await setup_notion(client, server.root_page_id, OPTIONS)
    settings = base.model_copy(
        update={
            "tasks_data_source_id": setup.tasks_data_source_id,
            "videos_data_source_id": setup.videos_data_source_id,
        }
    )
    return settings, setup


async def test_setup_creates_references_and_an_older_board_gets_it_added(
    local_notion: LocalNotionServer,
) -> None:
    settings, setup = await _setup(local_notion)
    async with NotionClient(settings) as client:
        report = await check_schema(client, settings)
        assert report.tasks_properties["References"]["type"] == "files"
        assert report.problems == []
        assert ADVICE not in report.advice

        # A board made before References: it works (advice only) ...
        await client.update_data_source(
            setup.tasks_data_source_id, {"properties": {"References": None}}
        )
        older = await check_schema(client, settings)
        assert "References" not in older.tasks_properties
        assert older.problems == []
        assert ADVICE in older.advice

        # ... and a second setup-notion adds it.
        again = await setup_notion(client, local_notion.root_page_id, OPTIONS)
        assert 'Tasks property "References"' in again.created
        assert (await check_schema(client, settings)).advice == report.advice


async def test_a_mistyped_references_property_is_advice_not_a_problem(
    local_notion: LocalNotionServer,
) -> None:
    settings, setup = await _setup(local_notion)
    async with NotionClient(settings) as client:
        await client.update_data_source(
            setup.tasks_data_source_id, {"properties": {"References": {"rich_text": {}}}}
        )
        report = await check_schema(client, settings)
    assert report.problems == []
    assert (
        'Tasks: property "References" is a Text property but must be Files & media — change '
        "its type to Files & media (until then it is ignored)"
    ) in report.advice
