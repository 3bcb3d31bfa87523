"""Comments: create (rich text or markdown, attachments, display name), list, retrieve,
update, delete.

Shapes: notion-sdk-js `api-endpoints/comments.ts` and notion-sdk-py's recordings of
`comments.update` / `comments.delete` (2026-07-04, Notion-Version 2025-09-03): both
answer the full comment object; a deleted comment is gone afterwards. Checked 2026-12-01.

Stored comment: `{id, parent, discussion_id, created_time, last_edited_time, created_by,
rich_text, attachments: [file upload id], display_name: {type, name?}}`.
"""

from __future__ import annotations

from typing import Any

from .apierror import ApiError, not_found, validation_error
from .markdown import markdown_to_rich_text
from .objects import render_comment
from .service import _container, _id_or_404, _page, list_envelope, paginate
from .state import LocalNotionState, new_id
from .validation import normalize_rich_text, require_dict, require_id

__all__ = [
    "MAX_ATTACHMENTS",
    "create_comment",
    "delete_comment",
    "get_comment",
    "list_comments",
    "update_comment",
]

JSON = dict[str, Any]

# "An array of files to attach to the comment. Maximum of 3 allowed." (comments.ts)
MAX_ATTACHMENTS = 3


def _content(state: LocalNotionState, body: JSON) -> list[JSON]:
    """`rich_text` or `markdown` (exactly one), as the request type says."""
    has_text, has_markdown = body.get("rich_text") is not None, body.get("markdown") is not None
    if has_text and has_markdown:
        raise validation_error(
            "body failed validation: body.rich_text cannot be provided together with body.markdown."
        )
    if has_markdown:
        markdown = body["markdown"]
        if not isinstance(markdown, str):
            raise validation_error("body failed validation: body.markdown should be a string.")
        raw: Any = markdown_to_rich_text(markdown)
        path = "body.markdown"
    else:
        raw, path = body.get("rich_text"), "body.rich_text"
    rich_text = normalize_rich_text(state, raw, path)
    if not rich_text:
        raise validation_error(f"body failed validation: {path} should not be empty.")
    return rich_text


def _attachments(state: LocalNotionState, raw: Any) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise validation_error("body failed validation: body.attachments should be an array.")
    if len(raw) > MAX_ATTACHMENTS:
        raise validation_error(
            f"body failed validation: body.attachments.length should be ≤ `{MAX_ATTACHMENTS}`, "
            f"instead was `{len(raw)}`."
        )
    ids: list[str] = []
    for index, item in enumerate(raw):
        ref = require_dict(item, f"body.attachments[{index}]")
        upload_id = require_id(
            ref.get("file_upload_id"), f"body.attachments[{index}].file_upload_id"
        )
        upload = state.file_uploads.get(upload_id)
        if upload is None:
            raise validation_error(f"Could not find file_upload with ID: {upload_id}.")
        if upload["status"] != "uploaded":
            raise validation_error(
                f"File upload {upload_id} is in status `{upload['status']}`; only uploaded "
                "files can be attached."
            )
        upload["expiry_time"] = None  # attached: it no longer expires
        ids.append(upload_id)
    return ids


def _display_name(raw: Any) -> JSON | None:
    if raw is None:
        return None
    display = require_dict(raw, "body.display_name")
    kind = display.get("type")
    if kind in ("integration", "user"):
        return {"type": kind}
    if kind == "custom":
        custom = require_dict(display.get("custom"), "body.display_name.custom")
        name = custom.get("name")
        if not isinstance(name, str) or not name:
            raise validation_error(
                "body failed validation: body.display_name.custom.name should be a string."
            )
        return {"type": "custom", "name": name}
    raise validation_error(
        "body failed validation: body.display_name.type should be `integration`, `user` or "
        f"`custom`, instead was `{kind!r}`."
    )


def create_comment(state: LocalNotionState, body: JSON, actor: str) -> JSON:
    with state.lock:
        rich_text = _content(state, body)
        discussion = body.get("discussion_id")
        if discussion is not None:
            discussion = require_id(discussion, "body.discussion_id")
            first = next(
                (c for c in state.comments.values() if c["discussion_id"] == discussion), None
            )
            if first is None:
                raise not_found(discussion, "discussion")
            parent = first["parent"]
        else:
            raw_parent = require_dict(body.get("parent"), "body.parent")
            if "page_id" in raw_parent:
                parent = {
                    "type": "page_id",
                    "page_id": _page(state, str(raw_parent["page_id"]))["id"],
                }
            elif "block_id" in raw_parent:
                parent = {
                    "type": "block_id",
                    "block_id": _container(state, str(raw_parent["block_id"])),
                }
            else:
                raise validation_error(
                    "body failed validation: body.parent.page_id should be defined, instead "
                    "was `undefined`."
                )
            discussion = new_id()
        attachments = _attachments(state, body.get("attachments"))
        comment_id = new_id()
        now = state.now_iso()
        state.comments[comment_id] = {
            "id": comment_id,
            "parent": parent,
            "discussion_id": discussion,
            "created_time": now,
            "last_edited_time": now,
            "created_by": actor,
            "rich_text": rich_text,
            "attachments": attachments,
            "display_name": _display_name(body.get("display_name")),
        }
        state.touch()
        return render_comment(state, state.comments[comment_id])


def list_comments(
    state: LocalNotionState, block_id: Any, start_cursor: Any, page_size: Any
) -> JSON:
    with state.lock:
        if not isinstance(block_id, str):
            raise validation_error(
                "body failed validation: query.block_id should be defined, instead was `undefined`."
            )
        uid = _container(state, block_id)
        comments = [
            c
            for c in state.comments.values()
            if c["parent"].get("page_id") == uid or c["parent"].get("block_id") == uid
        ]
        chunk, cursor = paginate(comments, lambda c: c["id"], start_cursor, page_size)
        return list_envelope([render_comment(state, c) for c in chunk], cursor, "comment")


def _comment(state: LocalNotionState, raw_id: str) -> JSON:
    uid = _id_or_404(raw_id, "comment")
    comment = state.comments.get(uid)
    if comment is None:
        raise not_found(uid, "comment")
    return comment


def _own(comment: JSON, actor: str) -> None:
    # Guess at Notion's rule: an integration may change only the comments it wrote.
    if comment["created_by"] != actor:
        raise ApiError(
            403,
            "restricted_resource",
            "Insufficient permissions for this endpoint: a comment can only be changed by "
            "the integration or user that wrote it.",
        )


def get_comment(state: LocalNotionState, raw_id: str) -> JSON:
    with state.lock:
        return render_comment(state, _comment(state, raw_id))


def update_comment(state: LocalNotionState, raw_id: str, body: JSON, actor: str) -> JSON:
    with state.lock:
        comment = _comment(state, raw_id)
        _own(comment, actor)
        comment["rich_text"] = _content(state, body)
        comment["last_edited_time"] = state.now_iso()
        state.touch()
        return render_comment(state, comment)


def delete_comment(state: LocalNotionState, raw_id: str, actor: str) -> JSON:
    with state.lock:
        comment = _comment(state, raw_id)
        _own(comment, actor)
        rendered = render_comment(state, comment)
        del state.comments[comment["id"]]
        state.touch()
        return rendered
