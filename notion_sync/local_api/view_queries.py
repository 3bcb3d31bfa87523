"""View queries: `POST/GET/DELETE /v1/views/{id}/queries…` (Notion-Version 2025-09-03).

`POST` runs the view's filter, quick filters and sorts over the data source's live rows,
caches up to 10,000 page ids for 15 minutes and answers `{object: view_query, id,
view_id, expires_at, total_count, results: [{object: page, id}], next_cursor,
has_more}`; `GET` pages through the cache (`type: page`), a lapsed cache answers 404;
`DELETE` answers `{object: view_query, id, deleted: true}` (developers.notion.com
create-view-query / get-view-query-results, notion-sdk-py recording of 2026-07-04;
checked 2026-12-01).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from .apierror import ApiError, not_found, validation_error
from .filters import compile_filter, sort_pages
from .service import list_envelope, paginate
from .state import LocalNotionState, format_precise_time, new_id, normalize_id
from .validation import parse_page_size
from .views import find_view

__all__ = [
    "MAX_QUERY_RESULTS",
    "QUERY_TTL",
    "create_view_query",
    "delete_view_query",
    "view_query_results",
]

JSON = dict[str, Any]

# "This endpoint caches up to 10,000 results per query"; "Cached results expire after
# 15 minutes" (developers.notion.com/reference/create-view-query, checked 2026-12-01).
MAX_QUERY_RESULTS = 10_000
QUERY_TTL = timedelta(minutes=15)


def _group_key(state: LocalNotionState, ds: JSON, group: JSON) -> Callable[[JSON], Any]:
    """Order of a page's group on a grouped view (board columns, grouped tables).

    The reference only says a view query runs the view's filter and sorts. We also keep
    each group together, in the order the board shows them (empty group first, options
    in schema order, status groups To-do / In progress / Complete; `ascending` and
    `descending` sort groups by name). That is a guess; without grouping the order is
    exactly the sorts' order.
    """
    prop = ds["props"].get(group["property_id"])
    if prop is None:
        return lambda page: 0
    pid, kind = prop["id"], prop["type"]
    direction = group.get("sort", {}).get("type", "manual")
    if kind in ("select", "status", "multi_select"):
        options = prop["config"]["options"]
        if direction in ("ascending", "descending"):
            options = sorted(options, key=lambda o: str(o["name"]).lower())
            if direction == "descending":
                options = list(reversed(options))
        rank = {o["id"]: i + 1 for i, o in enumerate(options)}
        if kind == "status" and group.get("group_by") == "group":
            rank = {
                oid: i + 1
                for i, g in enumerate(prop["config"]["groups"])
                for oid in g["option_ids"]
            }

        def option_rank(page: JSON) -> int:
            value = page["values"].get(pid)
            first = value[0] if isinstance(value, list) and value else value
            return rank.get(first, 0) if first else 0

        return option_rank

    from .filters import _getter  # the same value reading as filters and sorts

    getter = _getter(state, prop)

    def value_rank(page: JSON) -> tuple[int, str]:
        value = getter(page)
        if isinstance(value, list):
            value = value[0] if value else None
        return (0, "") if value in (None, "") else (1, str(value))

    return value_rank


def _run_view(state: LocalNotionState, view: JSON) -> list[str]:
    ds = state.data_sources.get(view["data_source_id"] or "")
    if ds is None:
        raise validation_error(
            f"View {view['id']} is a dashboard; query one of its widget views instead."
        )
    pages = [
        p
        for p in state.pages.values()
        if p["data_source_id"] == ds["id"] and not p["in_trash"] and not p.get("is_template")
    ]
    if view["filter"] is not None:
        predicate = compile_filter(state, ds, view["filter"])
        pages = [p for p in pages if predicate(p)]
    # Guess: quick filters pinned with a condition narrow the view as in the app.
    for prop_id, condition in (view["quick_filters"] or {}).items():
        predicate = compile_filter(state, ds, {"property": prop_id, **condition})
        pages = [p for p in pages if predicate(p)]
    pages = sort_pages(state, ds, pages, view["sorts"])
    group = (view["configuration"] or {}).get("group_by")
    if isinstance(group, dict):
        pages.sort(key=_group_key(state, ds, group))  # stable: sorts hold within a group
    return [p["id"] for p in pages]


def _query(state: LocalNotionState, view_id: str, raw_query_id: str) -> JSON:
    query_id = normalize_id(raw_query_id)
    cached = state.view_queries.get(query_id or "")
    if cached is None or cached["view_id"] != view_id:
        raise not_found(raw_query_id, "view query")
    if state.clock() >= cached["expires"]:
        del state.view_queries[cached["id"]]
        # "If the cache has expired, this endpoint returns a 404."
        raise ApiError(
            404,
            "object_not_found",
            f"View query {cached['id']} has expired; create a new view query.",
        )
    return cached


def _page_refs(ids: list[str]) -> list[JSON]:
    return [{"object": "page", "id": i} for i in ids]


def create_view_query(state: LocalNotionState, raw_view_id: str, body: JSON) -> JSON:
    with state.lock:
        view = find_view(state, raw_view_id)
        ids = _run_view(state, view)
        truncated = len(ids) > MAX_QUERY_RESULTS
        ids = ids[:MAX_QUERY_RESULTS]
        query_id = new_id()
        expires = state.clock() + QUERY_TTL
        state.view_queries[query_id] = {
            "id": query_id,
            "view_id": view["id"],
            "ids": ids,
            "expires": expires,
            "truncated": truncated,
        }
        chunk, cursor = paginate(ids, lambda i: i, None, body.get("page_size"))
        out: JSON = {
            "object": "view_query",
            "id": query_id,
            "view_id": view["id"],
            "expires_at": format_precise_time(expires),
            "total_count": len(ids),
            "results": _page_refs(chunk),
            "next_cursor": cursor,
            "has_more": cursor is not None,
        }
        if truncated:
            out["request_status"] = _incomplete()
        return out


def _incomplete() -> JSON:
    return {"type": "incomplete", "incomplete_reason": "query_result_limit_reached"}


def view_query_results(
    state: LocalNotionState, raw_view_id: str, raw_query_id: str, start_cursor: Any, page_size: Any
) -> JSON:
    with state.lock:
        view = find_view(state, raw_view_id)
        cached = _query(state, view["id"], raw_query_id)
        parse_page_size(page_size)
        chunk, cursor = paginate(cached["ids"], lambda i: i, start_cursor, page_size)
        out = list_envelope(_page_refs(chunk), cursor, "page")
        if cached["truncated"]:
            out["request_status"] = _incomplete()
        return out


def delete_view_query(state: LocalNotionState, raw_view_id: str, raw_query_id: str) -> JSON:
    with state.lock:
        view = find_view(state, raw_view_id)
        cached = _query(state, view["id"], raw_query_id)
        del state.view_queries[cached["id"]]
        return {"object": "view_query", "id": cached["id"], "deleted": True}
