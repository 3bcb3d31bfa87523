"""The one interface every storage backend implements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol, runtime_checkable

__all__ = ["ExpiringURLs", "ObjectURL", "RetryObserver", "Storage", "StoredObject"]


# Told of every request a backend sends again after a failure: (backend, reason),
# e.g. ("r2", "503") or ("r2", "ConnectionClosedError"). The orchestrator counts them.
RetryObserver = Callable[[str, str], None]


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
    # When `url` (presigned R2 GET) or `file_upload_id` (unattached Notion upload)
    # stops working; None when it never expires (public base URL, local server).
    url_expires_at: datetime | None = None


@dataclass(frozen=True)
class ObjectURL:
    """A URL and the moment it stops working (None: never)."""

    url: str
    expires_at: datetime | None

    def needs_refresh(self, now: datetime, margin: timedelta = timedelta(days=1)) -> bool:
        """True when the URL should be re-signed (and rewritten in Notion) by `now`."""
        return self.expires_at is not None and now >= self.expires_at - margin


@runtime_checkable
class Storage(Protocol):
    name: str

    async def put(self, key: str, path: Path, content_type: str) -> StoredObject: ...

    async def url_for(self, key: str) -> str: ...

    async def delete(self, key: str) -> None: ...

    async def exists(self, key: str) -> bool: ...


@runtime_checkable
class ExpiringURLs(Protocol):
    """Backends whose URLs may expire tell when, so the orchestrator can schedule a
    refresh that rewrites the Notion URLs before they break."""

    async def url_for_with_expiry(self, key: str) -> ObjectURL: ...
