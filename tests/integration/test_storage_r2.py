"""R2 backend against moto's S3 server on loopback (a real HTTP peer, no mocks)."""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import moto.settings
import pytest
import structlog
from botocore.config import Config
from pydantic import SecretStr, ValidationError

from storage.base import ExpiringURLs, Storage
from storage.errors import StoragePermanentError, StorageTransientError
from storage.keys import clip_key
from storage.r2 import IMMUTABLE_CACHE_CONTROL, MAX_PRESIGN_SECONDS, R2Storage
from storage.settings import StorageSettings
from tests.fixtures.s3 import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY, MotoS3

MIB = 1024 * 1024


def make_file(path: Path, size: int) -> str:
    """Write `size` random bytes to `path` in 1 MiB chunks; return their sha256."""
    digest = hashlib.sha256()
    with path.open("wb") as fh:
        remaining = size
        while remaining:
            chunk = os.urandom(min(MIB, remaining))
            fh.write(chunk)
            digest.update(chunk)
            remaining -= len(chunk)
    return digest.hexdigest()


def r2_settings(endpoint_url: str, bucket: str, **overrides: Any) -> StorageSettings:
    values: dict[str, Any] = {
        "backend": "r2",
        "r2_endpoint_url": endpoint_url,
        "r2_access_key_id": SecretStr(TEST_ACCESS_KEY_ID),
        "r2_secret_access_key": SecretStr(TEST_SECRET_ACCESS_KEY),
        "r2_bucket": bucket,
        "multipart_threshold_mb": 8,
        "multipart_chunk_mb": 8,
        "r2_max_attempts": 2,
    }
    values.update(overrides)
    return StorageSettings(_env_file=None, **values)  # type: ignore[call-arg]


def r2(
    moto_s3: MotoS3,
    bucket: str,
    *,
    clock: Callable[[], datetime] | None = None,
    **overrides: Any,
) -> R2Storage:
    settings = r2_settings(moto_s3.endpoint_url, bucket, **overrides)
    return R2Storage(settings) if clock is None else R2Storage(settings, clock=clock)


class SentRequests:
    """Records every HTTP request a boto3 client sends (botocore's before-send event)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []

    def __call__(self, request: Any, event_name: str, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        headers = {
            k.lower(): v.decode() if isinstance(v, bytes) else str(v)
            for k, v in request.headers.items()
        }
        self.requests.append((operation, headers))

    @property
    def operations(self) -> list[str]:
        return [op for op, _ in self.requests]

    def checksum_headers(self) -> list[tuple[str, str]]:
        return [
            (op, name)
            for op, headers in self.requests
            for name in headers
            if name.startswith("x-amz-checksum-") or name == "x-amz-sdk-checksum-algorithm"
        ]


@pytest.fixture
def sent() -> SentRequests:
    return SentRequests()


def attach(client: Any, recorder: SentRequests) -> None:
    client.meta.events.register("before-send.s3", recorder)


def sha256_of_object(moto_s3: MotoS3, bucket: str, key: str) -> str:
    body = moto_s3.admin_client().get_object(Bucket=bucket, Key=key)["Body"]
    digest = hashlib.sha256()
    for chunk in iter(lambda: body.read(MIB), b""):
        digest.update(chunk)
    return digest.hexdigest()


@pytest.mark.slow
async def test_30mb_multipart_upload_reads_back_with_same_sha256(
    moto_s3: MotoS3, s3_bucket: str, tmp_path: Path, sent: SentRequests
) -> None:
    storage = r2(moto_s3, s3_bucket)
    assert isinstance(storage, Storage)
    attach(storage.client, sent)
    path = tmp_path / "clip.mp4"
    expected = make_file(path, 30 * MIB)
    key = clip_key("Space Facts", "Why is Mars red?", 5, 2)

    stored = await storage.put(key, path, "video/mp4")

    assert stored.key == "space-facts/why-is-mars-red/clips/clip_05_a2.mp4"
    assert stored.bytes == 30 * MIB
    assert stored.sha256 == expected
    assert sha256_of_object(moto_s3, s3_bucket, key) == expected
    # 30 MiB in 8 MiB parts: 8 + 8 + 8 + 6.
    assert sent.operations.count("CreateMultipartUpload") == 1
    assert sent.operations.count("UploadPart") == 4
    assert sent.operations.count("CompleteMultipartUpload") == 1
    assert "PutObject" not in sent.operations
    # R2 rejects the newer default checksums; moto would not notice, so look ourselves.
    assert sent.checksum_headers() == []
    assert not any("x-amz-acl" in headers for _, headers in sent.requests)
    head = moto_s3.admin_client().head_object(Bucket=s3_bucket, Key=key)
    assert head["ContentType"] == "video/mp4"
    assert head["CacheControl"] == IMMUTABLE_CACHE_CONTROL
    assert head["Metadata"]["sha256"] == expected


async def test_single_put_sends_no_checksum_headers(
    moto_s3: MotoS3, s3_bucket: str, tmp_path: Path, sent: SentRequests
) -> None:
    storage = r2(moto_s3, s3_bucket)
    attach(storage.client, sent)
    path = tmp_path / "kf.png"
    expected = make_file(path, 200_000)

    stored = await storage.put("ch/task/keyframes/kf_01_a1.png", path, "image/png")

    assert stored.sha256 == expected
    assert sent.operations == ["PutObject"]
    assert sent.checksum_headers() == []
    headers = sent.requests[0][1]
    assert headers.get("cache-control") == IMMUTABLE_CACHE_CONTROL
    assert headers.get("content-type") == "image/png"
    assert "aws-chunked" not in headers.get("content-encoding", "")


def test_checksum_hook_detects_default_boto3_checksums(
    moto_s3: MotoS3, s3_bucket: str, sent: SentRequests
) -> None:
    """Control: the hook is able to see the headers the R2 config suppresses."""
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=moto_s3.endpoint_url,
        region_name="auto",
        aws_access_key_id=TEST_ACCESS_KEY_ID,
        aws_secret_access_key=TEST_SECRET_ACCESS_KEY,
        config=Config(
            s3={"addressing_style": "path"}, request_checksum_calculation="when_supported"
        ),
    )
    attach(client, sent)
    client.put_object(Bucket=s3_bucket, Key="control.bin", Body=b"x" * 1024)
    assert sent.checksum_headers() != []


async def test_presigned_get_fetches_and_reports_expiry(
    moto_s3: MotoS3, s3_bucket: str, tmp_path: Path
) -> None:
    fixed = datetime(2030, 1, 1, tzinfo=UTC)
    storage = r2(moto_s3, s3_bucket, r2_presign_seconds=3600, clock=lambda: fixed)
    assert isinstance(storage, ExpiringURLs)
    path = tmp_path / "a.mp4"
    expected = make_file(path, 100_000)
    stored = await storage.put("c/t/clips/clip_01_a1.mp4", path, "video/mp4")

    assert stored.url_expires_at == fixed + timedelta(hours=1)
    assert "X-Amz-Signature=" in stored.url
    assert "X-Amz-Expires=3600" in stored.url
    async with httpx.AsyncClient() as http:
        response = await http.get(stored.url)
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == expected

    link = await storage.url_for_with_expiry(stored.key, expires_in=MAX_PRESIGN_SECONDS)
    assert link.expires_at == fixed + timedelta(days=7)
    assert link.needs_refresh(fixed + timedelta(days=6, hours=1))
    assert not link.needs_refresh(fixed + timedelta(days=5))
    assert storage.presigned_expiry(stored.key) == fixed + timedelta(hours=1)


async def test_presign_longer_than_seven_days_is_refused(moto_s3: MotoS3, s3_bucket: str) -> None:
    storage = r2(moto_s3, s3_bucket)
    with pytest.raises(StoragePermanentError, match="7 days"):
        await storage.url_for_with_expiry("c/t/clips/clip_01_a1.mp4", expires_in=604_801)
    # The settings refuse it before any storage is built.
    with pytest.raises(ValidationError, match="r2_presign_seconds"):
        r2(moto_s3, s3_bucket, r2_presign_seconds=8 * 24 * 3600)


async def test_public_base_url_form(moto_s3: MotoS3, s3_bucket: str, tmp_path: Path) -> None:
    # moto serves path-style GETs without auth, standing in for an r2.dev/custom domain.
    base = f"{moto_s3.endpoint_url}/{s3_bucket}/"
    storage = r2(moto_s3, s3_bucket, r2_public_base_url=base)
    path = tmp_path / "t.jpg"
    expected = make_file(path, 5000)
    key = "c/t/thumbs/clip_01_a1.jpg"

    stored = await storage.put(key, path, "image/jpeg")

    assert stored.url == f"{moto_s3.endpoint_url}/{s3_bucket}/{key}"
    assert stored.url_expires_at is None
    assert storage.presigned_expiry(key) is None
    assert await storage.url_for(key) == stored.url
    # R2 makes a whole bucket public (r2.dev / custom domain); moto needs an ACL for
    # the anonymous GET. Test setup only: reelgate itself never sends ACLs.
    moto_s3.admin_client().put_object_acl(Bucket=s3_bucket, Key=key, ACL="public-read")
    async with httpx.AsyncClient() as http:
        response = await http.get(stored.url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert hashlib.sha256(response.content).hexdigest() == expected


async def test_exists_and_delete(moto_s3: MotoS3, s3_bucket: str, tmp_path: Path) -> None:
    storage = r2(moto_s3, s3_bucket)
    path = tmp_path / "x.wav"
    make_file(path, 1000)
    key = "c/t/audio/narration_a1.wav"

    assert await storage.exists(key) is False
    await storage.put(key, path, "audio/wav")
    assert await storage.exists(key) is True
    await storage.delete(key)
    assert await storage.exists(key) is False
    await storage.delete(key)  # idempotent


@pytest.mark.parametrize(
    "key", ["../../etc/passwd", "/abs/key.mp4", "c/../x.mp4", "c\\..\\x", "c/%2e%2e/x", "a\x00b"]
)
async def test_unsafe_keys_are_refused_before_any_request(
    moto_s3: MotoS3, s3_bucket: str, tmp_path: Path, sent: SentRequests, key: str
) -> None:
    storage = r2(moto_s3, s3_bucket)
    attach(storage.client, sent)
    path = tmp_path / "f.bin"
    path.write_bytes(b"x")
    with pytest.raises(StoragePermanentError):
        await storage.put(key, path, "application/octet-stream")
    with pytest.raises(StoragePermanentError):
        await storage.url_for(key)
    with pytest.raises(StoragePermanentError):
        await storage.exists(key)
    with pytest.raises(StoragePermanentError):
        await storage.delete(key)
    assert sent.requests == []


# -- errors: mapped to transient/permanent, and never carrying the credentials -------


def assert_no_secrets(text: str) -> None:
    assert TEST_SECRET_ACCESS_KEY not in text
    assert TEST_ACCESS_KEY_ID not in text


async def test_missing_bucket_is_permanent(moto_s3: MotoS3, tmp_path: Path) -> None:
    storage = r2(moto_s3, "no-such-bucket-reelgate")
    path = tmp_path / "f.mp4"
    make_file(path, 1000)
    with structlog.testing.capture_logs() as logs, pytest.raises(StoragePermanentError) as info:
        await storage.put("c/t/clips/clip_01_a1.mp4", path, "video/mp4")
    assert info.value.code == "NoSuchBucket"
    assert info.value.transient is False
    assert_no_secrets(str(info.value))
    assert_no_secrets(repr(logs))


async def test_wrong_credentials_are_permanent_and_never_echoed(
    moto_s3: MotoS3, s3_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # From here on moto's in-process server authenticates requests against its IAM,
    # where these keys do not exist.
    monkeypatch.setattr(moto.settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
    wrong_id, wrong_secret = "FAKE-wrong-key-id-reelgate-9", "wrong-Secret-Hh7Jj8Kk9Ll0Mm1Nn2Bb3Vv4"
    storage = r2(
        moto_s3,
        s3_bucket,
        r2_access_key_id=SecretStr(wrong_id),
        r2_secret_access_key=SecretStr(wrong_secret),
    )
    path = tmp_path / "f.mp4"
    make_file(path, 1000)

    with structlog.testing.capture_logs() as logs:
        with pytest.raises(StoragePermanentError) as put_info:
            await storage.put("c/t/clips/clip_01_a1.mp4", path, "video/mp4")
        with pytest.raises(StoragePermanentError) as head_info:
            await storage.exists("c/t/clips/clip_01_a1.mp4")

    assert put_info.value.code == "InvalidAccessKeyId"
    assert put_info.value.status == 403
    assert head_info.value.status == 403
    for text in (str(put_info.value), str(head_info.value), repr(logs)):
        assert wrong_secret not in text
        assert wrong_id not in text
    assert any(entry["event"] == "object_store_call_failed" for entry in logs)


async def test_unreachable_endpoint_is_transient_and_never_echoes_secrets(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # The port is closed again: connections are refused.
    storage = R2Storage(
        r2_settings(f"http://127.0.0.1:{port}", "b", r2_max_attempts=1, r2_connect_timeout_s=2)
    )
    path = tmp_path / "f.mp4"
    make_file(path, 1000)
    with structlog.testing.capture_logs() as logs, pytest.raises(StorageTransientError) as info:
        await storage.put("c/t/clips/clip_01_a1.mp4", path, "video/mp4")
    assert info.value.transient is True
    assert info.value.code == "EndpointConnectionError"
    assert_no_secrets(str(info.value))
    assert_no_secrets(repr(logs))
    assert_no_secrets(repr(storage.__dict__))


async def test_missing_local_file_is_permanent(
    moto_s3: MotoS3, s3_bucket: str, tmp_path: Path
) -> None:
    storage = r2(moto_s3, s3_bucket)
    with pytest.raises(StoragePermanentError):
        await storage.put("c/t/clips/clip_01_a1.mp4", tmp_path / "missing.mp4", "video/mp4")
