"""The view requests setup-notion sends, as the Views API takes them (property ids)."""

from __future__ import annotations

from typing import Any

from notion_sync.settings import NotionSettings
from notion_sync.views import CLIPS_VIEW, NEEDS_REVIEW_VIEW, PIPELINE_VIEW, plan_views

JSON = dict[str, Any]


def data_source(ds_id: str, db_id: str, props: dict[str, str]) -> JSON:
    return {
        "id": ds_id,
        "parent": {"type": "database_id", "database_id": db_id},
        "properties": {name: {"id": f"id-{name}", "type": kind} for name, kind in props.items()},
    }


TASKS = {"Name": "title", "Status": "select", "Progress": "rich_text", "Cost": "number",
         "Owner": "people", "Status Changed": "date"}  # fmt: skip
VIDEOS = {"Name": "title", "Task": "relation", "Clip": "number", "Status": "select",
          "Thumbnail": "files"}  # fmt: skip


def test_a_select_status_column_gets_a_select_board_and_filter() -> None:
    plans, skipped = plan_views(
        NotionSettings(_env_file=None),  # type: ignore[call-arg]
        data_source("t", "tdb", TASKS),
        data_source("v", "vdb", VIDEOS),
        ["Video Ready", "Failed"],
    )
    assert skipped == []
    by_name = {p.name: p.body for p in plans}
    assert list(by_name) == [PIPELINE_VIEW, NEEDS_REVIEW_VIEW, CLIPS_VIEW]
    board = by_name[PIPELINE_VIEW]["configuration"]
    assert board["group_by"] == {
        "type": "select",
        "property_id": "id-Status",
        "sort": {"type": "manual"},
    }  # no `group_by: option`: that is for Status properties only
    assert [p["property_id"] for p in board["properties"]] == ["id-Progress", "id-Cost", "id-Owner"]
    review = by_name[NEEDS_REVIEW_VIEW]
    assert review["filter"] == {
        "or": [
            {"property": "id-Status", "select": {"equals": "Video Ready"}},
            {"property": "id-Status", "select": {"equals": "Failed"}},
        ]
    }
    assert review["sorts"] == [{"property": "id-Status Changed", "direction": "ascending"}]
    clips = by_name[CLIPS_VIEW]
    assert clips["database_id"] == "vdb"
    assert "group_by" not in clips["configuration"]  # a gallery has none (views.ts)
    assert clips["configuration"]["cover"] == {"type": "property", "property_id": "id-Thumbnail"}


def test_without_a_status_property_only_the_clips_gallery_is_planned() -> None:
    tasks = {k: v for k, v in TASKS.items() if k != "Status"}
    plans, skipped = plan_views(
        NotionSettings(_env_file=None),  # type: ignore[call-arg]
        data_source("t", "tdb", tasks),
        data_source("v", "vdb", VIDEOS),
        ["Video Ready"],
    )
    assert [p.name for p in plans] == [CLIPS_VIEW]
    assert 'Tasks has no "Status" property' in skipped[0]
