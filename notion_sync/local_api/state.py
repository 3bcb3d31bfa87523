"""In-memory store of the local Notion workspace.

Objects are kept as plain JSON-friendly dicts (so persistence is one `json.dump`)
in an internal shape; `objects.py` renders them in Notion's wire shape and
`service.py` holds the operations that change them.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "Clock",
    "FixedClock",
    "LocalNotionState",
    "format_precise_time",
    "format_time",
    "minute_floor",
    "new_id",
    "normalize_id",
    "utc_now",
]

Clock = Callable[[], datetime]
JSON = dict[str, Any]


def utc_now() -> datetime:
    return datetime.now(UTC)


def minute_floor(moment: datetime) -> datetime:
    """Notion stores created/last_edited times rounded *down* to the minute."""
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def format_time(moment: datetime) -> str:
    # Wire format verified against Notion's docs: "2020-03-17T19:10:04.968Z" (ms, Z).
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def format_precise_time(moment: datetime) -> str:
    """Views and view queries carry millisecond times with a `+00:00` offset on the wire
    (recorded responses of notion-sdk-py, Notion-Version 2025-09-03, checked 2026-12-01)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00:00"


def new_id() -> str:
    return str(uuid.uuid4())


def normalize_id(raw: str) -> str | None:
    """Notion accepts ids with or without dashes; answers always carry dashes."""
    try:
        return str(uuid.UUID(raw.strip()))
    except (ValueError, AttributeError):
        return None


class FixedClock:
    """A settable clock for tests: `clock.set(dt)`, `clock.advance(seconds=61)`."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = (start or utc_now()).astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment.astimezone(UTC)

    def advance(self, seconds: float) -> datetime:
        from datetime import timedelta

        self.now = self.now + timedelta(seconds=seconds)
        return self.now


class LocalNotionState:
    """Every object of one local workspace, guarded by one re-entrant lock.

    The server thread and test code (admin helpers) both touch it, so every
    operation in `service.py` takes `self.lock`.
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        workspace_name: str = "reelgate workspace",
        bot_name: str = "reelgate",
    ) -> None:
        self.lock = threading.RLock()
        self.clock: Clock = clock or utc_now
        self.workspace_name = workspace_name
        self.workspace_id = new_id()
        # Set by the server once it knows its port; used in file URLs.
        self.public_base_url = "http://127.0.0.1"
        self.users: dict[str, JSON] = {}
        self.pages: dict[str, JSON] = {}
        self.databases: dict[str, JSON] = {}
        self.data_sources: dict[str, JSON] = {}
        self.blocks: dict[str, JSON] = {}
        self.children: dict[str, list[str]] = {}
        self.comments: dict[str, JSON] = {}
        self.file_uploads: dict[str, JSON] = {}
        self.file_data: dict[str, bytes] = {}
        # Parts of multi-part uploads until /complete joins them; never persisted.
        self.file_parts: dict[str, dict[int, bytes]] = {}
        self.token_users: dict[str, str] = {}
        # Views of databases (`views.py`); `view_tabs[database_id]` is the tab order.
        self.views: dict[str, JSON] = {}
        self.view_tabs: dict[str, list[str]] = {}
        # Cached view query results expire after 15 minutes and are never persisted.
        self.view_queries: dict[str, JSON] = {}
        self.custom_emojis: dict[str, JSON] = {}
        self.revision = 0
        self.on_write: Callable[[LocalNotionState], None] | None = None

        self.bot_user_id = new_id()
        self.users[self.bot_user_id] = {
            "id": self.bot_user_id,
            "type": "bot",
            "name": bot_name,
        }
        self.reviewer_id = self.add_person("Rita Reviewer", "rita@example.com")
        self.creator_id = self.add_person("Cory Creator", "cory@example.com")
        now = self.now_iso()
        self.root_page_id = new_id()
        self.pages[self.root_page_id] = {
            "id": self.root_page_id,
            "parent": {"type": "workspace", "workspace": True},
            "data_source_id": None,
            "created_time": now,
            "last_edited_time": now,
            "created_by": self.creator_id,
            "last_edited_by": self.creator_id,
            "in_trash": False,
            "icon": None,
            "cover": None,
            "values": {"title": [_plain_text(workspace_name)]},
        }

    # -- time ---------------------------------------------------------------------

    def now_iso(self) -> str:
        return format_time(minute_floor(self.clock()))

    def now_precise(self) -> str:
        return format_precise_time(self.clock())

    # -- users --------------------------------------------------------------------

    def add_person(self, name: str, email: str | None = None) -> str:
        user_id = new_id()
        self.users[user_id] = {"id": user_id, "type": "person", "name": name, "email": email}
        return user_id

    def resolve_user(self, ref: str) -> str | None:
        """A user id (any dash style) or an exact user name -> user id."""
        uid = normalize_id(ref)
        if uid is not None and uid in self.users:
            return uid
        for user in self.users.values():
            if user["name"] == ref:
                return str(user["id"])
        return None

    # -- writes -------------------------------------------------------------------

    def touch(self) -> None:
        """Call after every write: bumps the revision and lets persistence save."""
        self.revision += 1
        if self.on_write is not None:
            self.on_write(self)

    # -- snapshot -----------------------------------------------------------------

    def snapshot(self) -> JSON:
        with self.lock:
            return {
                "version": 1,
                "workspace_name": self.workspace_name,
                "workspace_id": self.workspace_id,
                "bot_user_id": self.bot_user_id,
                "reviewer_id": self.reviewer_id,
                "creator_id": self.creator_id,
                "root_page_id": self.root_page_id,
                "users": self.users,
                "pages": self.pages,
                "databases": self.databases,
                "data_sources": self.data_sources,
                "blocks": self.blocks,
                "children": self.children,
                "comments": self.comments,
                "file_uploads": self.file_uploads,
                "token_users": self.token_users,
                "views": self.views,
                "view_tabs": self.view_tabs,
                "custom_emojis": self.custom_emojis,
            }

    def restore(self, data: JSON) -> None:
        with self.lock:
            self.workspace_name = data["workspace_name"]
            self.workspace_id = data.get("workspace_id", self.workspace_id)
            self.bot_user_id = data["bot_user_id"]
            self.reviewer_id = data["reviewer_id"]
            self.creator_id = data["creator_id"]
            self.root_page_id = data["root_page_id"]
            self.users = data["users"]
            self.pages = data["pages"]
            self.databases = data["databases"]
            self.data_sources = data["data_sources"]
            self.blocks = data["blocks"]
            self.children = data["children"]
            self.comments = data["comments"]
            self.file_uploads = data["file_uploads"]
            self.token_users = data.get("token_users", {})
            self.views = data.get("views", {})
            self.view_tabs = data.get("view_tabs", {})
            self.custom_emojis = data.get("custom_emojis", {})
            self.view_queries = {}


def _plain_text(content: str) -> JSON:
    return {
        "type": "text",
        "text": {"content": content, "link": None},
        "annotations": {
            "bold": False,
            "italic": False,
            "strikethrough": False,
            "underline": False,
            "code": False,
            "color": "default",
        },
        "plain_text": content,
        "href": None,
    }
