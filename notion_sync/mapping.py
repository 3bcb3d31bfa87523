"""Notion page <-> reelgate models, and property payloads from plain values."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from notion_sync.errors import NotionPermanentError
from notion_sync.ops import FileRef
from notion_sync.richtext import (
    MAX_RICH_TEXT_ITEMS,
    plain_text,
    text_items,
)
from notion_sync.schema import TASK_FIELDS, VIDEO_FIELDS, FieldSpec, missing_from_page

__all__ = [
    "TRUNCATED_ITEMS",
    "ReferenceFile",
    "TaskPage",
    "VideoRow",
    "build_properties",
    "build_property",
    "file_objects",
    "fingerprints_of",
    "parse_time",
    "read_property",
    "read_references",
    "task_from_page",
    "video_from_page",
]

JSON = dict[str, Any]

# Retrieve-a-page and query results include at most 25 items of a title /
# rich_text / people / relation property ("will not return a complete list when
# the list exceeds 25 references"); reaching 25 means there may be more.
TRUNCATED_ITEMS = 25


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ReferenceFile:
    """One item of a task's References files property, as the page lists it.

    Notion answers a files item as `{"name", "type": "file", "file": {"url",
    "expiry_time"}}` for a file uploaded to Notion (in the app or through the File
    Upload API: an attached `file_upload` reads back as `file`), or `{"name", "type":
    "external", "external": {"url"}}` for a link (developers.notion.com/reference/
    file-object, checked 2026-12-01). A Notion-hosted URL is a signed link that works
    for one hour and changes on every read, so `identity` (which file it is) drops the
    query string; an external URL does not expire and is its own identity.
    """

    name: str
    url: str
    hosted: Literal["notion", "external"]
    expires_at: datetime | None = None

    @property
    def identity(self) -> str:
        if self.hosted == "external":
            return self.url
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}{parts.path}"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "hosted": self.hosted,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReferenceFile:
        hosted: Literal["notion", "external"] = (
            "notion" if data.get("hosted") == "notion" else "external"
        )
        return cls(
            name=str(data.get("name", "")),
            url=str(data.get("url", "")),
            hosted=hosted,
            expires_at=parse_time(data.get("expires_at")),
        )


def read_references(prop: JSON | None) -> tuple[ReferenceFile, ...]:
    """The items of a files property (empty when it is absent or not a files property)."""
    if not prop or prop.get("type") != "files":
        return ()
    out: list[ReferenceFile] = []
    for item in prop.get("files") or []:
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        body = item.get(kind) if isinstance(kind, str) else None
        url = body.get("url") if isinstance(body, dict) else None
        if not isinstance(url, str) or not url:
            continue
        hosted: Literal["notion", "external"] = "external" if kind == "external" else "notion"
        expires = body.get("expiry_time") if isinstance(body, dict) else None
        name = str(item.get("name") or url.rsplit("/", 1)[-1].split("?", 1)[0] or "file")
        out.append(
            ReferenceFile(
                name=name,
                url=url,
                hosted=hosted,
                expires_at=parse_time(expires) if hosted == "notion" else None,
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class TaskPage:
    """One row of the Tasks data source as reelgate sees it.

    `fingerprint` covers what humans change and the orchestrator reacts to
    (status, Error Log, brief, settings, trash); writes the daemon makes to
    Progress or Cost leave it unchanged, so they are not reported back.
    """

    page_id: str
    url: str
    title: str
    status_label: str | None
    channel: str | None
    brief: str
    clip_count: int | None
    clip_seconds: float | None
    aspect_ratio: str | None
    error_log: str
    owner_ids: tuple[str, ...]
    last_edited_by: str | None
    last_edited_time: datetime | None
    in_trash: bool
    fingerprint: str
    # True when the page payload held 25 Error Log items: the rest must be read
    # with the page-property endpoint (poller and writer do that).
    error_log_truncated: bool = False
    error_log_property_id: str | None = None
    # The References property, in the page's order (empty when the board has none).
    references: tuple[ReferenceFile, ...] = ()
    # Required properties this page lacks (renamed or deleted in Notion): what it
    # shows for them is unknown, not empty (schema.missing_from_page).
    missing: tuple[str, ...] = ()

    @property
    def error_log_hash(self) -> str:
        return _sha(self.error_log)

    def with_error_log(self, text: str) -> TaskPage:
        """The same page with its complete Error Log (fingerprint unchanged)."""
        return replace(self, error_log=text, error_log_truncated=False)


@dataclass(frozen=True)
class VideoRow:
    """One row of the Videos data source."""

    row_id: str
    url: str
    title: str
    task_page_id: str | None
    clip_number: int | None
    status: str | None
    reviewer_note: str
    attempt: int | None
    last_edited_by: str | None
    last_edited_time: datetime | None
    in_trash: bool
    fingerprint: str

    @staticmethod
    def split_fingerprint(fingerprint: str | None) -> tuple[str | None, str | None]:
        """(status, reviewer-note hash) from a fingerprint; (None, None) if unknown."""
        if not fingerprint or "|" not in fingerprint:
            return None, None
        status, note_hash = fingerprint.split("|", 1)
        return status or None, note_hash


# -- reading -------------------------------------------------------------------


def read_property(prop: JSON | None) -> Any:
    """The plain value of a page property (None when empty or absent)."""
    if not prop:
        return None
    kind = prop.get("type")
    value = prop.get(kind) if isinstance(kind, str) else None
    if kind in ("title", "rich_text"):
        return plain_text(value if isinstance(value, list) else [])
    if kind in ("select", "status"):
        return value.get("name") if isinstance(value, dict) else None
    if kind == "number":
        return value
    if kind == "date":
        return value.get("start") if isinstance(value, dict) else None
    if kind == "url":
        return value
    if kind == "people":
        return tuple(str(p["id"]) for p in value or [] if isinstance(p, dict) and "id" in p)
    if kind == "relation":
        return tuple(str(r["id"]) for r in value or [] if isinstance(r, dict) and "id" in r)
    if kind == "files":
        out: list[FileRef] = []
        for f in value or []:
            ftype = f.get("type")
            url = (f.get(ftype) or {}).get("url") if isinstance(ftype, str) else None
            out.append(FileRef(name=str(f.get("name", "")), url=url))
        return out
    if kind == "checkbox":
        return bool(value)
    return value


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def task_from_page(page: JSON, names: Mapping[str, str]) -> TaskPage:
    """Build a TaskPage from a page object; `names` is logical -> property name."""
    props: JSON = page.get("properties", {})

    def get(logical: str) -> Any:
        return read_property(props.get(names.get(logical, TASK_FIELDS[logical].name)))

    log_prop = props.get(names.get("error_log", "Error Log")) or {}
    log_items = log_prop.get("rich_text") or []
    truncated = len(log_items) >= TRUNCATED_ITEMS
    error_log = get("error_log") or ""
    last_edited = parse_time(page.get("last_edited_time"))
    in_trash = bool(page.get("in_trash", page.get("archived", False)))
    fields = {
        "status": get("status"),
        "title": get("title") or "",
        "channel": get("channel"),
        "brief": get("brief") or "",
        "clip_count": _int(get("clip_count")),
        "clip_seconds": _float(get("clip_seconds")),
        "aspect_ratio": get("aspect_ratio"),
        "owners": sorted(get("owner") or ()),
        "in_trash": in_trash,
        # A truncated log cannot be hashed whole without extra requests; its edit
        # time stands in, so an idle poll still costs one request.
        "error_log": ("truncated", page.get("last_edited_time")) if truncated else _sha(error_log),
    }
    references = read_references(props.get(names.get("references", "References")))
    if references:
        # Which files, not their signed URLs (those change on every read). Only set when
        # there are some, so pages without references keep their fingerprints.
        fields["references"] = [(r.name, r.identity) for r in references]
    fingerprint = _sha(json.dumps(fields, sort_keys=True, default=str))
    editor = page.get("last_edited_by") or {}
    return TaskPage(
        page_id=str(page["id"]),
        url=str(page.get("url", "")),
        title=fields["title"],
        status_label=fields["status"],
        channel=fields["channel"],
        brief=fields["brief"],
        clip_count=fields["clip_count"],
        clip_seconds=fields["clip_seconds"],
        aspect_ratio=fields["aspect_ratio"],
        error_log=error_log,
        owner_ids=tuple(get("owner") or ()),
        last_edited_by=editor.get("id"),
        last_edited_time=last_edited,
        in_trash=in_trash,
        fingerprint=fingerprint,
        error_log_truncated=truncated,
        error_log_property_id=log_prop.get("id"),
        references=references,
        missing=missing_from_page(page, "tasks", names),
    )


def video_from_page(page: JSON, names: Mapping[str, str]) -> VideoRow:
    props: JSON = page.get("properties", {})

    def get(logical: str) -> Any:
        return read_property(props.get(names.get(logical, VIDEO_FIELDS[logical].name)))

    status = get("status")
    note = get("reviewer_note") or ""
    tasks = get("task") or ()
    editor = page.get("last_edited_by") or {}
    return VideoRow(
        row_id=str(page["id"]),
        url=str(page.get("url", "")),
        title=get("title") or "",
        task_page_id=tasks[0] if tasks else None,
        clip_number=_int(get("clip")),
        status=status,
        reviewer_note=note,
        attempt=_int(get("attempt")),
        last_edited_by=editor.get("id"),
        last_edited_time=parse_time(page.get("last_edited_time")),
        in_trash=bool(page.get("in_trash", page.get("archived", False))),
        # "status|note-hash": readable in parts, so the poller can tell a status
        # change from a note change.
        fingerprint=f"{status or ''}|{_sha(note)[:16]}",
    )


# -- writing -------------------------------------------------------------------


def _as_file_ref(value: Any) -> FileRef:
    if isinstance(value, FileRef):
        return value
    if isinstance(value, Mapping):
        return FileRef.model_validate(dict(value))
    if isinstance(value, str):
        return FileRef(name=value.rsplit("/", 1)[-1][:100] or "file", url=value)
    raise NotionPermanentError(f"not a file reference: {type(value).__name__}")


def file_objects(value: Any) -> list[JSON]:
    """FileRefs (or dicts / URLs) -> the `files` property value."""
    refs = value if isinstance(value, list | tuple) else [value]
    out: list[JSON] = []
    for raw in refs:
        ref = _as_file_ref(raw)
        # Files property items: {"name", "type": "external", "external": {"url"}}
        # or {"type": "file_upload", "file_upload": {"id"}} for uploaded files.
        if ref.file_upload_id:
            out.append(
                {"name": ref.name, "type": "file_upload", "file_upload": {"id": ref.file_upload_id}}
            )
        elif ref.url:
            out.append({"name": ref.name, "type": "external", "external": {"url": ref.url}})
        else:
            raise NotionPermanentError(f"file {ref.name!r} has neither url nor file_upload_id")
    return out


def _ids(value: Any) -> list[JSON]:
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else [value]
    return [{"id": str(i)} for i in items]


def _date(value: Any) -> JSON | None:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return {"start": value.isoformat()}
    if isinstance(value, Mapping):
        return dict(value)
    return {"start": str(value)}


def build_property(kind: str, value: Any) -> JSON:
    """A property value payload of Notion type `kind` from a plain Python value."""
    if kind in ("title", "rich_text"):
        items = text_items("" if value is None else str(value))
        if len(items) > MAX_RICH_TEXT_ITEMS:
            raise NotionPermanentError(
                f"{kind} value of {len(str(value))} characters exceeds Notion's "
                f"{MAX_RICH_TEXT_ITEMS} x 2000 character limit"
            )
        return {kind: items}
    if kind == "number":
        if value is not None and not isinstance(value, int | float):
            raise NotionPermanentError(f"number property given {type(value).__name__}")
        return {"number": value}
    if kind in ("select", "status"):
        return {kind: None if value is None else {"name": str(value)}}
    if kind == "date":
        return {"date": _date(value)}
    if kind == "url":
        return {"url": None if value in (None, "") else str(value)}
    if kind == "files":
        return {"files": [] if value is None else file_objects(value)}
    if kind == "people":
        return {"people": _ids(value)}
    if kind == "relation":
        return {"relation": _ids(value)}
    if kind == "checkbox":
        return {"checkbox": bool(value)}
    raise NotionPermanentError(f"reelgate cannot write properties of type {kind!r}")


def build_properties(
    fields: Mapping[str, Any],
    specs: Mapping[str, FieldSpec],
    names: Mapping[str, str],
    *,
    type_overrides: Mapping[str, str] | None = None,
) -> JSON:
    """Logical fields -> `properties` payload with this workspace's names."""
    unknown = sorted(set(fields) - set(specs))
    if unknown:
        raise NotionPermanentError(
            f"unknown logical fields {unknown}; known: {sorted(specs)}", code="bad_op"
        )
    out: JSON = {}
    for logical, value in fields.items():
        kind = (type_overrides or {}).get(logical, specs[logical].type)
        out[names.get(logical, specs[logical].name)] = build_property(kind, value)
    return out


def fingerprints_of(pages: Sequence[TaskPage | VideoRow]) -> dict[str, str]:
    return {(p.page_id if isinstance(p, TaskPage) else p.row_id): p.fingerprint for p in pages}
