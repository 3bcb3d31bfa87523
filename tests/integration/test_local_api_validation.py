"""Every validation rule answers 400 validation_error with a message naming the problem."""

from __future__ import annotations

from typing import Any

import pytest
from notion_client import AsyncClient
from notion_client.errors import APIResponseError

from notion_sync.local_api import LocalNotionServer
from tests.fixtures.notion import sample_schema


def text(content: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": {"content": content}}]


@pytest.fixture
def tasks(local_notion: LocalNotionServer) -> str:
    return local_notion.admin.create_database("Tasks", sample_schema())[1]


async def refused(call: Any, *words: str) -> str:
    with pytest.raises(APIResponseError) as info:
        await call
    assert info.value.status == 400
    assert info.value.code == "validation_error"
    message = str(info.value)
    for word in words:
        assert word in message, message
    return message


async def test_unknown_property_name(notion: AsyncClient, tasks: str):
    await refused(
        notion.pages.create(
            parent={"data_source_id": tasks}, properties={"Colour": {"rich_text": text("x")}}
        ),
        "Colour is not a property that exists",
    )


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("Clips", {"number": "twelve"}),
        ("Auto", {"checkbox": "yes"}),
        ("Brief", {"rich_text": "plain string"}),
        ("Clips", {"rich_text": text("x")}),
        ("Tags", {"multi_select": {"name": "x"}}),
        ("Due", {"date": {"start": "next tuesday"}}),
    ],
)
async def test_wrong_value_types(notion: AsyncClient, tasks: str, prop: str, value: Any):
    await refused(notion.pages.create(parent={"data_source_id": tasks}, properties={prop: value}))


async def test_unknown_status_option_refused_but_select_option_created(
    local_notion: LocalNotionServer, notion: AsyncClient, tasks: str
):
    await refused(
        notion.pages.create(
            parent={"data_source_id": tasks}, properties={"Status": {"status": {"name": "Bogus"}}}
        ),
        "Bogus",
        "status",
    )
    _, sel = local_notion.admin.create_database("Sel", sample_schema(status_as_select=True))
    page = await notion.pages.create(
        parent={"data_source_id": sel}, properties={"Status": {"select": {"name": "Brand New"}}}
    )
    assert page["properties"]["Status"]["select"]["name"] == "Brand New"
    ds = await notion.data_sources.retrieve(sel)
    assert "Brand New" in [o["name"] for o in ds["properties"]["Status"]["select"]["options"]]


async def test_rich_text_over_2000_characters(notion: AsyncClient, tasks: str):
    await refused(
        notion.pages.create(
            parent={"data_source_id": tasks}, properties={"Brief": {"rich_text": text("x" * 2001)}}
        ),
        "2000",
        "2001",
    )
    ok = await notion.pages.create(
        parent={"data_source_id": tasks}, properties={"Brief": {"rich_text": text("x" * 2000)}}
    )
    await refused(
        notion.blocks.children.append(
            ok["id"], children=[{"paragraph": {"rich_text": text("y" * 2001)}}]
        ),
        "2000",
    )


async def test_more_than_100_children(
    local_notion: LocalNotionServer, notion: AsyncClient, tasks: str
):
    blocks = [{"paragraph": {"rich_text": text(str(i))}} for i in range(101)]
    page = await notion.pages.create(parent={"data_source_id": tasks}, properties={})
    await refused(notion.blocks.children.append(page["id"], children=blocks), "100", "101")
    await refused(
        notion.pages.create(parent={"data_source_id": tasks}, properties={}, children=blocks),
        "100",
    )
    # A refused request stores nothing.
    assert local_notion.admin.blocks(page["id"]) == []
    assert len(local_notion.admin.pages(tasks)) == 1


async def test_read_only_and_unknown_parent(notion: AsyncClient, tasks: str):
    await refused(
        notion.pages.create(
            parent={"data_source_id": tasks},
            properties={"Created": {"created_time": "2026-01-01T00:00:00Z"}},
        ),
        "Created",
    )
    with pytest.raises(APIResponseError) as info:
        await notion.pages.create(
            parent={"data_source_id": "5b1d6b8e-0000-4000-8000-000000000000"}, properties={}
        )
    assert info.value.code == "object_not_found"


async def test_trashed_page_cannot_be_edited(notion: AsyncClient, tasks: str):
    page = await notion.pages.create(parent={"data_source_id": tasks}, properties={})
    await notion.pages.update(page["id"], in_trash=True)
    await refused(notion.pages.update(page["id"], properties={"Clips": {"number": 1}}), "archived")


async def test_database_schema_errors(local_notion: LocalNotionServer, notion: AsyncClient):
    root = local_notion.root_page_id
    await refused(
        notion.databases.create(
            parent={"page_id": root},
            title=text("x"),
            initial_data_source={"properties": {"Notes": {"rich_text": {}}}},
        ),
        "title",
    )
    await refused(
        notion.databases.create(
            parent={"page_id": root},
            title=text("x"),
            initial_data_source={
                "properties": {"N": {"title": {}}, "S": {"select": {"options": [{"name": "a,b"}]}}}
            },
        ),
        "commas",
    )


async def test_bad_comment_and_page_size(local_notion: LocalNotionServer, notion: AsyncClient):
    await refused(
        notion.comments.create(parent={"page_id": local_notion.root_page_id}, rich_text=[])
    )
    await refused(notion.blocks.children.list(local_notion.root_page_id, page_size=500), "100")
