"""Render stored objects in Notion's wire shape (API version 2025-09-03)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from .state import LocalNotionState, format_time

__all__ = [
    "file_url",
    "notion_url",
    "page_schema",
    "page_title",
    "partial_user",
    "render_block",
    "render_comment",
    "render_data_source",
    "render_database",
    "render_file_upload",
    "render_icon",
    "render_page",
    "render_property_value",
    "render_schema_property",
    "render_user",
]

JSON = dict[str, Any]

# The per-file limit of a paid workspace (5 GiB; developers.notion.com file uploads,
# checked 2026-12-01). The local server keeps files in memory; see docs/local-notion-api.md.
WORKSPACE_FILE_LIMIT = 5 * 1024 * 1024 * 1024
# Page objects list at most 25 references per relation/people value; the rest is
# only reachable through GET /v1/pages/{id}/properties/{property_id}.
PAGE_REFERENCE_LIMIT = 25
TITLE_PROPERTY: JSON = {
    "id": "title",
    "name": "title",
    "type": "title",
    "config": {},
    "description": None,
}


def partial_user(user_id: str) -> JSON:
    return {"object": "user", "id": user_id}


def render_user(state: LocalNotionState, user_id: str) -> JSON:
    user = state.users[user_id]
    out: JSON = {
        "object": "user",
        "id": user_id,
        "name": user["name"],
        "avatar_url": None,
        "type": user["type"],
    }
    if user["type"] == "bot":
        # BotInfoResponse (notion-sdk-js api-endpoints/common.ts, checked 2026-12-01).
        out["bot"] = {
            "owner": {"type": "workspace", "workspace": True},
            "workspace_id": state.workspace_id,
            "workspace_limits": {"max_file_upload_size_in_bytes": WORKSPACE_FILE_LIMIT},
            "workspace_name": state.workspace_name,
        }
    else:
        out["person"] = {"email": user.get("email")}
    return out


def notion_url(title: str, object_id: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-")
    hexid = object_id.replace("-", "")
    return f"https://www.notion.so/{slug}-{hexid}" if slug else f"https://www.notion.so/{hexid}"


def file_url(state: LocalNotionState, upload_id: str) -> str:
    upload = state.file_uploads[upload_id]
    return f"{state.public_base_url}/files/{upload_id}/{quote(upload['filename'] or 'file')}"


def render_icon(state: LocalNotionState, icon: Any) -> JSON | None:
    """A stored icon/cover -> wire shape; uploads become Notion-hosted `file` objects."""
    if not isinstance(icon, dict):
        return None
    kind = icon.get("type")
    if kind == "file_upload":
        upload_id = (icon.get("file_upload") or {}).get("id")
        if upload_id in state.file_uploads:
            return _file_object(state, {"kind": "upload", "id": upload_id})
        return None
    if kind == "custom_emoji":
        emoji = state.custom_emojis.get(str((icon.get("custom_emoji") or {}).get("id")))
        if emoji is None:
            return None
        return {"type": "custom_emoji", "custom_emoji": _copy(emoji)}
    copied: JSON = _copy(icon)
    return copied


def _file_object(state: LocalNotionState, ref: JSON) -> JSON:
    if ref["kind"] == "upload" and ref["id"] in state.file_uploads:
        # Notion-hosted files come back as `type: file` with an expiring URL.
        expiry = format_time(state.clock() + timedelta(hours=1))
        return {"type": "file", "file": {"url": file_url(state, ref["id"]), "expiry_time": expiry}}
    return {"type": "external", "external": {"url": ref.get("url", "")}}


# -- schema ----------------------------------------------------------------------


def render_schema_property(state: LocalNotionState, prop: JSON) -> JSON:
    kind = prop["type"]
    config: JSON
    if kind == "relation":
        cfg = prop["config"]
        config = {
            "database_id": cfg["database_id"],
            "data_source_id": cfg["data_source_id"],
            "type": cfg["type"],
            cfg["type"]: {},
        }
        if cfg["type"] == "dual_property":
            config["dual_property"] = {
                "synced_property_name": cfg.get("synced_property_name"),
                "synced_property_id": cfg.get("synced_property_id"),
            }
    else:
        config = _copy(prop["config"])
    return {
        "id": prop["id"],
        "name": prop["name"],
        "description": prop.get("description"),
        "type": kind,
        kind: config,
    }


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def page_schema(state: LocalNotionState, page: JSON) -> dict[str, JSON]:
    """Property id -> schema for a page (a plain page has only `title`)."""
    ds_id = page.get("data_source_id")
    if ds_id and ds_id in state.data_sources:
        props: dict[str, JSON] = state.data_sources[ds_id]["props"]
        return props
    return {"title": TITLE_PROPERTY}


def page_title(state: LocalNotionState, page: JSON) -> str:
    for prop in page_schema(state, page).values():
        if prop["type"] == "title":
            return "".join(t["plain_text"] for t in page["values"].get(prop["id"], []))
    return ""


def _option(prop: JSON, option_id: str | None) -> JSON | None:
    if option_id is None:
        return None
    for option in prop["config"].get("options", []):
        if option["id"] == option_id:
            return {
                "id": option["id"],
                "name": option["name"],
                "color": option["color"],
                "description": option.get("description"),
            }
    return None


def render_property_value(
    state: LocalNotionState, page: JSON, prop: JSON, *, limit: bool = True
) -> JSON:
    kind = prop["type"]
    stored = page["values"].get(prop["id"])
    out: JSON = {"id": prop["id"], "type": kind}
    if kind in ("title", "rich_text"):
        out[kind] = _copy(stored or [])
    elif kind in ("number", "url", "email", "phone_number"):
        out[kind] = stored
    elif kind == "checkbox":
        out[kind] = bool(stored)
    elif kind in ("select", "status"):
        out[kind] = _option(prop, stored)
    elif kind == "multi_select":
        out[kind] = [o for o in (_option(prop, i) for i in stored or []) if o is not None]
    elif kind == "date":
        out[kind] = _copy(stored)
    elif kind == "people":
        ids = [u for u in (stored or []) if u in state.users]
        out[kind] = [render_user(state, u) for u in ids]
    elif kind == "files":
        out[kind] = [{"name": ref["name"], **_file_object(state, ref)} for ref in stored or []]
    elif kind == "relation":
        ids = list(stored or [])
        shown = ids[:PAGE_REFERENCE_LIMIT] if limit else ids
        out[kind] = [{"id": i} for i in shown]
        out["has_more"] = len(ids) > len(shown)
    elif kind == "created_time":
        out[kind] = page["created_time"]
    elif kind == "last_edited_time":
        out[kind] = page["last_edited_time"]
    elif kind == "created_by":
        out[kind] = render_user(state, page["created_by"])
    elif kind == "last_edited_by":
        out[kind] = render_user(state, page["last_edited_by"])
    return out


# -- objects ---------------------------------------------------------------------


def render_page(state: LocalNotionState, page: JSON) -> JSON:
    schema = page_schema(state, page)
    properties = {
        prop["name"]: render_property_value(state, page, prop) for prop in schema.values()
    }
    return {
        "object": "page",
        "id": page["id"],
        "created_time": page["created_time"],
        "last_edited_time": page["last_edited_time"],
        "created_by": partial_user(page["created_by"]),
        "last_edited_by": partial_user(page["last_edited_by"]),
        "cover": render_icon(state, page.get("cover")),
        "icon": render_icon(state, page.get("icon")),
        "parent": _copy(page["parent"]),
        "archived": page["in_trash"],
        "in_trash": page["in_trash"],
        # `is_archived` is Notion's archive state, separate from the trash (`archived` is the
        # deprecated alias of `in_trash`); recorded 2025-09-03 responses carry all three.
        "is_archived": bool(page.get("is_archived", False)),
        "is_locked": bool(page.get("is_locked", False)),
        "properties": properties,
        "url": notion_url(page_title(state, page), page["id"]),
        "public_url": None,
    }


def render_database(state: LocalNotionState, db: JSON) -> JSON:
    title = "".join(t["plain_text"] for t in db["title"])
    # Keys of a recorded 2025-09-03 database response (no created_by / last_edited_by).
    return {
        "object": "database",
        "id": db["id"],
        "title": _copy(db["title"]),
        "description": _copy(db["description"]),
        "parent": _copy(db["parent"]),
        "is_inline": db["is_inline"],
        "in_trash": db["in_trash"],
        "archived": db["in_trash"],
        "is_locked": bool(db.get("is_locked", False)),
        "created_time": db["created_time"],
        "last_edited_time": db["last_edited_time"],
        "data_sources": [
            {"id": ds_id, "name": _ds_name(state.data_sources[ds_id])}
            for ds_id in db["data_source_ids"]
            if ds_id in state.data_sources
        ],
        "icon": render_icon(state, db.get("icon")),
        "cover": render_icon(state, db.get("cover")),
        "url": notion_url(title, db["id"]),
        "public_url": None,
    }


def _ds_name(ds: JSON) -> str:
    return "".join(t["plain_text"] for t in ds["title"])


def render_data_source(state: LocalNotionState, ds: JSON) -> JSON:
    db = state.databases[ds["database_id"]]
    return {
        "object": "data_source",
        "id": ds["id"],
        "created_time": ds["created_time"],
        "last_edited_time": ds["last_edited_time"],
        "created_by": partial_user(ds["created_by"]),
        "last_edited_by": partial_user(ds["last_edited_by"]),
        "title": _copy(ds["title"]),
        "description": [],
        "parent": {"type": "database_id", "database_id": db["id"]},
        "database_parent": _copy(db["parent"]),
        "is_inline": db["is_inline"],
        "archived": ds["in_trash"],
        "in_trash": ds["in_trash"],
        "properties": {
            prop["name"]: render_schema_property(state, prop) for prop in ds["props"].values()
        },
        "icon": render_icon(state, ds["icon"] if "icon" in ds else db.get("icon")),
        "cover": render_icon(state, db.get("cover")),
        "url": notion_url(_ds_name(ds), ds["id"]),
        "public_url": None,
    }


def render_block(state: LocalNotionState, block: JSON) -> JSON:
    kind = block["type"]
    content = _copy(block["content"])
    ref = content.pop("file_ref", None)
    if ref is not None:
        content.update(_file_object(state, ref))
    # Titles of child pages/databases follow the live object, as in Notion.
    if kind == "child_page" and block["id"] in state.pages:
        content = {"title": page_title(state, state.pages[block["id"]])}
    elif kind == "child_database" and block["id"] in state.databases:
        db = state.databases[block["id"]]
        content = {"title": "".join(t["plain_text"] for t in db["title"])}
    return {
        "object": "block",
        "id": block["id"],
        "parent": _copy(block["parent"]),
        "created_time": block["created_time"],
        "last_edited_time": block["last_edited_time"],
        "created_by": partial_user(block["created_by"]),
        "last_edited_by": partial_user(block["last_edited_by"]),
        "has_children": bool(state.children.get(block["id"])),
        "archived": block["in_trash"],
        "in_trash": block["in_trash"],
        "type": kind,
        kind: content,
    }


def render_comment(state: LocalNotionState, comment: JSON) -> JSON:
    author = state.users.get(comment["created_by"], {})
    display = comment.get("display_name") or {}
    kind = display.get("type") or ("integration" if author.get("type") == "bot" else "user")
    name = display.get("name") if kind == "custom" else author.get("name")
    out: JSON = {
        "object": "comment",
        "id": comment["id"],
        "parent": _copy(comment["parent"]),
        "discussion_id": comment["discussion_id"],
        "created_time": comment["created_time"],
        "last_edited_time": comment["last_edited_time"],
        "created_by": partial_user(comment["created_by"]),
        "rich_text": _copy(comment["rich_text"]),
        "display_name": {"type": kind, "resolved_name": name},
    }
    attachments = [
        {
            "category": _attachment_category(state.file_uploads[i].get("content_type")),
            "file": _file_object(state, {"kind": "upload", "id": i})["file"],
        }
        for i in comment.get("attachments", [])
        if i in state.file_uploads
    ]
    if attachments:
        out["attachments"] = attachments
    return out


def _attachment_category(content_type: str | None) -> str:
    major = (content_type or "").split("/", 1)[0]
    if major in ("audio", "image", "video"):
        return major
    return "pdf" if content_type == "application/pdf" else "productivity"


def render_file_upload(state: LocalNotionState, upload: JSON) -> JSON:
    base = f"{state.public_base_url}/v1/file_uploads/{upload['id']}"
    out: JSON = {
        "object": "file_upload",
        "id": upload["id"],
        "created_time": upload["created_time"],
        "created_by": {"id": upload["created_by"], "type": "bot"},
        "last_edited_time": upload["last_edited_time"],
        "archived": False,
        "expiry_time": upload["expiry_time"],
        "status": upload["status"],
        "filename": upload["filename"],
        "content_type": upload["content_type"],
        "content_length": upload["content_length"],
        "upload_url": f"{base}/send" if upload["status"] == "pending" else None,
        "complete_url": f"{base}/complete" if upload["mode"] == "multi_part" else None,
        "file_import_result": None,
        "in_trash": False,
    }
    if upload["mode"] == "multi_part":
        out["number_of_parts"] = {
            "total": upload["number_of_parts"],
            "sent": len(upload["parts"]),
        }
    if upload.get("import_result") is not None:
        out["file_import_result"] = _copy(upload["import_result"])
    elif upload["status"] == "uploaded":
        out["file_import_result"] = {
            "imported_time": upload["last_edited_time"],
            "type": "success",
            "success": {},
        }
    return out
