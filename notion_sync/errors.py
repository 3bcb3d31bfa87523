"""The error tree.

`ReelgateError` is the root for every package. It lives here, in the lowest layer,
because `storage` and `orchestrator` both depend on `notion_sync` and nothing depends
the other way: every package can derive from it without breaking DESIGN §1's
dependency direction.

Every error is either *transient* (retry with backoff) or *permanent* (stop and tell
a human why). Callers branch on `.transient`, never on library exception types.
"""

from __future__ import annotations

__all__ = [
    "NotionError",
    "NotionPermanentError",
    "NotionTransientError",
    "PermanentError",
    "ReelgateError",
    "TransientError",
]


class ReelgateError(Exception):
    """Root of every error reelgate raises on purpose."""

    transient: bool = False


class TransientError(ReelgateError):
    """Worth retrying later: rate limits, 5xx, timeouts, lost connections."""

    transient = True


class PermanentError(ReelgateError):
    """Retrying will not help: bad input, missing permission, unknown object."""

    transient = False


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
