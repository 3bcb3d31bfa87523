"""The error a handler raises to answer with a Notion-shaped error body."""

from __future__ import annotations

from reelgate.errors import ReelgateError

__all__ = ["ApiError", "not_found", "validation_error"]


class ApiError(ReelgateError):
    """Rendered by the app as `{object: "error", status, code, message, request_id}`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def validation_error(message: str) -> ApiError:
    return ApiError(400, "validation_error", message)


def not_found(object_id: str, kind: str = "block") -> ApiError:
    # Notion's wording: it cannot tell "missing" from "not shared" and says so.
    return ApiError(
        404,
        "object_not_found",
        f"Could not find {kind} with ID: {object_id}. "
        "Make sure the relevant pages and databases are shared with your integration.",
    )
