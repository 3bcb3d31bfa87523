"""Pick the storage backend the settings ask for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage.base import RetryObserver, Storage
from storage.errors import StoragePermanentError
from storage.settings import StorageSettings

if TYPE_CHECKING:
    from notion_sync.uploads import NotionRequester

__all__ = ["build_storage"]


def build_storage(
    settings: StorageSettings,
    *,
    notion_client: NotionRequester | None = None,
    on_retry: RetryObserver | None = None,
) -> Storage:
    """Build the configured backend.

    ``notion_client`` (a ``notion_sync.client.NotionClient``) is needed only for the
    ``notion`` backend, and is shared so uploads count against the one rate limit.
    A ``local`` backend with an empty ``local_base_url`` gets its base URL later,
    from the file server the daemon starts (``storage.base_url = server.base_url``).
    ``on_retry`` hears of every request the backend's client sends again (R2).
    """
    if settings.backend == "local":
        from storage.local import LocalStorage

        return LocalStorage(settings.local_dir, settings.local_base_url)
    if settings.backend == "r2":
        from storage.r2 import R2Storage

        return R2Storage(settings, on_retry=on_retry)
    if settings.backend == "notion":
        if notion_client is None:
            raise StoragePermanentError("the notion storage backend needs a Notion client")
        from storage.notion import NotionStorage

        return NotionStorage.from_client(notion_client)
    raise StoragePermanentError(f"unknown storage backend {settings.backend!r}")
