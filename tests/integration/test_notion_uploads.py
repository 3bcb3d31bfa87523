"""Notion file uploads through NotionClient against the local Notion API server."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from notion_sync.client import NotionClient
from notion_sync.errors import NotionPermanentError
from notion_sync.local_api.server import LocalNotionServer
from notion_sync.settings import NotionSettings
from notion_sync.uploads import PART_BYTES, NotionFileUploads
from storage import StorageSettings, build_storage
from storage.errors import StoragePermanentError
from storage.keys import clip_key
from storage.notion import NotionStorage

MIB = 1024 * 1024
TOKEN = "secret_reelgate_local_token"


@pytest.fixture
def notion_server(local_notion: LocalNotionServer) -> LocalNotionServer:
    return local_notion


@pytest.fixture
def notion_server_with_token() -> Iterator[LocalNotionServer]:
    """A server that checks the bearer token (the shared fixture accepts any)."""
    with LocalNotionServer(token=TOKEN) as server:
        server.knobs.disable_rate_limit()
        yield server


def settings_for(server: LocalNotionServer, token: str = TOKEN) -> NotionSettings:
    return NotionSettings(
        base_url=server.base_url,
        token=SecretStr(token),
        requests_per_second=50,
        max_retries=3,
        retry_backoff_s=0.01,
        timeout_s=30,
    )


@pytest.fixture
async def notion_client(notion_server: LocalNotionServer) -> AsyncIterator[NotionClient]:
    async with NotionClient(settings_for(notion_server)) as client:
        yield client


def make_file(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    with path.open("wb") as fh:
        left = size
        while left:
            chunk = os.urandom(min(MIB, left))
            fh.write(chunk)
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


async def test_single_part_upload_round_trip(
    notion_server: LocalNotionServer, notion_client: NotionClient, tmp_path: Path
) -> None:
    storage = build_storage(StorageSettings(backend="notion"), notion_client=notion_client)
    assert isinstance(storage, NotionStorage)
    path = tmp_path / "clip.mp4"
    expected = make_file(path, 3 * MIB + 17)
    key = clip_key("Space", "Mars", 5, 2)

    stored = await storage.put(key, path, "video/mp4")

    assert stored.url == ""
    assert stored.file_upload_id
    assert stored.sha256 == expected
    assert stored.bytes == 3 * MIB + 17
    assert stored.url_expires_at is not None
    upload = await storage.uploads.retrieve(stored.file_upload_id)
    assert upload.status == "uploaded"
    assert upload.filename == "clip_05_a2.mp4"
    assert upload.content_type == "video/mp4"
    assert upload.content_length == 3 * MIB + 17
    assert hashlib.sha256(notion_server.admin.file_bytes(stored.file_upload_id)).hexdigest() == (
        expected
    )
    log = notion_server.request_log
    assert log.count("POST", "/v1/file_uploads") == 2  # create + send
    assert log.count("POST", f"/v1/file_uploads/{stored.file_upload_id}/send") == 1
    assert log.count("POST", f"/v1/file_uploads/{stored.file_upload_id}/complete") == 0
    assert await storage.exists(key)
    assert storage.file_upload_id_for(key) == stored.file_upload_id

    # What the orchestrator does next: attach the upload to a video block in time.
    attached = await notion_client.append_block_children(
        notion_server.root_page_id,
        [
            {
                "object": "block",
                "type": "video",
                "video": {"type": "file_upload", "file_upload": {"id": stored.file_upload_id}},
            }
        ],
    )
    video = attached["results"][0]["video"]
    assert video["type"] == "file"
    assert video["file"]["url"]
    await storage.delete(key)
    assert not await storage.exists(key)
    assert await storage.url_for(key) == ""


@pytest.mark.slow
async def test_multi_part_upload_round_trip(
    notion_server: LocalNotionServer, notion_client: NotionClient, tmp_path: Path
) -> None:
    uploads = NotionFileUploads(notion_client)
    path = tmp_path / "final_r1.mp4"
    size = 25 * MIB + 123
    expected = make_file(path, size)

    result = await uploads.upload_file(path, content_type="video/mp4")

    assert result.parts == 3  # 10 + 10 + 5 MiB (and a bit)
    assert result.sha256 == expected
    assert result.bytes == size
    upload_id = result.file_upload.id
    fetched = await notion_client.request("GET", f"/v1/file_uploads/{upload_id}")
    assert fetched["status"] == "uploaded"
    assert fetched["content_length"] == size
    assert fetched["number_of_parts"] == {"total": 3, "sent": 3}
    assert hashlib.sha256(notion_server.admin.file_bytes(upload_id)).hexdigest() == expected
    log = notion_server.request_log
    assert log.count("POST", f"/v1/file_uploads/{upload_id}/send", status=200) == 3
    assert log.count("POST", f"/v1/file_uploads/{upload_id}/complete", status=200) == 1


async def test_exactly_20_mib_is_still_single_part(
    notion_server: LocalNotionServer, notion_client: NotionClient, tmp_path: Path
) -> None:
    path = tmp_path / "edge.mp4"
    make_file(path, 20 * MIB)
    result = await NotionFileUploads(notion_client).upload_file(path, content_type="video/mp4")
    assert result.parts == 1
    assert notion_server.request_log.count("POST", "/v1/file_uploads/", status=200) == 1


async def test_a_part_answered_with_503_is_sent_again(
    notion_server: LocalNotionServer, notion_client: NotionClient, tmp_path: Path
) -> None:
    # Trailing slash: matches /send and /complete, not the create call.
    notion_server.knobs.inject(status=503, method="POST", path_prefix="/v1/file_uploads/")
    path = tmp_path / "kf.png"
    expected = make_file(path, 1000)
    result = await NotionFileUploads(notion_client).upload_file(path, content_type="image/png")
    assert result.file_upload.status == "uploaded"
    assert result.sha256 == expected
    assert notion_server.request_log.count("POST", "/v1/file_uploads/", status=503) == 1


async def test_a_refused_retry_of_a_call_that_worked_is_recovered(
    notion_client: NotionClient, tmp_path: Path
) -> None:
    uploads = NotionFileUploads(notion_client)
    upload = await uploads.create("single_part", filename="a.png", content_type="image/png")
    await uploads.send(upload.id, b"png", filename="a.png", content_type="image/png")
    # A second send (what a retry after a lost response looks like) is refused ...
    with pytest.raises(NotionPermanentError):
        await uploads.send(upload.id, b"png", filename="a.png", content_type="image/png")
    # ... and the upload is still recognised as done.
    recovered = await uploads._recover(upload.id, 3)
    assert recovered.status == "uploaded"


async def test_wrong_token_is_a_permanent_storage_error(
    notion_server_with_token: LocalNotionServer, tmp_path: Path
) -> None:
    path = tmp_path / "clip.mp4"
    make_file(path, 1000)
    settings = settings_for(notion_server_with_token, token="secret_wrong")
    async with NotionClient(settings) as client:
        storage = NotionStorage.from_client(client)
        with pytest.raises(StoragePermanentError) as info:
            await storage.put("c/t/clips/clip_01_a1.mp4", path, "video/mp4")
    assert info.value.status == 401
    assert "secret_wrong" not in str(info.value)


async def test_missing_file_and_bad_keys(notion_client: NotionClient, tmp_path: Path) -> None:
    storage = NotionStorage.from_client(notion_client)
    with pytest.raises(StoragePermanentError):
        await storage.put("c/t/clips/clip_01_a1.mp4", tmp_path / "missing.mp4", "video/mp4")
    with pytest.raises(StoragePermanentError):
        await storage.put("../../etc/passwd", tmp_path / "missing.mp4", "video/mp4")
    assert not await storage.exists("c/t/clips/clip_09_a1.mp4")


def test_part_size_limits_are_enforced(notion_client: NotionClient) -> None:
    assert PART_BYTES == 10 * MIB
    with pytest.raises(ValueError, match="5-20 MiB"):
        NotionFileUploads(notion_client, part_bytes=4 * MIB)
    with pytest.raises(ValueError, match="20 MB"):
        NotionFileUploads(notion_client, single_part_max_bytes=21 * MIB)
