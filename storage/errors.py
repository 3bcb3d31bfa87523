"""Errors raised by storage backends."""

from __future__ import annotations

from notion_sync.errors import PermanentError, ReelgateError, TransientError

__all__ = ["StorageError", "StoragePermanentError", "StorageTransientError"]


class StorageError(ReelgateError):
    """Base for everything that goes wrong storing or serving media."""


class StorageTransientError(StorageError, TransientError):
    """Network trouble, throttling, 5xx from the object store."""


class StoragePermanentError(StorageError, PermanentError):
    """Bad key, missing bucket, refused credentials, invalid expiry."""
