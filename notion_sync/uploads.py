"""Notion file uploads: put a local file into Notion and get a file-upload id back.

Wire shapes (Notion API 2022-06-28+, checked against developers.notion.com and
notion-client 3.1's ``FileUploadsEndpoint``):

- ``POST /v1/file_uploads`` JSON ``{mode, filename, content_type[, number_of_parts]}``
  -> a ``file_upload`` object with ``id``, ``status: "pending"``, ``expiry_time``.
- ``POST /v1/file_uploads/{id}/send`` is the one multipart/form-data endpoint: the
  bytes go in the ``file`` field, and multi-part uploads add a ``part_number`` field
  that must be a *string* ("1", "2", ...). notion-client turns a ``(filename, bytes,
  content_type)`` tuple in ``form_data`` into a file field and any other value into a
  plain form field (``Client._build_request``).
- single_part: at most 20 MB; after ``send`` the status is ``uploaded``.
- multi_part: parts of 5-20 MiB except the last, which may be smaller (10 MiB is
  Notion's recommendation), at most 1,000 parts; ``filename`` must carry an
  extension; after the last part ``POST /v1/file_uploads/{id}/complete``.
- An upload that is not attached to a page property or block before ``expiry_time``
  (about an hour) expires; the API has no call to delete one.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Protocol

import structlog

from notion_sync.errors import NotionPermanentError

__all__ = [
    "MAX_PARTS",
    "PART_BYTES",
    "SINGLE_PART_MAX_BYTES",
    "FileUpload",
    "NotionFileUploads",
    "NotionRequester",
    "UploadResult",
]

log = structlog.get_logger(__name__)

JSON = dict[str, Any]

_MIB: Final = 1024 * 1024
SINGLE_PART_MAX_BYTES: Final = 20 * _MIB
PART_BYTES: Final = 10 * _MIB
MIN_PART_BYTES: Final = 5 * _MIB
MAX_PARTS: Final = 1000


class NotionRequester(Protocol):
    """What this module needs from ``notion_sync.client.NotionClient``."""

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: JSON | None = None,
        query: JSON | None = None,
        form_data: JSON | None = None,
    ) -> JSON: ...


@dataclass(frozen=True)
class FileUpload:
    """The parts of a Notion ``file_upload`` object reelgate uses."""

    id: str
    status: str  # pending | uploaded | expired | failed
    filename: str | None
    content_type: str | None
    content_length: int | None
    expiry_time: datetime | None
    parts_sent: int | None = None
    parts_total: int | None = None

    @classmethod
    def from_json(cls, data: JSON) -> FileUpload:
        if data.get("object") != "file_upload" or not isinstance(data.get("id"), str):
            raise NotionPermanentError("Notion answered with something that is not a file_upload")
        expiry = data.get("expiry_time")
        parts = data.get("number_of_parts") or {}
        return cls(
            id=data["id"],
            status=str(data.get("status", "")),
            filename=data.get("filename"),
            content_type=data.get("content_type"),
            content_length=data.get("content_length"),
            expiry_time=datetime.fromisoformat(expiry) if isinstance(expiry, str) else None,
            parts_sent=parts.get("sent"),
            parts_total=parts.get("total"),
        )


@dataclass(frozen=True)
class UploadResult:
    file_upload: FileUpload
    bytes: int
    sha256: str
    parts: int  # 1 for single_part


def _read_at(path: Path, offset: int, size: int) -> bytes:
    with path.open("rb") as fh:
        fh.seek(offset)
        return fh.read(size)


class NotionFileUploads:
    """Upload files to Notion through the shared rate-limited client."""

    def __init__(
        self,
        client: NotionRequester,
        *,
        part_bytes: int = PART_BYTES,
        single_part_max_bytes: int = SINGLE_PART_MAX_BYTES,
    ) -> None:
        if not MIN_PART_BYTES <= part_bytes <= SINGLE_PART_MAX_BYTES:
            raise ValueError("Notion parts must be 5-20 MiB")
        if not 0 < single_part_max_bytes <= SINGLE_PART_MAX_BYTES:
            raise ValueError("Notion single-part uploads are limited to 20 MB")
        self.client = client
        self.part_bytes = part_bytes
        self.single_part_max_bytes = single_part_max_bytes

    # -- the whole flow ----------------------------------------------------------

    async def upload_file(
        self, path: Path, *, content_type: str, filename: str | None = None
    ) -> UploadResult:
        """Send ``path`` to Notion (single or multi part by size); return the upload.

        The result's ``file_upload.id`` must be attached to a files property or a
        file/video/image block before ``file_upload.expiry_time``.
        """
        name = filename or path.name
        try:
            size = (await asyncio.to_thread(path.stat)).st_size
        except OSError as exc:
            raise NotionPermanentError(f"cannot read {name!r} for upload: {exc}") from exc
        started = time.monotonic()
        if size <= self.single_part_max_bytes:
            result = await self._single_part(path, name, content_type, size)
        else:
            result = await self._multi_part(path, name, content_type, size)
        log.info(
            "file_upload_completed",
            file_upload_id=result.file_upload.id,
            filename=name,
            bytes=result.bytes,
            parts=result.parts,
            seconds=round(time.monotonic() - started, 3),
        )
        return result

    async def _single_part(
        self, path: Path, name: str, content_type: str, size: int
    ) -> UploadResult:
        # <= 20 MB, so holding it in memory once is acceptable.
        data = await asyncio.to_thread(path.read_bytes)
        if len(data) != size:
            raise NotionPermanentError(f"{name!r} changed size while being uploaded")
        upload = await self.create("single_part", filename=name, content_type=content_type)
        try:
            done = await self.send(upload.id, data, filename=name, content_type=content_type)
        except NotionPermanentError:
            done = await self._recover(upload.id, size)
        self._expect_uploaded(done, name)
        return UploadResult(done, size, hashlib.sha256(data).hexdigest(), 1)

    async def _multi_part(
        self, path: Path, name: str, content_type: str, size: int
    ) -> UploadResult:
        parts = -(-size // self.part_bytes)
        if parts > MAX_PARTS:
            raise NotionPermanentError(
                f"{name!r} needs {parts} parts; Notion allows at most {MAX_PARTS}"
            )
        if "." not in name:
            raise NotionPermanentError(f"multi-part filename {name!r} needs an extension")
        upload = await self.create(
            "multi_part", filename=name, content_type=content_type, number_of_parts=parts
        )
        digest = hashlib.sha256()
        sent = 0
        for number in range(1, parts + 1):
            # One part in memory at a time; the hash is built from the same bytes.
            chunk = await asyncio.to_thread(_read_at, path, sent, self.part_bytes)
            if not chunk:
                raise NotionPermanentError(f"{name!r} shrank while being uploaded")
            digest.update(chunk)
            sent += len(chunk)
            await self.send(
                upload.id, chunk, filename=name, content_type=content_type, part_number=number
            )
        if sent != size:
            raise NotionPermanentError(f"{name!r} changed size while being uploaded")
        try:
            done = await self.complete(upload.id)
        except NotionPermanentError:
            done = await self._recover(upload.id, size)
        self._expect_uploaded(done, name)
        return UploadResult(done, size, digest.hexdigest(), parts)

    async def _recover(self, upload_id: str, size: int) -> FileUpload:
        """After a 4xx on send/complete: was it a retry of a call that had worked?

        The client retries 5xx/timeouts; if the first attempt reached Notion, the
        retry is refused because the upload is no longer pending. Then the upload
        is fine and the error is noise.
        """
        current = await self.retrieve(upload_id)
        if current.status == "uploaded" and current.content_length in (None, size):
            log.info("file_upload_recovered", file_upload_id=upload_id)
            return current
        raise NotionPermanentError(
            f"Notion file upload {upload_id} failed (status {current.status!r})"
        )

    @staticmethod
    def _expect_uploaded(upload: FileUpload, name: str) -> None:
        if upload.status != "uploaded":
            raise NotionPermanentError(
                f"Notion file upload {upload.id} for {name!r} ended as {upload.status!r}"
            )

    # -- one call each -------------------------------------------------------------

    async def create(
        self,
        mode: str,
        *,
        filename: str,
        content_type: str,
        number_of_parts: int | None = None,
    ) -> FileUpload:
        body: JSON = {"mode": mode, "filename": filename, "content_type": content_type}
        if number_of_parts is not None:
            body["number_of_parts"] = number_of_parts
        upload = FileUpload.from_json(await self.client.request("POST", "file_uploads", body=body))
        log.info(
            "file_upload_created",
            file_upload_id=upload.id,
            mode=mode,
            filename=filename,
            parts=number_of_parts or 1,
        )
        return upload

    async def send(
        self,
        upload_id: str,
        data: bytes,
        *,
        filename: str,
        content_type: str,
        part_number: int | None = None,
    ) -> FileUpload:
        form: JSON = {"file": (filename, data, content_type)}
        if part_number is not None:
            form["part_number"] = str(part_number)  # Notion wants a string here
        return FileUpload.from_json(
            await self.client.request("POST", f"file_uploads/{upload_id}/send", form_data=form)
        )

    async def complete(self, upload_id: str) -> FileUpload:
        return FileUpload.from_json(
            await self.client.request("POST", f"file_uploads/{upload_id}/complete")
        )

    async def retrieve(self, upload_id: str) -> FileUpload:
        return FileUpload.from_json(await self.client.request("GET", f"file_uploads/{upload_id}"))
