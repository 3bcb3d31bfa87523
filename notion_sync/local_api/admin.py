"""Python-level helpers for tests and demos: same validation as HTTP, no requests.

Use them to arrange a workspace quickly (seed 1,000 rows) or to play the human in
Notion (`admin.update_page(pid, {...}, as_user="Rita Reviewer")`), and to read state
back without going through the rate limit or the request log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import comments, service, templates, views, workspace
from .objects import render_block, render_comment, render_page
from .state import LocalNotionState, normalize_id

__all__ = ["Admin", "rich_text", "title_value"]

JSON = dict[str, Any]


def rich_text(content: str) -> list[JSON]:
    """Request-shaped rich text for one plain string."""
    return [{"type": "text", "text": {"content": content}}]


def title_value(content: str) -> JSON:
    return {"title": rich_text(content)}


class Admin:
    def __init__(self, state: LocalNotionState) -> None:
        self.state = state

    def _actor(self, as_user: str | None) -> str:
        if as_user is None:
            return self.state.bot_user_id
        uid = self.state.resolve_user(as_user)
        if uid is None:
            raise KeyError(f"unknown user {as_user!r}")
        return uid

    @property
    def root_page_id(self) -> str:
        return self.state.root_page_id

    def create_database(
        self,
        title: str,
        properties: JSON,
        *,
        parent_page_id: str | None = None,
        as_user: str | None = None,
    ) -> tuple[str, str]:
        """-> (database_id, data_source_id). `properties` is the request schema map."""
        db = service.create_database(
            self.state,
            {
                "parent": {"type": "page_id", "page_id": parent_page_id or self.root_page_id},
                "title": rich_text(title),
                "initial_data_source": {"properties": properties},
            },
            self._actor(as_user),
        )
        return str(db["id"]), str(db["data_sources"][0]["id"])

    def create_page(
        self,
        data_source_id: str,
        properties: JSON,
        *,
        children: list[JSON] | None = None,
        as_user: str | None = None,
    ) -> JSON:
        body: JSON = {
            "parent": {"type": "data_source_id", "data_source_id": data_source_id},
            "properties": properties,
        }
        if children:
            body["children"] = children
        return service.create_page(self.state, body, self._actor(as_user))

    def seed_pages(
        self,
        data_source_id: str,
        count: int,
        make_properties: Callable[[int], JSON],
        *,
        as_user: str | None = None,
    ) -> list[str]:
        """Create `count` rows; `make_properties(i)` returns the request properties of row i."""
        actor = self._actor(as_user)
        ids: list[str] = []
        with self.state.lock:
            for index in range(count):
                page = service.create_page(
                    self.state,
                    {
                        "parent": {"type": "data_source_id", "data_source_id": data_source_id},
                        "properties": make_properties(index),
                    },
                    actor,
                )
                ids.append(str(page["id"]))
        return ids

    def update_page(
        self,
        page_id: str,
        properties: JSON | None = None,
        *,
        in_trash: bool | None = None,
        as_user: str | None = "Rita Reviewer",
    ) -> JSON:
        """Edit a page as a person would in the Notion app (default: the reviewer)."""
        body: JSON = {}
        if properties:
            body["properties"] = properties
        if in_trash is not None:
            body["in_trash"] = in_trash
        return service.update_page(self.state, page_id, body, self._actor(as_user))

    def add_template(
        self,
        data_source_id: str,
        name: str,
        *,
        properties: JSON | None = None,
        children: list[JSON] | None = None,
        is_default: bool = False,
        as_user: str | None = None,
    ) -> str:
        """A page template of a data source (what the Notion app's "New template" makes)."""
        return templates.add_template(
            self.state,
            data_source_id,
            name,
            actor=self._actor(as_user),
            properties=properties,
            children=children,
            is_default=is_default,
        )

    def add_custom_emoji(self, name: str, url: str) -> str:
        return workspace.add_custom_emoji(self.state, name, url)

    def append_blocks(
        self, block_id: str, children: list[JSON], *, as_user: str | None = None
    ) -> list[JSON]:
        out = service.append_children(
            self.state, block_id, {"children": children}, self._actor(as_user)
        )
        return list(out["results"])

    def comment(self, page_id: str, text: str, *, as_user: str | None = "Rita Reviewer") -> JSON:
        return comments.create_comment(
            self.state,
            {"parent": {"page_id": page_id}, "rich_text": rich_text(text)},
            self._actor(as_user),
        )

    # -- reading -------------------------------------------------------------------

    def page(self, page_id: str) -> JSON:
        with self.state.lock:
            return render_page(self.state, self.state.pages[_id(page_id)])

    def pages(self, data_source_id: str, *, include_trashed: bool = False) -> list[JSON]:
        ds_id = _id(data_source_id)
        with self.state.lock:
            return [
                render_page(self.state, p)
                for p in self.state.pages.values()
                if p["data_source_id"] == ds_id and (include_trashed or not p["in_trash"])
            ]

    def blocks(self, block_id: str, *, recursive: bool = False) -> list[JSON]:
        """Children of a page/block in order (depth-first when `recursive`)."""
        out: list[JSON] = []
        with self.state.lock:
            for child in self.state.children.get(_id(block_id), []):
                block = self.state.blocks[child]
                if block["in_trash"]:
                    continue
                out.append(render_block(self.state, block))
                if recursive:
                    out.extend(self.blocks(child, recursive=True))
        return out

    def comments(self, page_id: str) -> list[JSON]:
        pid = _id(page_id)
        with self.state.lock:
            return [
                render_comment(self.state, c)
                for c in self.state.comments.values()
                if c["parent"].get("page_id") == pid or c["parent"].get("block_id") == pid
            ]

    def views(self, database_id: str) -> list[JSON]:
        """A database's views in tab order, rendered as `views.retrieve` would."""
        with self.state.lock:
            return [
                views.render_view(self.state, self.state.views[i])
                for i in self.state.view_tabs.get(_id(database_id), [])
            ]

    def file_bytes(self, upload_id: str) -> bytes:
        with self.state.lock:
            return self.state.file_data[_id(upload_id)]

    def user_id(self, name: str) -> str:
        uid = self.state.resolve_user(name)
        if uid is None:
            raise KeyError(name)
        return uid


def _id(raw: str) -> str:
    return normalize_id(raw) or raw
