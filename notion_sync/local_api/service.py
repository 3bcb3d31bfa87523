"""The operations behind each route, and the admin helpers tests call directly.

Stored shapes (internal, JSON-friendly):
- page: `{id, parent, data_source_id, created_time, last_edited_time, created_by,
  last_edited_by, in_trash, icon, cover, values: {property_id: stored value}}`;
  select/status values are option ids, multi_select a list of option ids, people
  and relation lists of ids, files a list of `{kind, name, id|url}`.
- data source: `{id, database_id, title, props: {property_id: schema}, ...}`.
- block: `{id, parent, type, content, ...}`; `state.children[parent]` orders them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .apierror import not_found, validation_error
from .filters import compile_filter, sort_pages
from .objects import (
    page_schema,
    page_title,
    render_block,
    render_data_source,
    render_database,
    render_page,
    render_property_value,
    render_user,
)
from .state import LocalNotionState, new_id, normalize_id
from .validation import (
    check_children_count,
    normalize_block,
    normalize_icon,
    normalize_property_value,
    normalize_rich_text,
    normalize_schema_property,
    parse_page_size,
    require_dict,
    require_id,
)
from .views import add_default_view

__all__ = [
    "MIB",
    "append_children",
    "create_data_source",
    "create_database",
    "create_page",
    "delete_block",
    "get_block",
    "get_data_source",
    "get_database",
    "get_page",
    "get_property_item",
    "get_user",
    "list_children",
    "list_envelope",
    "list_users",
    "move_page",
    "paginate",
    "query_data_source",
    "search",
    "update_block",
    "update_data_source",
    "update_database",
    "update_page",
]

JSON = dict[str, Any]
T = TypeVar("T")
MIB = 1024 * 1024


def list_envelope(results: list[JSON], next_cursor: str | None, kind: str, **extra: Any) -> JSON:
    """Notion's list shape: `{object: list, results, next_cursor, has_more, type, <type>: {}}`."""
    out: JSON = {
        "object": "list",
        "results": results,
        "next_cursor": next_cursor,
        "has_more": next_cursor is not None,
        "type": kind,
        kind: extra.pop("type_body", {}),
    }
    out.update(extra)
    return out


def paginate(
    items: Sequence[T], key: Callable[[T], str], start_cursor: Any, page_size: Any
) -> tuple[list[T], str | None]:
    """Cursor = id of the first item of the next page (opaque to clients)."""
    size = parse_page_size(page_size)
    start = 0
    if start_cursor is not None:
        keys = [key(item) for item in items]
        cursor = normalize_id(str(start_cursor)) or str(start_cursor)
        if cursor not in keys:
            raise validation_error("The start_cursor provided is invalid: " + str(start_cursor))
        start = keys.index(cursor)
    chunk = list(items[start : start + size])
    following = items[start + size] if start + size < len(items) else None
    return chunk, key(following) if following is not None else None


# -- lookups -------------------------------------------------------------------------


def _id_or_404(raw: str, kind: str) -> str:
    uid = normalize_id(raw)
    if uid is None:
        # Notion answers malformed path ids with a validation error.
        raise validation_error(
            f"path failed validation: path.{kind}_id should be a valid uuid, instead was `{raw!r}`."
        )
    return uid


def _page(state: LocalNotionState, raw_id: str) -> JSON:
    uid = _id_or_404(raw_id, "page")
    page = state.pages.get(uid)
    if page is None:
        raise not_found(uid, "page")
    return page


def _data_source(state: LocalNotionState, raw_id: str) -> JSON:
    uid = _id_or_404(raw_id, "data_source")
    ds = state.data_sources.get(uid)
    if ds is None:
        raise not_found(uid, "data_source")
    return ds


def _stamp(state: LocalNotionState, obj: JSON, actor: str) -> None:
    obj["last_edited_time"] = state.now_iso()
    obj["last_edited_by"] = actor


def _new_meta(state: LocalNotionState, actor: str) -> JSON:
    now = state.now_iso()
    return {
        "created_time": now,
        "last_edited_time": now,
        "created_by": actor,
        "last_edited_by": actor,
        "in_trash": False,
    }


# -- users ---------------------------------------------------------------------------


def get_user(state: LocalNotionState, raw_id: str) -> JSON:
    with state.lock:
        uid = _id_or_404(raw_id, "user")
        if uid not in state.users:
            raise not_found(uid, "user")
        return render_user(state, uid)


def list_users(state: LocalNotionState, start_cursor: Any, page_size: Any) -> JSON:
    with state.lock:
        ids = list(state.users)
        chunk, cursor = paginate(ids, lambda u: u, start_cursor, page_size)
        return list_envelope([render_user(state, u) for u in chunk], cursor, "user")


# -- databases and data sources -------------------------------------------------------


def _schema(
    state: LocalNotionState, raw: Any, path: str, existing: dict[str, JSON] | None = None
) -> dict[str, JSON]:
    """Apply a `properties` map (create or PATCH) to a schema; returns the new schema."""
    props = require_dict(raw, path)
    schema: dict[str, JSON] = {k: dict(v) for k, v in (existing or {}).items()}
    by_name = {p["name"]: pid for pid, p in schema.items()}
    for key, spec in props.items():
        ppath = f"{path}.{key}"
        pid = key if key in schema else by_name.get(key)
        if spec is None:
            if pid is None:
                raise validation_error(f"{key} is not a property that exists.")
            if schema[pid]["type"] == "title":
                raise validation_error("Cannot delete the title property.")
            del schema[pid]
            by_name = {p["name"]: i for i, p in schema.items()}
            continue
        current = schema.get(pid) if pid is not None else None
        prop = normalize_schema_property(
            state, key, spec, ppath, existing=current, taken_ids=set(schema)
        )
        if prop["type"] == "title" and current is None:
            titles = [p for p in schema.values() if p["type"] == "title"]
            if titles:
                raise validation_error("A data source can have only one title property.")
        clash = by_name.get(prop["name"])
        if clash is not None and clash != prop["id"]:
            raise validation_error(f"A property named {prop['name']!r} already exists.")
        if current is not None and current["name"] != prop["name"]:
            by_name.pop(current["name"], None)
        schema[prop["id"]] = prop
        by_name[prop["name"]] = prop["id"]
    return schema


def _link_dual_relations(state: LocalNotionState, ds: JSON) -> None:
    """A dual relation gets a synced property on the target data source, as in Notion."""
    for prop in ds["props"].values():
        cfg = prop["config"]
        if prop["type"] != "relation" or cfg["type"] != "dual_property":
            continue
        if cfg.get("synced_property_id"):
            continue
        target = state.data_sources.get(cfg["data_source_id"])
        if target is None:
            continue
        title = "".join(t["plain_text"] for t in ds["title"]) or "Related"
        name = title
        taken = {p["name"] for p in target["props"].values()}
        n = 1
        while name in taken:
            n += 1
            name = f"{title} {n}"
        from .validation import new_property_id

        synced_id = new_property_id(set(target["props"]))
        target["props"][synced_id] = {
            "id": synced_id,
            "name": name,
            "type": "relation",
            "description": None,
            "config": {
                "data_source_id": ds["id"],
                "database_id": ds["database_id"],
                "type": "dual_property",
                "synced_property_id": prop["id"],
                "synced_property_name": prop["name"],
            },
        }
        cfg["synced_property_id"] = synced_id
        cfg["synced_property_name"] = name


def create_database(state: LocalNotionState, body: JSON, actor: str) -> JSON:
    with state.lock:
        parent = require_dict(body.get("parent"), "body.parent")
        if parent.get("type", "page_id") != "page_id" or "page_id" not in parent:
            raise validation_error(
                "body failed validation: body.parent.page_id should be defined, instead was "
                "`undefined`."
            )
        page = _page(state, str(parent["page_id"]))
        title = normalize_rich_text(state, body.get("title") or [], "body.title")
        initial = body.get("initial_data_source")
        initial = {} if initial is None else require_dict(initial, "body.initial_data_source")
        raw_props = initial.get("properties") or {"Name": {"title": {}}}
        schema = _schema(state, raw_props, "body.initial_data_source.properties")
        if not any(p["type"] == "title" for p in schema.values()):
            raise validation_error(
                "Title property is required: body.initial_data_source.properties must "
                "include exactly one property of type `title`."
            )
        db_id, ds_id = new_id(), new_id()
        meta = _new_meta(state, actor)
        state.databases[db_id] = {
            "id": db_id,
            "parent": {"type": "page_id", "page_id": page["id"]},
            "title": title,
            "description": normalize_rich_text(
                state, body.get("description") or [], "body.description"
            ),
            "is_inline": bool(body.get("is_inline", False)),
            "icon": normalize_icon(state, body.get("icon"), "body.icon"),
            "cover": normalize_icon(state, body.get("cover"), "body.cover", cover=True),
            "data_source_ids": [ds_id],
            **meta,
        }
        ds = {
            "id": ds_id,
            "database_id": db_id,
            "title": normalize_rich_text(
                state, initial.get("title") or body.get("title") or [], "body.title"
            ),
            "props": schema,
            **meta,
        }
        state.data_sources[ds_id] = ds
        _link_dual_relations(state, ds)
        _add_child_block(state, page["id"], db_id, "child_database", actor)
        # A new database comes with one table view (recorded: views.list after
        # databases.create lists one view).
        add_default_view(state, db_id, ds_id, actor)
        state.touch()
        return render_database(state, state.databases[db_id])


def create_data_source(state: LocalNotionState, body: JSON, actor: str) -> JSON:
    """`POST /v1/data_sources`: another data source in an existing database.

    "A standard table view is created alongside the new data source"
    (developers.notion.com/reference/create-a-data-source, checked 2026-12-01).
    """
    with state.lock:
        parent = require_dict(body.get("parent"), "body.parent")
        if parent.get("type", "database_id") != "database_id" or "database_id" not in parent:
            raise validation_error(
                "body failed validation: body.parent.database_id should be defined, instead "
                "was `undefined`."
            )
        db = _database(state, parent["database_id"])
        if db.get("linked"):
            raise validation_error(
                f"Database {db['id']} is a linked database; add the data source to its source."
            )
        if body.get("properties") is None:
            raise validation_error(
                "body failed validation: body.properties should be defined, instead was "
                "`undefined`."
            )
        schema = _schema(state, body["properties"], "body.properties")
        if sum(p["type"] == "title" for p in schema.values()) != 1:
            raise validation_error(
                "Title property is required: body.properties must include exactly one "
                "property of type `title`."
            )
        ds_id = new_id()
        ds = {
            "id": ds_id,
            "database_id": db["id"],
            "title": normalize_rich_text(state, body.get("title") or [], "body.title"),
            "icon": normalize_icon(state, body.get("icon"), "body.icon"),
            "props": schema,
            **_new_meta(state, actor),
        }
        state.data_sources[ds_id] = ds
        db["data_source_ids"].append(ds_id)
        _link_dual_relations(state, ds)
        add_default_view(state, db["id"], ds_id, actor)
        _stamp(state, db, actor)
        state.touch()
        return render_data_source(state, ds)


def _database(state: LocalNotionState, raw_id: Any) -> JSON:
    uid = _id_or_404(str(raw_id), "database")
    db = state.databases.get(uid)
    if db is None:
        raise not_found(uid, "database")
    return db


def _add_child_block(
    state: LocalNotionState, parent_id: str, block_id: str, kind: str, actor: str
) -> None:
    parent_type = "page_id" if parent_id in state.pages else "block_id"
    state.blocks[block_id] = {
        "id": block_id,
        "parent": {"type": parent_type, parent_type: parent_id},
        "type": kind,
        "content": {"title": ""},
        **_new_meta(state, actor),
    }
    state.children.setdefault(parent_id, []).append(block_id)


def get_database(state: LocalNotionState, raw_id: str) -> JSON:
    with state.lock:
        return render_database(state, _database(state, raw_id))


def _boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise validation_error(
            f"body failed validation: {path} should be a boolean, instead was `{value!r}`."
        )
    return value


def _reparent_block(state: LocalNotionState, block_id: str, parent_id: str) -> None:
    """Move a child page/database block to the end of another page."""
    block = state.blocks.get(block_id)
    if block is None:
        return
    old_parent = block["parent"].get("page_id") or block["parent"].get("block_id")
    siblings = state.children.get(old_parent or "", [])
    if block_id in siblings:
        siblings.remove(block_id)
    block["parent"] = {"type": "page_id", "page_id": parent_id}
    state.children.setdefault(parent_id, []).append(block_id)


def update_database(state: LocalNotionState, raw_id: str, body: JSON, actor: str) -> JSON:
    with state.lock:
        db = _database(state, raw_id)
        if "title" in body:
            db["title"] = normalize_rich_text(state, body["title"], "body.title")
        if "description" in body:
            db["description"] = normalize_rich_text(state, body["description"], "body.description")
        if "icon" in body:
            db["icon"] = normalize_icon(state, body["icon"], "body.icon")
        if "cover" in body:
            db["cover"] = normalize_icon(state, body["cover"], "body.cover", cover=True)
        if "is_inline" in body:
            db["is_inline"] = bool(body["is_inline"])
        if "is_locked" in body:
            db["is_locked"] = _boolean(body["is_locked"], "body.is_locked")
        if body.get("parent") is not None:
            parent = require_dict(body["parent"], "body.parent")
            target = _page(state, str(parent.get("page_id")))
            _reparent_block(state, db["id"], target["id"])
            db["parent"] = {"type": "page_id", "page_id": target["id"]}
        if "in_trash" in body or "archived" in body:
            db["in_trash"] = bool(body.get("in_trash", body.get("archived")))
        _stamp(state, db, actor)
        state.touch()
        return render_database(state, db)


def get_data_source(state: LocalNotionState, raw_id: str) -> JSON:
    with state.lock:
        return render_data_source(state, _data_source(state, raw_id))


def update_data_source(state: LocalNotionState, raw_id: str, body: JSON, actor: str) -> JSON:
    with state.lock:
        ds = _data_source(state, raw_id)
        if "properties" in body:
            ds["props"] = _schema(state, body["properties"], "body.properties", ds["props"])
            _link_dual_relations(state, ds)
        if "title" in body:
            ds["title"] = normalize_rich_text(state, body["title"], "body.title")
        if "icon" in body:
            ds["icon"] = normalize_icon(state, body["icon"], "body.icon")
        if "in_trash" in body or "archived" in body:
            ds["in_trash"] = bool(body.get("in_trash", body.get("archived")))
        if body.get("parent") is not None:
            # Moving a data source to another database (UpdateDataSourceParameters.parent).
            parent = require_dict(body["parent"], "body.parent")
            target = _database(state, parent.get("database_id"))
            source = state.databases[ds["database_id"]]
            if target["id"] != source["id"]:
                if len(source["data_source_ids"]) == 1:
                    raise validation_error(
                        "Cannot move the only data source of a database; create another first."
                    )
                source["data_source_ids"].remove(ds["id"])
                target["data_source_ids"].append(ds["id"])
                ds["database_id"] = target["id"]
                for view in state.views.values():
                    if view["data_source_id"] == ds["id"] and view["database_id"] == source["id"]:
                        view["database_id"] = target["id"]
                for page in state.pages.values():
                    if page["data_source_id"] == ds["id"]:
                        page["parent"]["database_id"] = target["id"]
        _stamp(state, ds, actor)
        state.touch()
        return render_data_source(state, ds)


def query_data_source(
    state: LocalNotionState, raw_id: str, body: JSON, filter_properties: list[str] | None = None
) -> JSON:
    with state.lock:
        ds = _data_source(state, raw_id)
        result_type = body.get("result_type")
        if result_type not in (None, "page", "data_source"):
            raise validation_error(
                "body failed validation: body.result_type should be `page` or `data_source`, "
                f"instead was `{result_type!r}`."
            )
        # Guess: `in_trash: true` queries the trashed rows instead of the live ones.
        trashed = bool(body.get("in_trash", body.get("archived", False)))
        pages = [
            p
            for p in state.pages.values()
            if p["data_source_id"] == ds["id"]
            and p["in_trash"] == trashed
            and not p.get("is_template")
        ]
        if result_type == "data_source":
            pages = []  # only wikis hold data sources as rows; ours never do
        if body.get("filter") is not None:
            predicate = compile_filter(state, ds, body["filter"])
            pages = [p for p in pages if predicate(p)]
        pages = sort_pages(state, ds, pages, body.get("sorts"))
        chunk, cursor = paginate(
            pages, lambda p: p["id"], body.get("start_cursor"), body.get("page_size")
        )
        results = [render_page(state, p) for p in chunk]
        if filter_properties:
            wanted = set(filter_properties)
            for result in results:
                result["properties"] = {
                    name: value
                    for name, value in result["properties"].items()
                    if value["id"] in wanted or name in wanted
                }
        return list_envelope(results, cursor, "page_or_data_source")


# -- pages ---------------------------------------------------------------------------


def _resolve_page_parent(state: LocalNotionState, raw: Any) -> tuple[JSON, str | None]:
    """-> (wire parent, data source id or None)."""
    parent = require_dict(raw, "body.parent")
    kind = parent.get("type")
    if kind is None:
        kind = next((k for k in ("data_source_id", "database_id", "page_id") if k in parent), None)
    if kind == "data_source_id":
        ds = _data_source(state, str(parent.get("data_source_id")))
        return (
            {
                "type": "data_source_id",
                "data_source_id": ds["id"],
                "database_id": ds["database_id"],
            },
            ds["id"],
        )
    if kind == "database_id":
        db_id = _id_or_404(str(parent.get("database_id")), "database")
        db = state.databases.get(db_id)
        if db is None:
            raise not_found(db_id, "database")
        if len(db["data_source_ids"]) != 1:
            raise validation_error(
                "Database has more than one data source; use a data_source_id parent."
            )
        ds_id = db["data_source_ids"][0]
        # 2025-09-03 answers with the data source parent even when given database_id.
        return {"type": "data_source_id", "data_source_id": ds_id, "database_id": db_id}, ds_id
    if kind == "page_id":
        page = _page(state, str(parent.get("page_id")))
        return {"type": "page_id", "page_id": page["id"]}, None
    raise validation_error(
        "body failed validation: body.parent should be one of `page_id`, `database_id`, "
        "`data_source_id`."
    )


def _find_prop(schema: dict[str, JSON], key: str) -> JSON | None:
    if key in schema:
        return schema[key]
    for prop in schema.values():
        if prop["name"] == key:
            return prop
    return None


def _apply_values(state: LocalNotionState, page: JSON, raw: Any, actor: str) -> None:
    props = require_dict(raw, "body.properties")
    schema = page_schema(state, page)
    staged: dict[str, Any] = {}
    for key, value in props.items():
        prop = _find_prop(schema, key)
        if prop is None:
            raise validation_error(f"{key} is not a property that exists.")
        if page["data_source_id"] is None and prop["type"] == "title" and isinstance(value, list):
            # Under a page, Notion takes the title's rich-text array itself
            # (`properties={"title": [{"text": {"content": "x"}}]}`): its create-page schema
            # allows it there only (notion-sdk-js CreatePageBodyParameters, and notion-sdk-py
            # recordings at 2025-09-03; checked 2026-12-01).
            value = {"title": value}
        staged[prop["id"]] = normalize_property_value(
            state, prop, value, f"body.properties.{key}", actor=actor
        )
    for prop_id, value in staged.items():
        prop = schema[prop_id]
        if prop["type"] == "relation" and prop["config"].get("synced_property_id"):
            _sync_dual_relation(state, page, prop, page["values"].get(prop_id) or [], value)
    page["values"].update(staged)


def _sync_dual_relation(
    state: LocalNotionState, page: JSON, prop: JSON, before: list[str], after: list[str]
) -> None:
    """Mirror a dual relation on the related pages' synced property, as Notion does."""
    synced = prop["config"]["synced_property_id"]
    for other_id in set(before) ^ set(after):
        other = state.pages.get(other_id)
        if other is None or other["data_source_id"] != prop["config"]["data_source_id"]:
            continue
        links: list[str] = list(other["values"].get(synced) or [])
        if other_id in after and page["id"] not in links:
            links.append(page["id"])
        elif other_id not in after and page["id"] in links:
            links.remove(page["id"])
        other["values"][synced] = links


def _not_trashed(state: LocalNotionState, block_id: str) -> None:
    obj = state.pages.get(block_id) or state.blocks.get(block_id)
    if obj is not None and obj["in_trash"]:
        # Notion's wording for writes to trashed pages/blocks.
        raise validation_error(
            "Can't edit block that is archived. You must unarchive the block before editing."
        )


def _page_content(body: JSON) -> tuple[str | None, Any]:
    """-> (which of children / content / markdown was given, its value)."""
    given = [k for k in ("children", "content", "markdown") if body.get(k) is not None]
    if len(given) > 1:
        # "Page content as Notion-flavored Markdown. Mutually exclusive with content/children."
        raise validation_error(
            f"body failed validation: body.{given[0]} and body.{given[1]} are mutually "
            "exclusive; send the page content one way."
        )
    if not given:
        return None, None
    return given[0], body[given[0]]


def _content_blocks(
    state: LocalNotionState, kind: str | None, value: Any, parent_id: str, actor: str
) -> list[JSON]:
    if kind is None:
        return []
    if kind == "markdown":
        if not isinstance(value, str):
            raise validation_error("body failed validation: body.markdown should be a string.")
        from .markdown import markdown_to_blocks

        value = [b for b in markdown_to_blocks(value) if "ref" not in b]
        check_children_count(value, "body.markdown")
    elif not isinstance(value, list):
        raise validation_error(f"body failed validation: body.{kind} should be an array.")
    check_children_count(value, f"body.{kind}")
    return _build_blocks(state, value, parent_id, f"body.{kind}", actor)


def _position_after(state: LocalNotionState, parent_id: str, raw: Any) -> str | bool | None:
    """PagePositionSchema -> the sibling to insert after, None for the start, True for end."""
    if raw is None:
        return True
    position = require_dict(raw, "body.position")
    kind = position.get("type")
    if kind == "page_end":
        return True
    if kind == "page_start":
        return None
    if kind == "after_block":
        after = require_id((position.get("after_block") or {}).get("id"), "body.position")
        if after not in state.children.get(parent_id, []):
            raise validation_error(f"Block {after} is not a child of {parent_id}.")
        return after
    raise validation_error(
        "body failed validation: body.position.type should be `after_block`, `page_start` or "
        f"`page_end`, instead was `{kind!r}`."
    )


def create_page(state: LocalNotionState, body: JSON, actor: str) -> JSON:
    from .templates import apply_template, resolve_template

    with state.lock:
        if isinstance(body.get("parent"), dict) and body["parent"].get("workspace") is True:
            # Only public (OAuth) integrations may create workspace-level pages.
            raise validation_error(
                "Workspace-level pages can only be created by public integrations; give a "
                "page_id or data_source_id parent."
            )
        parent, ds_id = _resolve_page_parent(state, body.get("parent"))
        kind, content = _page_content(body)
        template = resolve_template(state, body.get("template"), ds_id, allow_none=True)
        if template is not None and kind is not None:
            raise validation_error(
                f"body failed validation: body.template cannot be combined with body.{kind}."
            )
        # A position orders a page among its parent page's blocks; rows of a data source
        # have no such place, so it is ignored there (a guess: Notion does not say).
        after: str | bool | None = True
        if parent["type"] == "page_id":
            _not_trashed(state, parent["page_id"])
            after = _position_after(state, parent["page_id"], body.get("position"))
        page_id = new_id()
        page: JSON = {
            "id": page_id,
            "parent": parent,
            "data_source_id": ds_id,
            "icon": normalize_icon(state, body.get("icon"), "body.icon"),
            "cover": normalize_icon(state, body.get("cover"), "body.cover", cover=True),
            "values": {},
            "is_locked": False,
            "is_archived": False,
            **_new_meta(state, actor),
        }
        _apply_values(state, page, body.get("properties") or {}, actor)
        _default_status(state, page)
        blocks = _content_blocks(state, kind, content, page_id, actor)
        state.pages[page_id] = page
        if parent["type"] == "page_id":
            _add_child_block(state, parent["page_id"], page_id, "child_page", actor)
            if after is not True:
                siblings = state.children[parent["page_id"]]
                siblings.remove(page_id)
                siblings.insert(0 if after is None else siblings.index(str(after)) + 1, page_id)
        _insert_blocks(state, page_id, blocks, None)
        if template is not None:
            apply_template(state, template, page, actor, given=set(page["values"]))
        state.touch()
        return render_page(state, page)


def get_page(
    state: LocalNotionState, raw_id: str, filter_properties: list[str] | None = None
) -> JSON:
    with state.lock:
        rendered = render_page(state, _page(state, raw_id))
        if filter_properties:
            wanted = set(filter_properties)
            rendered["properties"] = {
                n: v for n, v in rendered["properties"].items() if v["id"] in wanted or n in wanted
            }
        return rendered


def update_page(state: LocalNotionState, raw_id: str, body: JSON, actor: str) -> JSON:
    from .templates import apply_template, resolve_template

    with state.lock:
        page = _page(state, raw_id)
        trash = body.get("in_trash", body.get("archived"))
        if page["in_trash"] and trash is not False and body.get("properties"):
            _not_trashed(state, page["id"])
        template = resolve_template(
            state, body.get("template"), page["data_source_id"], allow_none=False
        )
        if body.get("properties"):
            _apply_values(state, page, body["properties"], actor)
        if "icon" in body:
            page["icon"] = normalize_icon(state, body["icon"], "body.icon")
        if "cover" in body:
            page["cover"] = normalize_icon(state, body["cover"], "body.cover", cover=True)
        if "is_locked" in body:
            page["is_locked"] = _boolean(body["is_locked"], "body.is_locked")
        if "is_archived" in body:
            page["is_archived"] = _boolean(body["is_archived"], "body.is_archived")
        if body.get("erase_content") is not None and _boolean(
            body["erase_content"], "body.erase_content"
        ):
            _erase_content(state, page["id"], actor)
        if template is not None:
            given = {k for k, v in page["values"].items() if v not in (None, [], "")}
            apply_template(state, template, page, actor, given=given)
        if trash is not None:
            if not isinstance(trash, bool):
                raise validation_error("body failed validation: body.in_trash should be a boolean.")
            page["in_trash"] = trash
            if page["id"] in state.blocks:
                state.blocks[page["id"]]["in_trash"] = trash
        _stamp(state, page, actor)
        state.touch()
        return render_page(state, page)


def _default_status(state: LocalNotionState, page: JSON) -> None:
    for prop in page_schema(state, page).values():
        if prop["type"] == "status" and prop["id"] not in page["values"]:
            # New rows start in the first option of the To-do group.
            todo = prop["config"]["groups"][0]["option_ids"]
            page["values"][prop["id"]] = todo[0] if todo else None


def _erase_content(state: LocalNotionState, page_id: str, actor: str) -> None:
    for child in state.children.get(page_id, []):
        if child in state.pages:
            state.pages[child]["in_trash"] = True
        block = state.blocks.get(child)
        if block is not None and not block["in_trash"]:
            block["in_trash"] = True
            _stamp(state, block, actor)


def move_page(state: LocalNotionState, raw_id: str, body: JSON, actor: str) -> JSON:
    """`POST /v1/pages/{id}/move`: under another page, or into a data source as a row.

    A page moved into a data source keeps its title and takes the new schema's defaults;
    one moved out of a data source keeps only its title (as when dragging in the app).
    """
    with state.lock:
        page = _page(state, raw_id)
        _not_trashed(state, page["id"])
        raw_parent = require_dict(body.get("parent"), "body.parent")
        kind = raw_parent.get("type") or next(
            (k for k in ("page_id", "data_source_id") if k in raw_parent), None
        )
        if kind not in ("page_id", "data_source_id"):
            raise validation_error(
                "body failed validation: body.parent should be one of `page_id`, `data_source_id`."
            )
        title = _title_value(state, page)
        old_block_parent = page["parent"].get("page_id")
        if kind == "page_id":
            target = _page(state, str(raw_parent.get("page_id")))
            ancestor: str | None = target["id"]
            while ancestor is not None:
                if ancestor == page["id"]:
                    raise validation_error("A page cannot be moved under itself or its children.")
                above = state.pages.get(ancestor)
                ancestor = above["parent"].get("page_id") if above else None
            page["parent"] = {"type": "page_id", "page_id": target["id"]}
            page["data_source_id"] = None
            page["values"] = {"title": title}
            if page["id"] in state.blocks:
                _reparent_block(state, page["id"], target["id"])
            else:
                _add_child_block(state, target["id"], page["id"], "child_page", actor)
        else:
            ds = _data_source(state, str(raw_parent.get("data_source_id")))
            page["parent"] = {
                "type": "data_source_id",
                "data_source_id": ds["id"],
                "database_id": ds["database_id"],
            }
            page["data_source_id"] = ds["id"]
            title_prop = next(p for p in ds["props"].values() if p["type"] == "title")
            page["values"] = {title_prop["id"]: title}
            _default_status(state, page)
            if old_block_parent and page["id"] in state.blocks:
                siblings = state.children.get(old_block_parent, [])
                if page["id"] in siblings:
                    siblings.remove(page["id"])
                del state.blocks[page["id"]]
        _stamp(state, page, actor)
        state.touch()
        return render_page(state, page)


def _title_value(state: LocalNotionState, page: JSON) -> list[JSON]:
    for prop in page_schema(state, page).values():
        if prop["type"] == "title":
            return list(page["values"].get(prop["id"]) or [])
    return []


def get_property_item(
    state: LocalNotionState, raw_page_id: str, property_id: str, start_cursor: Any, page_size: Any
) -> JSON:
    with state.lock:
        page = _page(state, raw_page_id)
        schema = page_schema(state, page)
        prop = _find_prop(schema, property_id)
        if prop is None:
            raise not_found(property_id, "property")
        value = render_property_value(state, page, prop, limit=False)
        kind = prop["type"]
        if kind not in ("title", "rich_text", "relation", "people"):
            return {"object": "property_item", **value}
        items: list[JSON] = [
            {"object": "property_item", "id": prop["id"], "type": kind, kind: item}
            for item in value[kind]
        ]
        keyed = [(str(i), item) for i, item in enumerate(items)]
        # Paginated property items: `type: property_item`, `property_item: {id, next_url,
        # type, <type>: {}}` (reference: property-item-object, paginated values).
        chunk, cursor = _paginate_offsets(keyed, start_cursor, page_size)
        next_url = None
        if cursor is not None:
            next_url = (
                f"{state.public_base_url}/v1/pages/{page['id']}/properties/{prop['id']}"
                f"?start_cursor={cursor}"
            )
        return list_envelope(
            [item for _, item in chunk],
            cursor,
            "property_item",
            type_body={"id": prop["id"], "next_url": next_url, "type": kind, kind: {}},
        )


def _paginate_offsets(
    keyed: list[tuple[str, JSON]], start_cursor: Any, page_size: Any
) -> tuple[list[tuple[str, JSON]], str | None]:
    size = parse_page_size(page_size)
    start = 0
    if start_cursor is not None:
        try:
            start = int(str(start_cursor).removeprefix("pi-"))
        except ValueError:
            raise validation_error("The start_cursor provided is invalid.") from None
    chunk = keyed[start : start + size]
    more = start + size < len(keyed)
    return chunk, f"pi-{start + size}" if more else None


# -- blocks --------------------------------------------------------------------------


def _build_blocks(
    state: LocalNotionState, raw_children: list[Any], parent_id: str, path: str, actor: str
) -> list[JSON]:
    """Validate everything before storing anything, so a refused request changes nothing."""
    built: list[JSON] = []
    for index, raw in enumerate(raw_children):
        spec = normalize_block(state, raw, f"{path}[{index}]", actor=actor)
        block_id = new_id()
        block: JSON = {
            "id": block_id,
            "type": spec["type"],
            "content": spec["content"],
            **_new_meta(state, actor),
        }
        nested = _build_blocks(
            state, spec["children"], block_id, f"{path}[{index}].{spec['type']}.children", actor
        )
        built.append({"block": block, "children": nested})
    return built


def _insert_blocks(
    state: LocalNotionState, parent_id: str, built: list[JSON], after: str | None
) -> list[JSON]:
    parent_type = "page_id" if parent_id in state.pages else "block_id"
    siblings = state.children.setdefault(parent_id, [])
    position = len(siblings)
    if after is not None:
        position = siblings.index(after) + 1
    created: list[JSON] = []
    for item in built:
        block = item["block"]
        block["parent"] = {"type": parent_type, parent_type: parent_id}
        state.blocks[block["id"]] = block
        siblings.insert(position, block["id"])
        position += 1
        _insert_blocks(state, block["id"], item["children"], None)
        created.append(block)
    return created


def _container(state: LocalNotionState, raw_id: str) -> str:
    uid = _id_or_404(raw_id, "block")
    if uid not in state.pages and uid not in state.blocks:
        raise not_found(uid, "block")
    return uid


def _owning_page(state: LocalNotionState, block_id: str) -> JSON | None:
    current = block_id
    for _ in range(64):
        if current in state.pages:
            return state.pages[current]
        block = state.blocks.get(current)
        if block is None:
            return None
        parent = block["parent"]
        current = parent.get("page_id") or parent.get("block_id") or ""
    return None


def append_children(state: LocalNotionState, raw_id: str, body: JSON, actor: str) -> JSON:
    with state.lock:
        parent_id = _container(state, raw_id)
        _not_trashed(state, parent_id)
        children = body.get("children")
        if not isinstance(children, list):
            raise validation_error(
                "body failed validation: body.children should be an array, instead was "
                f"`{children!r}`."
            )
        check_children_count(children, "body.children")
        after = body.get("after")
        position = body.get("position")
        if isinstance(position, dict) and position.get("type") == "after_block":
            after = (position.get("after_block") or {}).get("id")
        elif isinstance(position, dict) and position.get("type") == "start":
            after = None
        if after is not None:
            after = require_id(after, "body.after")
            if after not in state.children.get(parent_id, []):
                raise validation_error(f"Block {after} is not a child of {parent_id}.")
        built = _build_blocks(state, children, parent_id, "body.children", actor)
        created = _insert_blocks(state, parent_id, built, after)
        if isinstance(position, dict) and position.get("type") == "start":
            siblings = state.children[parent_id]
            new_ids = [b["id"] for b in created]
            state.children[parent_id] = new_ids + [i for i in siblings if i not in new_ids]
        page = _owning_page(state, parent_id)
        if page is not None:
            # Content edits count as page edits in Notion (last_edited_time moves).
            _stamp(state, page, actor)
        state.touch()
        return list_envelope([render_block(state, b) for b in created], None, "block")


def list_children(state: LocalNotionState, raw_id: str, start_cursor: Any, page_size: Any) -> JSON:
    with state.lock:
        parent_id = _container(state, raw_id)
        ids = [i for i in state.children.get(parent_id, []) if not state.blocks[i]["in_trash"]]
        chunk, cursor = paginate(ids, lambda i: i, start_cursor, page_size)
        return list_envelope([render_block(state, state.blocks[i]) for i in chunk], cursor, "block")


def get_block(state: LocalNotionState, raw_id: str) -> JSON:
    with state.lock:
        uid = _id_or_404(raw_id, "block")
        block = state.blocks.get(uid)
        if block is None:
            if uid in state.pages:
                page = state.pages[uid]
                return {
                    "object": "block",
                    "id": uid,
                    "parent": page["parent"],
                    "created_time": page["created_time"],
                    "last_edited_time": page["last_edited_time"],
                    "created_by": {"object": "user", "id": page["created_by"]},
                    "last_edited_by": {"object": "user", "id": page["last_edited_by"]},
                    "has_children": bool(state.children.get(uid)),
                    "archived": page["in_trash"],
                    "in_trash": page["in_trash"],
                    "type": "child_page",
                    "child_page": {"title": page_title(state, page)},
                }
            raise not_found(uid, "block")
        return render_block(state, block)


def update_block(state: LocalNotionState, raw_id: str, body: JSON, actor: str) -> JSON:
    with state.lock:
        uid = _id_or_404(raw_id, "block")
        block = state.blocks.get(uid)
        if block is None:
            raise not_found(uid, "block")
        trash = body.get("in_trash", body.get("archived"))
        if block["type"] in body:
            _not_trashed(state, uid)
            spec = normalize_block(
                state,
                {"type": block["type"], block["type"]: body[block["type"]]},
                "body",
                actor=actor,
            )
            block["content"] = spec["content"]
        if trash is not None:
            block["in_trash"] = bool(trash)
        _stamp(state, block, actor)
        page = _owning_page(state, uid)
        if page is not None:
            _stamp(state, page, actor)
        state.touch()
        return render_block(state, block)


def delete_block(state: LocalNotionState, raw_id: str, actor: str) -> JSON:
    with state.lock:
        uid = _id_or_404(raw_id, "block")
        if uid in state.pages:
            update_page(state, uid, {"in_trash": True}, actor)
            return get_block(state, uid)
        return update_block(state, raw_id, {"in_trash": True}, actor)


# -- search --------------------------------------------------------------------------


def search(state: LocalNotionState, body: JSON) -> JSON:
    with state.lock:
        query = body.get("query") or ""
        if not isinstance(query, str):
            raise validation_error("body failed validation: body.query should be a string.")
        wanted: str | None = None
        raw_filter = body.get("filter")
        if raw_filter is not None:
            flt = require_dict(raw_filter, "body.filter")
            wanted = flt.get("value")
            if flt.get("property") != "object" or wanted not in ("page", "data_source"):
                raise validation_error(
                    "body failed validation: body.filter.value should be `page` or "
                    f"`data_source`, instead was `{wanted!r}`."
                )
        needle = query.lower()
        found: list[tuple[str, str, JSON]] = []
        if wanted in (None, "page"):
            for page in state.pages.values():
                if page["in_trash"] or page.get("is_template"):
                    continue
                if needle in page_title(state, page).lower():
                    found.append((page["last_edited_time"], page["id"], page))
        if wanted in (None, "data_source"):
            for ds in state.data_sources.values():
                name = "".join(t["plain_text"] for t in ds["title"])
                if not ds["in_trash"] and needle in name.lower():
                    found.append((ds["last_edited_time"], ds["id"], ds))
        sort = body.get("sort") or {}
        ascending = isinstance(sort, dict) and sort.get("direction") == "ascending"
        found.sort(key=lambda item: item[0], reverse=not ascending)
        chunk, cursor = paginate(
            found, lambda item: item[1], body.get("start_cursor"), body.get("page_size")
        )
        results = [
            render_data_source(state, obj)
            if obj["id"] in state.data_sources
            else render_page(state, obj)
            for _, _, obj in chunk
        ]
        return list_envelope(results, cursor, "page_or_data_source")
