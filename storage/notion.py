"""Media hosted by Notion itself, through the File Upload API.

There is no URL to hand out: ``put`` returns a ``StoredObject`` with ``url=""`` and
the ``file_upload_id`` the orchestrator attaches to a files property or a video
block before ``url_expires_at`` (Notion expires unattached uploads). Once attached,
Notion serves the file from its own signed URLs, refreshed by Notion on every read.
"""

from __future__ import annotations

from pathlib import Path

import structlog

from notion_sync.errors import NotionError
from notion_sync.uploads import NotionFileUploads, NotionRequester
from storage.base import StoredObject
from storage.errors import StorageError, StoragePermanentError, StorageTransientError
from storage.keys import validate_key

__all__ = ["NotionStorage"]

log = structlog.get_logger(__name__)


class NotionStorage:
    name = "notion"

    def __init__(self, uploads: NotionFileUploads) -> None:
        self.uploads = uploads
        # key -> file upload id for uploads made by this process. Not durable: the
        # orchestrator persists StoredObject.file_upload_id; this only serves
        # exists()/file_upload_id_for() within one run.
        self._ids: dict[str, str] = {}

    @classmethod
    def from_client(cls, client: NotionRequester) -> NotionStorage:
        return cls(NotionFileUploads(client))

    async def put(self, key: str, path: Path, content_type: str) -> StoredObject:
        validate_key(key)
        filename = key.rsplit("/", 1)[-1]
        try:
            result = await self.uploads.upload_file(
                path, content_type=content_type, filename=filename
            )
        except NotionError as exc:
            raise _storage_error(f"Notion upload of {key!r} failed: {exc}", exc) from exc
        self._ids[key] = result.file_upload.id
        return StoredObject(
            key=key,
            url="",
            bytes=result.bytes,
            sha256=result.sha256,
            content_type=content_type,
            file_upload_id=result.file_upload.id,
            url_expires_at=result.file_upload.expiry_time,
        )

    async def url_for(self, key: str) -> str:
        # Notion-hosted files are referenced by file_upload_id, never by our URL.
        validate_key(key)
        return ""

    def file_upload_id_for(self, key: str) -> str | None:
        return self._ids.get(validate_key(key))

    async def delete(self, key: str) -> None:
        # The API cannot delete a file upload; unattached ones expire by themselves and
        # attached ones go away with the block/property that holds them.
        self._ids.pop(validate_key(key), None)

    async def exists(self, key: str) -> bool:
        upload_id = self._ids.get(validate_key(key))
        if upload_id is None:
            return False
        try:
            upload = await self.uploads.retrieve(upload_id)
        except NotionError as exc:
            if exc.status == 404:
                return False
            raise _storage_error(f"Notion lookup of {key!r} failed: {exc}", exc) from exc
        return upload.status == "uploaded"


def _storage_error(message: str, exc: NotionError) -> StorageError:
    cls = StorageTransientError if exc.transient else StoragePermanentError
    return cls(message, code=exc.code, status=exc.status)
