"""Data source queries: every filter operator, compound filters, sorts, pagination."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from notion_client import AsyncClient
from notion_client.errors import APIResponseError
from notion_client.helpers import async_collect_paginated_api

from notion_sync.local_api import FixedClock, LocalNotionServer, service
from tests.fixtures.notion import sample_schema


def text(content: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": {"content": content}}]


@pytest.fixture
def rows(local_notion: LocalNotionServer) -> tuple[str, dict[str, str]]:
    """Four rows with distinct values in every column; -> (data source id, name -> id)."""
    admin = local_notion.admin
    _, ds = admin.create_database("Tasks", sample_schema())
    _, other = admin.create_database("Others", {"Name": {"title": {}}})
    target = admin.create_page(other, {"Name": {"title": text("target")}})["id"]
    relation = {"Rel": {"relation": {"data_source_id": other, "single_property": {}}}}
    service.update_data_source(local_notion.state, ds, {"properties": relation}, "bot")
    rita = local_notion.state.reviewer_id
    specs: dict[str, dict[str, Any]] = {
        "alpha": {
            "Brief": {"rich_text": text("Sunny beach promo")},
            "Clips": {"number": 5},
            "Auto": {"checkbox": True},
            "Status": {"status": {"name": "Queued"}},
            "Tags": {"multi_select": [{"name": "promo"}]},
            "Due": {"date": {"start": "2026-12-01"}},
            "Rel": {"relation": [{"id": target}]},
            "Media": {"files": [{"name": "a.mp4", "external": {"url": "https://x/a.mp4"}}]},
            "Link": {"url": "https://example.com/alpha"},
            "Owner": {"people": [{"id": rita}]},
        },
        "beta": {
            "Brief": {"rich_text": text("Rainy city")},
            "Clips": {"number": 12},
            "Status": {"status": {"name": "Planning"}},
            "Tags": {"multi_select": [{"name": "city"}]},
            "Due": {"date": {"start": "2026-12-10T09:30:00.000Z"}},
        },
        "gamma": {
            "Clips": {"number": 8},
            "Status": {"status": {"name": "Done"}},
            "Due": {"date": {"start": "2026-11-20"}},
        },
        "delta": {},
    }
    ids = {
        name: admin.create_page(ds, {"Name": {"title": text(name)}, **props})["id"]
        for name, props in specs.items()
    }
    return ds, ids


async def names(
    notion: AsyncClient, ds: str, flt: dict[str, Any] | None = None, **kw: Any
) -> list[str]:
    body: dict[str, Any] = dict(kw)
    if flt is not None:
        body["filter"] = flt
    result = await notion.data_sources.query(ds, **body)
    assert result["object"] == "list"
    assert result["type"] == "page_or_data_source"
    return [r["properties"]["Name"]["title"][0]["plain_text"] for r in result["results"]]


TEXT_CASES = [
    ({"equals": "Rainy city"}, {"beta"}),
    ({"does_not_equal": "Rainy city"}, {"alpha", "gamma", "delta"}),
    ({"contains": "BEACH"}, {"alpha"}),
    ({"does_not_contain": "beach"}, {"beta", "gamma", "delta"}),
    ({"starts_with": "sunny"}, {"alpha"}),
    ({"ends_with": "city"}, {"beta"}),
    ({"is_empty": True}, {"gamma", "delta"}),
    ({"is_not_empty": True}, {"alpha", "beta"}),
]


@pytest.mark.parametrize(("cond", "expected"), TEXT_CASES)
async def test_rich_text_filters(
    notion: AsyncClient, rows: tuple[str, dict[str, str]], cond: dict[str, Any], expected: set[str]
):
    ds, _ = rows
    assert set(await names(notion, ds, {"property": "Brief", "rich_text": cond})) == expected


async def test_title_and_url_filters(notion: AsyncClient, rows: tuple[str, dict[str, str]]):
    ds, _ = rows
    assert await names(notion, ds, {"property": "Name", "title": {"equals": "gamma"}}) == ["gamma"]
    assert set(await names(notion, ds, {"property": "Name", "title": {"contains": "ta"}})) == {
        "beta",
        "delta",
    }
    assert await names(notion, ds, {"property": "Link", "url": {"contains": "alpha"}}) == ["alpha"]
    assert set(await names(notion, ds, {"property": "Link", "url": {"is_empty": True}})) == {
        "beta",
        "gamma",
        "delta",
    }


NUMBER_CASES = [
    ({"equals": 8}, {"gamma"}),
    ({"does_not_equal": 8}, {"alpha", "beta", "delta"}),
    ({"greater_than": 5}, {"beta", "gamma"}),
    ({"less_than": 8}, {"alpha"}),
    ({"greater_than_or_equal_to": 8}, {"beta", "gamma"}),
    ({"less_than_or_equal_to": 8}, {"alpha", "gamma"}),
    ({"is_empty": True}, {"delta"}),
    ({"is_not_empty": True}, {"alpha", "beta", "gamma"}),
]


@pytest.mark.parametrize(("cond", "expected"), NUMBER_CASES)
async def test_number_filters(
    notion: AsyncClient, rows: tuple[str, dict[str, str]], cond: dict[str, Any], expected: set[str]
):
    ds, _ = rows
    assert set(await names(notion, ds, {"property": "Clips", "number": cond})) == expected


async def test_checkbox_filters(notion: AsyncClient, rows: tuple[str, dict[str, str]]):
    ds, _ = rows
    assert await names(notion, ds, {"property": "Auto", "checkbox": {"equals": True}}) == ["alpha"]
    assert set(
        await names(notion, ds, {"property": "Auto", "checkbox": {"does_not_equal": True}})
    ) == {"beta", "gamma", "delta"}


STATUS_CASES = [
    ({"equals": "Planning"}, {"beta"}),
    ({"does_not_equal": "Planning"}, {"alpha", "gamma", "delta"}),
    ({"is_not_empty": True}, {"alpha", "beta", "gamma", "delta"}),
    ({"is_empty": True}, set()),
]


@pytest.mark.parametrize(("cond", "expected"), STATUS_CASES)
async def test_status_filters(
    notion: AsyncClient, rows: tuple[str, dict[str, str]], cond: dict[str, Any], expected: set[str]
):
    ds, _ = rows
    assert set(await names(notion, ds, {"property": "Status", "status": cond})) == expected


async def test_status_as_select_column(local_notion: LocalNotionServer, notion: AsyncClient):
    admin = local_notion.admin
    _, ds = admin.create_database("Sel", sample_schema(status_as_select=True))
    admin.create_page(ds, {"Name": {"title": text("a")}, "Status": {"select": {"name": "Queued"}}})
    admin.create_page(ds, {"Name": {"title": text("b")}})
    admin.create_page(
        ds, {"Name": {"title": text("c")}, "Status": {"select": {"name": "Brand new"}}}
    )
    assert await names(notion, ds, {"property": "Status", "select": {"equals": "Queued"}}) == ["a"]
    assert await names(notion, ds, {"property": "Status", "select": {"is_empty": True}}) == ["b"]
    assert set(
        await names(notion, ds, {"property": "Status", "select": {"does_not_equal": "Queued"}})
    ) == {"b", "c"}
    assert await names(notion, ds, {"property": "Status", "select": {"is_not_empty": True}}) == [
        "a",
        "c",
    ]
    # A select-typed column refuses a status filter, like Notion.
    with pytest.raises(APIResponseError) as info:
        await names(notion, ds, {"property": "Status", "status": {"equals": "Queued"}})
    assert info.value.code == "validation_error"


async def test_multi_select_relation_people_files_filters(
    notion: AsyncClient, rows: tuple[str, dict[str, str]], local_notion: LocalNotionServer
):
    ds, _ = rows
    assert await names(notion, ds, {"property": "Tags", "multi_select": {"contains": "promo"}}) == [
        "alpha"
    ]
    assert set(
        await names(notion, ds, {"property": "Tags", "multi_select": {"does_not_contain": "promo"}})
    ) == {"beta", "gamma", "delta"}
    assert set(
        await names(notion, ds, {"property": "Tags", "multi_select": {"is_empty": True}})
    ) == {"gamma", "delta"}
    target = (await notion.search(query="target"))["results"][0]["id"]
    assert await names(notion, ds, {"property": "Rel", "relation": {"contains": target}}) == [
        "alpha"
    ]
    assert (
        len(await names(notion, ds, {"property": "Rel", "relation": {"does_not_contain": target}}))
        == 3
    )
    assert await names(notion, ds, {"property": "Rel", "relation": {"is_not_empty": True}}) == [
        "alpha"
    ]
    assert len(await names(notion, ds, {"property": "Rel", "relation": {"is_empty": True}})) == 3
    rita = local_notion.state.reviewer_id
    assert await names(notion, ds, {"property": "Owner", "people": {"contains": rita}}) == ["alpha"]
    assert await names(notion, ds, {"property": "Media", "files": {"is_not_empty": True}}) == [
        "alpha"
    ]
    assert len(await names(notion, ds, {"property": "Media", "files": {"is_empty": True}})) == 3


DATE_CASES = [
    ({"equals": "2026-12-01"}, {"alpha"}),
    ({"equals": "2026-12-10"}, {"beta"}),
    ({"before": "2026-12-01"}, {"gamma"}),
    ({"after": "2026-12-01"}, {"beta"}),
    ({"on_or_before": "2026-12-01"}, {"alpha", "gamma"}),
    ({"on_or_after": "2026-12-01"}, {"alpha", "beta"}),
    ({"after": "2026-12-10T09:00:00Z"}, {"beta"}),
    ({"is_empty": True}, {"delta"}),
    ({"is_not_empty": True}, {"alpha", "beta", "gamma"}),
]


@pytest.mark.parametrize(("cond", "expected"), DATE_CASES)
async def test_date_filters(
    notion: AsyncClient, rows: tuple[str, dict[str, str]], cond: dict[str, Any], expected: set[str]
):
    ds, _ = rows
    assert set(await names(notion, ds, {"property": "Due", "date": cond})) == expected


async def test_compound_filters_two_levels(notion: AsyncClient, rows: tuple[str, dict[str, str]]):
    ds, _ = rows
    flt = {
        "or": [
            {
                "and": [
                    {"property": "Clips", "number": {"greater_than": 6}},
                    {"property": "Status", "status": {"equals": "Done"}},
                ]
            },
            {"property": "Auto", "checkbox": {"equals": True}},
        ]
    }
    assert set(await names(notion, ds, flt)) == {"alpha", "gamma"}
    both = {
        "and": [
            {"property": "Clips", "number": {"is_not_empty": True}},
            {"property": "Brief", "rich_text": {"is_empty": True}},
        ]
    }
    assert await names(notion, ds, both) == ["gamma"]
    too_deep = {"and": [{"or": [{"and": [{"property": "Auto", "checkbox": {"equals": True}}]}]}]}
    with pytest.raises(APIResponseError) as info:
        await names(notion, ds, too_deep)
    assert info.value.code == "validation_error"


async def test_timestamp_filters_and_sorts(local_notion: LocalNotionServer, notion: AsyncClient):
    clock = FixedClock(datetime(2026, 11, 21, 10, 0, 30, tzinfo=UTC))
    local_notion.state.clock = clock
    admin = local_notion.admin
    _, ds = admin.create_database("T", {"Name": {"title": {}}, "N": {"number": {}}})
    first = admin.create_page(ds, {"Name": {"title": text("first")}, "N": {"number": 2}})
    clock.advance(120)
    admin.create_page(ds, {"Name": {"title": text("second")}, "N": {"number": 1}})
    clock.advance(120)  # 10:04:30
    admin.update_page(first["id"], {"N": {"number": 3}})
    since = {
        "timestamp": "last_edited_time",
        "last_edited_time": {"on_or_after": "2026-11-21T10:03:00.000Z"},
    }
    assert await names(notion, ds, since) == ["first"]
    created = {"timestamp": "created_time", "created_time": {"after": "2026-11-21T10:01:00Z"}}
    assert await names(notion, ds, created) == ["second"]
    edited_desc = [{"timestamp": "last_edited_time", "direction": "descending"}]
    assert await names(notion, ds, sorts=edited_desc) == ["first", "second"]
    assert await names(
        notion, ds, sorts=[{"timestamp": "created_time", "direction": "descending"}]
    ) == ["second", "first"]
    assert await names(notion, ds, sorts=[{"property": "N", "direction": "ascending"}]) == [
        "second",
        "first",
    ]
    assert await names(notion, ds, sorts=[{"property": "Name", "direction": "descending"}]) == [
        "second",
        "first",
    ]


async def test_status_sort_follows_option_order(
    notion: AsyncClient, rows: tuple[str, dict[str, str]]
):
    ds, _ = rows
    # Options: Draft, Queued, Planning, Done; delta defaulted to Draft.
    order = await names(notion, ds, sorts=[{"property": "Status", "direction": "ascending"}])
    assert order == ["delta", "alpha", "beta", "gamma"]


async def test_trashed_pages_are_excluded(
    local_notion: LocalNotionServer, notion: AsyncClient, rows: tuple[str, dict[str, str]]
):
    ds, ids = rows
    await notion.pages.update(ids["beta"], in_trash=True)
    assert "beta" not in await names(notion, ds)
    assert len(await names(notion, ds)) == 3


async def test_pagination_over_300_rows(local_notion: LocalNotionServer, notion: AsyncClient):
    _, ds = local_notion.admin.create_database("Big", {"Name": {"title": {}}, "I": {"number": {}}})
    local_notion.admin.seed_pages(
        ds, 301, lambda i: {"Name": {"title": text(f"r{i}")}, "I": {"number": i}}
    )
    first = await notion.data_sources.query(ds)
    assert len(first["results"]) == 100
    assert first["has_more"] is True
    assert first["next_cursor"]
    everything = await async_collect_paginated_api(notion.data_sources.query, data_source_id=ds)
    assert [p["properties"]["I"]["number"] for p in everything] == list(range(301))
    odd = await async_collect_paginated_api(
        notion.data_sources.query,
        data_source_id=ds,
        page_size=40,
        filter={"property": "I", "number": {"greater_than_or_equal_to": 150}},
        sorts=[{"property": "I", "direction": "descending"}],
    )
    assert [p["properties"]["I"]["number"] for p in odd] == list(range(300, 149, -1))
    queries = local_notion.request_log.count(
        method="POST", path_prefix=f"/v1/data_sources/{ds}/query"
    )
    assert queries == 1 + 4 + 4
    with pytest.raises(APIResponseError) as info:
        await notion.data_sources.query(ds, page_size=101)
    assert info.value.code == "validation_error"


async def test_filter_properties_limits_returned_properties(
    notion: AsyncClient, rows: tuple[str, dict[str, str]]
):
    ds, _ = rows
    result = await notion.data_sources.query(ds, filter_properties=["title"])
    assert all(list(r["properties"]) == ["Name"] for r in result["results"])


async def test_unknown_property_in_filter_is_refused(
    notion: AsyncClient, rows: tuple[str, dict[str, str]]
):
    ds, _ = rows
    with pytest.raises(APIResponseError) as info:
        await names(notion, ds, {"property": "Nope", "number": {"equals": 1}})
    assert info.value.code == "validation_error"
    assert "Nope" in str(info.value)
