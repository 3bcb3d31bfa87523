"""Evaluate data source query filters and sorts against stored pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from .apierror import validation_error
from .state import LocalNotionState

__all__ = ["compile_filter", "sort_pages"]

JSON = dict[str, Any]
Predicate = Callable[[JSON], bool]

# Notion allows compound filters nested two levels deep (reference: filter-data-source-entries).
MAX_NESTING = 2
TEXT_TYPES = frozenset({"title", "rich_text", "url", "email", "phone_number"})
TEXT_OPS = frozenset(
    {
        "equals",
        "does_not_equal",
        "contains",
        "does_not_contain",
        "starts_with",
        "ends_with",
        "is_empty",
        "is_not_empty",
    }
)
NUMBER_OPS = frozenset(
    {
        "equals",
        "does_not_equal",
        "greater_than",
        "less_than",
        "greater_than_or_equal_to",
        "less_than_or_equal_to",
        "is_empty",
        "is_not_empty",
    }
)
OPTION_OPS = frozenset({"equals", "does_not_equal", "is_empty", "is_not_empty"})
LIST_OPS = frozenset({"contains", "does_not_contain", "is_empty", "is_not_empty"})
DATE_OPS = frozenset(
    {"equals", "before", "after", "on_or_before", "on_or_after", "is_empty", "is_not_empty"}
)
EMPTY_OPS = frozenset({"is_empty", "is_not_empty"})
OPS_BY_FILTER: dict[str, frozenset[str]] = {
    **dict.fromkeys(TEXT_TYPES, TEXT_OPS),
    "number": NUMBER_OPS,
    "checkbox": frozenset({"equals", "does_not_equal"}),
    "select": OPTION_OPS,
    "status": OPTION_OPS,
    "multi_select": LIST_OPS,
    "relation": LIST_OPS,
    "people": LIST_OPS,
    "date": DATE_OPS,
    "created_time": DATE_OPS,
    "last_edited_time": DATE_OPS,
    "files": EMPTY_OPS,
}
# Filter key accepted for each property type.
FILTER_KEYS: dict[str, frozenset[str]] = {
    **dict.fromkeys(TEXT_TYPES, TEXT_TYPES),
    "number": frozenset({"number"}),
    "checkbox": frozenset({"checkbox"}),
    "select": frozenset({"select"}),
    "status": frozenset({"status"}),
    "multi_select": frozenset({"multi_select"}),
    "relation": frozenset({"relation"}),
    "people": frozenset({"people"}),
    "created_by": frozenset({"people", "created_by"}),
    "last_edited_by": frozenset({"people", "last_edited_by"}),
    "date": frozenset({"date"}),
    "created_time": frozenset({"date", "created_time"}),
    "last_edited_time": frozenset({"date", "last_edited_time"}),
    "files": frozenset({"files"}),
}


def _find_property(schema: dict[str, JSON], ref: Any) -> JSON:
    for prop in schema.values():
        if prop["name"] == ref or prop["id"] == ref:
            return prop
    raise validation_error(f"Could not find property with name or id: {ref}")


def compile_filter(state: LocalNotionState, ds: JSON, raw: Any, depth: int = 0) -> Predicate:
    if not isinstance(raw, dict):
        raise validation_error("body failed validation: body.filter should be an object.")
    for combinator in ("and", "or"):
        if combinator in raw:
            if depth >= MAX_NESTING:
                raise validation_error(
                    "body failed validation: filter nesting is deeper than the two levels "
                    "Notion allows."
                )
            parts = raw[combinator]
            if not isinstance(parts, list):
                raise validation_error(
                    f"body failed validation: body.filter.{combinator} should be an array."
                )
            preds = [compile_filter(state, ds, p, depth + 1) for p in parts]
            if combinator == "and":
                return lambda page: all(p(page) for p in preds)
            return lambda page: any(p(page) for p in preds)
    if "timestamp" in raw:
        kind = raw["timestamp"]
        if kind not in ("created_time", "last_edited_time"):
            raise validation_error(
                "body failed validation: body.filter.timestamp should be `created_time` or "
                f"`last_edited_time`, instead was `{kind!r}`."
            )
        cond = raw.get(kind)
        check = _date_condition(cond, f"body.filter.{kind}")
        return lambda page: check(page[kind])
    if "property" not in raw:
        raise validation_error(
            "body failed validation: body.filter should define `property`, `timestamp`, "
            "`and` or `or`."
        )
    prop = _find_property(ds["props"], raw["property"])
    keys = [k for k in raw if k in OPS_BY_FILTER]
    if len(keys) != 1:
        raise validation_error(
            f"body failed validation: filter on {prop['name']!r} should have exactly one "
            "condition type."
        )
    key = keys[0]
    if key not in FILTER_KEYS.get(prop["type"], frozenset()):
        raise validation_error(
            f"database property {prop['type']} does not match filter {key} "
            f"(property {prop['name']!r})."
        )
    cond = raw[key]
    if not isinstance(cond, dict) or len(cond) != 1:
        raise validation_error(
            f"body failed validation: body.filter.{key} should have exactly one operator."
        )
    op, operand = next(iter(cond.items()))
    if op not in OPS_BY_FILTER[key]:
        raise validation_error(f"body failed validation: body.filter.{key}.{op} is not allowed.")
    getter = _getter(state, prop)
    if key in DATE_OPS_FILTERS:
        check = _date_condition(cond, f"body.filter.{key}")
        return lambda page: check(getter(page))
    test = _condition(key, op, operand, prop)
    return lambda page: test(getter(page))


DATE_OPS_FILTERS = frozenset({"date", "created_time", "last_edited_time"})


def _getter(state: LocalNotionState, prop: JSON) -> Callable[[JSON], Any]:
    kind, pid = prop["type"], prop["id"]
    if kind in TEXT_TYPES:
        if kind in ("title", "rich_text"):
            return lambda page: "".join(t["plain_text"] for t in page["values"].get(pid) or [])
        return lambda page: page["values"].get(pid) or ""
    if kind in ("select", "status"):

        def option_name(page: JSON) -> str | None:
            option_id = page["values"].get(pid)
            for option in prop["config"]["options"]:
                if option["id"] == option_id:
                    return str(option["name"])
            return None

        return option_name
    if kind == "multi_select":

        def option_names(page: JSON) -> list[str]:
            ids = page["values"].get(pid) or []
            return [o["name"] for o in prop["config"]["options"] if o["id"] in ids]

        return option_names
    if kind == "date":
        return lambda page: (page["values"].get(pid) or {}).get("start")
    if kind in ("created_time", "last_edited_time"):
        return lambda page: page[kind]
    if kind in ("created_by", "last_edited_by"):
        return lambda page: [page[kind]]
    if kind == "checkbox":
        return lambda page: bool(page["values"].get(pid))
    return lambda page: page["values"].get(pid)


def _condition(key: str, op: str, operand: Any, prop: JSON) -> Callable[[Any], bool]:
    if op == "is_empty" or op == "is_not_empty":
        if operand is not True:
            raise validation_error(f"body failed validation: {op} should be `true`.")
        want_empty = op == "is_empty"
        return lambda value: _is_empty(value) == want_empty
    if key in TEXT_TYPES:
        if not isinstance(operand, str):
            raise validation_error(f"body failed validation: {key}.{op} should be a string.")
        needle = operand.lower()
        text_ops: dict[str, Callable[[str], bool]] = {
            "equals": lambda v: v == operand,
            "does_not_equal": lambda v: v != operand,
            "contains": lambda v: needle in v.lower(),
            "does_not_contain": lambda v: needle not in v.lower(),
            "starts_with": lambda v: v.lower().startswith(needle),
            "ends_with": lambda v: v.lower().endswith(needle),
        }
        text_test = text_ops[op]
        return lambda value: text_test(value or "")
    if key == "number":
        if isinstance(operand, bool) or not isinstance(operand, int | float):
            raise validation_error(f"body failed validation: number.{op} should be a number.")
        num_ops: dict[str, Callable[[float], bool]] = {
            "equals": lambda v: v == operand,
            "does_not_equal": lambda v: v != operand,
            "greater_than": lambda v: v > operand,
            "less_than": lambda v: v < operand,
            "greater_than_or_equal_to": lambda v: v >= operand,
            "less_than_or_equal_to": lambda v: v <= operand,
        }
        num_test = num_ops[op]
        # Notion: an empty number matches does_not_equal and nothing else.
        return lambda value: op == "does_not_equal" if value is None else num_test(value)
    if key == "checkbox":
        if not isinstance(operand, bool):
            raise validation_error(f"body failed validation: checkbox.{op} should be a boolean.")
        return (lambda v: v == operand) if op == "equals" else (lambda v: v != operand)
    if key in ("select", "status"):
        if not isinstance(operand, str):
            raise validation_error(f"body failed validation: {key}.{op} should be a string.")
        return (lambda v: v == operand) if op == "equals" else (lambda v: v != operand)
    # multi_select / relation / people: list membership.
    if not isinstance(operand, str):
        raise validation_error(f"body failed validation: {key}.{op} should be a string.")
    if key in ("relation", "people"):
        from .state import normalize_id

        operand = normalize_id(operand) or operand
    if op == "contains":
        return lambda v: operand in (v or [])
    return lambda v: operand not in (v or [])


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _parse_moment(text: str) -> tuple[datetime, bool]:
    """-> (moment, is_date_only). Date-only values are compared by day."""
    if len(text) == 10:
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, tzinfo=UTC), True
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC), False


def _date_condition(cond: Any, path: str) -> Callable[[str | None], bool]:
    if not isinstance(cond, dict) or len(cond) != 1:
        raise validation_error(f"body failed validation: {path} should have exactly one operator.")
    op, operand = next(iter(cond.items()))
    if op not in DATE_OPS:
        raise validation_error(f"body failed validation: {path}.{op} is not supported.")
    if op in EMPTY_OPS:
        want_empty = op == "is_empty"
        return lambda value: (value is None) == want_empty
    if not isinstance(operand, str):
        raise validation_error(f"body failed validation: {path}.{op} should be an ISO date.")
    try:
        target, date_only = _parse_moment(operand)
    except ValueError:
        raise validation_error(
            f"body failed validation: {path}.{op} should be an ISO 8601 date, "
            f"instead was `{operand!r}`."
        ) from None

    def check(value: str | None) -> bool:
        if value is None:
            return False
        moment, value_date_only = _parse_moment(value)
        left: Any = moment
        right: Any = target
        if date_only or value_date_only:
            left, right = moment.date(), target.date()
        if op == "equals":
            return bool(left == right)
        if op == "before":
            return bool(left < right)
        if op == "after":
            return bool(left > right)
        if op == "on_or_before":
            return bool(left <= right)
        return bool(left >= right)

    return check


def sort_pages(state: LocalNotionState, ds: JSON, pages: list[JSON], sorts: Any) -> list[JSON]:
    if sorts is None:
        return pages
    if not isinstance(sorts, list):
        raise validation_error("body failed validation: body.sorts should be an array.")
    result = list(pages)
    # Stable sorts applied last-key-first give a lexicographic multi-key order.
    for index, raw in reversed(list(enumerate(sorts))):
        if not isinstance(raw, dict):
            raise validation_error(f"body failed validation: body.sorts[{index}] is invalid.")
        direction = raw.get("direction", "ascending")
        if direction not in ("ascending", "descending"):
            raise validation_error(
                f"body failed validation: body.sorts[{index}].direction should be "
                f"`ascending` or `descending`, instead was `{direction!r}`."
            )
        key_fn = _sort_key(state, ds, raw, index)
        present = [p for p in result if key_fn(p) is not None]
        missing = [p for p in result if key_fn(p) is None]
        present.sort(key=key_fn, reverse=direction == "descending")
        # Empty values go last in either direction, as in Notion's table views.
        result = present + missing
    return result


def _sort_key(state: LocalNotionState, ds: JSON, raw: JSON, index: int) -> Callable[[JSON], Any]:
    if "timestamp" in raw:
        kind = raw["timestamp"]
        if kind not in ("created_time", "last_edited_time"):
            raise validation_error(
                f"body failed validation: body.sorts[{index}].timestamp is invalid."
            )
        return lambda page: page[kind]
    if "property" not in raw:
        raise validation_error(
            f"body failed validation: body.sorts[{index}] should define `property` or `timestamp`."
        )
    prop = _find_property(ds["props"], raw["property"])
    getter = _getter(state, prop)
    if prop["type"] in ("select", "status"):
        # Options sort in their schema order, as in Notion.
        order = {o["name"]: i for i, o in enumerate(prop["config"]["options"])}

        def option_key(page: JSON) -> Any:
            name = getter(page)
            return None if name is None else order.get(name, 0)

        return option_key

    def value_key(page: JSON) -> Any:
        value = getter(page)
        if isinstance(value, list):
            return ",".join(str(v) for v in value) or None
        return None if value == "" else value

    return value_key
