"""notion-client against the local Notion server: every route, real wire shapes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import httpx
import pytest
from notion_client import AsyncClient
from notion_client.errors import APIResponseError

from notion_sync.local_api import FixedClock, LocalNotionServer
from tests.fixtures.notion import make_notion_client, sample_schema

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$")


def text(content: str) -> list[dict[str, object]]:
    return [{"type": "text", "text": {"content": content}}]


async def make_tasks(notion: AsyncClient, server: LocalNotionServer, **kw: bool) -> str:
    db = await notion.databases.create(
        parent={"type": "page_id", "page_id": server.root_page_id},
        title=text("Tasks"),
        initial_data_source={"properties": sample_schema(**kw)},
    )
    return str(db["data_sources"][0]["id"])


async def test_users_me_list_and_retrieve(local_notion: LocalNotionServer, notion: AsyncClient):
    me = await notion.users.me()
    assert me["object"] == "user"
    assert me["type"] == "bot"
    assert UUID_RE.match(me["id"])
    assert me["bot"]["workspace_name"] == "reelgate workspace"
    users = await notion.users.list()
    names = {u["name"] for u in users["results"]}
    assert {"Rita Reviewer", "Cory Creator"} <= names
    assert users["type"] == "user"
    assert users["user"] == {}
    assert users["has_more"] is False
    rita = await notion.users.retrieve(local_notion.state.reviewer_id)
    assert rita["type"] == "person"
    assert rita["person"]["email"] == "rita@example.com"


async def test_search_finds_root_page_and_data_sources(
    local_notion: LocalNotionServer, notion: AsyncClient
):
    found = await notion.search(query="reelgate")
    assert [r["id"] for r in found["results"]] == [local_notion.root_page_id]
    ds_id = await make_tasks(notion, local_notion)
    only_ds = await notion.search(filter={"property": "object", "value": "data_source"})
    assert [r["id"] for r in only_ds["results"]] == [ds_id]
    assert only_ds["results"][0]["object"] == "data_source"
    pages = await notion.search(query="", filter={"property": "object", "value": "page"})
    assert all(r["object"] == "page" for r in pages["results"])


async def test_database_and_data_source_shapes(
    local_notion: LocalNotionServer, notion: AsyncClient
):
    ds_id = await make_tasks(notion, local_notion)
    ds = await notion.data_sources.retrieve(ds_id)
    assert ds["object"] == "data_source"
    db_id = ds["parent"]["database_id"]
    assert ds["parent"] == {"type": "database_id", "database_id": db_id}
    assert ds["database_parent"] == {"type": "page_id", "page_id": local_notion.root_page_id}
    db = await notion.databases.retrieve(db_id)
    assert db["object"] == "database"
    assert db["data_sources"] == [{"id": ds_id, "name": "Tasks"}]
    status = ds["properties"]["Status"]
    assert status["type"] == "status"
    groups = {g["name"]: g for g in status["status"]["groups"]}
    assert list(groups) == ["To-do", "In progress", "Complete"]
    ids = {o["name"]: o["id"] for o in status["status"]["options"]}
    assert groups["To-do"]["option_ids"] == [ids["Draft"], ids["Queued"]]
    assert groups["Complete"]["option_ids"] == [ids["Done"]]
    assert ds["properties"]["Name"]["id"] == "title"
    assert ds["properties"]["Clips"]["number"] == {"format": "number"}
    for name, prop in ds["properties"].items():
        assert prop["name"] == name
        assert prop["type"] in prop
    # The database shows up as a child_database block of its parent page.
    children = await notion.blocks.children.list(local_notion.root_page_id)
    assert [(b["type"], b["id"]) for b in children["results"]] == [("child_database", db_id)]
    assert children["results"][0]["child_database"] == {"title": "Tasks"}


async def test_patch_data_source_adds_renames_and_extends_options(
    local_notion: LocalNotionServer, notion: AsyncClient
):
    ds_id = await make_tasks(notion, local_notion, status_as_select=True)
    before = await notion.data_sources.retrieve(ds_id)
    brief_id = before["properties"]["Brief"]["id"]
    after = await notion.data_sources.update(
        ds_id,
        properties={
            "Brief": {"name": "Creative brief"},
            "Error Log": {"rich_text": {}},
            "Status": {"select": {"options": [{"name": "Cancelled", "color": "red"}]}},
        },
    )
    props = after["properties"]
    assert "Brief" not in props
    assert props["Creative brief"]["id"] == brief_id
    assert props["Error Log"]["type"] == "rich_text"
    names = [o["name"] for o in props["Status"]["select"]["options"]]
    assert names == ["Draft", "Queued", "Planning", "Done", "Cancelled"]
    removed = await notion.data_sources.update(ds_id, properties={"Error Log": None})
    assert "Error Log" not in removed["properties"]


async def test_page_create_retrieve_update_and_shape(
    local_notion: LocalNotionServer, notion: AsyncClient
):
    ds_id = await make_tasks(notion, local_notion)
    rita = local_notion.state.reviewer_id
    page = await notion.pages.create(
        parent={"type": "data_source_id", "data_source_id": ds_id},
        properties={
            "Name": {"title": text("Launch video")},
            "Status": {"status": {"name": "Queued"}},
            "Brief": {"rich_text": [{"text": {"content": "site", "link": {"url": "https://x.y"}}}]},
            "Clips": {"number": 12},
            "Tags": {"multi_select": [{"name": "promo"}, {"name": "new-tag"}]},
            "Due": {"date": {"start": "2026-12-01"}},
            "Owner": {"people": [{"id": rita}]},
            "Link": {"url": "https://example.com"},
            "Auto": {"checkbox": True},
        },
    )
    for key in [
        "object",
        "id",
        "created_time",
        "last_edited_time",
        "created_by",
        "last_edited_by",
        "cover",
        "icon",
        "parent",
        "archived",
        "in_trash",
        "properties",
        "url",
        "public_url",
    ]:
        assert key in page
    db_id = (await notion.data_sources.retrieve(ds_id))["parent"]["database_id"]
    assert page["parent"] == {
        "type": "data_source_id",
        "data_source_id": ds_id,
        "database_id": db_id,
    }
    props = page["properties"]
    assert all("id" in v and "type" in v for v in props.values())
    title = props["Name"]["title"][0]
    assert title == {
        "type": "text",
        "text": {"content": "Launch video", "link": None},
        "annotations": {
            "bold": False,
            "italic": False,
            "strikethrough": False,
            "underline": False,
            "code": False,
            "color": "default",
        },
        "plain_text": "Launch video",
        "href": None,
    }
    assert props["Brief"]["rich_text"][0]["href"] == "https://x.y"
    assert props["Status"]["status"]["name"] == "Queued"
    assert [t["name"] for t in props["Tags"]["multi_select"]] == ["promo", "new-tag"]
    assert props["Due"]["date"] == {"start": "2026-12-01", "end": None, "time_zone": None}
    assert props["Owner"]["people"][0]["id"] == rita
    assert props["Created"]["created_time"] == page["created_time"]
    assert props["Editor"]["last_edited_by"]["type"] == "bot"
    assert props["Media"]["files"] == []
    assert props["Auto"]["checkbox"] is True
    assert page["url"].startswith("https://www.notion.so/")
    assert page["public_url"] is None

    got = await notion.pages.retrieve(page["id"])
    assert got["properties"] == props
    updated = await notion.pages.update(page["id"], properties={"Clips": {"number": None}})
    assert updated["properties"]["Clips"]["number"] is None
    trashed = await notion.pages.update(page["id"], in_trash=True)
    assert trashed["in_trash"] is True
    assert trashed["archived"] is True
    restored = await notion.pages.update(page["id"], archived=False)
    assert restored["in_trash"] is False


async def test_new_row_gets_default_status_and_parent_forms(
    local_notion: LocalNotionServer, notion: AsyncClient
):
    ds_id = await make_tasks(notion, local_notion)
    db_id = (await notion.data_sources.retrieve(ds_id))["parent"]["database_id"]
    by_db = await notion.pages.create(parent={"database_id": db_id}, properties={})
    assert by_db["parent"]["data_source_id"] == ds_id
    assert by_db["properties"]["Status"]["status"]["name"] == "Draft"
    child = await notion.pages.create(
        parent={"page_id": local_notion.root_page_id},
        properties={"title": {"title": text("Notes")}},
        children=[{"paragraph": {"rich_text": text("hello")}}],
    )
    assert child["parent"] == {"type": "page_id", "page_id": local_notion.root_page_id}
    assert list(child["properties"]) == ["title"]
    blocks = await notion.blocks.children.list(child["id"])
    assert blocks["results"][0]["paragraph"]["rich_text"][0]["plain_text"] == "hello"
    root_children = await notion.blocks.children.list(local_notion.root_page_id)
    assert root_children["results"][-1]["child_page"] == {"title": "Notes"}


async def test_property_item_pagination(local_notion: LocalNotionServer, notion: AsyncClient):
    tasks = await make_tasks(notion, local_notion)
    db = await notion.databases.create(
        parent={"page_id": local_notion.root_page_id},
        title=text("Videos"),
        initial_data_source={
            "properties": {
                "Clip": {"title": {}},
                "Task": {"relation": {"data_source_id": tasks, "single_property": {}}},
            }
        },
    )
    videos = db["data_sources"][0]["id"]
    targets = local_notion.admin.seed_pages(tasks, 30, lambda i: {"Name": {"title": text(f"t{i}")}})
    page = await notion.pages.create(
        parent={"data_source_id": videos},
        properties={
            "Clip": {"title": text("a") + text("b")},
            "Task": {"relation": [{"id": t} for t in targets]},
        },
    )
    rel = page["properties"]["Task"]
    assert len(rel["relation"]) == 25
    assert rel["has_more"] is True
    rel_id = rel["id"]
    first = await notion.pages.properties.retrieve(page["id"], rel_id, page_size=20)
    assert first["object"] == "list"
    assert first["type"] == "property_item"
    assert first["property_item"]["type"] == "relation"
    assert first["property_item"]["id"] == rel_id
    assert first["has_more"] is True
    assert first["property_item"]["next_url"]
    assert first["results"][0] == {
        "object": "property_item",
        "id": rel_id,
        "type": "relation",
        "relation": {"id": targets[0]},
    }
    second = await notion.pages.properties.retrieve(
        page["id"], rel_id, start_cursor=first["next_cursor"]
    )
    got = [r["relation"]["id"] for r in first["results"] + second["results"]]
    assert got == targets
    assert second["has_more"] is False
    title = await notion.pages.properties.retrieve(page["id"], "title")
    assert [r["title"]["plain_text"] for r in title["results"]] == ["a", "b"]
    number_db = await make_tasks(notion, local_notion)
    row = local_notion.admin.create_page(number_db, {"Clips": {"number": 4}})
    clips_id = row["properties"]["Clips"]["id"]
    simple = await notion.pages.properties.retrieve(row["id"], clips_id)
    assert UUID_RE.match(simple.pop("request_id"))  # every Notion object answer carries one
    assert simple == {"object": "property_item", "id": clips_id, "type": "number", "number": 4}


async def test_blocks_append_list_paginate_and_after(
    local_notion: LocalNotionServer, notion: AsyncClient
):
    page = await notion.pages.create(
        parent={"page_id": local_notion.root_page_id}, properties={"title": {"title": text("P")}}
    )
    appended = await notion.blocks.children.append(
        page["id"],
        children=[
            {"type": "heading_2", "heading_2": {"rich_text": text("Clips")}},
            {"type": "divider", "divider": {}},
            {
                "type": "toggle",
                "toggle": {
                    "rich_text": text("details"),
                    "children": [{"paragraph": {"rich_text": text("nested")}}],
                },
            },
        ],
    )
    assert appended["object"] == "list"
    assert appended["type"] == "block"
    assert [b["type"] for b in appended["results"]] == ["heading_2", "divider", "toggle"]
    toggle = appended["results"][2]
    assert toggle["has_children"] is True
    nested = await notion.blocks.children.list(toggle["id"])
    assert nested["results"][0]["parent"] == {"type": "block_id", "block_id": toggle["id"]}
    await notion.blocks.children.append(
        page["id"],
        children=[{"paragraph": {"rich_text": text("between")}}],
        after=appended["results"][0]["id"],
    )
    listed = await notion.blocks.children.list(page["id"])
    assert [b["type"] for b in listed["results"]] == ["heading_2", "paragraph", "divider", "toggle"]
    await notion.blocks.children.append(
        page["id"], children=[{"paragraph": {"rich_text": text(str(i))}} for i in range(100)]
    )
    first = await notion.blocks.children.list(page["id"], page_size=60)
    assert len(first["results"]) == 60
    assert first["has_more"] is True
    rest = await notion.blocks.children.list(page["id"], start_cursor=first["next_cursor"])
    assert len(rest["results"]) == 44
    assert rest["next_cursor"] is None
    block = await notion.blocks.retrieve(appended["results"][1]["id"])
    assert block["type"] == "divider"
    deleted = await notion.blocks.delete(block["id"])
    assert deleted["in_trash"] is True
    after_delete = await notion.blocks.children.list(page["id"], page_size=5)
    assert block["id"] not in [b["id"] for b in after_delete["results"]]


async def test_comments_with_mention_and_reviewer_identity(
    local_notion: LocalNotionServer, notion: AsyncClient
):
    page = await notion.pages.create(
        parent={"page_id": local_notion.root_page_id}, properties={"title": {"title": text("P")}}
    )
    rita = local_notion.state.reviewer_id
    comment = await notion.comments.create(
        parent={"page_id": page["id"]},
        rich_text=[
            {"type": "mention", "mention": {"type": "user", "user": {"id": rita}}},
            {"type": "text", "text": {"content": " status moved back"}},
        ],
    )
    assert comment["object"] == "comment"
    assert UUID_RE.match(comment["discussion_id"])
    mention = comment["rich_text"][0]
    assert mention["type"] == "mention"
    assert mention["mention"] == {"type": "user", "user": {"object": "user", "id": rita}}
    assert mention["plain_text"] == "@Rita Reviewer"
    assert mention["href"] is None
    as_rita = make_notion_client(local_notion, user="Rita Reviewer")
    try:
        reply = await as_rita.comments.create(
            discussion_id=comment["discussion_id"], rich_text=text("ok")
        )
        edited = await as_rita.pages.update(page["id"], properties={"title": {"title": text("Q")}})
    finally:
        await as_rita.aclose()
    assert reply["created_by"]["id"] == rita
    assert edited["last_edited_by"]["id"] == rita
    listed = await notion.comments.list(block_id=page["id"])
    assert [c["id"] for c in listed["results"]] == [comment["id"], reply["id"]]
    assert listed["type"] == "comment"


async def test_minute_rounding_with_controlled_clock(
    local_notion: LocalNotionServer, notion: AsyncClient
):
    clock = FixedClock(datetime(2026, 11, 21, 10, 42, 37, 123456, tzinfo=UTC))
    local_notion.state.clock = clock
    page = await notion.pages.create(
        parent={"page_id": local_notion.root_page_id}, properties={"title": {"title": text("P")}}
    )
    assert page["created_time"] == "2026-11-21T10:42:00.000Z"
    assert TIME_RE.match(page["last_edited_time"])
    clock.advance(seconds=50)  # 10:43:27
    edited = await notion.pages.update(page["id"], properties={"title": {"title": text("Q")}})
    assert edited["created_time"] == "2026-11-21T10:42:00.000Z"
    assert edited["last_edited_time"] == "2026-11-21T10:43:00.000Z"


async def test_auth_missing_token_and_required_token():
    with LocalNotionServer(token="secret") as server:
        server.knobs.disable_rate_limit()
        async with httpx.AsyncClient(base_url=server.base_url) as raw:
            missing = await raw.get("/v1/users/me", headers={"Notion-Version": "2025-09-03"})
        assert missing.status_code == 401
        assert missing.json()["code"] == "unauthorized"
        wrong = make_notion_client(server, auth="nope")
        right = make_notion_client(server, auth="secret")
        try:
            with pytest.raises(APIResponseError) as info:
                await wrong.users.me()
            assert info.value.status == 401
            assert info.value.code == "unauthorized"
            assert (await right.users.me())["type"] == "bot"
        finally:
            await wrong.aclose()
            await right.aclose()


async def test_not_found_invalid_json_and_unknown_route(
    local_notion: LocalNotionServer, notion: AsyncClient
):
    missing = "5b1d6b8e-0000-4000-8000-000000000000"
    for call in (
        notion.pages.retrieve(missing),
        notion.data_sources.retrieve(missing),
        notion.databases.retrieve(missing),
        notion.blocks.children.list(missing),
        notion.file_uploads.retrieve(missing),
    ):
        with pytest.raises(APIResponseError) as info:
            await call
        assert info.value.status == 404
        assert info.value.code == "object_not_found"
        body = json.loads(info.value.body)
        assert body["object"] == "error"
        assert body["request_id"] == info.value.request_id
    headers = {"Authorization": "Bearer t", "Notion-Version": "2025-09-03"}
    async with httpx.AsyncClient(base_url=local_notion.base_url, headers=headers) as raw:
        bad = await raw.post(
            "/v1/pages", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert bad.status_code == 400
        assert bad.json()["code"] == "invalid_json"
        nowhere = await raw.get("/v1/nowhere")
        assert nowhere.status_code == 400
        assert nowhere.json()["code"] == "invalid_request_url"


async def test_request_log_records_every_request(
    local_notion: LocalNotionServer, notion: AsyncClient
):
    await notion.users.me()
    await notion.search(query="x")
    with pytest.raises(APIResponseError):
        await notion.pages.retrieve("5b1d6b8e-0000-4000-8000-000000000000")
    log = local_notion.request_log
    assert log.count() == 3
    assert log.count(method="POST", path_prefix="/v1/search") == 1
    assert log.count(status=404) == 1
    entry = log.entries(path_prefix="/v1/users/me")[0]
    assert entry.status == 200
    assert entry.duration >= 0
    assert entry.user_id


async def test_dual_relation_is_mirrored(local_notion: LocalNotionServer, notion: AsyncClient):
    tasks = await make_tasks(notion, local_notion)
    db = await notion.databases.create(
        parent={"page_id": local_notion.root_page_id},
        title=text("Videos"),
        initial_data_source={
            "properties": {
                "Clip": {"title": {}},
                "Task": {"relation": {"data_source_id": tasks, "dual_property": {}}},
            }
        },
    )
    videos = db["data_sources"][0]["id"]
    task_schema = (await notion.data_sources.retrieve(tasks))["properties"]
    synced = task_schema["Videos"]
    assert synced["type"] == "relation"
    assert synced["relation"]["data_source_id"] == videos
    assert synced["relation"]["type"] == "dual_property"
    task = local_notion.admin.create_page(tasks, {"Name": {"title": text("t")}})
    clip = await notion.pages.create(
        parent={"data_source_id": videos},
        properties={"Task": {"relation": [{"id": task["id"]}]}},
    )
    mirrored = await notion.pages.retrieve(task["id"])
    assert mirrored["properties"]["Videos"]["relation"] == [{"id": clip["id"]}]
    await notion.pages.update(clip["id"], properties={"Task": {"relation": []}})
    cleared = await notion.pages.retrieve(task["id"])
    assert cleared["properties"]["Videos"]["relation"] == []
