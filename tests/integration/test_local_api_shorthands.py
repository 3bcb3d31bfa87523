"""The short forms Notion accepts are accepted; the ones it refuses are refused."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from notion_client import AsyncClient
from notion_client.errors import APIResponseError

from notion_sync.local_api import LocalNotionServer
from tests.fixtures.notion import sample_schema

JSON = dict[str, Any]


def text(content: str) -> list[JSON]:
    return [{"type": "text", "text": {"content": content}}]


@pytest.fixture
def tasks(local_notion: LocalNotionServer) -> str:
    return local_notion.admin.create_database("Tasks", sample_schema())[1]


async def refused(call: Awaitable[Any], *words: str, status: int = 400) -> str:
    with pytest.raises(APIResponseError) as info:
        await call
    assert info.value.status == status
    message = str(info.value)
    for word in words:
        assert word in message, message
    return message


async def test_title_array_under_a_page_is_the_title(
    local_notion: LocalNotionServer, notion: AsyncClient
) -> None:
    # Notion's own example form: the value is the rich-text array itself.
    page = await notion.pages.create(
        parent={"page_id": local_notion.root_page_id},
        properties={"title": [{"text": {"content": "A note from your pals at Notion"}}]},
    )
    assert page["properties"]["title"]["title"][0]["plain_text"] == (
        "A note from your pals at Notion"
    )
    renamed = await notion.pages.update(page["id"], properties={"title": text("Renamed")})
    assert renamed["properties"]["title"]["title"][0]["plain_text"] == "Renamed"


async def test_title_array_in_a_data_source_is_refused(notion: AsyncClient, tasks: str) -> None:
    # Notion's schema offers the bare array under a page parent only.
    await refused(
        notion.pages.create(parent={"data_source_id": tasks}, properties={"Name": text("x")}),
        "Name is expected to be title.",
    )


async def test_values_by_id_name_and_without_type(
    local_notion: LocalNotionServer, notion: AsyncClient, tasks: str
) -> None:
    ds = await notion.data_sources.retrieve(tasks)
    ids = {name: p["id"] for name, p in ds["properties"].items()}
    draft = next(o for o in ds["properties"]["Status"]["status"]["options"] if o["name"] == "Draft")
    rita = await notion.users.retrieve(local_notion.state.reviewer_id)
    page = await notion.pages.create(
        parent={"database_id": ds["parent"]["database_id"].replace("-", "")},  # no dashes
        properties={
            "title": {"title": [{"text": {"content": "by id"}}]},  # the title's id
            ids["Clips"]: {"type": "number", "number": 3},
            "Status": {"status": {"id": draft["id"]}},
            "Tags": {"multi_select": [{"name": "promo"}, {"name": "launch", "color": "purple"}]},
            "Owner": {"people": [rita]},  # a whole user object, as read back from the API
            "Due": {"date": {"start": "2026-12-24"}},
        },
    )
    props = page["properties"]
    assert props["Name"]["title"][0]["plain_text"] == "by id"
    assert props["Clips"]["number"] == 3
    assert props["Status"]["status"]["name"] == "Draft"
    assert [(t["name"], t["color"]) for t in props["Tags"]["multi_select"]] == [
        ("promo", "red"),
        ("launch", "purple"),  # a new option takes the color asked for
    ]
    assert props["Owner"]["people"][0]["id"] == rita["id"]
    assert props["Due"]["date"] == {"start": "2026-12-24", "end": None, "time_zone": None}


async def test_rich_text_forms(local_notion: LocalNotionServer, notion: AsyncClient) -> None:
    rita = local_notion.state.reviewer_id
    block = await notion.blocks.children.append(
        local_notion.root_page_id,
        children=[
            {
                "paragraph": {
                    "rich_text": [
                        {"text": {"content": "bold"}, "annotations": {"bold": True}},
                        {"mention": {"user": {"id": rita}}},
                        {"mention": {"template_mention": {"template_mention_date": "today"}}},
                        {"equation": {"expression": "E = mc^2"}},
                        {"text": {"content": " link", "link": {"url": "https://notion.so"}}},
                    ]
                }
            }
        ],
    )
    rich = block["results"][0]["paragraph"]["rich_text"]
    assert [r["type"] for r in rich] == ["text", "mention", "mention", "equation", "text"]
    assert rich[0]["annotations"]["bold"] is True
    assert rich[0]["annotations"]["italic"] is False
    assert rich[1]["plain_text"] == "@Rita Reviewer"
    assert rich[4]["href"] == "https://notion.so"
    # A rich-text array read back from the API can be written again as it is.
    again = await notion.blocks.update(block["results"][0]["id"], paragraph={"rich_text": rich})
    assert again["paragraph"]["rich_text"] == rich


async def test_limits_are_notions(notion: AsyncClient, local_notion: LocalNotionServer) -> None:
    many = [{"text": {"content": "x"}} for _ in range(101)]
    await refused(
        notion.blocks.children.append(
            local_notion.root_page_id, children=[{"paragraph": {"rich_text": many}}]
        ),
        "rich_text.length should be ≤ `100`, instead was `101`",
    )


async def test_icons_take_every_form(local_notion: LocalNotionServer, notion: AsyncClient) -> None:
    upload = await notion.file_uploads.create(filename="icon.png", content_type="image/png")
    await notion.file_uploads.send(upload["id"], file=("icon.png", b"\x89PNG", "image/png"))
    emoji_id = local_notion.admin.add_custom_emoji("reel", "https://example.com/reel.png")
    root = {"page_id": local_notion.root_page_id}
    plain = await notion.pages.create(parent=root, icon={"emoji": "🎬"}, properties={})
    assert plain["icon"] == {"type": "emoji", "emoji": "🎬"}
    hosted = await notion.pages.create(
        parent=root, icon={"type": "file_upload", "file_upload": {"id": upload["id"]}}
    )
    assert hosted["icon"]["type"] == "file"
    assert hosted["icon"]["file"]["url"].startswith(local_notion.base_url + "/files/")
    custom = await notion.pages.update(plain["id"], icon={"custom_emoji": {"id": emoji_id}})
    assert custom["icon"] == {
        "type": "custom_emoji",
        "custom_emoji": {"id": emoji_id, "name": "reel", "url": "https://example.com/reel.png"},
    }
    await refused(notion.pages.update(plain["id"], cover={"emoji": "🎬"}), "body.cover.type")


async def test_page_content_as_markdown_and_position(
    local_notion: LocalNotionServer, notion: AsyncClient
) -> None:
    root = {"page_id": local_notion.root_page_id}
    first = await notion.pages.create(parent=root, properties={"title": text("first")})
    page = await notion.pages.create(
        parent=root,
        properties={"title": text("Brief")},
        markdown="# Brief\n\n- waves at **dusk**\n- [x] storyboard\n\n```python\nprint(1)\n```",
        position={"type": "page_start"},
    )
    blocks = (await notion.blocks.children.list(page["id"]))["results"]
    assert [b["type"] for b in blocks] == ["heading_1", "bulleted_list_item", "to_do", "code"]
    assert blocks[1]["bulleted_list_item"]["rich_text"][1]["annotations"]["bold"] is True
    assert blocks[3]["code"]["language"] == "python"
    order = [
        b["id"] for b in (await notion.blocks.children.list(local_notion.root_page_id))["results"]
    ]
    assert order.index(page["id"]) < order.index(first["id"])
    await refused(
        notion.pages.create(parent=root, markdown="x", children=[]),
        "mutually exclusive",
    )


async def test_comments_in_markdown_and_only_the_author_edits(
    local_notion: LocalNotionServer,
    notion: AsyncClient,
    notion_client_factory: Callable[..., Awaitable[AsyncClient]],
) -> None:
    comment = await notion.comments.create(
        parent={"page_id": local_notion.root_page_id}, markdown="Clips **2, 3** look `dark`"
    )
    assert [r["plain_text"] for r in comment["rich_text"]] == ["Clips ", "2, 3", " look ", "dark"]
    assert comment["rich_text"][1]["annotations"]["bold"] is True
    rita = await notion_client_factory(user="Rita Reviewer")
    await refused(
        rita.comments.update(comment["id"], rich_text=text("mine now")),
        "Insufficient permissions",
        status=403,
    )
    own = await rita.comments.create(
        discussion_id=comment["discussion_id"],
        rich_text=text("fixed?"),
        display_name={"type": "custom", "custom": {"name": "Rita (review)"}},
    )
    assert own["display_name"] == {"type": "custom", "resolved_name": "Rita (review)"}
    assert (await rita.comments.delete(own["id"]))["id"] == own["id"]


async def test_move_a_page_into_a_data_source_keeps_its_title(
    local_notion: LocalNotionServer, notion: AsyncClient, tasks: str
) -> None:
    page = await notion.pages.create(
        parent={"page_id": local_notion.root_page_id}, properties={"title": text("loose idea")}
    )
    moved = await notion.pages.move(page["id"], parent={"data_source_id": tasks})
    assert moved["parent"]["data_source_id"] == tasks
    assert moved["properties"]["Name"]["title"][0]["plain_text"] == "loose idea"
    rows = await notion.data_sources.query(tasks)
    assert [r["id"] for r in rows["results"]] == [page["id"]]
    outer = await notion.pages.create(
        parent={"page_id": local_notion.root_page_id}, properties={"title": text("outer")}
    )
    inner = await notion.pages.create(
        parent={"page_id": outer["id"]}, properties={"title": text("inner")}
    )
    await refused(
        notion.pages.move(outer["id"], parent={"page_id": inner["id"]}),
        "cannot be moved under itself",
    )


async def test_erase_content_and_apply_a_template(
    local_notion: LocalNotionServer, notion: AsyncClient, tasks: str
) -> None:
    template = local_notion.admin.add_template(
        tasks, "Promo", children=[{"heading_2": {"rich_text": text("Shots")}}]
    )
    page = await notion.pages.create(
        parent={"data_source_id": tasks},
        properties={"Name": {"title": text("launch")}},
        children=[{"paragraph": {"rich_text": text("old notes")}}],
    )
    await notion.pages.update(
        page["id"], erase_content=True, template={"type": "template_id", "template_id": template}
    )
    blocks = (await notion.blocks.children.list(page["id"]))["results"]
    assert [b["type"] for b in blocks] == ["heading_2"]
    await refused(
        notion.pages.create(parent={"data_source_id": tasks}, template={"type": "default"}),
        "no default template",
    )
