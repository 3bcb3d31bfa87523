"""Pure mapping/rich-text behaviour: no server needed."""

from __future__ import annotations

from typing import Any

import pytest

from notion_sync.errors import NotionPermanentError
from notion_sync.mapping import (
    build_properties,
    build_property,
    read_property,
    task_from_page,
    video_from_page,
)
from notion_sync.ops import BlockSpec, FileRef
from notion_sync.richtext import chunk_text, plain_text, request_item, text_items
from notion_sync.schema import TASK_FIELDS, VIDEO_FIELDS, StatusOption
from notion_sync.writer import block_payload


def _as_response(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """What Notion echoes for a written value (close enough for reading)."""
    value = payload[kind]
    if kind in ("title", "rich_text"):
        value = [{**i, "plain_text": i["text"]["content"]} for i in value]
    return {"id": "x", "type": kind, kind: value}


def test_chunk_text_respects_2000_and_prefers_newlines() -> None:
    text = ("line of text\n" * 400) + "x" * 5000
    pieces = chunk_text(text)
    assert all(len(p) <= 2000 for p in pieces)
    assert "".join(pieces) == text
    assert pieces[0].endswith("\n")


def test_text_items_round_trip_long_text() -> None:
    text = "é" * 4500
    items = text_items(text)
    assert [len(i["text"]["content"]) for i in items] == [2000, 2000, 500]
    assert plain_text([{**i, "plain_text": i["text"]["content"]} for i in items]) == text


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("title", "Clip 05", "Clip 05"),
        ("rich_text", "hello", "hello"),
        ("number", 3.5, 3.5),
        ("select", "16:9", "16:9"),
        ("status", "Queued", "Queued"),
        ("date", "2026-01-02", "2026-01-02"),
        ("url", "https://x.test/a.mp4", "https://x.test/a.mp4"),
        ("people", ["u1", "u2"], ("u1", "u2")),
        ("relation", ["p1"], ("p1",)),
    ],
)
def test_build_then_read_every_simple_type(kind: str, value: Any, expected: Any) -> None:
    payload = build_property(kind, value)
    assert read_property(_as_response(kind, payload)) == expected


def test_files_property_from_fileref_and_upload() -> None:
    payload = build_property(
        "files",
        [
            FileRef(name="a.mp4", url="https://x.test/a.mp4"),
            {"name": "b.png", "file_upload_id": "fu-1"},
        ],
    )
    assert payload["files"][0] == {
        "name": "a.mp4",
        "type": "external",
        "external": {"url": "https://x.test/a.mp4"},
    }
    assert payload["files"][1]["file_upload"] == {"id": "fu-1"}


def test_unknown_logical_field_is_permanent_error() -> None:
    names = {k: v.name for k, v in TASK_FIELDS.items()}
    with pytest.raises(NotionPermanentError, match="unknown logical fields"):
        build_properties({"nope": 1}, TASK_FIELDS, names)


def test_task_fingerprint_ignores_daemon_fields() -> None:
    names = {k: v.name for k, v in TASK_FIELDS.items()}

    def page(status: str, progress: str) -> dict[str, Any]:
        props = build_properties(
            {"title": "T", "status": status, "progress": progress, "error_log": "clip 5"},
            TASK_FIELDS,
            names,
        )
        return {
            "id": "p1",
            "properties": {k: _as_response(next(iter(v)), v) for k, v in props.items()},
            "last_edited_time": "2026-01-01T00:00:00.000Z",
        }

    a = task_from_page(page("Queued", "1/20"), names)
    b = task_from_page(page("Queued", "2/20"), names)
    c = task_from_page(page("Planning", "2/20"), names)
    assert a.fingerprint == b.fingerprint != c.fingerprint
    assert a.status_label == "Queued"
    assert a.error_log == "clip 5"


def test_video_fingerprint_splits() -> None:
    names = {k: v.name for k, v in VIDEO_FIELDS.items()}
    props = build_properties(
        {"status": "Regenerate", "reviewer_note": "too dark", "clip": 5, "task": ["t1"]},
        VIDEO_FIELDS,
        names,
    )
    row = video_from_page(
        {"id": "r1", "properties": {k: _as_response(next(iter(v)), v) for k, v in props.items()}},
        names,
    )
    status, note = row.split_fingerprint(row.fingerprint)
    assert (status, row.clip_number, row.task_page_id) == ("Regenerate", 5, "t1")
    assert note
    assert len(note) == 16


def test_request_item_strips_response_fields() -> None:
    item = {
        "type": "mention",
        "mention": {"type": "user", "user": {"object": "user", "id": "u1", "name": "Ann"}},
        "annotations": {"bold": True},
        "plain_text": "@Ann",
        "href": None,
    }
    assert request_item(item) == {
        "type": "mention",
        "mention": {"type": "user", "user": {"id": "u1"}},
        "annotations": {"bold": True},
    }


def test_block_payloads() -> None:
    (image,) = block_payload(
        BlockSpec(kind="image", text="cap", file=FileRef(name="k.png", file_upload_id="fu"))
    )
    assert image["image"] == {
        "type": "file_upload",
        "file_upload": {"id": "fu"},
        "caption": [{"type": "text", "text": {"content": "cap"}}],
    }
    (para,) = block_payload(BlockSpec(kind="paragraph", text="x" * 4001))
    assert len(para["paragraph"]["rich_text"]) == 3
    assert block_payload(BlockSpec(kind="divider"))[0]["divider"] == {}


def test_status_option_group_validated() -> None:
    with pytest.raises(ValueError, match="group"):
        StatusOption(name="X", group="Done")  # type: ignore[arg-type]
