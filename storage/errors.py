"""Errors raised by storage backends (the tree is drawn in `reelgate.errors`)."""

from __future__ import annotations

from reelgate.errors import PermanentError, ReelgateError, TransientError

__all__ = ["StorageError", "StoragePermanentError", "StorageTransientError"]


class StorageError(ReelgateError):
    """Base for everything that goes wrong storing or serving media."""

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        # The backend's error code ("NoSuchBucket", "EndpointConnectionError", ...)
        # and HTTP status, for callers and logs; never contains credentials.
        self.code = code
        self.status = status


class StorageTransientError(StorageError, TransientError):
    """Network trouble, throttling, 5xx from the object store."""


class StoragePermanentError(StorageError, PermanentError):
    """Bad key, missing bucket, refused credentials, invalid expiry."""
