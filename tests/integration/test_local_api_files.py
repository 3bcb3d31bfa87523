"""File uploads (single and multi part), attaching them, and serving their bytes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from notion_client import AsyncClient
from notion_client.errors import APIResponseError

from notion_sync.local_api import LocalNotionServer
from tests.fixtures.notion import sample_schema

MIB = 1024 * 1024


async def upload_single(notion: AsyncClient, data: bytes, name: str = "clip.mp4") -> str:
    created = await notion.file_uploads.create(
        mode="single_part", filename=name, content_type="video/mp4"
    )
    assert created["status"] == "pending"
    assert created["upload_url"]
    sent = await notion.file_uploads.send(created["id"], file=(name, data, "video/mp4"))
    assert sent["status"] == "uploaded"
    assert sent["content_length"] == len(data)
    return str(sent["id"])


async def test_single_part_upload_attach_to_files_property_and_serve(
    local_notion: LocalNotionServer, notion: AsyncClient
):
    data = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40
    created = await notion.file_uploads.create(filename="clip.mp4", content_type="video/mp4")
    assert created["object"] == "file_upload"
    assert created["expiry_time"]
    upload_id = await upload_single(notion, data)
    got = await notion.file_uploads.retrieve(upload_id)
    assert got["status"] == "uploaded"
    assert got["filename"] == "clip.mp4"
    assert got["expiry_time"]

    _, ds = local_notion.admin.create_database("Videos", sample_schema())
    page = await notion.pages.create(
        parent={"data_source_id": ds},
        properties={
            "Media": {"files": [{"type": "file_upload", "file_upload": {"id": upload_id}}]}
        },
    )
    item = page["properties"]["Media"]["files"][0]
    assert item["type"] == "file"
    assert item["name"] == "clip.mp4"
    assert item["file"]["expiry_time"]
    url = item["file"]["url"]
    assert url.startswith(local_notion.base_url + "/files/")
    # Once attached, the upload no longer expires.
    assert (await notion.file_uploads.retrieve(upload_id))["expiry_time"] is None
    async with httpx.AsyncClient() as raw:
        served = await raw.get(url)
        ranged = await raw.get(url, headers={"Range": "bytes=4-11"})
    assert served.status_code == 200
    assert served.content == data
    assert served.headers["content-type"] == "video/mp4"
    assert ranged.status_code == 206
    assert ranged.content == b"ftypmp42"
    # Sending back what Notion returned keeps the file.
    again = await notion.pages.update(page["id"], properties={"Media": {"files": [item]}})
    assert again["properties"]["Media"]["files"][0]["file"]["url"] == url


async def test_upload_attached_to_video_and_image_blocks(
    local_notion: LocalNotionServer, notion: AsyncClient
):
    upload_id = await upload_single(notion, b"video-bytes")
    page = await notion.pages.create(
        parent={"page_id": local_notion.root_page_id}, properties={"title": {"title": []}}
    )
    result = await notion.blocks.children.append(
        page["id"],
        children=[
            {"type": "video", "video": {"type": "file_upload", "file_upload": {"id": upload_id}}},
            {
                "type": "image",
                "image": {"type": "external", "external": {"url": "https://x/y.png"}},
            },
        ],
    )
    video, image = result["results"]
    assert video["video"]["type"] == "file"
    assert video["video"]["caption"] == []
    assert video["video"]["file"]["url"].endswith("/clip.mp4")
    assert image["image"] == {
        "caption": [],
        "type": "external",
        "external": {"url": "https://x/y.png"},
    }
    assert local_notion.admin.file_bytes(upload_id) == b"video-bytes"


async def test_multi_part_upload(local_notion: LocalNotionServer, notion: AsyncClient):
    part1, part2 = b"a" * (5 * MIB), b"tail"
    created = await notion.file_uploads.create(
        mode="multi_part", number_of_parts=2, filename="big.mp4", content_type="video/mp4"
    )
    assert created["number_of_parts"] == {"total": 2, "sent": 0}
    with pytest.raises(APIResponseError) as early:
        await notion.file_uploads.complete(created["id"])
    assert early.value.code == "validation_error"
    one = await notion.file_uploads.send(
        created["id"], file=("big.mp4", part1, "video/mp4"), part_number="1"
    )
    assert one["status"] == "pending"
    assert one["number_of_parts"] == {"total": 2, "sent": 1}
    await notion.file_uploads.send(
        created["id"], file=("big.mp4", part2, "video/mp4"), part_number="2"
    )
    done = await notion.file_uploads.complete(created["id"])
    assert done["status"] == "uploaded"
    assert done["content_length"] == len(part1) + len(part2)
    assert local_notion.admin.file_bytes(created["id"]) == part1 + part2


async def test_upload_limits_and_states(notion: AsyncClient):
    created = await notion.file_uploads.create(mode="single_part", filename="huge.bin")
    with pytest.raises(APIResponseError) as too_big:
        await notion.file_uploads.send(created["id"], file=("huge.bin", b"x" * (20 * MIB + 1)))
    assert too_big.value.code == "validation_error"
    assert "20 MB" in str(too_big.value)
    multi = await notion.file_uploads.create(mode="multi_part", number_of_parts=2, filename="m.bin")
    with pytest.raises(APIResponseError) as small:
        await notion.file_uploads.send(multi["id"], file=("m.bin", b"x"), part_number="1")
    assert "5 MB" in str(small.value)
    with pytest.raises(APIResponseError):
        await notion.file_uploads.create(mode="multi_part", filename="m.bin")


async def test_pending_upload_cannot_be_attached(
    local_notion: LocalNotionServer, notion: AsyncClient
):
    created = await notion.file_uploads.create(filename="a.mp4")
    _, ds = local_notion.admin.create_database("V", sample_schema())
    files: list[dict[str, Any]] = [{"type": "file_upload", "file_upload": {"id": created["id"]}}]
    with pytest.raises(APIResponseError) as info:
        await notion.pages.create(
            parent={"data_source_id": ds}, properties={"Media": {"files": files}}
        )
    assert info.value.code == "validation_error"
    assert "pending" in str(info.value)


async def test_external_url_upload_imports_in_the_background(
    local_notion: LocalNotionServer, notion: AsyncClient
):
    import asyncio

    data = b"\x89PNG\r\n" + bytes(range(200))
    source = await notion.file_uploads.create(filename="frame.png", content_type="image/png")
    await notion.file_uploads.send(source["id"], file=("frame.png", data, "image/png"))
    url = f"{local_notion.base_url}/files/{source['id']}/frame.png"  # loopback http is allowed
    created = await notion.file_uploads.create(
        mode="external_url", filename="keyframe.png", external_url=url
    )
    # As recorded on Notion: pending at first, with the content type its HEAD request saw.
    assert (created["status"], created["content_type"]) == ("pending", "image/png")
    for _ in range(100):
        got = await notion.file_uploads.retrieve(created["id"])
        if got["status"] != "pending":
            break
        await asyncio.sleep(0.05)
    assert got["status"] == "uploaded"
    assert got["content_length"] == len(data)
    assert got["file_import_result"]["type"] == "success"
    assert local_notion.admin.file_bytes(created["id"]) == data
    with pytest.raises(APIResponseError) as info:
        await notion.file_uploads.send(created["id"], file=("x.png", b"x", "image/png"))
    assert "external URL" in str(info.value)


@pytest.mark.parametrize(
    ("url", "filename", "words"),
    [
        ("http://example.com/a.png", "a.png", "must use HTTPS"),
        ("{base}/files/00000000-0000-0000-0000-000000000000/a.png", "a.png", "HEAD request"),
        ("{base}/files/x/a.png", None, "body.filename should be defined"),
        ("https://example.com/a", "noextension", "content type"),
    ],
)
async def test_external_url_refusals(
    local_notion: LocalNotionServer,
    notion: AsyncClient,
    url: str,
    filename: str | None,
    words: str,
):
    body: dict[str, Any] = {
        "mode": "external_url",
        "external_url": url.format(base=local_notion.base_url),
    }
    if filename is not None:
        body["filename"] = filename
    with pytest.raises(APIResponseError) as info:
        await notion.file_uploads.create(**body)
    assert (info.value.status, info.value.code) == (400, "validation_error")
    assert words in str(info.value)
