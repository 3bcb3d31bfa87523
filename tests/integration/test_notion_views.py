"""setup-notion's views, and the board's status labels, against the local Notion API.

Views are created once (found again by name), `views.query` on the Pipeline board
answers the tasks column by column, and the Status options are checked against the
labels in use: missing ones stop the daemon with one message, others are advice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from notion_client import AsyncClient
from typer.testing import CliRunner

from notion_sync.client import NotionClient
from notion_sync.errors import NotionPermanentError
from notion_sync.local_api.admin import title_value
from notion_sync.local_api.server import LocalNotionServer
from notion_sync.schema import SetupResult, setup_notion
from notion_sync.settings import NotionSettings
from notion_sync.views import CLIPS_VIEW, NEEDS_REVIEW_VIEW, PIPELINE_VIEW
from orchestrator.channels import parse_channels
from orchestrator.cli import app
from orchestrator.daemon.runtime import build_runtime, prepare
from orchestrator.notion_setup import status_options
from orchestrator.state.status import WAITING_ON_HUMAN, Status
from tests.fixtures.labels import InstallLabels
from tests.fixtures.pipeline import TOKEN, pipeline_config

JSON = dict[str, Any]
CUSTOM = {"video_ready": "Videos Ready", "keyframes_ready": "Assets Ready"}


def settings_for(server: LocalNotionServer, setup: SetupResult | None = None) -> NotionSettings:
    return NotionSettings(
        base_url=server.base_url,
        token=TOKEN,  # type: ignore[arg-type]
        requests_per_second=1000.0,
        tasks_data_source_id=setup.tasks_data_source_id if setup else "",
        videos_data_source_id=setup.videos_data_source_id if setup else "",
    )


async def setup(server: LocalNotionServer) -> SetupResult:
    async with NotionClient(settings_for(server)) as client:
        return await setup_notion(client, server.root_page_id, status_options())


def views_named(server: LocalNotionServer, database_id: str) -> dict[str, JSON]:
    return {v["name"]: v for v in server.admin.views(database_id)}


async def query_view(notion: AsyncClient, view_id: str) -> list[str]:
    first = await notion.views.queries.create(view_id, page_size=3)
    ids = [r["id"] for r in first["results"]]
    cursor = first["next_cursor"]
    while cursor is not None:
        more = await notion.views.queries.results(
            view_id, first["id"], start_cursor=cursor, page_size=3
        )
        ids += [r["id"] for r in more["results"]]
        cursor = more["next_cursor"]
    return ids


def add_task(server: LocalNotionServer, ds: str, name: str, status: str) -> str:
    page = server.admin.create_page(
        ds, {"Name": title_value(name), "Status": {"status": {"name": status}}}
    )
    return str(page["id"])


async def test_setup_creates_three_views_once_and_the_board_groups_by_status(
    local_notion: LocalNotionServer, notion: AsyncClient
) -> None:
    first = await setup(local_notion)
    assert {
        "Tasks view 'Pipeline'",
        "Tasks view 'Needs review'",
        "Videos view 'Clips'",
    } <= set(first.created)
    tasks = views_named(local_notion, first.tasks_database_id)
    videos = views_named(local_notion, first.videos_database_id)
    assert {PIPELINE_VIEW, NEEDS_REVIEW_VIEW} <= set(tasks)
    assert CLIPS_VIEW in videos
    count = len(local_notion.state.views)

    again = await setup(local_notion)
    assert again.created == ()
    assert again.warnings == ()
    assert len(local_notion.state.views) == count

    # The board as Notion answers it: grouped by Status, cards show Progress, Cost, Owner.
    board = await notion.views.retrieve(tasks[PIPELINE_VIEW]["id"])
    assert board["type"] == "board"
    assert board["configuration"]["group_by"]["property_name"] == "Status"
    cards = [p["property_name"] for p in board["configuration"]["properties"]]
    assert cards == ["Progress", "Cost", "Owner"]
    gallery = await notion.views.retrieve(videos[CLIPS_VIEW]["id"])
    assert gallery["type"] == "gallery"
    thumbnail = gallery["configuration"]["cover"]
    assert thumbnail["type"] == "property"
    videos_ds = await notion.data_sources.retrieve(first.videos_data_source_id)
    assert thumbnail["property_id"] == videos_ds["properties"]["Thumbnail"]["id"]

    ds = first.tasks_data_source_id
    order = ["Done", "Video Ready", "Queued", "Draft", "Failed", "Video Ready", "Planning"]
    pages = {add_task(local_notion, ds, f"task {i}", s): s for i, s in enumerate(order)}
    got = [pages[i] for i in await query_view(notion, board["id"])]
    # Column by column, in the pipeline's order (each label's tasks together).
    labels = [s.label for s in Status]
    assert got == sorted(order, key=labels.index)

    review = await query_view(notion, tasks[NEEDS_REVIEW_VIEW]["id"])
    waiting = {s.label for s in WAITING_ON_HUMAN}
    assert sorted(pages[i] for i in review) == sorted(s for s in order if s in waiting)
    assert {"Video Ready", "Failed"} <= waiting


def test_check_notion_reports_a_missing_view_as_advice(
    local_notion: LocalNotionServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import asyncio

    result = asyncio.run(setup(local_notion))
    clips = views_named(local_notion, result.videos_database_id)[CLIPS_VIEW]
    local_notion.state.views.pop(clips["id"])
    local_notion.state.view_tabs[result.videos_database_id].remove(clips["id"])
    _cli_env(monkeypatch, tmp_path, local_notion, result)

    check = CliRunner().invoke(app, ["check-notion"])
    assert check.exit_code == 0, check.output
    assert 'advice: Videos: no "Clips" view' in check.stdout
    assert "reelgate setup-notion" in check.stdout
    assert "schema OK" in check.stdout


def _cli_env(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    server: LocalNotionServer,
    setup: SetupResult | None = None,
    channels: str = "",
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REELGATE_NOTION_BASE_URL", server.base_url)
    monkeypatch.setenv("REELGATE_NOTION_TOKEN", TOKEN)
    monkeypatch.setenv("REELGATE_NOTION_REQUESTS_PER_SECOND", "1000")
    if setup is not None:
        monkeypatch.setenv("REELGATE_NOTION_TASKS_DATA_SOURCE_ID", setup.tasks_data_source_id)
        monkeypatch.setenv("REELGATE_NOTION_VIDEOS_DATA_SOURCE_ID", setup.videos_data_source_id)
    if channels:
        path = tmp_path / "channels.toml"
        path.write_text(channels, encoding="utf-8")
        monkeypatch.setenv("REELGATE_CHANNELS_FILE", str(path))


STATUSES_TOML = """
[statuses]
video_ready = "Videos Ready"
keyframes_ready = "Assets Ready"
"""


def test_setup_notion_creates_the_mapped_labels_and_check_notion_verifies_them(
    local_notion: LocalNotionServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _cli_env(monkeypatch, tmp_path, local_notion, channels=STATUSES_TOML)
    runner = CliRunner()
    made = runner.invoke(app, ["setup-notion", "--parent-page", local_notion.root_page_id])
    assert made.exit_code == 0, made.output
    for line in made.stdout.splitlines():
        key, _, value = line.partition("=")
        monkeypatch.setenv(key, value)
    tasks_ds = made.stdout.splitlines()[0].partition("=")[2]
    (status,) = [
        p
        for p in local_notion.state.data_sources[tasks_ds]["props"].values()
        if p["name"] == "Status"
    ]
    names = [o["name"] for o in status["config"]["options"]]
    assert "Videos Ready" in names
    assert "Assets Ready" in names
    assert "Video Ready" not in names
    assert "Keyframes Ready" not in names
    assert names[names.index("Assets Ready") + 1] == "Keyframes Approved"  # pipeline order
    # The Needs review view filters on the board's own labels.
    (review,) = [
        v
        for v in local_notion.admin.views(status_db(local_notion, tasks_ds))
        if v["name"] == NEEDS_REVIEW_VIEW
    ]
    filtered = [f["status"]["equals"] for f in review["filter"]["or"]]
    assert "Videos Ready" in filtered
    assert "Assets Ready" in filtered

    assert runner.invoke(app, ["check-notion"]).exit_code == 0
    # The same board read with the default labels: two labels it does not have.
    monkeypatch.delenv("REELGATE_CHANNELS_FILE")
    check = runner.invoke(app, ["check-notion"])
    assert check.exit_code == 1
    assert check.stdout.count("\n- ") == 1  # one problem naming both labels
    assert '"Video Ready" (video_ready)' in check.stdout
    assert '"Keyframes Ready" (keyframes_ready)' in check.stdout
    assert "[statuses]" in check.stdout
    # ... and the board's own two are advice: unmapped, and what to do about them.
    assert 'advice: Tasks: Status options "Assets Ready", "Videos Ready"' in check.stdout


def status_db(server: LocalNotionServer, ds_id: str) -> str:
    return str(server.state.data_sources[ds_id]["database_id"])


async def test_a_board_whose_labels_differ_fails_once_at_start(
    tmp_path: Path, local_notion: LocalNotionServer, status_labels: InstallLabels
) -> None:
    result = await setup(local_notion)  # the default labels
    channels = parse_channels(STATUSES_TOML, "channels.toml")
    config = pipeline_config(
        tmp_path, local_notion, result.tasks_data_source_id, result.videos_data_source_id
    )
    runtime = await build_runtime(config, channels=channels)
    try:
        with pytest.raises(NotionPermanentError) as info:
            await prepare(runtime)
    finally:
        await runtime.close()
    message = str(info.value)
    assert "(1 problems)" in message
    assert '"Assets Ready" (keyframes_ready), "Videos Ready" (video_ready)' in message
    assert "[statuses]" in message
    assert Status.VIDEO_READY.label == "Videos Ready"  # the channels file's labels were installed


async def test_duplicate_options_on_the_board_are_a_problem(
    local_notion: LocalNotionServer,
) -> None:
    from notion_sync.schema import check_schema
    from orchestrator.notion_setup import label_mapping

    result = await setup(local_notion)
    settings = settings_for(local_notion, result)
    async with NotionClient(settings) as client:
        await client.update_data_source(
            result.tasks_data_source_id,
            {"properties": {"Status": {"status": {"options": [{"name": "video  ready"}]}}}},
        )
        report = await check_schema(client, settings, status_labels=label_mapping())
    assert len(report.problems) == 1
    assert '"Video Ready", "video  ready"' in report.problems[0]
    assert "cannot tell them apart" in report.problems[0]
