"""Database views and view queries (`/v1/views`, Notion-Version 2025-09-03).

Wire shapes follow notion-sdk-js `api-endpoints/views.ts` and notion-sdk-py's recorded
responses (checked 2026-12-01):
- a view: `{object: view, id, parent: {type: database_id, database_id}, data_source_id,
  name, type, created_time, created_by, last_edited_time, last_edited_by, url, filter,
  sorts, quick_filters, configuration}`; a new view with no configuration answers
  `configuration: {type: <type>}`; `DELETE` answers the partial `{object, id, parent, type}`;
- `GET /v1/views` lists references `{object: view, id}` (`type: view`, `view: {}`);
- view queries live in `view_queries.py`.

Stored view: `{id, database_id, data_source_id, name, type, filter, sorts, quick_filters,
configuration, created_time, last_edited_time, created_by, last_edited_by,
dashboard_view_id?}`; configurations and quick filters keep property *ids*, and the
convenience `property_name` fields are added when rendering, so renames show through.
"""

from __future__ import annotations

from typing import Any

from .apierror import not_found, validation_error
from .filters import compile_filter, sort_pages
from .objects import partial_user
from .state import LocalNotionState, new_id, normalize_id
from .validation import require_dict, require_id

__all__ = [
    "VIEW_TYPES",
    "add_default_view",
    "create_view",
    "delete_view",
    "find_view",
    "get_view",
    "list_views",
    "render_view",
    "update_view",
]

JSON = dict[str, Any]

VIEW_TYPES = (
    "table",
    "board",
    "list",
    "calendar",
    "timeline",
    "gallery",
    "form",
    "chart",
    "map",
    "dashboard",
)
DEFAULT_VIEW_NAME = "Default view"  # guess: Notion does not document the name

# group_by.type accepted for each property type (views.ts GroupByConfigRequest).
GROUP_TYPES: dict[str, frozenset[str]] = {
    "select": frozenset({"select"}),
    "multi_select": frozenset({"multi_select", "select"}),
    "status": frozenset({"status"}),
    "people": frozenset({"person"}),
    "created_by": frozenset({"person", "created_by"}),
    "last_edited_by": frozenset({"person", "last_edited_by"}),
    "relation": frozenset({"relation"}),
    "date": frozenset({"date"}),
    "created_time": frozenset({"date", "created_time"}),
    "last_edited_time": frozenset({"date", "last_edited_time"}),
    "title": frozenset({"text", "title"}),
    "rich_text": frozenset({"text"}),
    "url": frozenset({"text", "url"}),
    "email": frozenset({"text", "email"}),
    "phone_number": frozenset({"text", "phone_number"}),
    "number": frozenset({"number"}),
    "checkbox": frozenset({"checkbox"}),
}
DATE_TYPES = frozenset({"date", "created_time", "last_edited_time"})
COVER_SOURCES = ("page_cover", "page_content", "page_content_first", "property")
GROUP_BY_KEYS = ("group_by", "sub_group_by", "x_axis", "stack_by")
PROPERTY_LIST_KEYS = ("properties", "table_properties")
# Configuration keys each view type takes (notion-sdk-js `*ViewConfigRequest`, 2026-12-01).
_CARDS = ("properties", "cover", "cover_size", "cover_aspect", "card_layout")
CONFIG_KEYS: dict[str, frozenset[str]] = {
    "table": frozenset(
        {"properties", "group_by", "subtasks", "wrap_cells", "frozen_column_index",
         "show_vertical_lines"}
    ),
    "board": frozenset({"group_by", "sub_group_by", *_CARDS}),
    "gallery": frozenset(_CARDS),
    "list": frozenset({"properties"}),
    "calendar": frozenset({"date_property_id", "properties", "view_range", "show_weekends"}),
    "timeline": frozenset(
        {"date_property_id", "end_date_property_id", "properties", "show_table",
         "table_properties", "preference", "arrows_by", "color_by"}
    ),
    "map": frozenset({"height", "map_by", "properties"}),
    "form": frozenset({"is_form_closed", "anonymous_submissions", "submission_permissions"}),
    "chart": frozenset(
        {"chart_type", "x_axis", "y_axis", "x_axis_property_id", "y_axis_property_id", "value",
         "sort", "color_theme", "height", "hide_empty_groups", "legend_position",
         "show_data_labels", "axis_labels", "grid_lines", "cumulative", "smooth_line",
         "hide_line_fill_area", "group_style", "y_axis_min", "y_axis_max", "donut_labels",
         "hide_title", "stack_by", "reference_lines", "caption", "color_by_value"}
    ),
}  # fmt: skip
# Response-only convenience fields a client may echo back from a retrieved view; they are
# dropped (our leniency: they are derived from the ids anyway).
ECHOED_NAMES = frozenset({"date_property_name", "end_date_property_name", "map_by_property_name"})


# -- lookups --------------------------------------------------------------------------


def find_view(state: LocalNotionState, raw_id: str) -> JSON:
    uid = normalize_id(raw_id)
    if uid is None:
        raise validation_error(
            "path failed validation: path.view_id should be a valid uuid, "
            f"instead was `{raw_id!r}`."
        )
    view = state.views.get(uid)
    if view is None:
        raise not_found(uid, "view")
    return view


def _database(state: LocalNotionState, raw_id: Any, path: str) -> JSON:
    db_id = require_id(raw_id, path)
    db = state.databases.get(db_id)
    if db is None or db["in_trash"]:
        raise not_found(db_id, "database")
    return db


def _find_property(ds: JSON, ref: Any, path: str) -> JSON:
    # Requests name properties by id; names are accepted too (a leniency we chose: ids
    # are opaque, and Notion resolves names everywhere else in the API).
    props: dict[str, JSON] = ds["props"]
    for prop in props.values():
        if prop["id"] == ref:
            return prop
    for prop in props.values():
        if prop["name"] == ref:
            return prop
    raise validation_error(f"{path}: Could not find property with name or id: {ref}")


# -- rendering ------------------------------------------------------------------------


def render_view(state: LocalNotionState, view: JSON) -> JSON:
    db_hex = view["database_id"].replace("-", "")
    out: JSON = {
        "object": "view",
        "id": view["id"],
        "parent": {"type": "database_id", "database_id": view["database_id"]},
        "data_source_id": view["data_source_id"],
        "name": view["name"],
        "type": view["type"],
        "created_time": view["created_time"],
        "created_by": partial_user(view["created_by"]),
        "last_edited_time": view["last_edited_time"],
        "last_edited_by": partial_user(view["last_edited_by"]),
        "url": f"https://www.notion.so/{db_hex}?v={view['id'].replace('-', '')}",
        "filter": _copy(view["filter"]),
        "sorts": _copy(view["sorts"]),
        "quick_filters": _copy(view["quick_filters"]),
        "configuration": _render_configuration(state, view),
    }
    if view.get("dashboard_view_id"):
        out["dashboard_view_id"] = view["dashboard_view_id"]
    return out


def _render_configuration(state: LocalNotionState, view: JSON) -> JSON | None:
    config = view["configuration"]
    if config is None:
        return None
    out: JSON = _copy(config)
    ds = state.data_sources.get(view["data_source_id"] or "")
    names = {p["id"]: p["name"] for p in ds["props"].values()} if ds else {}
    for key in GROUP_BY_KEYS:
        group = out.get(key)
        if isinstance(group, dict) and group.get("property_id") in names:
            group["property_name"] = names[group["property_id"]]
    for key in PROPERTY_LIST_KEYS:
        for item in out.get(key) or []:
            if item.get("property_id") in names:
                item["property_name"] = names[item["property_id"]]
    for key, name_key in (
        ("date_property_id", "date_property_name"),
        ("end_date_property_id", "end_date_property_name"),
        ("map_by", "map_by_property_name"),
    ):
        if out.get(key) in names:
            out[name_key] = names[out[key]]
    return out


def _partial(view: JSON) -> JSON:
    return {
        "object": "view",
        "id": view["id"],
        "parent": {"type": "database_id", "database_id": view["database_id"]},
        "type": view["type"],
    }


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


# -- validation -----------------------------------------------------------------------


def _check_filter(state: LocalNotionState, ds: JSON, raw: Any) -> Any:
    if raw is None:
        return None
    compile_filter(state, ds, require_dict(raw, "body.filter"))
    return _copy(raw)


def _check_sorts(state: LocalNotionState, ds: JSON, raw: Any, *, properties_only: bool) -> Any:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise validation_error(
            f"body failed validation: body.sorts should be an array, instead was `{raw!r}`."
        )
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or "direction" not in item:
            raise validation_error(
                f"body failed validation: body.sorts[{index}].direction should be defined, "
                "instead was `undefined`."
            )
        if properties_only and "property" not in item:
            # UpdateViewRequest: "Only property-based sorts are supported".
            raise validation_error(
                f"body failed validation: body.sorts[{index}].property should be defined, "
                "instead was `undefined`."
            )
    sort_pages(state, ds, [], raw)  # validates property names and directions
    return _copy(raw)


def _check_quick_filters(
    state: LocalNotionState, ds: JSON, raw: Any, existing: JSON | None, *, merge: bool
) -> JSON | None:
    if raw is None:
        return None
    given = require_dict(raw, "body.quick_filters")
    out: JSON = _copy(existing) if merge and existing else {}
    for key, condition in given.items():
        prop = _find_property(ds, key, f"body.quick_filters.{key}")
        if condition is None:
            out.pop(prop["id"], None)
            continue
        cond = require_dict(condition, f"body.quick_filters.{key}")
        compile_filter(state, ds, {"property": prop["id"], **cond})
        out[prop["id"]] = _copy(cond)
    return out or None


def _group_by(ds: JSON, raw: Any, path: str) -> JSON:
    group = require_dict(raw, path)
    prop = _find_property(ds, group.get("property_id"), f"{path}.property_id")
    allowed = GROUP_TYPES.get(prop["type"])
    if allowed is None:
        raise validation_error(f"{path}: cannot group by a {prop['type']} property.")
    kind = group.get("type")
    if kind is None:
        kind = prop["type"] if prop["type"] in allowed else sorted(allowed)[0]
    if kind not in allowed:
        raise validation_error(
            f"body failed validation: {path}.type should be one of "
            f"{', '.join(f'`{a}`' for a in sorted(allowed))} for property {prop['name']!r}, "
            f"instead was `{kind!r}`."
        )
    out: JSON = {"type": kind, "property_id": prop["id"]}
    sort = group.get("sort", {"type": "manual"})
    sort = require_dict(sort, f"{path}.sort")
    if sort.get("type") not in ("manual", "ascending", "descending"):
        raise validation_error(
            f"body failed validation: {path}.sort.type should be `manual`, `ascending` or "
            f"`descending`, instead was `{sort.get('type')!r}`."
        )
    out["sort"] = {"type": sort["type"]}
    if kind == "status":
        # Required by the request type; "option" is what a Status board shows by default.
        mode = group.get("group_by", "option")
        if mode not in ("group", "option"):
            raise validation_error(
                f"body failed validation: {path}.group_by should be `group` or `option`, "
                f"instead was `{mode!r}`."
            )
        out["group_by"] = mode
    elif kind in DATE_TYPES:
        out["group_by"] = group.get("group_by", "relative")
    elif kind in ("text", "title", "url", "email", "phone_number"):
        out["group_by"] = group.get("group_by", "exact")
    for key in ("hide_empty_groups", "start_day_of_week", "range_start", "range_end", "range_size"):
        if key in group:
            out[key] = group[key]
    return out


def _property_list(ds: JSON, raw: Any, path: str) -> list[JSON]:
    if not isinstance(raw, list):
        raise validation_error(
            f"body failed validation: {path} should be an array, instead was `{raw!r}`."
        )
    out: list[JSON] = []
    for index, item_raw in enumerate(raw):
        item = require_dict(item_raw, f"{path}[{index}]")
        prop = _find_property(ds, item.get("property_id"), f"{path}[{index}].property_id")
        entry = {k: _copy(v) for k, v in item.items() if k != "property_name"}  # echoed
        entry["property_id"] = prop["id"]
        out.append(entry)
    return out


def _normalize_configuration(
    ds: JSON | None, view_type: str, raw: Any, existing: JSON | None, path: str
) -> JSON | None:
    """Validate a configuration against the data source; PATCH merges into `existing`."""
    if raw is None:
        return existing
    given = require_dict(raw, path)
    kind = given.get("type", view_type)
    if kind != view_type:
        raise validation_error(
            f"body failed validation: {path}.type should be `{view_type}` (the view's type), "
            f"instead was `{kind!r}`."
        )
    if view_type == "dashboard":
        raise validation_error(
            f"{path}: dashboard views are laid out with widgets, not a configuration."
        )
    out: JSON = _copy(existing) if existing else {"type": view_type}
    out["type"] = view_type
    assert ds is not None
    for key, value in given.items():
        if key == "type" or key in ECHOED_NAMES:
            continue
        kpath = f"{path}.{key}"
        if key not in CONFIG_KEYS[view_type]:
            raise validation_error(
                f"body failed validation: {kpath} is not a setting of a {view_type} view."
            )
        if value is None:
            out.pop(key, None)  # "Pass null to clear"
        elif key in GROUP_BY_KEYS:
            out[key] = _group_by(ds, value, kpath)
        elif key in PROPERTY_LIST_KEYS:
            out[key] = _property_list(ds, value, kpath)
        elif key in ("date_property_id", "end_date_property_id"):
            prop = _find_property(ds, value, kpath)
            if prop["type"] not in DATE_TYPES:
                raise validation_error(f"{kpath}: {prop['name']!r} is not a date property.")
            out[key] = prop["id"]
        elif key == "map_by":
            out[key] = _find_property(ds, value, kpath)["id"]
        elif key == "cover":
            cover = require_dict(value, kpath)
            if cover.get("type") not in (
                "page_cover",
                "page_content",
                "page_content_first",
                "property",
            ):
                raise validation_error(
                    f"body failed validation: {kpath}.type should be `page_cover`, "
                    f"`page_content` or `property`, instead was `{cover.get('type')!r}`."
                )
            cover_out: JSON = {"type": cover["type"]}
            if cover["type"] == "property":
                prop = _find_property(ds, cover.get("property_id"), f"{kpath}.property_id")
                if prop["type"] != "files":
                    raise validation_error(f"{kpath}: {prop['name']!r} is not a files property.")
                cover_out["property_id"] = prop["id"]
            out[key] = cover_out
        else:
            out[key] = _copy(value)
    required = {"board": "group_by", "calendar": "date_property_id", "timeline": "date_property_id"}
    need = required.get(view_type)
    if need is not None and need not in out:
        raise validation_error(
            f"body failed validation: {path}.{need} should be defined, instead was `undefined`."
        )
    if view_type == "chart" and "chart_type" not in out:
        raise validation_error(
            f"body failed validation: {path}.chart_type should be defined, instead was `undefined`."
        )
    return out


def _default_configuration(ds: JSON | None, view_type: str) -> JSON | None:
    """What a view gets when created without one (recorded: `{type: table}`)."""
    if view_type == "dashboard":
        return {"type": "dashboard", "rows": []}
    if ds is None:
        return {"type": view_type}
    if view_type == "board":
        # Guess: like the Notion app, a board groups by the first Status, else Select.
        for wanted in ("status", "select"):
            for prop in ds["props"].values():
                if prop["type"] == wanted:
                    return _normalize_configuration(
                        ds, "board", {"group_by": {"property_id": prop["id"]}}, None, "config"
                    )
        raise validation_error(
            "body failed validation: body.configuration.group_by should be defined: a board "
            "needs a property to group by."
        )
    if view_type in ("calendar", "timeline"):
        for prop in ds["props"].values():
            if prop["type"] in DATE_TYPES:
                return {"type": view_type, "date_property_id": prop["id"]}
        raise validation_error(
            "body failed validation: body.configuration.date_property_id should be defined."
        )
    if view_type == "chart":
        return {"type": "chart", "chart_type": "column"}
    return {"type": view_type}


# -- views ----------------------------------------------------------------------------


def add_default_view(state: LocalNotionState, database_id: str, ds_id: str, actor: str) -> str:
    """A new database (or data source) gets one table view, as on Notion."""
    return _store_view(
        state,
        database_id=database_id,
        ds_id=ds_id,
        name=DEFAULT_VIEW_NAME,
        view_type="table",
        configuration={"type": "table"},
        actor=actor,
    )


def _store_view(
    state: LocalNotionState,
    *,
    database_id: str,
    ds_id: str | None,
    name: str,
    view_type: str,
    configuration: JSON | None,
    actor: str,
    filter_: Any = None,
    sorts: Any = None,
    quick_filters: JSON | None = None,
    dashboard_view_id: str | None = None,
    position: JSON | None = None,
) -> str:
    view_id = new_id()
    now = state.now_precise()
    state.views[view_id] = {
        "id": view_id,
        "database_id": database_id,
        "data_source_id": ds_id,
        "name": name,
        "type": view_type,
        "filter": filter_,
        "sorts": sorts,
        "quick_filters": quick_filters,
        "configuration": configuration,
        "created_time": now,
        "last_edited_time": now,
        "created_by": actor,
        "last_edited_by": actor,
        "dashboard_view_id": dashboard_view_id,
    }
    if dashboard_view_id is None:
        tabs = state.view_tabs.setdefault(database_id, [])
        kind = (position or {}).get("type", "end")
        if kind == "start":
            tabs.insert(0, view_id)
        elif kind == "after_view":
            tabs.insert(tabs.index(position["view_id"]) + 1, view_id)  # type: ignore[index]
        else:
            tabs.append(view_id)
    return view_id


def _position(state: LocalNotionState, raw: Any, database_id: str) -> JSON | None:
    if raw is None:
        return None
    position = require_dict(raw, "body.position")
    kind = position.get("type")
    if kind in ("start", "end"):
        return {"type": kind}
    if kind == "after_view":
        after = require_id(position.get("view_id"), "body.position.view_id")
        if after not in state.view_tabs.get(database_id, []):
            raise validation_error(f"View {after} is not a view of database {database_id}.")
        return {"type": kind, "view_id": after}
    raise validation_error(
        "body failed validation: body.position.type should be `start`, `end` or "
        f"`after_view`, instead was `{kind!r}`."
    )


def _linked_database(state: LocalNotionState, raw: Any, ds: JSON, actor: str) -> str:
    """`create_database`: a new linked database block on a page, showing `ds`."""
    spec = require_dict(raw, "body.create_database")
    parent = require_dict(spec.get("parent"), "body.create_database.parent")
    page_id = require_id(parent.get("page_id"), "body.create_database.parent.page_id")
    page = state.pages.get(page_id)
    if page is None or page["in_trash"]:
        raise not_found(page_id, "page")
    after: str | None = None
    if spec.get("position") is not None:
        position = require_dict(spec["position"], "body.create_database.position")
        after = require_id(position.get("block_id"), "body.create_database.position.block_id")
        if after not in state.children.get(page_id, []):
            raise validation_error(f"Block {after} is not a child of page {page_id}.")
    db_id = new_id()
    now = state.now_iso()
    source_db = state.databases[ds["database_id"]]
    state.databases[db_id] = {
        "id": db_id,
        "parent": {"type": "page_id", "page_id": page_id},
        "title": _copy(source_db["title"]),
        "description": [],
        "is_inline": True,
        "icon": None,
        "cover": None,
        "data_source_ids": [ds["id"]],
        "linked": True,
        "created_time": now,
        "last_edited_time": now,
        "created_by": actor,
        "last_edited_by": actor,
        "in_trash": False,
    }
    state.blocks[db_id] = {
        "id": db_id,
        "parent": {"type": "page_id", "page_id": page_id},
        "type": "child_database",
        "content": {"title": ""},
        "created_time": now,
        "last_edited_time": now,
        "created_by": actor,
        "last_edited_by": actor,
        "in_trash": False,
    }
    siblings = state.children.setdefault(page_id, [])
    siblings.insert(siblings.index(after) + 1 if after else len(siblings), db_id)
    return db_id


def create_view(state: LocalNotionState, body: JSON, actor: str) -> JSON:
    with state.lock:
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise validation_error(
                f"body failed validation: body.name should be a string, instead was `{name!r}`."
            )
        view_type = body.get("type")
        if view_type not in VIEW_TYPES:
            raise validation_error(
                "body failed validation: body.type should be one of "
                f"{', '.join(f'`{t}`' for t in VIEW_TYPES)}, instead was `{view_type!r}`."
            )
        ds_id = require_id(body.get("data_source_id"), "body.data_source_id")
        ds = state.data_sources.get(ds_id)
        if ds is None or ds["in_trash"]:
            raise not_found(ds_id, "data_source")
        targets = [k for k in ("database_id", "view_id", "create_database") if body.get(k)]
        if len(targets) != 1:
            raise validation_error(
                "body failed validation: exactly one of body.database_id, body.view_id and "
                "body.create_database should be defined."
            )
        dashboard_id: str | None = None
        position: JSON | None = None
        if targets[0] == "database_id":
            db = _database(state, body["database_id"], "body.database_id")
            if ds_id not in db["data_source_ids"]:
                raise validation_error(
                    f"Data source {ds_id} is not a data source of database {db['id']}."
                )
            database_id = db["id"]
            position = _position(state, body.get("position"), database_id)
        elif targets[0] == "view_id":
            dashboard = find_view(state, str(body["view_id"]))
            if dashboard["type"] != "dashboard":
                raise validation_error(f"View {dashboard['id']} is not a dashboard view.")
            if view_type == "dashboard":
                raise validation_error("A dashboard cannot be a widget of another dashboard.")
            database_id, dashboard_id = dashboard["database_id"], dashboard["id"]
        else:
            database_id = _linked_database(state, body["create_database"], ds, actor)
        filter_ = _check_filter(state, ds, body.get("filter"))
        sorts = _check_sorts(state, ds, body.get("sorts"), properties_only=False)
        quick = _check_quick_filters(state, ds, body.get("quick_filters"), None, merge=False)
        if body.get("configuration") is not None:
            config = _normalize_configuration(
                ds, str(view_type), body["configuration"], None, "body.configuration"
            )
        else:
            config = _default_configuration(ds, str(view_type))
        view_id = _store_view(
            state,
            database_id=database_id,
            # The reference: data_source_id is "null for dashboard views".
            ds_id=None if view_type == "dashboard" else ds_id,
            name=name,
            view_type=str(view_type),
            configuration=config,
            actor=actor,
            filter_=filter_,
            sorts=sorts,
            quick_filters=quick,
            dashboard_view_id=dashboard_id,
            position=position,
        )
        if dashboard_id is not None:
            _place_widget(state, state.views[dashboard_id], view_id, body.get("placement"))
        state.touch()
        return render_view(state, state.views[view_id])


def _place_widget(state: LocalNotionState, dashboard: JSON, view_id: str, raw: Any) -> None:
    rows: list[JSON] = dashboard["configuration"].setdefault("rows", [])
    placement = require_dict(raw, "body.placement") if raw is not None else {"type": "new_row"}
    kind = placement.get("type")
    index = placement.get("row_index")
    if kind == "existing_row":
        if not isinstance(index, int) or not 0 <= index < len(rows):
            raise validation_error(
                f"body failed validation: body.placement.row_index should be a row of the "
                f"dashboard (0-{len(rows) - 1}), instead was `{index!r}`."
            )
        row = rows[index]
    elif kind == "new_row":
        row = {"id": new_id(), "widgets": []}
        at = index if isinstance(index, int) and 0 <= index <= len(rows) else len(rows)
        rows.insert(at, row)
    else:
        raise validation_error(
            "body failed validation: body.placement.type should be `new_row` or "
            f"`existing_row`, instead was `{kind!r}`."
        )
    row["widgets"].append({"id": new_id(), "view_id": view_id})
    for row_index, each in enumerate(rows):
        width = max(1, 12 // max(1, len(each["widgets"])))
        for widget in each["widgets"]:
            widget["width"], widget["row_index"] = width, row_index


def get_view(state: LocalNotionState, raw_id: str) -> JSON:
    with state.lock:
        return render_view(state, find_view(state, raw_id))


def update_view(state: LocalNotionState, raw_id: str, body: JSON, actor: str) -> JSON:
    with state.lock:
        view = find_view(state, raw_id)
        ds = state.data_sources.get(view["data_source_id"] or "")
        changes: JSON = {}
        if "name" in body:
            if not isinstance(body["name"], str) or not body["name"]:
                raise validation_error("body failed validation: body.name should be a string.")
            changes["name"] = body["name"]
        if ds is None and any(k in body for k in ("filter", "sorts", "quick_filters")):
            raise validation_error("A dashboard view has no filter, sorts or quick filters.")
        if "filter" in body:
            assert ds is not None
            changes["filter"] = _check_filter(state, ds, body["filter"])
        if "sorts" in body:
            assert ds is not None
            changes["sorts"] = _check_sorts(state, ds, body["sorts"], properties_only=True)
        if "quick_filters" in body:
            assert ds is not None
            changes["quick_filters"] = _check_quick_filters(
                state, ds, body["quick_filters"], view["quick_filters"], merge=True
            )
        if body.get("configuration") is not None:
            changes["configuration"] = _normalize_configuration(
                ds, view["type"], body["configuration"], view["configuration"], "body.configuration"
            )
        view.update(changes)
        view["last_edited_time"] = state.now_precise()
        view["last_edited_by"] = actor
        state.touch()
        return render_view(state, view)


def delete_view(state: LocalNotionState, raw_id: str) -> JSON:
    with state.lock:
        view = find_view(state, raw_id)
        partial = _partial(view)
        doomed = [view["id"]]
        if view["type"] == "dashboard":
            # Guess: a dashboard's widgets go with it (they are not tabs of their own).
            doomed += [
                v["id"] for v in state.views.values() if v.get("dashboard_view_id") == view["id"]
            ]
        for view_id in doomed:
            gone = state.views.pop(view_id)
            tabs = state.view_tabs.get(gone["database_id"], [])
            if view_id in tabs:
                tabs.remove(view_id)
            for query_id in [q for q, c in state.view_queries.items() if c["view_id"] == view_id]:
                del state.view_queries[query_id]
        parent_id = view.get("dashboard_view_id")
        parent = state.views.get(parent_id or "")
        if parent is not None:
            for row in parent["configuration"].get("rows", []):
                row["widgets"] = [w for w in row["widgets"] if w["view_id"] != view["id"]]
            parent["configuration"]["rows"] = [
                r for r in parent["configuration"].get("rows", []) if r["widgets"]
            ]
        state.touch()
        return partial


def list_views(
    state: LocalNotionState,
    database_id: str | None,
    data_source_id: str | None,
    start_cursor: Any,
    page_size: Any,
) -> JSON:
    from .service import list_envelope, paginate

    with state.lock:
        if database_id is None and data_source_id is None:
            raise validation_error(
                "body failed validation: one of query.database_id or query.data_source_id "
                "should be defined, instead was `undefined`."
            )
        ids: list[str]
        if database_id is not None:
            db = _database(state, database_id, "query.database_id")
            ids = list(state.view_tabs.get(db["id"], []))
            ids += [
                v["id"]
                for v in state.views.values()
                if v["database_id"] == db["id"] and v["id"] not in ids
            ]
        else:
            ids = list(state.views)
        if data_source_id is not None:
            ds_id = require_id(data_source_id, "query.data_source_id")
            if ds_id not in state.data_sources:
                raise not_found(ds_id, "data_source")
            ids = [i for i in ids if state.views[i]["data_source_id"] == ds_id]
        chunk, cursor = paginate(ids, lambda i: i, start_cursor, page_size)
        return list_envelope([{"object": "view", "id": i} for i in chunk], cursor, "view")
