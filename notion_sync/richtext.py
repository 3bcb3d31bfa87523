"""Rich text helpers: chunking to Notion's limits and reading plain text back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "MAX_RICH_TEXT_ITEMS",
    "MAX_TEXT_CONTENT",
    "chunk_text",
    "mention_user",
    "pack_plain",
    "plain_text",
    "request_item",
    "text_items",
]

JSON = dict[str, Any]

# Verified limits (developers.notion.com/reference/request-limits): a text item's
# `text.content` holds at most 2000 characters, and any array of rich text items
# (a property value, a block's rich_text, a comment) at most 100 elements.
MAX_TEXT_CONTENT = 2000
MAX_RICH_TEXT_ITEMS = 100


def chunk_text(text: str, size: int = MAX_TEXT_CONTENT) -> list[str]:
    """Split into pieces of <= size characters, preferring to cut after a newline.

    Surrogate pairs are not a concern: Python strings index code points, and Notion
    counts characters the same way for this limit in practice.
    """
    if not text:
        return []
    pieces: list[str] = []
    rest = text
    while len(rest) > size:
        cut = rest.rfind("\n", 0, size)
        # Only cut at a newline if it keeps the piece reasonably full.
        cut = cut + 1 if cut >= size // 2 else size
        pieces.append(rest[:cut])
        rest = rest[cut:]
    if rest:
        pieces.append(rest)
    return pieces


def text_items(text: str, *, annotations: JSON | None = None) -> list[JSON]:
    """Text as request rich text items, each <= 2000 characters."""
    items: list[JSON] = []
    for piece in chunk_text(text):
        item: JSON = {"type": "text", "text": {"content": piece}}
        if annotations:
            item["annotations"] = dict(annotations)
        items.append(item)
    return items


def mention_user(user_id: str) -> JSON:
    return {"type": "mention", "mention": {"type": "user", "user": {"id": user_id}}}


def plain_text(items: Iterable[JSON] | None) -> str:
    """Join the plain text of rich text items (response or property_item shape)."""
    out: list[str] = []
    for item in items or ():
        # Property-item pages wrap each item: {"object": "property_item", "rich_text": {...}}.
        if item.get("object") == "property_item":
            inner = item.get(item.get("type", ""), {})
            item = inner if isinstance(inner, dict) else {}
        if "plain_text" in item and item["plain_text"] is not None:
            out.append(str(item["plain_text"]))
        elif item.get("type") == "text":
            out.append(str(item.get("text", {}).get("content", "")))
        elif item.get("type") == "equation":
            out.append(str(item.get("equation", {}).get("expression", "")))
    return "".join(out)


def request_item(item: JSON) -> JSON | None:
    """Turn a response rich text item into one Notion accepts on write.

    Responses carry `plain_text`, `href` and full user objects in mentions; writes
    take only the type payload and annotations. Returns None for items we cannot
    safely echo back (they are then kept as their plain text by the caller).
    """
    kind = item.get("type")
    out: JSON
    if kind == "text":
        text = item.get("text") or {}
        payload: JSON = {"content": str(text.get("content", ""))}
        link = text.get("link")
        if isinstance(link, dict) and link.get("url"):
            payload["link"] = {"url": link["url"]}
        out = {"type": "text", "text": payload}
    elif kind == "mention":
        mention = item.get("mention") or {}
        mkind = mention.get("type")
        target = mention.get(mkind) if isinstance(mkind, str) else None
        if mkind in ("user", "page", "database") and isinstance(target, dict) and target.get("id"):
            out = {"type": "mention", "mention": {"type": mkind, mkind: {"id": target["id"]}}}
        elif mkind == "date" and isinstance(target, dict) and target.get("start"):
            out = {"type": "mention", "mention": {"type": "date", "date": dict(target)}}
        else:
            return None
    elif kind == "equation":
        expression = (item.get("equation") or {}).get("expression")
        if not expression:
            return None
        out = {"type": "equation", "equation": {"expression": str(expression)}}
    else:
        return None
    annotations = item.get("annotations")
    if isinstance(annotations, dict):
        out["annotations"] = dict(annotations)
    return out


def pack_plain(texts: Sequence[str]) -> list[JSON]:
    """Concatenate texts and re-chunk into as few 2000-character items as possible."""
    return text_items("".join(texts))
