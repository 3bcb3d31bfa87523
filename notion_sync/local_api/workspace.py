"""Workspace-wide lists: custom emojis and AI meeting notes.

- `GET /v1/custom_emojis` answers `{object: list, type: custom_emoji, results: [{id, name,
  url}], has_more, next_cursor}` (recorded by notion-sdk-py on 2026-07-04: no
  `custom_emoji: {}` key, unlike other lists). Emojis are added with
  `Admin.add_custom_emoji`; `name` filters by exact name (a guess: the reference only
  says "name").
- `POST /v1/blocks/meeting_notes/query` lists AI meeting-note blocks; they need Notion
  AI, which the local workspace does not have, so the list is always empty, in the
  block-list shape notion-sdk-py's (hand-written) recording shows.
Checked 2026-12-01.
"""

from __future__ import annotations

from typing import Any

from .apierror import validation_error
from .service import list_envelope, paginate
from .state import LocalNotionState, new_id
from .validation import require_dict

__all__ = ["add_custom_emoji", "list_custom_emojis", "query_meeting_notes"]

JSON = dict[str, Any]


def add_custom_emoji(state: LocalNotionState, name: str, url: str) -> str:
    with state.lock:
        emoji_id = new_id()
        state.custom_emojis[emoji_id] = {"id": emoji_id, "name": name, "url": url}
        state.touch()
        return emoji_id


def list_custom_emojis(
    state: LocalNotionState, name: str | None, start_cursor: Any, page_size: Any
) -> JSON:
    with state.lock:
        emojis = [dict(e) for e in state.custom_emojis.values() if name in (None, e["name"])]
        chunk, cursor = paginate(emojis, lambda e: str(e["id"]), start_cursor, page_size)
        return {
            "object": "list",
            "type": "custom_emoji",
            "results": chunk,
            "has_more": cursor is not None,
            "next_cursor": cursor,
        }


def query_meeting_notes(state: LocalNotionState, body: JSON) -> JSON:
    if body.get("filter") is not None:
        require_dict(body["filter"], "body.filter")
    limit = body.get("limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise validation_error(
            f"body failed validation: body.limit should be a positive integer, instead was "
            f"`{limit!r}`."
        )
    return list_envelope([], None, "block")
