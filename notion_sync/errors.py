"""Errors of notion_sync: everything that goes wrong talking to Notion.

The root classes live in `reelgate.errors`, whose docstring draws the whole tree.
"""

from __future__ import annotations

from reelgate.errors import PermanentError, ReelgateError, TransientError

__all__ = [
    "NotionError",
    "NotionPermanentError",
    "NotionTransientError",
]


class NotionError(ReelgateError):
    """Base for everything that goes wrong talking to Notion."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class NotionTransientError(NotionError, TransientError):
    """429, 5xx, timeouts: the request may be sent again."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message, status=status, code=code)
        self.retry_after = retry_after


class NotionPermanentError(NotionError, PermanentError):
    """400/401/403/404 and friends: fix the input or the integration's access."""
