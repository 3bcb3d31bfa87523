"""Turn request bodies into stored values, refusing what Notion refuses.

Every refusal is a `400 validation_error` whose message names the offending
field the way Notion does (`body.properties.Name.title[0].text.content...`).
"""

from __future__ import annotations

import random
import string
from datetime import date, datetime
from typing import Any

from .apierror import ApiError, validation_error
from .state import LocalNotionState, new_id, normalize_id

__all__ = [
    "BLOCK_TYPES",
    "COLORS",
    "MAX_CHILDREN",
    "MAX_TEXT",
    "PROPERTY_TYPES",
    "READ_ONLY_TYPES",
    "check_array_length",
    "check_children_count",
    "normalize_block",
    "normalize_icon",
    "normalize_property_value",
    "normalize_rich_text",
    "normalize_schema_property",
    "parse_date_value",
    "parse_page_size",
    "require_dict",
    "require_id",
]

JSON = dict[str, Any]

# Notion's limits (developers.notion.com/reference/request-limits): 2000 characters
# per rich text `text.content`, 100 elements per block array in one request.
MAX_TEXT = 2000
MAX_CHILDREN = 100
# "Any array of all block types, including rich text objects: 100 elements"; relation and
# people values: 100 items (developers.notion.com/reference/request-limits, 2026-12-01).
MAX_ARRAY = 100
MAX_EQUATION = 1000
COLORS = frozenset(
    {"default", "gray", "brown", "orange", "yellow", "green", "blue", "purple", "pink", "red"}
)
PROPERTY_TYPES = frozenset(
    {
        "title",
        "rich_text",
        "number",
        "select",
        "multi_select",
        "status",
        "date",
        "people",
        "files",
        "url",
        "email",
        "phone_number",
        "checkbox",
        "relation",
        "created_time",
        "created_by",
        "last_edited_time",
        "last_edited_by",
    }
)
READ_ONLY_TYPES = frozenset({"created_time", "created_by", "last_edited_time", "last_edited_by"})
NUMBER_FORMATS = frozenset(
    {"number", "number_with_commas", "percent", "dollar", "euro", "pound", "yen", "rupee"}
)
TEXT_BLOCKS = frozenset(
    {
        "paragraph",
        "heading_1",
        "heading_2",
        "heading_3",
        "bulleted_list_item",
        "numbered_list_item",
        "to_do",
        "toggle",
        "quote",
        "callout",
        "code",
    }
)
MEDIA_BLOCKS = frozenset({"image", "video", "file", "pdf", "audio"})
EMPTY_BLOCKS = frozenset({"divider", "table_of_contents", "breadcrumb"})
URL_BLOCKS = frozenset({"embed", "bookmark"})
# Containers whose content is only their children (plus a few layout fields).
LAYOUT_BLOCKS = frozenset({"column_list", "column", "table", "table_row"})
OTHER_BLOCKS = frozenset({"equation", "link_to_page"})
BLOCK_TYPES = TEXT_BLOCKS | MEDIA_BLOCKS | EMPTY_BLOCKS | URL_BLOCKS | LAYOUT_BLOCKS | OTHER_BLOCKS

DEFAULT_ANNOTATIONS: JSON = {
    "bold": False,
    "italic": False,
    "strikethrough": False,
    "underline": False,
    "code": False,
    "color": "default",
}


def require_dict(value: Any, path: str) -> JSON:
    if not isinstance(value, dict):
        raise validation_error(
            f"body failed validation: {path} should be an object, instead was `{value!r}`."
        )
    return value


def _require_list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise validation_error(
            f"body failed validation: {path} should be an array, instead was `{value!r}`."
        )
    return value


def require_id(value: Any, path: str) -> str:
    uid = normalize_id(value) if isinstance(value, str) else None
    if uid is None:
        raise validation_error(
            f"body failed validation: {path} should be a valid uuid, instead was `{value!r}`."
        )
    return uid


def parse_page_size(raw: Any) -> int:
    if raw is None:
        return 100
    try:
        size = int(raw)
    except (TypeError, ValueError):
        raise validation_error(
            f"body failed validation: page_size should be a number, instead was `{raw!r}`."
        ) from None
    if size < 1 or size > 100:
        raise validation_error(
            f"body failed validation: page_size should be ≤ `100` and ≥ `1`, instead was `{size}`."
        )
    return size


def check_array_length(items: list[Any], path: str, limit: int = MAX_ARRAY) -> None:
    if len(items) > limit:
        raise validation_error(
            f"body failed validation: {path}.length should be ≤ `{limit}`, "
            f"instead was `{len(items)}`."
        )


def check_children_count(children: list[Any], path: str) -> None:
    if len(children) > MAX_CHILDREN:
        raise validation_error(
            f"body failed validation: {path}.length should be ≤ `{MAX_CHILDREN}`, "
            f"instead was `{len(children)}`."
        )


# -- rich text -------------------------------------------------------------------


def _annotations(raw: Any, path: str) -> JSON:
    if raw is None:
        return dict(DEFAULT_ANNOTATIONS)
    given = require_dict(raw, path)
    out = dict(DEFAULT_ANNOTATIONS)
    for key, value in given.items():
        if key not in out:
            raise validation_error(f"body failed validation: {path}.{key} is not allowed.")
        if key == "color":
            if value not in COLORS and not (
                isinstance(value, str) and value.removesuffix("_background") in COLORS
            ):
                raise validation_error(f"body failed validation: {path}.color is invalid.")
        elif not isinstance(value, bool):
            raise validation_error(f"body failed validation: {path}.{key} should be a boolean.")
        out[key] = value
    return out


def _item_type(item: JSON, path: str) -> str:
    kind = item.get("type")
    if kind is None:
        for candidate in ("text", "mention", "equation"):
            if candidate in item:
                return candidate
    if kind not in ("text", "mention", "equation"):
        raise validation_error(
            f"body failed validation: {path}.type should be `text`, `mention` or `equation`, "
            f"instead was `{kind!r}`."
        )
    return str(kind)


def normalize_rich_text(state: LocalNotionState, raw: Any, path: str) -> list[JSON]:
    """Request rich text -> the full response shape (plain_text, href, annotations)."""
    items = _require_list(raw, path)
    check_array_length(items, path)
    out: list[JSON] = []
    for index, item_raw in enumerate(items):
        ipath = f"{path}[{index}]"
        item = require_dict(item_raw, ipath)
        kind = _item_type(item, ipath)
        annotations = _annotations(item.get("annotations"), f"{ipath}.annotations")
        if kind == "text":
            text = require_dict(item.get("text"), f"{ipath}.text")
            content = text.get("content")
            if not isinstance(content, str):
                raise validation_error(
                    f"body failed validation: {ipath}.text.content should be a string, "
                    f"instead was `{content!r}`."
                )
            if len(content) > MAX_TEXT:
                raise validation_error(
                    f"body failed validation: {ipath}.text.content.length should be ≤ "
                    f"`{MAX_TEXT}`, instead was `{len(content)}`."
                )
            link = text.get("link")
            if link is not None:
                link = require_dict(link, f"{ipath}.text.link")
                if not isinstance(link.get("url"), str):
                    raise validation_error(
                        f"body failed validation: {ipath}.text.link.url should be a string."
                    )
                link = {"url": link["url"]}
            out.append(
                {
                    "type": "text",
                    "text": {"content": content, "link": link},
                    "annotations": annotations,
                    "plain_text": content,
                    "href": link["url"] if link else None,
                }
            )
        elif kind == "equation":
            equation = require_dict(item.get("equation"), f"{ipath}.equation")
            expression = equation.get("expression")
            if not isinstance(expression, str):
                raise validation_error(
                    f"body failed validation: {ipath}.equation.expression should be a string, "
                    f"instead was `{expression!r}`."
                )
            check_text_length(expression, f"{ipath}.equation.expression", MAX_EQUATION)
            out.append(
                {
                    "type": "equation",
                    "equation": {"expression": expression},
                    "annotations": annotations,
                    "plain_text": expression,
                    "href": None,
                }
            )
        else:
            out.append(_mention(state, item, annotations, ipath))
    return out


def check_text_length(text: str, path: str, limit: int = MAX_TEXT) -> None:
    if len(text) > limit:
        raise validation_error(
            f"body failed validation: {path}.length should be ≤ `{limit}`, "
            f"instead was `{len(text)}`."
        )


MENTION_TYPES = ("user", "page", "database", "date", "template_mention", "custom_emoji")


def _mention(state: LocalNotionState, item: JSON, annotations: JSON, path: str) -> JSON:
    mention = require_dict(item.get("mention"), f"{path}.mention")
    kind = mention.get("type")
    if kind is None:
        kind = next((k for k in MENTION_TYPES if k in mention), None)
    if kind == "template_mention":
        # Only meaningful inside templates; Notion accepts them in any rich text.
        tm = require_dict(mention.get("template_mention"), f"{path}.mention.template_mention")
        tkind = tm.get("type") or next(
            (k for k in ("template_mention_date", "template_mention_user") if k in tm), None
        )
        allowed = {"template_mention_date": ("today", "now"), "template_mention_user": ("me",)}
        if tkind not in allowed or tm.get(tkind) not in allowed[tkind]:
            raise validation_error(
                f"body failed validation: {path}.mention.template_mention should be "
                "`template_mention_date` (`today`/`now`) or `template_mention_user` (`me`)."
            )
        value = tm[tkind]
        return {
            "type": "mention",
            "mention": {"type": kind, kind: {"type": tkind, tkind: value}},
            "annotations": annotations,
            "plain_text": "@" + ("Today" if value == "today" else value.title()),
            "href": None,
        }
    if kind == "custom_emoji":
        ref = require_dict(mention.get("custom_emoji"), f"{path}.mention.custom_emoji")
        emoji_id = require_id(ref.get("id"), f"{path}.mention.custom_emoji.id")
        emoji = state.custom_emojis.get(emoji_id)
        if emoji is None:
            raise validation_error(f"Could not find custom emoji with ID: {emoji_id}.")
        return {
            "type": "mention",
            "mention": {"type": kind, kind: dict(emoji)},
            "annotations": annotations,
            "plain_text": f":{emoji['name']}:",
            "href": None,
        }
    if kind == "user":
        ref = require_dict(mention.get("user"), f"{path}.mention.user")
        uid = require_id(ref.get("id"), f"{path}.mention.user.id")
        user = state.users.get(uid)
        if user is None:
            raise validation_error(f"Could not find user with ID: {uid}.")
        return {
            "type": "mention",
            "mention": {"type": "user", "user": {"object": "user", "id": uid}},
            "annotations": annotations,
            "plain_text": f"@{user['name']}",
            "href": None,
        }
    if kind in ("page", "database"):
        ref = require_dict(mention.get(kind), f"{path}.mention.{kind}")
        oid = require_id(ref.get("id"), f"{path}.mention.{kind}.id")
        title = "Untitled"
        page = state.pages.get(oid)
        if page is not None:
            title = "".join(t["plain_text"] for t in page["values"].get("title", [])) or title
        return {
            "type": "mention",
            "mention": {"type": kind, kind: {"id": oid}},
            "annotations": annotations,
            "plain_text": title,
            "href": f"https://www.notion.so/{oid.replace('-', '')}",
        }
    if kind == "date":
        value = parse_date_value(mention.get("date"), f"{path}.mention.date")
        if value is None:
            raise validation_error(f"body failed validation: {path}.mention.date is required.")
        return {
            "type": "mention",
            "mention": {"type": "date", "date": value},
            "annotations": annotations,
            "plain_text": value["start"],
            "href": None,
        }
    raise validation_error(
        f"body failed validation: {path}.mention.type should be one of `user`, `page`, "
        f"`database`, `date`, `template_mention`, `custom_emoji`, instead was `{kind!r}`."
    )


def parse_date_value(raw: Any, path: str) -> JSON | None:
    if raw is None:
        return None
    value = require_dict(raw, path)
    start = value.get("start")
    if not isinstance(start, str) or not _is_iso(start):
        raise validation_error(
            f"body failed validation: {path}.start should be an ISO 8601 date string, "
            f"instead was `{start!r}`."
        )
    end = value.get("end")
    if end is not None and (not isinstance(end, str) or not _is_iso(end)):
        raise validation_error(
            f"body failed validation: {path}.end should be an ISO 8601 date string, "
            f"instead was `{end!r}`."
        )
    return {"start": start, "end": end, "time_zone": value.get("time_zone")}


def _is_iso(text: str) -> bool:
    try:
        if len(text) == 10:
            date.fromisoformat(text)
        else:
            datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


# -- schema ------------------------------------------------------------------------


def new_property_id(existing: set[str]) -> str:
    """Short ids like Notion's (`%3EQQn`-style); plain letters keep URLs simple."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(random.choices(alphabet, k=4))
        if candidate not in existing and candidate != "title":
            return candidate


def _options(raw: Any, path: str, existing: list[JSON] | None = None) -> list[JSON]:
    """Merge requested options into existing ones, matching by id, then by name."""
    result = [dict(o) for o in (existing or [])]
    if raw is None:
        return result
    by_id = {o["id"]: o for o in result}
    by_name = {o["name"]: o for o in result}
    for index, opt_raw in enumerate(_require_list(raw, path)):
        opath = f"{path}[{index}]"
        opt = require_dict(opt_raw, opath)
        name = opt.get("name")
        color = opt.get("color", "default")
        if color not in COLORS:
            raise validation_error(f"body failed validation: {opath}.color is invalid: {color!r}.")
        target = by_id.get(opt["id"]) if isinstance(opt.get("id"), str) else None
        if target is None and isinstance(name, str):
            target = by_name.get(name)
        if target is not None:
            if isinstance(name, str):
                if "," in name:
                    raise validation_error("Invalid select option, commas not allowed.")
                target["name"] = name
            if "color" in opt:
                target["color"] = color
            continue
        if not isinstance(name, str) or not name:
            raise validation_error(f"body failed validation: {opath}.name should be a string.")
        if "," in name:
            raise validation_error("Invalid select option, commas not allowed.")
        new = {"id": new_id(), "name": name, "color": color, "description": None}
        result.append(new)
        by_id[new["id"]] = new
        by_name[name] = new
    return result


STATUS_GROUPS = (("To-do", "gray"), ("In progress", "blue"), ("Complete", "green"))


def _status_config(raw: JSON, path: str, existing: JSON | None) -> JSON:
    if existing is None and raw.get("options") is None:
        # What Notion gives a new Status column.
        raw = {
            "options": [
                {"name": "Not started", "color": "default"},
                {"name": "In progress", "color": "blue"},
                {"name": "Done", "color": "green"},
            ],
            "groups": [
                {"name": "To-do", "option_ids": ["Not started"]},
                {"name": "In progress", "option_ids": ["In progress"]},
                {"name": "Complete", "option_ids": ["Done"]},
            ],
        }
    options = _options(
        raw.get("options"), f"{path}.options", existing["options"] if existing else None
    )
    by_key = {o["id"]: o["id"] for o in options} | {o["name"]: o["id"] for o in options}
    old_groups = {g["name"]: g for g in (existing or {}).get("groups", [])}
    groups: list[JSON] = []
    placed: set[str] = set()
    requested = {
        g.get("name"): g
        for g in _require_list(raw.get("groups") or [], f"{path}.groups")
        if isinstance(g, dict)
    }
    for name, color in STATUS_GROUPS:
        old = old_groups.get(name)
        group = {
            "id": old["id"] if old else new_id(),
            "name": name,
            "color": color,
            "option_ids": list(old["option_ids"]) if old else [],
        }
        req = requested.get(name)
        if req is not None:
            keys = req.get("option_ids", req.get("options", []))
            ids: list[str] = []
            for key in _require_list(keys, f"{path}.groups.{name}.option_ids"):
                key = key.get("name", key.get("id")) if isinstance(key, dict) else key
                if key not in by_key:
                    raise validation_error(
                        f"Status group {name!r} names option {key!r}, which is not an option."
                    )
                ids.append(by_key[key])
            group["option_ids"] = ids
        groups.append(group)
    for group in groups:
        group["option_ids"] = [i for i in group["option_ids"] if i not in placed]
        placed.update(group["option_ids"])
    valid_ids = {o["id"] for o in options}
    for group in groups:
        group["option_ids"] = [i for i in group["option_ids"] if i in valid_ids]
    for option in options:
        if option["id"] not in placed:
            groups[0]["option_ids"].append(option["id"])
    unknown = set(requested) - {n for n, _ in STATUS_GROUPS}
    if unknown:
        names = sorted(str(u) for u in unknown)
        raise validation_error(
            f"Status groups must be To-do, In progress or Complete; got {names}."
        )
    return {"options": options, "groups": groups}


def _relation_config(state: LocalNotionState, raw: JSON, path: str) -> JSON:
    ds_id = raw.get("data_source_id")
    if ds_id is None and raw.get("database_id") is not None:
        db = state.databases.get(require_id(raw["database_id"], f"{path}.database_id"))
        if db is None:
            raise validation_error(f"Could not find database with ID: {raw['database_id']}.")
        ds_id = db["data_source_ids"][0]
    target = require_id(ds_id, f"{path}.data_source_id")
    source = state.data_sources.get(target)
    if source is None:
        raise validation_error(f"Could not find data source with ID: {target}.")
    kind = "dual_property" if "dual_property" in raw else "single_property"
    if raw.get("type") in ("dual_property", "single_property"):
        kind = raw["type"]
    return {"data_source_id": target, "database_id": source["database_id"], "type": kind}


def normalize_schema_property(
    state: LocalNotionState,
    name: str,
    raw: Any,
    path: str,
    *,
    existing: JSON | None,
    taken_ids: set[str],
) -> JSON:
    """A property schema from a request -> stored `{id, name, type, config, description}`."""
    spec = require_dict(raw, path)
    kind = spec.get("type")
    if kind is None:
        present = [k for k in spec if k in PROPERTY_TYPES]
        if len(present) > 1:
            raise validation_error(f"body failed validation: {path} names several types.")
        kind = present[0] if present else (existing["type"] if existing else None)
    if kind is None:
        raise validation_error(
            f"body failed validation: {path} should define a property type (e.g. `rich_text`)."
        )
    if kind not in PROPERTY_TYPES:
        raise validation_error(f"body failed validation: {path}: unsupported type `{kind}`.")
    new_name = spec.get("name", name)
    if not isinstance(new_name, str) or not new_name:
        raise validation_error(f"body failed validation: {path}.name should be a string.")
    same_type = existing is not None and existing["type"] == kind
    old_config: JSON | None = existing["config"] if same_type and existing else None
    config_raw = spec.get(kind)
    config_raw = {} if config_raw is None else require_dict(config_raw, f"{path}.{kind}")
    config: JSON
    if kind == "number":
        fmt = config_raw.get("format", (old_config or {}).get("format", "number"))
        if fmt not in NUMBER_FORMATS:
            raise validation_error(f"body failed validation: {path}.number.format is invalid.")
        config = {"format": fmt}
    elif kind in ("select", "multi_select"):
        config = {
            "options": _options(
                config_raw.get("options"),
                f"{path}.{kind}.options",
                old_config["options"] if old_config else None,
            )
        }
    elif kind == "status":
        config = _status_config(config_raw, f"{path}.status", old_config)
    elif kind == "relation":
        if not config_raw and old_config is not None:
            config = old_config
        else:
            config = _relation_config(state, config_raw, f"{path}.relation")
    else:
        config = {}
    if existing is not None:
        prop_id = existing["id"]
    elif kind == "title":
        prop_id = "title"
    else:
        prop_id = new_property_id(taken_ids)
    description = spec.get("description", (existing or {}).get("description"))
    return {
        "id": prop_id,
        "name": new_name,
        "type": kind,
        "config": config,
        "description": description,
    }


# -- property values --------------------------------------------------------------


def _type_mismatch(name: str, kind: str) -> ApiError:
    # Notion's message for a value of the wrong shape.
    return validation_error(f"{name} is expected to be {kind}.")


def normalize_property_value(
    state: LocalNotionState, prop: JSON, raw: Any, path: str, *, actor: str
) -> Any:
    """A request property value -> the stored value (see module docstring of service)."""
    name, kind = prop["name"], prop["type"]
    if kind in READ_ONLY_TYPES:
        raise validation_error(f"{name} is a {kind} property and cannot be set by the API.")
    if not isinstance(raw, dict):
        raise _type_mismatch(name, kind)
    if "type" in raw and raw["type"] != kind:
        raise _type_mismatch(name, kind)
    if kind not in raw:
        other = [k for k in raw if k in PROPERTY_TYPES]
        if other:
            raise _type_mismatch(name, kind)
        raise validation_error(
            f"body failed validation: {path}.{kind} should be defined, instead was `undefined`."
        )
    value = raw[kind]
    vpath = f"{path}.{kind}"
    if kind in ("title", "rich_text"):
        if not isinstance(value, list):
            raise _type_mismatch(name, kind)
        return normalize_rich_text(state, value, vpath)
    if kind == "number":
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise _type_mismatch(name, kind)
        return value
    if kind == "checkbox":
        if not isinstance(value, bool):
            raise _type_mismatch(name, kind)
        return value
    if kind in ("url", "email", "phone_number"):
        if value is not None and not isinstance(value, str):
            raise _type_mismatch(name, kind)
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise validation_error(
                f"body failed validation: {vpath}.length should be ≤ `{MAX_TEXT}`, "
                f"instead was `{len(value)}`."
            )
        return value or None
    if kind in ("select", "status"):
        if value is None:
            return None
        if not isinstance(value, dict):
            raise _type_mismatch(name, kind)
        return _pick_option(prop, value, vpath, create=kind == "select")
    if kind == "multi_select":
        if not isinstance(value, list):
            raise _type_mismatch(name, kind)
        check_array_length(value, vpath)
        ids: list[str] = []
        for index, item in enumerate(value):
            option_id = _pick_option(prop, require_dict(item, f"{vpath}[{index}]"), vpath, True)
            if option_id not in ids:
                ids.append(option_id)
        return ids
    if kind == "date":
        return parse_date_value(value, vpath)
    if kind == "people":
        if not isinstance(value, list):
            raise _type_mismatch(name, kind)
        check_array_length(value, vpath)
        people: list[str] = []
        for index, item in enumerate(value):
            uid = require_id(require_dict(item, f"{vpath}[{index}]").get("id"), f"{vpath}.id")
            if uid not in state.users:
                raise validation_error(f"Could not find user with ID: {uid}.")
            people.append(uid)
        return people
    if kind == "relation":
        if not isinstance(value, list):
            raise _type_mismatch(name, kind)
        check_array_length(value, vpath)
        related: list[str] = []
        for index, item in enumerate(value):
            pid = require_id(require_dict(item, f"{vpath}[{index}]").get("id"), f"{vpath}.id")
            if pid not in state.pages:
                raise validation_error(f"Could not find page with ID: {pid}.")
            if pid not in related:
                related.append(pid)
        return related
    if kind == "files":
        if not isinstance(value, list):
            raise _type_mismatch(name, kind)
        return [
            normalize_file_ref(state, item, f"{vpath}[{i}]", actor=actor)
            for i, item in enumerate(value)
        ]
    raise validation_error(f"{name}: unsupported property type {kind}.")  # pragma: no cover


def _pick_option(prop: JSON, value: JSON, path: str, create: bool) -> str:
    options: list[JSON] = prop["config"]["options"]
    if isinstance(value.get("id"), str):
        for option in options:
            if option["id"] == value["id"]:
                return str(option["id"])
        raise validation_error(
            f"Invalid {prop['type']} option id {value['id']!r} for property {prop['name']!r}."
        )
    name = value.get("name")
    if not isinstance(name, str) or not name:
        raise validation_error(f"body failed validation: {path}.name should be a string.")
    for option in options:
        if option["name"] == name:
            return str(option["id"])
    if not create:
        # Status options cannot be created by writing a page value; Select ones can.
        raise validation_error(
            f"Invalid status option. Status option {name!r} does not exist for property "
            f"{prop['name']!r}."
        )
    if "," in name:
        raise validation_error("Invalid select option, commas not allowed.")
    # A new option takes the color the request names (SDK request type: name, color?).
    color = value.get("color", "default")
    if color not in COLORS:
        raise validation_error(f"body failed validation: {path}.color is invalid: {color!r}.")
    option = {"id": new_id(), "name": name, "color": color, "description": None}
    options.append(option)
    return str(option["id"])


def normalize_file_ref(state: LocalNotionState, raw: Any, path: str, *, actor: str) -> JSON:
    """A file object from a request -> `{name, kind: external|upload|file, ...}`."""
    item = require_dict(raw, path)
    kind = item.get("type")
    if kind is None:
        kind = next((k for k in ("file_upload", "external", "file") if k in item), None)
    if kind == "external":
        ext = require_dict(item.get("external"), f"{path}.external")
        url = ext.get("url")
        if not isinstance(url, str) or not url:
            raise validation_error(f"body failed validation: {path}.external.url is required.")
        return {"kind": "external", "name": item.get("name") or url.rsplit("/", 1)[-1], "url": url}
    if kind == "file_upload":
        ref = require_dict(item.get("file_upload"), f"{path}.file_upload")
        upload_id = require_id(ref.get("id"), f"{path}.file_upload.id")
        upload = state.file_uploads.get(upload_id)
        if upload is None:
            raise validation_error(f"Could not find file_upload with ID: {upload_id}.")
        if upload["status"] != "uploaded":
            raise validation_error(
                f"File upload {upload_id} is in status `{upload['status']}`; "
                "only uploaded files can be attached."
            )
        # Attaching clears expiry: Notion documents expiry_time null = attached.
        upload["expiry_time"] = None
        return {"kind": "upload", "name": item.get("name") or upload["filename"], "id": upload_id}
    if kind == "file":
        hosted = require_dict(item.get("file"), f"{path}.file")
        url = hosted.get("url")
        if not isinstance(url, str):
            raise validation_error(f"body failed validation: {path}.file.url is required.")
        marker = "/files/"
        if marker in url:
            upload_id = url.split(marker, 1)[1].split("/", 1)[0]
            if upload_id in state.file_uploads:
                name = item.get("name") or state.file_uploads[upload_id]["filename"]
                return {"kind": "upload", "name": name, "id": upload_id}
        return {"kind": "external", "name": item.get("name") or "file", "url": url}
    raise validation_error(
        f"body failed validation: {path}.type should be `file_upload` or `external`, "
        f"instead was `{kind!r}`."
    )


# -- blocks -----------------------------------------------------------------------


def normalize_block(state: LocalNotionState, raw: Any, path: str, *, actor: str) -> JSON:
    """A block from a request -> `{type, content, children: [raw...]}` (children unparsed)."""
    block = require_dict(raw, path)
    kind = block.get("type")
    if kind is None:
        kind = next((k for k in block if k in BLOCK_TYPES), None)
    if kind not in BLOCK_TYPES:
        raise validation_error(
            f"body failed validation: {path}.type should be a supported block type, "
            f"instead was `{kind!r}`."
        )
    body = block.get(kind)
    body = {} if body is None else require_dict(body, f"{path}.{kind}")
    children: list[Any] = []
    content: JSON
    if kind in TEXT_BLOCKS:
        content = {
            "rich_text": normalize_rich_text(
                state, body.get("rich_text", []), f"{path}.{kind}.rich_text"
            ),
            "color": body.get("color", "default"),
        }
        if kind == "to_do":
            content["checked"] = bool(body.get("checked", False))
        if kind.startswith("heading_"):
            content["is_toggleable"] = bool(body.get("is_toggleable", False))
        if kind == "code":
            content["language"] = body.get("language", "plain text")
            content["caption"] = normalize_rich_text(
                state, body.get("caption", []), f"{path}.code.caption"
            )
            del content["color"]
        if kind == "callout":
            # Notion gives a callout without an icon the light bulb.
            icon = body.get("icon", {"type": "emoji", "emoji": "💡"})
            content["icon"] = normalize_icon(state, icon, f"{path}.callout.icon")
        children = list(body.get("children") or [])
        check_children_count(children, f"{path}.{kind}.children")
    elif kind in MEDIA_BLOCKS:
        ref = normalize_file_ref(state, body, f"{path}.{kind}", actor=actor)
        content = {
            "caption": normalize_rich_text(
                state, body.get("caption", []), f"{path}.{kind}.caption"
            ),
            "file_ref": ref,
        }
        if kind in ("file", "pdf", "audio") and ref["kind"] == "upload":
            content["name"] = ref["name"]
    elif kind in URL_BLOCKS:
        url = body.get("url")
        if not isinstance(url, str):
            raise validation_error(f"body failed validation: {path}.{kind}.url is required.")
        content = {
            "url": url,
            "caption": normalize_rich_text(
                state, body.get("caption", []), f"{path}.{kind}.caption"
            ),
        }
    elif kind == "equation":
        expression = body.get("expression")
        if not isinstance(expression, str):
            raise validation_error(
                f"body failed validation: {path}.equation.expression should be a string, "
                f"instead was `{expression!r}`."
            )
        check_text_length(expression, f"{path}.equation.expression", MAX_EQUATION)
        content = {"expression": expression}
    elif kind == "link_to_page":
        content = _link_to_page(state, body, f"{path}.link_to_page")
    elif kind in LAYOUT_BLOCKS:
        content, children = _layout_block(state, kind, body, f"{path}.{kind}")
    else:
        content = {"color": "default"} if kind == "table_of_contents" else {}
    return {"type": kind, "content": content, "children": children}


def _link_to_page(state: LocalNotionState, body: JSON, path: str) -> JSON:
    kind = body.get("type") or next(
        (k for k in ("page_id", "database_id", "comment_id") if k in body), None
    )
    if kind not in ("page_id", "database_id", "comment_id"):
        raise validation_error(
            f"body failed validation: {path}.type should be `page_id`, `database_id` or "
            f"`comment_id`, instead was `{kind!r}`."
        )
    target = require_id(body.get(kind), f"{path}.{kind}")
    known = {"page_id": state.pages, "database_id": state.databases, "comment_id": state.comments}
    if target not in known[kind]:
        raise validation_error(f"Could not find {kind.removesuffix('_id')} with ID: {target}.")
    return {"type": kind, kind: target}


def _layout_block(
    state: LocalNotionState, kind: str, body: JSON, path: str
) -> tuple[JSON, list[Any]]:
    children = list(body.get("children") or [])
    check_children_count(children, f"{path}.children")
    if kind == "table_row":
        cells = _require_list(body.get("cells"), f"{path}.cells")
        normalized = [
            normalize_rich_text(state, cell, f"{path}.cells[{i}]") for i, cell in enumerate(cells)
        ]
        return {"cells": normalized}, []
    if kind == "table":
        width = body.get("table_width")
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise validation_error(
                f"body failed validation: {path}.table_width should be a positive integer, "
                f"instead was `{width!r}`."
            )
        for index, row in enumerate(children):
            row_body = row.get("table_row") if isinstance(row, dict) else None
            row_cells = row_body.get("cells") if isinstance(row_body, dict) else None
            if not isinstance(row_cells, list) or len(row_cells) != width:
                raise validation_error(
                    f"body failed validation: {path}.children[{index}] should be a table_row "
                    f"with {width} cells (the table_width)."
                )
        return {
            "table_width": width,
            "has_column_header": bool(body.get("has_column_header", False)),
            "has_row_header": bool(body.get("has_row_header", False)),
        }, children
    if not children:
        raise validation_error(
            f"body failed validation: {path}.children should be defined, instead was `undefined`."
        )
    if kind == "column_list":
        for index, child in enumerate(children):
            child_type = child.get("type") if isinstance(child, dict) else None
            if child_type is None and isinstance(child, dict) and "column" in child:
                child_type = "column"
            if child_type != "column":
                raise validation_error(
                    f"body failed validation: {path}.children[{index}] should be a column."
                )
        return {}, children
    content: JSON = {}
    if body.get("width_ratio") is not None:
        ratio = body["width_ratio"]
        if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 < ratio <= 1:
            raise validation_error(
                f"body failed validation: {path}.width_ratio should be between 0 and 1."
            )
        content["width_ratio"] = ratio
    return content, children


ICON_TYPES = ("emoji", "external", "file_upload", "custom_emoji", "file")
COVER_TYPES = ("external", "file_upload", "file")


def normalize_icon(state: LocalNotionState, raw: Any, path: str, *, cover: bool = False) -> Any:
    """An icon or cover from a request -> stored `{type, <type>}` (None clears it).

    Like Notion, `type` may be left out (`{"emoji": "🎬"}`); uploads must be `uploaded`.
    """
    if raw is None:
        return None
    item = require_dict(raw, path)
    allowed = COVER_TYPES if cover else ICON_TYPES
    kind = item.get("type") or next((k for k in allowed if k in item), None)
    if not isinstance(kind, str) or kind not in allowed:
        names = ", ".join(f"`{k}`" for k in allowed)
        raise validation_error(
            f"body failed validation: {path}.type should be one of {names}, instead was `{kind!r}`."
        )
    value = item.get(kind)
    if kind == "emoji":
        if not isinstance(value, str) or not value:
            raise validation_error(f"body failed validation: {path}.emoji should be an emoji.")
        return {"type": "emoji", "emoji": value}
    if kind == "custom_emoji":
        ref = require_dict(value, f"{path}.custom_emoji")
        emoji_id = require_id(ref.get("id"), f"{path}.custom_emoji.id")
        if emoji_id not in state.custom_emojis:
            raise validation_error(f"Could not find custom emoji with ID: {emoji_id}.")
        return {"type": "custom_emoji", "custom_emoji": {"id": emoji_id}}
    ref = normalize_file_ref(state, {"type": kind, kind: value}, path, actor="")
    if ref["kind"] == "upload":
        return {"type": "file_upload", "file_upload": {"id": ref["id"]}}
    if kind == "file":
        return {"type": "file", "file": {"url": ref["url"], "expiry_time": None}}
    return {"type": "external", "external": {"url": ref["url"]}}
