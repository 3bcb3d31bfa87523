"""Every public method of notion-client's endpoint classes, against the local Notion API.

Each test calls one SDK method with the arguments Notion's own examples use and checks
the answer's `object` and its keys against Notion's recorded responses (notion-sdk-py
cassettes, Notion-Version 2025-09-03, and notion-sdk-js response types; checked
2026-12-01). `test_every_sdk_method_has_a_test` introspects notion-client's endpoint
classes: a method added to the SDK without a test here fails the suite.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import pytest
from notion_client import AsyncClient, Client
from notion_client.api_endpoints import Endpoint
from notion_client.errors import APIResponseError

from notion_sync.local_api import LocalNotionServer
from notion_sync.local_api.endpoints import OAUTH_MESSAGE

F = TypeVar("F", bound=Callable[..., Any])
JSON = dict[str, Any]
COVERED: set[str] = set()


def covers(*methods: str) -> Callable[[F], F]:
    """Mark a test as the one exercising these SDK methods (e.g. "pages.create")."""

    def mark(test: F) -> F:
        COVERED.update(methods)
        return test

    return mark


def sdk_methods() -> set[str]:
    """Dotted names of every public method of every endpoint object a Client exposes."""
    client = Client(auth="introspection")
    found: set[str] = set()

    def walk(obj: object, prefix: str) -> None:
        for attr, value in vars(obj).items():
            if not isinstance(value, Endpoint):
                continue
            path = f"{prefix}{attr}"
            for name, member in inspect.getmembers(type(value), inspect.isfunction):
                if member.__qualname__.split(".")[0] == "Endpoint":
                    continue  # the base class's __init__
                if name == "__call__":
                    found.add(path)  # `notion.search(...)`
                elif not name.startswith("_"):
                    found.add(f"{path}.{name}")
            walk(value, f"{path}.")

    try:
        walk(client, "")
    finally:
        client.close()
    return found


def test_every_sdk_method_has_a_test() -> None:
    methods = sdk_methods()
    assert "views.queries.results" in methods  # the introspection reaches nested endpoints
    assert not methods - COVERED, f"SDK methods without a test: {sorted(methods - COVERED)}"
    assert not COVERED - methods, f"tests name unknown SDK methods: {sorted(COVERED - methods)}"


# -- recorded shapes ----------------------------------------------------------------------

PAGE_KEYS = {
    "object", "id", "created_time", "last_edited_time", "created_by", "last_edited_by",
    "cover", "icon", "parent", "in_trash", "is_archived", "is_locked", "properties", "url",
    "public_url", "archived", "request_id",
}  # fmt: skip
DATABASE_KEYS = {
    "object", "id", "title", "description", "parent", "is_inline", "in_trash", "is_locked",
    "created_time", "last_edited_time", "data_sources", "icon", "cover", "url", "public_url",
    "archived", "request_id",
}  # fmt: skip
DATA_SOURCE_KEYS = {
    "object", "id", "cover", "icon", "created_time", "created_by", "last_edited_by",
    "last_edited_time", "title", "description", "is_inline", "properties", "parent",
    "database_parent", "url", "public_url", "in_trash", "archived", "request_id",
}  # fmt: skip
BLOCK_KEYS = {
    "object", "id", "parent", "created_time", "last_edited_time", "created_by",
    "last_edited_by", "has_children", "in_trash", "type", "archived", "request_id",
}  # fmt: skip
COMMENT_KEYS = {
    "object", "id", "parent", "discussion_id", "created_time", "last_edited_time",
    "created_by", "rich_text", "display_name", "request_id",
}  # fmt: skip
VIEW_KEYS = {
    "object", "id", "parent", "data_source_id", "name", "type", "created_time", "created_by",
    "last_edited_time", "last_edited_by", "url", "filter", "sorts", "quick_filters",
    "configuration", "request_id",
}  # fmt: skip
VIEW_PARTIAL_KEYS = {"object", "id", "parent", "type", "request_id"}
VIEW_QUERY_KEYS = {
    "object", "id", "view_id", "expires_at", "total_count", "results", "next_cursor",
    "has_more", "request_id",
}  # fmt: skip
FILE_UPLOAD_KEYS = {
    "object", "id", "created_time", "created_by", "last_edited_time", "expiry_time",
    "archived", "in_trash", "status", "filename", "content_type", "content_length",
    "request_id",
}  # fmt: skip
FILE_UPLOAD_OPTIONAL = {"upload_url", "complete_url", "file_import_result", "number_of_parts"}
USER_KEYS = {"object", "id", "name", "avatar_url", "type", "request_id"}
MARKDOWN_KEYS = {"object", "id", "markdown", "truncated", "unknown_block_ids", "request_id"}


def shape(obj: JSON, kind: str, keys: Iterable[str], optional: Iterable[str] = ()) -> JSON:
    """Assert `obj` is a `kind` object with exactly `keys` (plus any of `optional`)."""
    assert obj["object"] == kind, obj
    required, allowed = set(keys), set(keys) | set(optional)
    assert required <= set(obj), f"missing {sorted(required - set(obj))}"
    assert set(obj) <= allowed, f"unexpected {sorted(set(obj) - allowed)}"
    return obj


def list_shape(obj: JSON, kind: str, *, type_key: bool = True) -> list[JSON]:
    keys = {"object", "results", "next_cursor", "has_more", "type", "request_id"}
    shape(obj, "list", keys | ({kind} if type_key else set()), {"request_status"})
    assert obj["type"] == kind
    results: list[JSON] = obj["results"]
    return results


def text(content: str) -> list[JSON]:
    return [{"type": "text", "text": {"content": content}}]


# Notion's "Grocery List" example (developers.notion.com/reference/create-a-database).
GROCERY_PROPERTIES: JSON = {
    "Name": {"title": {}},
    "Description": {"rich_text": {}},
    "In stock": {"checkbox": {}},
    "Food group": {
        "select": {
            "options": [
                {"name": "🥦Vegetable", "color": "green"},
                {"name": "🍎Fruit", "color": "red"},
                {"name": "💪Protein", "color": "yellow"},
            ]
        }
    },
    "Price": {"number": {"format": "dollar"}},
    "Last ordered": {"date": {}},
    "Store availability": {
        "type": "multi_select",
        "multi_select": {
            "options": [
                {"name": "Duc Loi Market", "color": "blue"},
                {"name": "Rainbow Grocery", "color": "gray"},
            ]
        },
    },
    "+1": {"people": {}},
    "Photo": {"files": {}},
}
KALE_CHILDREN: list[JSON] = [
    {
        "object": "block",
        "heading_2": {"rich_text": [{"text": {"content": "Lacinato kale"}}]},
    },
    {
        "object": "block",
        "paragraph": {
            "rich_text": [
                {
                    "text": {
                        "content": "Lacinato kale is a variety of kale with a long tradition "
                        "in Italian cuisine, especially that of Tuscany.",
                        "link": {"url": "https://en.wikipedia.org/wiki/Lacinato_kale"},
                    }
                }
            ]
        },
    },
]


async def grocery_list(notion: AsyncClient, server: LocalNotionServer) -> JSON:
    db: JSON = await notion.databases.create(
        parent={"type": "page_id", "page_id": server.root_page_id},
        icon={"type": "emoji", "emoji": "📝"},
        title=[{"type": "text", "text": {"content": "Grocery List", "link": None}}],
        initial_data_source={"properties": GROCERY_PROPERTIES},
    )
    return db


async def tuscan_kale(notion: AsyncClient, ds_id: str) -> JSON:
    page: JSON = await notion.pages.create(
        parent={"data_source_id": ds_id},
        icon={"emoji": "🥬"},
        cover={
            "external": {
                "url": "https://upload.wikimedia.org/wikipedia/commons/6/62/Tuscankale.jpg"
            }
        },
        properties={
            "Name": {"title": [{"text": {"content": "Tuscan kale"}}]},
            "Description": {"rich_text": [{"text": {"content": "A dark green leafy vegetable"}}]},
            "Food group": {"select": {"name": "🥦Vegetable"}},
            "Price": {"number": 2.5},
        },
        children=KALE_CHILDREN,
    )
    return page


@pytest.fixture
async def grocery(local_notion: LocalNotionServer, notion: AsyncClient) -> JSON:
    db = await grocery_list(notion, local_notion)
    return {"db": db["id"], "ds": db["data_sources"][0]["id"]}


# -- users --------------------------------------------------------------------------------


@covers("users.me", "users.list", "users.retrieve")
async def test_users(local_notion: LocalNotionServer, notion: AsyncClient) -> None:
    me = shape(await notion.users.me(), "user", USER_KEYS | {"bot"})
    assert me["bot"]["workspace_limits"]["max_file_upload_size_in_bytes"] > 0
    people = list_shape(await notion.users.list(page_size=2), "user")
    assert len(people) == 2
    rita = shape(
        await notion.users.retrieve(local_notion.state.reviewer_id), "user", USER_KEYS | {"person"}
    )
    assert rita["person"]["email"] == "rita@example.com"


# -- databases and data sources --------------------------------------------------------


@covers("databases.create", "databases.retrieve", "databases.update")
async def test_databases(local_notion: LocalNotionServer, notion: AsyncClient) -> None:
    db = shape(await grocery_list(notion, local_notion), "database", DATABASE_KEYS)
    assert db["icon"] == {"type": "emoji", "emoji": "📝"}
    assert shape(await notion.databases.retrieve(db["id"]), "database", DATABASE_KEYS)["title"]
    updated = await notion.databases.update(
        db["id"], title=text("Today's grocery list"), is_locked=True
    )
    shape(updated, "database", DATABASE_KEYS)
    assert updated["title"][0]["plain_text"] == "Today's grocery list"
    assert updated["is_locked"] is True


@covers("data_sources.create", "data_sources.retrieve", "data_sources.update")
async def test_data_sources(notion: AsyncClient, grocery: JSON) -> None:
    created = await notion.data_sources.create(
        parent={"type": "database_id", "database_id": grocery["db"]},
        properties={"Name": {"type": "title", "title": {}}},
        title=text("Pantry"),
        icon={"type": "emoji", "emoji": "⚙️"},
    )
    shape(created, "data_source", DATA_SOURCE_KEYS)
    assert created["parent"] == {"type": "database_id", "database_id": grocery["db"]}
    db = await notion.databases.retrieve(grocery["db"])
    assert [d["name"] for d in db["data_sources"]] == ["Grocery List", "Pantry"]
    got = shape(await notion.data_sources.retrieve(grocery["ds"]), "data_source", DATA_SOURCE_KEYS)
    assert got["properties"]["Price"]["number"] == {"format": "dollar"}
    updated = await notion.data_sources.update(
        grocery["ds"],
        title=text("Groceries"),
        properties={"Wine pairing": {"rich_text": {}}, "In stock": None},
    )
    shape(updated, "data_source", DATA_SOURCE_KEYS)
    assert "Wine pairing" in updated["properties"]
    assert "In stock" not in updated["properties"]


@covers("data_sources.query")
async def test_data_sources_query(notion: AsyncClient, grocery: JSON) -> None:
    await tuscan_kale(notion, grocery["ds"])
    found = await notion.data_sources.query(
        grocery["ds"],
        filter={
            "or": [
                {"property": "In stock", "checkbox": {"equals": True}},
                {"property": "Price", "number": {"greater_than_or_equal_to": 2}},
            ]
        },
        sorts=[{"property": "Food group", "direction": "ascending"}],
    )
    (row,) = list_shape(found, "page_or_data_source")
    shape(row, "page", PAGE_KEYS - {"request_id"})


@covers("data_sources.list_templates")
async def test_data_source_templates(
    local_notion: LocalNotionServer, notion: AsyncClient, grocery: JSON
) -> None:
    answer = await notion.data_sources.list_templates(grocery["ds"])
    assert answer == {"templates": [], "has_more": False, "next_cursor": None}  # recorded shape
    template = local_notion.admin.add_template(
        grocery["ds"],
        "Weekly shop",
        properties={"Food group": {"select": {"name": "🍎Fruit"}}},
        children=[{"paragraph": {"rich_text": text("Check the fridge first.")}}],
        is_default=True,
    )
    answer = await notion.data_sources.list_templates(grocery["ds"], name="weekly")
    assert answer["templates"] == [{"id": template, "name": "Weekly shop", "is_default": True}]
    page = await notion.pages.create(
        parent={"data_source_id": grocery["ds"]},
        properties={"Name": {"title": text("Saturday")}},
        template={"type": "default"},
    )
    assert page["properties"]["Food group"]["select"]["name"] == "🍎Fruit"
    blocks = await notion.blocks.children.list(page["id"])
    assert (
        blocks["results"][0]["paragraph"]["rich_text"][0]["plain_text"] == "Check the fridge first."
    )
    rows = await notion.data_sources.query(grocery["ds"])
    assert [r["id"] for r in rows["results"]] == [page["id"]]  # templates are not rows


# -- pages --------------------------------------------------------------------------------


@covers("pages.create", "pages.retrieve", "pages.update")
async def test_pages(notion: AsyncClient, grocery: JSON) -> None:
    page = shape(await tuscan_kale(notion, grocery["ds"]), "page", PAGE_KEYS)
    assert page["parent"]["data_source_id"] == grocery["ds"]
    assert page["icon"] == {"type": "emoji", "emoji": "🥬"}
    assert page["is_archived"] is False
    got = shape(await notion.pages.retrieve(page["id"]), "page", PAGE_KEYS)
    assert got["properties"]["Price"]["number"] == 2.5
    updated = await notion.pages.update(
        page["id"], properties={"In stock": {"checkbox": True}}, is_locked=True
    )
    shape(updated, "page", PAGE_KEYS)
    assert updated["properties"]["In stock"]["checkbox"] is True
    assert updated["is_locked"] is True
    trashed = await notion.pages.update(page["id"], in_trash=True)
    assert (trashed["in_trash"], trashed["archived"]) == (True, True)


@covers("pages.properties.retrieve")
async def test_page_property_item(notion: AsyncClient, grocery: JSON) -> None:
    page = await tuscan_kale(notion, grocery["ds"])
    price_id = page["properties"]["Price"]["id"]
    item = await notion.pages.properties.retrieve(page["id"], price_id)
    shape(item, "property_item", {"object", "id", "type", "number", "request_id"})
    title = await notion.pages.properties.retrieve(page["id"], "title")
    (first,) = list_shape(title, "property_item")
    assert first["title"]["plain_text"] == "Tuscan kale"


@covers("pages.retrieve_markdown", "pages.update_markdown")
async def test_page_markdown(local_notion: LocalNotionServer, notion: AsyncClient) -> None:
    page = await notion.pages.create(
        parent={"page_id": local_notion.root_page_id},
        properties={"title": [{"text": {"content": "Notes"}}]},
        children=[],
    )
    empty = shape(await notion.pages.retrieve_markdown(page["id"]), "page_markdown", MARKDOWN_KEYS)
    assert empty["markdown"] == ""
    updated = await notion.pages.update_markdown(
        page["id"],
        type="insert_content",
        insert_content={"content": "## New Section\n\nHello from markdown."},
    )
    shape(updated, "page_markdown", MARKDOWN_KEYS)
    assert updated["markdown"] == "## New Section\nHello from markdown."  # as recorded


@covers("pages.move")
async def test_page_move(local_notion: LocalNotionServer, notion: AsyncClient) -> None:
    root = {"page_id": local_notion.root_page_id}
    target = await notion.pages.create(parent=root, properties={"title": text("Target Parent")})
    moving = await notion.pages.create(parent=root, properties={"title": text("Moving Page")})
    moved = shape(
        await notion.pages.move(moving["id"], parent={"page_id": target["id"]}), "page", PAGE_KEYS
    )
    assert moved["parent"] == {"type": "page_id", "page_id": target["id"]}
    children = await notion.blocks.children.list(target["id"])
    assert [b["id"] for b in children["results"]] == [moving["id"]]


# -- blocks -------------------------------------------------------------------------------


@covers("blocks.children.append", "blocks.children.list")
async def test_block_children(notion: AsyncClient, grocery: JSON) -> None:
    page = await tuscan_kale(notion, grocery["ds"])
    appended = await notion.blocks.children.append(page["id"], children=KALE_CHILDREN)
    for block in list_shape(appended, "block"):
        shape(block, "block", BLOCK_KEYS - {"request_id"} | {block["type"]})
    listed = list_shape(await notion.blocks.children.list(page["id"], page_size=100), "block")
    assert [b["type"] for b in listed] == ["heading_2", "paragraph"] * 2
    assert listed[1]["paragraph"]["rich_text"][0]["href"] == (
        "https://en.wikipedia.org/wiki/Lacinato_kale"
    )


@covers("blocks.retrieve", "blocks.update", "blocks.delete")
async def test_blocks(notion: AsyncClient, grocery: JSON) -> None:
    page = await tuscan_kale(notion, grocery["ds"])
    heading = (await notion.blocks.children.list(page["id"]))["results"][0]
    got = shape(await notion.blocks.retrieve(heading["id"]), "block", BLOCK_KEYS | {"heading_2"})
    assert got["heading_2"]["rich_text"][0]["plain_text"] == "Lacinato kale"
    updated = await notion.blocks.update(
        heading["id"], heading_2={"rich_text": [{"text": {"content": "Hello world"}}]}
    )
    shape(updated, "block", BLOCK_KEYS | {"heading_2"})
    assert updated["heading_2"]["rich_text"][0]["plain_text"] == "Hello world"
    deleted = shape(await notion.blocks.delete(heading["id"]), "block", BLOCK_KEYS | {"heading_2"})
    assert (deleted["in_trash"], deleted["archived"]) == (True, True)


@covers("blocks.meeting_notes.query")
async def test_meeting_notes(notion: AsyncClient) -> None:
    # The local workspace has no Notion AI, hence no meeting notes.
    assert list_shape(await notion.blocks.meeting_notes.query(), "block") == []


# -- search, emojis ----------------------------------------------------------------------


@covers("search")
async def test_search(notion: AsyncClient, grocery: JSON) -> None:
    found = await notion.search(
        query="Grocery",
        filter={"value": "data_source", "property": "object"},
        sort={"direction": "ascending", "timestamp": "last_edited_time"},
    )
    (ds,) = list_shape(found, "page_or_data_source")
    shape(ds, "data_source", DATA_SOURCE_KEYS - {"request_id"})


@covers("custom_emojis.list")
async def test_custom_emojis(local_notion: LocalNotionServer, notion: AsyncClient) -> None:
    recorded = {"object", "type", "results", "has_more", "next_cursor", "request_id"}
    empty = shape(await notion.custom_emojis.list(), "list", recorded)
    assert (empty["type"], empty["results"]) == ("custom_emoji", [])
    emoji_id = local_notion.admin.add_custom_emoji("reelgate", "https://example.com/r.png")
    named = await notion.custom_emojis.list(name="reelgate")
    assert named["results"] == [
        {"id": emoji_id, "name": "reelgate", "url": "https://example.com/r.png"}
    ]


# -- comments -----------------------------------------------------------------------------


@covers(
    "comments.create", "comments.list", "comments.retrieve", "comments.update", "comments.delete"
)
async def test_comments(local_notion: LocalNotionServer, notion: AsyncClient) -> None:
    page_id = local_notion.root_page_id
    created = await notion.comments.create(
        parent={"page_id": page_id}, rich_text=[{"text": {"content": "Hello world"}}]
    )
    shape(created, "comment", COMMENT_KEYS)
    assert created["display_name"] == {"type": "integration", "resolved_name": "reelgate"}
    (listed,) = list_shape(await notion.comments.list(block_id=page_id), "comment")
    assert listed["id"] == created["id"]
    got = shape(await notion.comments.retrieve(created["id"]), "comment", COMMENT_KEYS)
    assert got["rich_text"][0]["plain_text"] == "Hello world"
    updated = await notion.comments.update(created["id"], rich_text=text("Updated comment."))
    assert (
        shape(updated, "comment", COMMENT_KEYS)["rich_text"][0]["plain_text"] == "Updated comment."
    )
    deleted = shape(await notion.comments.delete(created["id"]), "comment", COMMENT_KEYS)
    assert deleted["id"] == created["id"]
    with pytest.raises(APIResponseError) as info:
        await notion.comments.retrieve(created["id"])
    assert info.value.status == 404


# -- file uploads -------------------------------------------------------------------------


@covers("file_uploads.create", "file_uploads.send", "file_uploads.retrieve", "file_uploads.list")
async def test_file_uploads(notion: AsyncClient) -> None:
    created = await notion.file_uploads.create(
        mode="single_part", filename="notes.txt", content_type="text/plain"
    )
    shape(created, "file_upload", FILE_UPLOAD_KEYS, FILE_UPLOAD_OPTIONAL)
    assert created["status"] == "pending"
    sent = await notion.file_uploads.send(created["id"], file=("notes.txt", b"kale", "text/plain"))
    assert (
        shape(sent, "file_upload", FILE_UPLOAD_KEYS, FILE_UPLOAD_OPTIONAL)["status"] == "uploaded"
    )
    got = await notion.file_uploads.retrieve(created["id"])
    assert shape(got, "file_upload", FILE_UPLOAD_KEYS, FILE_UPLOAD_OPTIONAL)["content_length"] == 4
    (listed,) = list_shape(await notion.file_uploads.list(status="uploaded"), "file_upload")
    assert listed["id"] == created["id"]


@covers("file_uploads.complete")
async def test_file_upload_complete(notion: AsyncClient) -> None:
    created = await notion.file_uploads.create(
        mode="multi_part", filename="clip.mp4", content_type="video/mp4", number_of_parts=1
    )
    await notion.file_uploads.send(created["id"], file=("clip.mp4", b"\0" * 64), part_number="1")
    done = await notion.file_uploads.complete(created["id"])
    shape(done, "file_upload", FILE_UPLOAD_KEYS, FILE_UPLOAD_OPTIONAL)
    assert (done["status"], done["number_of_parts"]) == ("uploaded", {"total": 1, "sent": 1})


# -- views --------------------------------------------------------------------------------


@covers("views.create", "views.retrieve", "views.update", "views.delete", "views.list")
async def test_views(notion: AsyncClient, grocery: JSON) -> None:
    # The example of developers.notion.com/guides/data-apis/working-with-views.
    view = await notion.views.create(
        data_source_id=grocery["ds"],
        database_id=grocery["db"],
        name="High priority items",
        type="table",
        filter={"property": "Food group", "select": {"equals": "🥦Vegetable"}},
        sorts=[{"property": "Last ordered", "direction": "descending"}],
    )
    shape(view, "view", VIEW_KEYS)
    assert view["configuration"] == {"type": "table"}  # as recorded for a new table view
    assert shape(await notion.views.retrieve(view["id"]), "view", VIEW_KEYS)["name"] == view["name"]
    renamed = shape(await notion.views.update(view["id"], name="Updated View"), "view", VIEW_KEYS)
    assert renamed["name"] == "Updated View"
    listed = list_shape(await notion.views.list(database_id=grocery["db"]), "view")
    assert [v["id"] for v in listed][-1] == view["id"]
    assert all(set(v) == {"object", "id"} for v in listed)
    assert len(listed) == 2  # the database's default view, then ours
    gone = shape(await notion.views.delete(view["id"]), "view", VIEW_PARTIAL_KEYS)
    assert gone["type"] == "table"


@covers("views.queries.create", "views.queries.results", "views.queries.delete")
async def test_view_queries(notion: AsyncClient, grocery: JSON) -> None:
    for _ in range(3):
        await tuscan_kale(notion, grocery["ds"])
    view = await notion.views.create(
        data_source_id=grocery["ds"], database_id=grocery["db"], name="All", type="table"
    )
    query = shape(
        await notion.views.queries.create(view["id"], page_size=2), "view_query", VIEW_QUERY_KEYS
    )
    assert (query["total_count"], len(query["results"]), query["has_more"]) == (3, 2, True)
    assert query["results"][0]["object"] == "page"
    rest = await notion.views.queries.results(
        view["id"], query["id"], start_cursor=query["next_cursor"]
    )
    (last,) = list_shape(rest, "page")
    assert last["id"] == query["next_cursor"]
    deleted = await notion.views.queries.delete(view["id"], query["id"])
    assert (
        shape(deleted, "view_query", {"object", "id", "deleted", "request_id"})["deleted"] is True
    )


# -- OAuth --------------------------------------------------------------------------------


@covers("oauth.token", "oauth.introspect", "oauth.revoke")
async def test_oauth_is_not_served_locally(notion: AsyncClient) -> None:
    calls = [
        notion.oauth.token(
            client_id="client",
            client_secret="secret",
            grant_type="authorization_code",
            code="a-code",
            redirect_uri="https://example.com/auth/notion/callback",
        ),
        notion.oauth.introspect(client_id="client", client_secret="secret", token="secret_x"),
        notion.oauth.revoke(client_id="client", client_secret="secret", token="secret_x"),
    ]
    for call in calls:
        with pytest.raises(APIResponseError) as info:
            await call
        assert (info.value.status, info.value.code) == (400, "invalid_request")
        assert str(info.value) == OAUTH_MESSAGE


async def test_every_answer_has_its_own_request_id(notion: AsyncClient, grocery: JSON) -> None:
    # Concurrent SDK calls: one request id each, as Notion gives.
    pages = await asyncio.gather(*(tuscan_kale(notion, grocery["ds"]) for _ in range(5)))
    assert len({p["request_id"] for p in pages}) == 5
