"""Data source templates: listing them and creating pages from them.

`GET /v1/data_sources/{id}/templates` answers `{templates: [{id, name, is_default}],
has_more, next_cursor}` with no `object` and no `request_id` (notion-sdk-js
`ListDataSourceTemplatesResponse`; notion-sdk-py recording of 2026-07-04; checked
2026-12-01). `pages.create(template={"type": "default" | "template_id", ...})` and
`pages.update(template=..., erase_content=...)` apply one.

Templates are pages of the data source flagged `is_template`; queries, views and search
never return them. Add one with `Admin.add_template`. Notion applies templates in the
background; here the page has the template's content when the request returns.
"""

from __future__ import annotations

import copy
from typing import Any

from .apierror import validation_error
from .objects import page_title
from .service import _data_source, _insert_blocks, _new_meta, create_page, paginate
from .state import LocalNotionState, new_id
from .validation import require_dict, require_id

__all__ = ["add_template", "apply_template", "list_templates", "resolve_template"]

JSON = dict[str, Any]


def resolve_template(
    state: LocalNotionState, raw: Any, ds_id: str | None, *, allow_none: bool
) -> JSON | None:
    """A request's `template` -> the template page, or None for no template."""
    if raw is None:
        return None
    spec = require_dict(raw, "body.template")
    kind = spec.get("type")
    kinds = ("none", "default", "template_id") if allow_none else ("default", "template_id")
    if kind not in kinds:
        raise validation_error(
            "body failed validation: body.template.type should be one of "
            f"{', '.join(f'`{k}`' for k in kinds)}, instead was `{kind!r}`."
        )
    if kind == "none":
        return None
    if ds_id is None:
        raise validation_error("Templates apply only to pages in a data source.")
    if kind == "default":
        default = next(
            (
                p
                for p in state.pages.values()
                if p.get("is_template")
                and p.get("is_default_template")
                and p["data_source_id"] == ds_id
            ),
            None,
        )
        if default is None:
            raise validation_error(f"Data source {ds_id} has no default template.")
        return default
    template_id = require_id(spec.get("template_id"), "body.template.template_id")
    template = state.pages.get(template_id)
    if template is None or not template.get("is_template") or template["data_source_id"] != ds_id:
        raise validation_error(f"{template_id} is not a template of data source {ds_id}.")
    return template


def _copy_children(state: LocalNotionState, source_id: str, target_id: str, actor: str) -> None:
    built: list[JSON] = []

    def clone(block_id: str) -> JSON:
        block = state.blocks[block_id]
        new_block = {
            "id": new_id(),
            "type": block["type"],
            "content": copy.deepcopy(block["content"]),
            **_new_meta(state, actor),
        }
        children = [
            clone(c)
            for c in state.children.get(block_id, [])
            if not state.blocks[c]["in_trash"] and state.blocks[c]["type"] not in SKIPPED
        ]
        return {"block": new_block, "children": children}

    for child in state.children.get(source_id, []):
        block = state.blocks.get(child)
        if block is not None and not block["in_trash"] and block["type"] not in SKIPPED:
            built.append(clone(child))
    _insert_blocks(state, target_id, built, None)


# Child pages and databases inside a template are not copied (they are objects of their
# own); everything else is.
SKIPPED = frozenset({"child_page", "child_database"})


def apply_template(
    state: LocalNotionState, template: JSON, page: JSON, actor: str, *, given: set[str]
) -> None:
    """Copy the template's property values the page has not set, then its content."""
    for prop_id, value in template["values"].items():
        if prop_id not in given:
            page["values"][prop_id] = copy.deepcopy(value)
    _copy_children(state, template["id"], page["id"], actor)


def list_templates(
    state: LocalNotionState, raw_ds_id: str, name: str | None, start_cursor: Any, page_size: Any
) -> JSON:
    with state.lock:
        ds = _data_source(state, raw_ds_id)
        templates = [
            {
                "id": p["id"],
                "name": page_title(state, p),
                "is_default": bool(p.get("is_default_template")),
            }
            for p in state.pages.values()
            if p.get("is_template") and p["data_source_id"] == ds["id"] and not p["in_trash"]
        ]
        if name:
            # "Filter templates by name (case-insensitive substring match)."
            templates = [t for t in templates if name.lower() in str(t["name"]).lower()]
        chunk, cursor = paginate(templates, lambda t: str(t["id"]), start_cursor, page_size)
        return {"templates": chunk, "has_more": cursor is not None, "next_cursor": cursor}


def add_template(
    state: LocalNotionState,
    data_source_id: str,
    name: str,
    *,
    actor: str,
    properties: JSON | None = None,
    children: list[JSON] | None = None,
    is_default: bool = False,
) -> str:
    """Make a template page in a data source (the Notion app's "New template")."""
    with state.lock:
        ds = _data_source(state, data_source_id)
        title = next(p for p in ds["props"].values() if p["type"] == "title")
        body: JSON = {
            "parent": {"type": "data_source_id", "data_source_id": ds["id"]},
            "properties": {
                title["id"]: {"title": [{"type": "text", "text": {"content": name}}]},
                **(properties or {}),
            },
        }
        if children:
            body["children"] = children
        page = create_page(state, body, actor)
        stored = state.pages[page["id"]]
        stored["is_template"] = True
        if is_default:
            for other in state.pages.values():
                if other.get("is_template") and other["data_source_id"] == ds["id"]:
                    other["is_default_template"] = False
            stored["is_default_template"] = True
        state.touch()
        return str(page["id"])
