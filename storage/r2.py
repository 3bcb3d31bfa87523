"""Cloudflare R2 (S3 API) through boto3.

Facts this module depends on (checked against R2/S3 docs and botocore source):

- R2 wants ``region_name="auto"`` and SigV4.
- botocore >= 1.36 adds CRC checksums (``x-amz-checksum-*`` headers, aws-chunked
  bodies) to every upload by default; R2 rejects some of those requests. With
  ``request_checksum_calculation="when_required"`` botocore only adds them where the
  S3 model *requires* a checksum, and s3transfer then no longer sets a default
  ``ChecksumAlgorithm`` on multipart uploads (s3transfer/manager.py,
  ``_add_operation_defaults``). ``response_checksum_validation="when_required"``
  stops botocore sending ``x-amz-checksum-mode`` on GETs.
- S3 multipart parts must be >= 5 MiB except the last; R2 additionally expects all
  non-final parts to be the same size, which TransferConfig's fixed chunk size gives.
- A SigV4 presigned URL is valid for at most 604800 s (7 days).
- R2 has no object ACLs: nothing here sends ``x-amz-acl``.
- boto3 clients are thread-safe (sessions and resources are not), so one client is
  shared by the ``asyncio.to_thread`` calls.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar
from urllib.parse import quote

import boto3
import structlog
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
)
from pydantic import SecretStr

from storage.base import ObjectURL, RetryObserver, StoredObject
from storage.errors import StorageError, StoragePermanentError, StorageTransientError
from storage.hashing import sha256_file
from storage.keys import validate_key
from storage.settings import StorageSettings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = [
    "IMMUTABLE_CACHE_CONTROL",
    "MAX_PRESIGN_SECONDS",
    "R2Storage",
    "build_r2_client",
]

log = structlog.get_logger(__name__)

MAX_PRESIGN_SECONDS: Final = 7 * 24 * 3600  # SigV4 hard limit
# Keys carry the attempt number, so bytes under a key never change: cache forever.
IMMUTABLE_CACHE_CONTROL: Final = "public, max-age=31536000, immutable"
_MIB: Final = 1024 * 1024

_TRANSIENT_CODES: Final = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "TooManyRequests",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "ServiceUnavailable",
        "InternalServerError",
        "BadGateway",
        "GatewayTimeout",
    }
)
_E = TypeVar("_E", bound=BaseException)
_NOT_FOUND_CODES: Final = frozenset({"404", "NoSuchKey", "NotFound"})


def build_r2_client(
    *,
    endpoint_url: str,
    access_key_id: SecretStr,
    secret_access_key: SecretStr,
    max_attempts: int = 5,
    max_pool_connections: int = 10,
    connect_timeout_s: float = 10.0,
    read_timeout_s: float = 60.0,
) -> S3Client:
    """An S3 client configured the way R2 needs it (see the module docstring)."""
    config = Config(
        signature_version="s3v4",
        # Path style: predictable URLs, no per-bucket DNS; R2 supports both.
        s3={"addressing_style": "path"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"mode": "standard", "max_attempts": max_attempts},
        connect_timeout=connect_timeout_s,
        read_timeout=read_timeout_s,
        max_pool_connections=max_pool_connections,
    )
    # A private Session: the default one is shared process-wide and is not
    # thread-safe, and it would fall back to AWS_* env credentials.
    session = boto3.session.Session()
    client: S3Client = session.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name="auto",
        aws_access_key_id=access_key_id.get_secret_value(),
        aws_secret_access_key=secret_access_key.get_secret_value(),
        config=config,
    )
    return client


class R2Storage:
    """Media in an R2 bucket, served from a public base URL or presigned GETs."""

    name = "r2"

    def __init__(
        self,
        settings: StorageSettings,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_retry: RetryObserver | None = None,
    ) -> None:
        """An R2 bucket as the ``r2_*`` and ``multipart_*`` settings describe it.

        ``clock`` decides presigned URLs' ``expires_at`` (tests pin it); ``on_retry``
        hears of every request botocore sends again (its retries are otherwise silent).
        """
        access_key_id, secret_access_key = settings.r2_access_key_id, settings.r2_secret_access_key
        if not settings.r2_endpoint_url or not settings.r2_bucket:
            raise StoragePermanentError("R2 storage needs an endpoint URL and a bucket")
        if not access_key_id.get_secret_value() or not secret_access_key.get_secret_value():
            raise StoragePermanentError("R2 storage needs an access key id and a secret key")
        if settings.multipart_chunk_mb * _MIB < 5 * _MIB:
            raise StoragePermanentError("multipart parts must be at least 5 MiB")
        self._check_expiry(settings.r2_presign_seconds)
        self.bucket = settings.r2_bucket
        self.public_base_url = settings.r2_public_base_url.rstrip("/")
        self.presign_seconds = settings.r2_presign_seconds
        self._clock = clock
        # Kept only to scrub them out of error text; never logged.
        self._secrets = (secret_access_key, access_key_id)
        self.client: S3Client = build_r2_client(
            endpoint_url=settings.r2_endpoint_url,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            max_attempts=settings.r2_max_attempts,
            max_pool_connections=max(10, settings.r2_max_concurrency * 2),
            connect_timeout_s=settings.r2_connect_timeout_s,
            read_timeout_s=settings.r2_read_timeout_s,
        )
        self._on_retry = on_retry
        # botocore retries 5xx, throttling and dropped connections by itself (standard
        # mode): note why an attempt failed, and log + count each attempt sent again.
        events = self.client.meta.events
        events.register("needs-retry.s3", self._note_failure)
        events.register("request-created.s3", self._report_retry)
        self.transfer_config = TransferConfig(
            multipart_threshold=settings.multipart_threshold_mb * _MIB,
            multipart_chunksize=settings.multipart_chunk_mb * _MIB,
            max_concurrency=settings.r2_max_concurrency,
            use_threads=True,
        )

    # -- Storage protocol ---------------------------------------------------------

    async def put(self, key: str, path: Path, content_type: str) -> StoredObject:
        validate_key(key)
        started = time.monotonic()
        try:
            # A separate hashing pass instead of hashing the upload stream: s3transfer
            # reads parts concurrently and re-reads them on retries, so a hash of
            # what it read would not be the file's hash. Page cache makes this cheap.
            size, sha256 = await asyncio.to_thread(sha256_file, path)
        except OSError as exc:
            raise StoragePermanentError(f"cannot read {path.name!r} for upload: {exc}") from exc
        extra_args: dict[str, Any] = {
            "ContentType": content_type,
            "CacheControl": IMMUTABLE_CACHE_CONTROL,
            "Metadata": {"sha256": sha256},
        }
        await self._call(
            "put",
            key,
            self.client.upload_file,
            str(path),
            self.bucket,
            key,
            ExtraArgs=extra_args,
            Config=self.transfer_config,
        )
        link = await self.url_for_with_expiry(key)
        log.debug(
            "object_stored",
            backend=self.name,
            bucket=self.bucket,
            key=key,
            bytes=size,
            sha256=sha256,
            multipart=size >= self.transfer_config.multipart_threshold,
            seconds=round(time.monotonic() - started, 3),
        )
        return StoredObject(
            key=key,
            url=link.url,
            bytes=size,
            sha256=sha256,
            content_type=content_type,
            url_expires_at=link.expires_at,
        )

    async def url_for(self, key: str) -> str:
        return (await self.url_for_with_expiry(key)).url

    async def url_for_with_expiry(self, key: str, expires_in: int | None = None) -> ObjectURL:
        """The URL Notion should embed, and when it stops working (None: never).

        With a public base URL (custom domain or r2.dev) the URL is permanent.
        Otherwise it is a presigned GET valid for ``expires_in`` seconds (default:
        the configured ``presign_seconds``, at most 7 days); the orchestrator must
        rewrite it in Notion before ``expires_at``.
        """
        validate_key(key)
        if self.public_base_url and expires_in is None:
            return ObjectURL(url=f"{self.public_base_url}/{quote(key, safe='/')}", expires_at=None)
        seconds = self.presign_seconds if expires_in is None else expires_in
        self._check_expiry(seconds)
        # Taken before signing, so expires_at is never later than the real expiry.
        now = self._clock()
        url = await self._call(
            "presign",
            key,
            self.client.generate_presigned_url,
            "get_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=seconds,
        )
        return ObjectURL(url=url, expires_at=now + timedelta(seconds=seconds))

    def presigned_expiry(self, key: str) -> datetime | None:
        """When a URL for ``key`` issued now would expire (None with a public base URL)."""
        validate_key(key)
        if self.public_base_url:
            return None
        return self._clock() + timedelta(seconds=self.presign_seconds)

    async def delete(self, key: str) -> None:
        validate_key(key)
        # DeleteObject succeeds for a missing key too: delete is idempotent.
        await self._call("delete", key, self.client.delete_object, Bucket=self.bucket, Key=key)
        log.info("object_deleted", backend=self.name, bucket=self.bucket, key=key)

    async def exists(self, key: str) -> bool:
        validate_key(key)
        try:
            await self._call("head", key, self.client.head_object, Bucket=self.bucket, Key=key)
        except StoragePermanentError as exc:
            # HEAD has no body, so botocore reports the bare status code "404".
            if exc.code in _NOT_FOUND_CODES:
                return False
            raise
        return True

    # -- internals ---------------------------------------------------------------

    @staticmethod
    def _note_failure(
        request_dict: dict[str, Any],
        response: tuple[Any, dict[str, Any]] | None = None,
        caught_exception: BaseException | None = None,
        **_: Any,
    ) -> None:
        """botocore's needs-retry event: remember why this attempt failed (no decision)."""
        if caught_exception is not None:
            reason = type(caught_exception).__name__
        elif response is not None:
            reason = str(response[1].get("ResponseMetadata", {}).get("HTTPStatusCode", "error"))
        else:
            return
        request_dict.setdefault("context", {})["reelgate_failure"] = reason

    def _report_retry(self, request: Any, operation_name: str = "", **_: Any) -> None:
        """botocore's request-created event: attempt 2+ of a call is a retry."""
        context = getattr(request, "context", None) or {}
        attempt = int(context.get("retries", {}).get("attempt", 1))
        if attempt <= 1:
            return
        reason = str(context.get("reelgate_failure", "unknown"))
        log.warning(
            "retry_storage_request",
            backend=self.name,
            operation=operation_name,
            attempt=attempt,
            reason=reason,
        )
        if self._on_retry is not None:
            self._on_retry(self.name, reason)

    @staticmethod
    def _check_expiry(seconds: int) -> None:
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds <= 0:
            raise StoragePermanentError(f"presign expiry must be a positive integer: {seconds!r}")
        if seconds > MAX_PRESIGN_SECONDS:
            raise StoragePermanentError(
                f"presign expiry {seconds}s exceeds the SigV4 maximum of "
                f"{MAX_PRESIGN_SECONDS}s (7 days)"
            )

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret.get_secret_value(), "***")
        return text

    async def _call(self, op: str, key: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        try:
            return await asyncio.to_thread(fn, *args, **kw)
        except Exception as exc:
            error = self._map_error(op, key, exc)
            log.warning(
                "object_store_call_failed",
                backend=self.name,
                op=op,
                key=key,
                code=error.code,
                transient=error.transient,
            )
            raise error from exc

    def _map_error(self, op: str, key: str, exc: BaseException) -> StorageError:
        client_error = _find_cause(exc, ClientError)
        if client_error is not None:
            err = client_error.response.get("Error", {})
            code = str(err.get("Code", "Unknown"))
            status = int(client_error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            detail = self._redact(str(err.get("Message", "")))[:300]
            message = f"R2 {op} of {key!r} failed: {code} (HTTP {status})"
            if detail:
                message += f": {detail}"
            transient = code in _TRANSIENT_CODES or status == 429 or status >= 500
            cls = StorageTransientError if transient else StoragePermanentError
            return cls(message, code=code, status=status)
        boto_error = _find_cause(exc, BotoCoreError)
        if boto_error is not None:
            name = type(boto_error).__name__
            message = f"R2 {op} of {key!r} failed: {name}: {self._redact(str(boto_error))[:300]}"
            if isinstance(
                boto_error, NoCredentialsError | PartialCredentialsError | ParamValidationError
            ):
                return StoragePermanentError(message, code=name)
            # Connection refused/reset, timeouts (HTTPClientError, ConnectionError) and
            # anything unknown from botocore: worth another try later.
            return StorageTransientError(message, code=name)
        if isinstance(exc, StorageError):
            return exc
        if isinstance(exc, OSError):
            # Reading the local file failed (vanished, permissions): retrying won't help.
            return StoragePermanentError(f"R2 {op} of {key!r} failed: {self._redact(str(exc))}")
        return StorageTransientError(
            f"R2 {op} of {key!r} failed: {type(exc).__name__}: {self._redact(str(exc))[:300]}"
        )


def _find_cause(exc: BaseException, kind: type[_E]) -> _E | None:
    """The first exception of ``kind`` in ``exc``'s cause/context chain.

    boto3's upload_file wraps ClientError in S3UploadFailedError (as __context__).
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
