"""Reading the local Notion server's state in assertions (as a person would see it)."""

from __future__ import annotations

from typing import Any

from notion_sync.local_api.server import LocalNotionServer


def data_source_id(server: LocalNotionServer, title: str) -> str:
    for ds_id, ds in server.state.data_sources.items():
        text = "".join(t.get("plain_text", "") for t in ds.get("title", []))
        if text == title or text.endswith(f" {title}"):
            return ds_id
    raise KeyError(f"no data source titled {title!r}")


async def query_all(server: LocalNotionServer, title: str) -> list[dict[str, Any]]:
    return list(server.admin.pages(data_source_id(server, title)))


def blocks_of(server: LocalNotionServer, page_id: str) -> list[dict[str, Any]]:
    return list(server.admin.blocks(page_id))


def comments_of(server: LocalNotionServer, page_id: str) -> list[str]:
    return [
        "".join(t.get("plain_text", "") for t in c.get("rich_text", []))
        for c in server.admin.comments(page_id)
    ]


def status_of(server: LocalNotionServer, page_id: str) -> str:
    prop = server.admin.page(page_id)["properties"]["Status"]
    return str((prop.get(prop["type"]) or {}).get("name", ""))


def toggle_lines(server: LocalNotionServer, page_id: str, title: str) -> list[str]:
    """The lines (paragraphs) inside the page's top-level toggle titled `title`."""
    for block in server.admin.blocks(page_id):
        if block["type"] != "toggle":
            continue
        heading = "".join(t.get("plain_text", "") for t in block["toggle"]["rich_text"])
        if heading.strip() == title:
            return [
                "".join(t.get("plain_text", "") for t in child["paragraph"]["rich_text"])
                for child in server.admin.blocks(block["id"])
                if child["type"] == "paragraph"
            ]
    return []


def daemon_log(server: LocalNotionServer, page_id: str) -> str:
    """The daemon's own log lines (the "reelgate log" toggle), one per line."""
    return "\n".join(toggle_lines(server, page_id, "reelgate log"))


def review_history(server: LocalNotionServer, page_id: str) -> list[str]:
    return toggle_lines(server, page_id, "Review history")
