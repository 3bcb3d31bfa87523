"""A wire-faithful local Notion API server (API version 2025-09-03).

`LocalNotionServer` runs it in-process for tests (`.base_url`, `.state`, `.knobs`,
`.request_log`, `.admin`); `serve()` runs it standalone for demos
(`reelgate local-notion`). It serves every endpoint of notion-client 3.1; what it does
not reproduce is listed in docs/local-notion-api.md.
"""

from __future__ import annotations

from .admin import Admin, rich_text, title_value
from .apierror import ApiError
from .faults import Injection, Knobs, LoggedRequest, RequestLog, token_fingerprint
from .server import LocalNotionServer, root_page_id, serve
from .state import FixedClock, LocalNotionState, format_time, minute_floor

__all__ = [
    "Admin",
    "ApiError",
    "FixedClock",
    "Injection",
    "Knobs",
    "LocalNotionServer",
    "LocalNotionState",
    "LoggedRequest",
    "RequestLog",
    "format_time",
    "minute_floor",
    "rich_text",
    "root_page_id",
    "serve",
    "title_value",
    "token_fingerprint",
]
