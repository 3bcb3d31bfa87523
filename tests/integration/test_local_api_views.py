"""Views and view queries behave as a board, a review table and a clips gallery need."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from notion_client import AsyncClient
from notion_client.errors import APIResponseError

from notion_sync.local_api import FixedClock, LocalNotionServer, LocalNotionState
from tests.fixtures.notion import make_notion_client

JSON = dict[str, Any]
STATUSES = ["Queued", "Planning", "Storyboard Ready", "Video Ready", "Done"]
GATES = ["Storyboard Ready", "Video Ready"]


def text(content: str) -> list[JSON]:
    return [{"type": "text", "text": {"content": content}}]


def workspace(server: LocalNotionServer) -> JSON:
    """Tasks (Status, Progress, Cost, Owner) and Videos (Task relation, Thumbnail)."""
    admin = server.admin
    tasks_db, tasks = admin.create_database(
        "Tasks",
        {
            "Name": {"title": {}},
            "Status": {
                "status": {
                    "options": [{"name": n} for n in STATUSES],
                    "groups": [
                        {"name": "To-do", "option_ids": ["Queued"]},
                        {"name": "In progress", "option_ids": STATUSES[1:4]},
                        {"name": "Complete", "option_ids": ["Done"]},
                    ],
                }
            },
            "Progress": {"rich_text": {}},
            "Cost": {"number": {"format": "dollar"}},
            "Owner": {"people": {}},
        },
    )
    videos_db, videos = admin.create_database(
        "Videos",
        {
            "Name": {"title": {}},
            "Clip": {"number": {}},
            "Task": {"relation": {"data_source_id": tasks, "single_property": {}}},
            "Thumbnail": {"files": {}},
        },
    )
    return {"tasks_db": tasks_db, "tasks": tasks, "videos_db": videos_db, "videos": videos}


def add_task(server: LocalNotionServer, ds: str, name: str, status: str) -> str:
    page = server.admin.create_page(
        ds, {"Name": {"title": text(name)}, "Status": {"status": {"name": status}}}
    )
    return str(page["id"])


async def query_all(notion: AsyncClient, view_id: str, page_size: int = 100) -> list[str]:
    first = await notion.views.queries.create(view_id, page_size=page_size)
    ids = [r["id"] for r in first["results"]]
    cursor = first["next_cursor"]
    while cursor is not None:
        more = await notion.views.queries.results(
            view_id, first["id"], start_cursor=cursor, page_size=page_size
        )
        ids += [r["id"] for r in more["results"]]
        cursor = more["next_cursor"]
    return ids


async def test_pipeline_board_groups_tasks_by_status(
    local_notion: LocalNotionServer, notion: AsyncClient
) -> None:
    ws = workspace(local_notion)
    ds = await notion.data_sources.retrieve(ws["tasks"])
    ids = {name: p["id"] for name, p in ds["properties"].items()}
    order = ["Done", "Queued", "Video Ready", "Planning", "Queued", "Storyboard Ready"]
    pages = [add_task(local_notion, ws["tasks"], f"task {i}", s) for i, s in enumerate(order)]
    board = await notion.views.create(
        data_source_id=ws["tasks"],
        database_id=ws["tasks_db"],
        name="Pipeline",
        type="board",
        configuration={
            "type": "board",
            "group_by": {
                "type": "status",
                "property_id": ids["Status"],
                "group_by": "option",
                "sort": {"type": "manual"},
            },
            "properties": [
                {"property_id": ids[name], "visible": True}
                for name in ("Progress", "Cost", "Owner")
            ],
        },
    )
    config = board["configuration"]
    assert config["group_by"]["property_name"] == "Status"
    assert [p["property_name"] for p in config["properties"]] == ["Progress", "Cost", "Owner"]
    got = await query_all(notion, board["id"], page_size=2)
    by_id = dict(zip(pages, order, strict=True))
    # Grouped column by column, in the Status options' order; creation order within one.
    assert [by_id[i] for i in got] == [
        "Queued", "Queued", "Planning", "Storyboard Ready", "Video Ready", "Done",
    ]  # fmt: skip
    assert got[:2] == [pages[1], pages[4]]
    by_group = await notion.views.update(
        board["id"],
        configuration={
            "type": "board",
            "group_by": {"property_id": ids["Status"], "group_by": "group"},
        },
    )
    assert by_group["configuration"]["properties"][0]["property_name"] == "Progress"  # merged
    grouped = [by_id[i] for i in await query_all(notion, board["id"])]
    assert grouped[0] == "Queued"
    assert grouped[-1] == "Done"


async def test_needs_review_table_keeps_gate_statuses_only(
    local_notion: LocalNotionServer, notion: AsyncClient
) -> None:
    ws = workspace(local_notion)
    for i, status in enumerate(STATUSES * 2):
        add_task(local_notion, ws["tasks"], f"task {9 - i}", status)
    view = await notion.views.create(
        data_source_id=ws["tasks"],
        database_id=ws["tasks_db"],
        name="Needs review",
        type="table",
        filter={"or": [{"property": "Status", "status": {"equals": s}} for s in GATES]},
        sorts=[{"property": "Name", "direction": "ascending"}],
    )
    got = await query_all(notion, view["id"])
    titles = [
        local_notion.admin.page(i)["properties"]["Name"]["title"][0]["plain_text"] for i in got
    ]
    statuses = {local_notion.admin.page(i)["properties"]["Status"]["status"]["name"] for i in got}
    assert statuses == set(GATES)
    assert titles == sorted(titles)
    assert len(titles) == 4
    # A reviewer approves one: the next query no longer lists it.
    local_notion.admin.update_page(got[0], {"Status": {"status": {"name": "Done"}}})
    assert await query_all(notion, view["id"]) == got[1:]


async def test_clips_gallery_shows_thumbnails_and_a_board_groups_them_by_task(
    local_notion: LocalNotionServer, notion: AsyncClient
) -> None:
    ws = workspace(local_notion)
    ds = await notion.data_sources.retrieve(ws["videos"])
    ids = {name: p["id"] for name, p in ds["properties"].items()}
    gallery = await notion.views.create(
        data_source_id=ws["videos"],
        database_id=ws["videos_db"],
        name="Clips",
        type="gallery",
        configuration={
            "type": "gallery",
            "cover": {"type": "property", "property_id": ids["Thumbnail"]},
        },
    )
    assert gallery["configuration"]["cover"] == {
        "type": "property",
        "property_id": ids["Thumbnail"],
    }
    # A gallery takes no group_by (GalleryViewConfigRequest); Notion's validator refuses it.
    with pytest.raises(APIResponseError) as info:
        await notion.views.update(
            gallery["id"], configuration={"type": "gallery", "group_by": {"property_id": "Task"}}
        )
    assert info.value.code == "validation_error"
    assert "group_by is not a setting of a gallery view" in str(info.value)
    tasks = [add_task(local_notion, ws["tasks"], f"t{i}", "Video Ready") for i in range(2)]
    clips = [
        local_notion.admin.create_page(
            ws["videos"],
            {"Name": {"title": text(f"clip {n}")}, "Task": {"relation": [{"id": tasks[n % 2]}]}},
        )["id"]
        for n in range(4)
    ]
    board = await notion.views.create(
        data_source_id=ws["videos"],
        database_id=ws["videos_db"],
        name="Clips by task",
        type="board",
        configuration={
            "group_by": {"type": "relation", "property_id": "Task", "sort": {"type": "manual"}},
            "cover": {"type": "property", "property_id": "Thumbnail"},
        },
    )
    assert board["configuration"]["group_by"]["property_id"] == ids["Task"]  # name resolved
    got = await query_all(notion, board["id"])
    groups = [local_notion.admin.page(c)["properties"]["Task"]["relation"][0]["id"] for c in got]
    assert groups == sorted(groups)
    assert sorted(got) == sorted(clips)


async def test_view_query_pages_through_a_cache_that_expires() -> None:
    clock = FixedClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    server = LocalNotionServer(LocalNotionState(clock=clock))
    server.knobs.disable_rate_limit()
    with server:
        notion = make_notion_client(server)
        try:
            ws = workspace(server)
            for i in range(5):
                add_task(server, ws["tasks"], f"t{i}", "Queued")
            (view_id,) = [v["id"] for v in server.admin.views(ws["tasks_db"])]
            query = await notion.views.queries.create(view_id, page_size=2)
            assert query["expires_at"] == "2026-12-01T09:15:00.000+00:00"
            assert (query["total_count"], query["has_more"]) == (5, True)
            add_task(server, ws["tasks"], "late", "Queued")  # the cache does not change
            more = await notion.views.queries.results(
                view_id, query["id"], start_cursor=query["next_cursor"], page_size=10
            )
            assert len(more["results"]) == 3
            assert more["next_cursor"] is None
            clock.advance(15 * 60)
            with pytest.raises(APIResponseError) as info:
                await notion.views.queries.results(view_id, query["id"])
            assert (info.value.status, info.value.code) == (404, "object_not_found")
            fresh = await notion.views.queries.create(view_id)
            assert fresh["total_count"] == 6
        finally:
            await notion.aclose()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"type": "board", "configuration": {"type": "table"}}, "should be `board`"),
        ({"type": "table", "filter": {"property": "Nope", "rich_text": {"equals": "x"}}}, "Nope"),
        ({"type": "calendar"}, "date_property_id"),
        ({"type": "kanban"}, "body.type should be one of"),
        (
            {
                "type": "board",
                "configuration": {"group_by": {"property_id": "Cost", "type": "status"}},
            },
            "should be one of `number`",
        ),
        ({"type": "table", "sorts": [{"property": "Cost"}]}, "direction should be defined"),
    ],
)
async def test_views_refuse_what_notion_refuses(
    local_notion: LocalNotionServer, notion: AsyncClient, body: JSON, words: str
) -> None:
    ws = workspace(local_notion)
    with pytest.raises(APIResponseError) as info:
        await notion.views.create(
            data_source_id=ws["tasks"], database_id=ws["tasks_db"], name="v", **body
        )
    assert (info.value.status, info.value.code) == (400, "validation_error")
    assert words in str(info.value)


async def test_quick_filters_sorts_and_updates(
    local_notion: LocalNotionServer, notion: AsyncClient
) -> None:
    ws = workspace(local_notion)
    ds = await notion.data_sources.retrieve(ws["tasks"])
    status_id = ds["properties"]["Status"]["id"]
    view = await notion.views.create(
        data_source_id=ws["tasks"],
        database_id=ws["tasks_db"],
        name="Mine",
        type="list",
        quick_filters={"Status": {"status": {"equals": "Planning"}}},
        sorts=[{"timestamp": "created_time", "direction": "descending"}],
    )
    assert view["quick_filters"] == {status_id: {"status": {"equals": "Planning"}}}  # keyed by id
    planning = [add_task(local_notion, ws["tasks"], f"p{i}", "Planning") for i in range(2)]
    add_task(local_notion, ws["tasks"], "q", "Queued")
    assert set(await query_all(notion, view["id"])) == set(planning)
    cleared = await notion.views.update(view["id"], quick_filters={"Status": None})
    assert cleared["quick_filters"] is None
    assert len(await query_all(notion, view["id"])) == 3
    with pytest.raises(APIResponseError) as info:  # PATCH takes property sorts only
        await notion.views.update(
            view["id"], sorts=[{"timestamp": "created_time", "direction": "ascending"}]
        )
    assert "body.sorts[0].property should be defined" in str(info.value)
    resorted = await notion.views.update(
        view["id"], sorts=[{"property": "Name", "direction": "descending"}], filter=None
    )
    assert resorted["sorts"] == [{"property": "Name", "direction": "descending"}]


async def test_default_views_positions_linked_databases_and_dashboards(
    local_notion: LocalNotionServer, notion: AsyncClient
) -> None:
    ws = workspace(local_notion)
    (default,) = local_notion.admin.views(ws["tasks_db"])
    assert (default["name"], default["type"], default["data_source_id"]) == (
        "Default view",
        "table",
        ws["tasks"],
    )
    first = await notion.views.create(
        data_source_id=ws["tasks"], database_id=ws["tasks_db"], name="First", type="table",
        position={"type": "start"},
    )  # fmt: skip
    middle = await notion.views.create(
        data_source_id=ws["tasks"], database_id=ws["tasks_db"], name="Middle", type="list",
        position={"type": "after_view", "view_id": first["id"]},
    )  # fmt: skip
    listed = await notion.views.list(database_id=ws["tasks_db"])
    assert [v["id"] for v in listed["results"]] == [first["id"], middle["id"], default["id"]]
    linked = await notion.views.create(
        data_source_id=ws["tasks"],
        name="Tasks here",
        type="board",
        create_database={"parent": {"type": "page_id", "page_id": local_notion.root_page_id}},
    )
    linked_db = linked["parent"]["database_id"]
    assert linked_db != ws["tasks_db"]
    block = await notion.blocks.retrieve(linked_db)
    assert block["type"] == "child_database"
    by_source = await notion.views.list(data_source_id=ws["tasks"])
    assert linked["id"] in [v["id"] for v in by_source["results"]]
    dashboard = await notion.views.create(
        data_source_id=ws["tasks"], database_id=ws["tasks_db"], name="Overview", type="dashboard"
    )
    assert dashboard["data_source_id"] is None
    widget = await notion.views.create(
        data_source_id=ws["tasks"], view_id=dashboard["id"], name="Costs", type="chart",
        configuration={"type": "chart", "chart_type": "number", "value": {"aggregator": "count"}},
    )  # fmt: skip
    assert widget["dashboard_view_id"] == dashboard["id"]
    rows = (await notion.views.retrieve(dashboard["id"]))["configuration"]["rows"]
    assert [w["view_id"] for w in rows[0]["widgets"]] == [widget["id"]]
    with pytest.raises(APIResponseError):
        await notion.views.queries.create(dashboard["id"])
    await notion.views.delete(dashboard["id"])
    with pytest.raises(APIResponseError) as info:
        await notion.views.retrieve(widget["id"])
    assert info.value.status == 404


async def test_views_survive_a_restart(tmp_path: Any) -> None:
    state_file = tmp_path / "notion.json"
    with LocalNotionServer(state_file=state_file) as server:
        server.knobs.disable_rate_limit()
        ws = workspace(server)
        notion = make_notion_client(server)
        try:
            view = await notion.views.create(
                data_source_id=ws["tasks"],
                database_id=ws["tasks_db"],
                name="Pipeline",
                type="board",
            )
        finally:
            await notion.aclose()
    with LocalNotionServer(state_file=state_file) as again:
        notion = make_notion_client(again)
        try:
            got = await notion.views.retrieve(view["id"])
        finally:
            await notion.aclose()
    assert got["configuration"]["group_by"]["property_name"] == "Status"  # defaulted board
