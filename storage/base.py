"""The one interface every storage backend implements."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

__all__ = ["Storage", "StoredObject"]


@dataclass(frozen=True)
class StoredObject:
    key: str
    url: str  # what Notion (or a browser) fetches; "" for Notion-hosted files
    bytes: int
    sha256: str
    content_type: str
    # Set only by the Notion backend: the file upload id to attach to a files
    # property or a video/image block before it expires.
    file_upload_id: str | None = None


@runtime_checkable
class Storage(Protocol):
    name: str

    async def put(self, key: str, path: Path, content_type: str) -> StoredObject: ...

    async def url_for(self, key: str) -> str: ...

    async def delete(self, key: str) -> None: ...

    async def exists(self, key: str) -> bool: ...
