"""Local folder backend and its HTTP file server (real uvicorn on loopback)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from storage import StorageSettings, build_storage
from storage.base import ExpiringURLs, Storage
from storage.errors import StoragePermanentError
from storage.file_server import FileServer, start_file_server
from storage.local import LocalStorage
from storage.r2 import R2Storage


@pytest.fixture
def media(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def server(media: Path) -> Iterator[FileServer]:
    running = start_file_server(media)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def source(tmp_path: Path) -> tuple[Path, bytes]:
    data = os.urandom(300_000)
    path = tmp_path / "src.mp4"
    path.write_bytes(data)
    return path, data


async def test_put_copies_atomically_and_reports_sha256(
    media: Path, source: tuple[Path, bytes]
) -> None:
    storage = LocalStorage(media, "http://media.example/")
    assert isinstance(storage, Storage)
    assert isinstance(storage, ExpiringURLs)
    path, data = source
    key = "space/mars/clips/clip_01_a1.mp4"

    stored = await storage.put(key, path, "video/mp4")

    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.bytes == len(data)
    assert stored.url == f"http://media.example/{key}"
    assert stored.url_expires_at is None
    assert (media / key).read_bytes() == data
    # No temp file left behind next to it.
    assert sorted(p.name for p in (media / key).parent.iterdir()) == ["clip_01_a1.mp4"]
    assert ((media / key).stat().st_mode & 0o777) == 0o644
    assert await storage.exists(key)
    await storage.delete(key)
    assert not await storage.exists(key)
    await storage.delete(key)  # idempotent


async def test_without_base_url_urls_are_file_uris(media: Path, source: tuple[Path, bytes]) -> None:
    storage = LocalStorage(media)
    stored = await storage.put("a/b/kf_01_a1.png", source[0], "image/png")
    assert stored.url.startswith("file://")
    storage.base_url = "http://127.0.0.1:9/"
    assert await storage.url_for("a/b/kf_01_a1.png") == "http://127.0.0.1:9/a/b/kf_01_a1.png"


@pytest.mark.parametrize(
    "key", ["../../etc/passwd", "/etc/passwd", "a/%2e%2e/b", "a\\..\\b", "a\x00"]
)
async def test_traversal_is_refused(media: Path, source: tuple[Path, bytes], key: str) -> None:
    storage = LocalStorage(media)
    with pytest.raises(StoragePermanentError):
        await storage.put(key, source[0], "video/mp4")
    with pytest.raises(StoragePermanentError):
        await storage.exists(key)
    with pytest.raises(StoragePermanentError):
        await storage.delete(key)
    assert not (media.parent / "etc").exists()


async def test_symlink_out_of_root_is_refused(
    media: Path, tmp_path: Path, source: tuple[Path, bytes]
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    media.mkdir()
    (media / "link").symlink_to(outside, target_is_directory=True)
    storage = LocalStorage(media)
    with pytest.raises(StoragePermanentError, match="escapes"):
        await storage.put("link/x.mp4", source[0], "video/mp4")
    assert list(outside.iterdir()) == []


async def test_missing_source_is_permanent(media: Path, tmp_path: Path) -> None:
    with pytest.raises(StoragePermanentError):
        await LocalStorage(media).put("a/b/c.mp4", tmp_path / "nope.mp4", "video/mp4")


async def test_range_request_returns_206_with_the_right_bytes(
    media: Path, server: FileServer, source: tuple[Path, bytes]
) -> None:
    storage = LocalStorage(media, server.base_url)
    path, data = source
    stored = await storage.put("space/mars/clips/clip_02_a1.mp4", path, "video/mp4")

    async with httpx.AsyncClient() as http:
        partial = await http.get(stored.url, headers={"Range": "bytes=0-99"})
        tail = await http.get(stored.url, headers={"Range": "bytes=-100"})
        full = await http.get(stored.url)
        head = await http.head(stored.url)

    assert partial.status_code == 206
    assert partial.content == data[:100]
    assert partial.headers["content-range"] == f"bytes 0-99/{len(data)}"
    assert partial.headers["content-type"] == "video/mp4"
    assert tail.status_code == 206
    assert tail.content == data[-100:]
    assert full.status_code == 200
    assert full.content == data
    assert full.headers["accept-ranges"] == "bytes"
    assert full.headers["content-type"] == "video/mp4"
    assert "immutable" in full.headers["cache-control"]
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(data))


async def test_file_server_content_types_and_unsafe_paths(
    media: Path, server: FileServer, tmp_path: Path
) -> None:
    storage = LocalStorage(media, server.base_url)
    for name, expected in [
        ("kf_01_a1.png", "image/png"),
        ("clip_01_a1.jpg", "image/jpeg"),
        ("narration_a1.wav", "audio/wav"),
    ]:
        src = tmp_path / name
        src.write_bytes(b"data")
        stored = await storage.put(f"c/t/{name}", src, expected)
        async with httpx.AsyncClient() as http:
            response = await http.get(stored.url)
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0] == expected

    (tmp_path / "secret.txt").write_text("top secret")
    (media / "c" / "t" / ".clip.mp4.abc.part").write_text("half written")
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        for raw_path in [
            "/..%2fsecret.txt",
            "/c/..%2F..%2Fsecret.txt",
            "/%2e%2e/secret.txt",
            "/c/t/.clip.mp4.abc.part",
            "/c/t/missing.mp4",
            "/c",
        ]:
            response = await http.get(raw_path)
            assert response.status_code == 404, raw_path
            assert b"top secret" not in response.content


def test_file_server_context_manager_and_public_url(media: Path) -> None:
    with FileServer(media, public_base_url="https://demo.example/media/") as running:
        assert running.base_url == "https://demo.example/media"
        # The server itself still listens on loopback.
    with FileServer(media) as running:
        response = httpx.get(f"{running.base_url}/_health")
        assert response.text == "ok"


def test_factory_builds_each_backend(tmp_path: Path) -> None:
    local = build_storage(StorageSettings(backend="local", local_dir=tmp_path))
    assert isinstance(local, LocalStorage)
    r2 = build_storage(
        StorageSettings(
            backend="r2",
            r2_endpoint_url="http://127.0.0.1:9",
            r2_access_key_id=SecretStr("id"),
            r2_secret_access_key=SecretStr("secret"),
            r2_bucket="media",
        )
    )
    assert isinstance(r2, R2Storage)
    assert r2.transfer_config.multipart_threshold == 16 * 1024 * 1024
    with pytest.raises(StoragePermanentError, match="Notion client"):
        build_storage(StorageSettings(backend="notion"))
    with pytest.raises(StoragePermanentError, match="access key"):
        build_storage(StorageSettings(backend="r2", r2_endpoint_url="http://x", r2_bucket="b"))
