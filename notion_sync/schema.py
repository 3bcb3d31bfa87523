"""The Tasks and Videos property schema: as data, checked, and created by setup.

Logical field names (`clip_count`, `error_log`, ...) are what the rest of reelgate
uses; each workspace may rename any property through
`NotionSettings.property_names` / `video_property_names` (logical -> actual name).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import structlog

from notion_sync.client import NotionClient
from notion_sync.errors import NotionError, NotionPermanentError
from notion_sync.richtext import plain_text, text_items
from notion_sync.settings import NotionSettings
from notion_sync.status_labels import compare_labels

if TYPE_CHECKING:
    from notion_sync.views import ViewsResult

__all__ = [
    "TASK_FIELDS",
    "VIDEO_FIELDS",
    "VIDEO_STATUSES",
    "FieldSpec",
    "SchemaReport",
    "SetupResult",
    "StatusGroup",
    "StatusOption",
    "check_schema",
    "ensure_schema",
    "fix_for_missing",
    "logical_field",
    "missing_from_page",
    "missing_property",
    "property_names",
    "setup_notion",
    "status_column_type",
]

log = structlog.get_logger(__name__)

JSON = dict[str, Any]
Kind = Literal["tasks", "videos"]
StatusGroup = Literal["To-do", "In progress", "Complete"]

# Human names of Notion types, for fix-it messages.
_TYPE_LABELS = {
    "title": "Title",
    "rich_text": "Text",
    "number": "Number",
    "select": "Select",
    "status": "Status",
    "date": "Date",
    "people": "Person",
    "files": "Files & media",
    "relation": "Relation",
    "url": "URL",
}

VIDEO_STATUSES: tuple[str, ...] = (
    "Planned",
    "Generating",
    "Ready",
    "Approved",
    "Regenerate",
    "Filtered",
    "Failed",
)
_VIDEO_STATUS_COLORS = ("gray", "blue", "yellow", "green", "orange", "purple", "red")


@dataclass(frozen=True)
class FieldSpec:
    """One property: its default name, Notion type, and options for selects.

    `also_accepts` lists other types that reelgate can read and write in its
    place (a `select` Status column instead of a `status` one). An `optional`
    property adds a feature: a board without it works, and check-notion advises
    adding it instead of failing.
    """

    logical: str
    name: str
    type: str
    options: tuple[str, ...] = ()
    option_colors: tuple[str, ...] = ()
    number_format: str | None = None
    also_accepts: tuple[str, ...] = ()
    optional: bool = False


def _f(
    logical: str,
    name: str,
    type_: str,
    *,
    options: tuple[str, ...] = (),
    colors: tuple[str, ...] = (),
    fmt: str | None = None,
    also: tuple[str, ...] = (),
    optional: bool = False,
) -> FieldSpec:
    return FieldSpec(logical, name, type_, options, colors, fmt, also, optional)


TASK_FIELDS: dict[str, FieldSpec] = {
    s.logical: s
    for s in (
        _f("title", "Name", "title"),
        _f("status", "Status", "status", also=("select",)),
        _f("channel", "Channel", "select"),
        _f("brief", "Brief", "rich_text"),
        # Product shots or style frames (uploads or links) the storyboard and every
        # keyframe are made from; boards made before it work without it.
        _f("references", "References", "files", optional=True),
        _f("clip_count", "Clips", "number", fmt="number"),
        _f("clip_seconds", "Clip Seconds", "number", fmt="number"),
        _f(
            "aspect_ratio",
            "Aspect Ratio",
            "select",
            options=("16:9", "9:16"),
            colors=("blue", "pink"),
        ),
        _f("error_log", "Error Log", "rich_text"),
        _f("owner", "Owner", "people"),
        _f("progress", "Progress", "rich_text"),
        _f("estimated_cost", "Estimated Cost", "number", fmt="dollar"),
        _f("cost", "Cost", "number", fmt="dollar"),
        _f("review_started", "Review Started", "date"),
        _f("review_completed", "Review Completed", "date"),
        # Set on every transition (daemon and human): a formula can show time in status.
        _f("status_changed", "Status Changed", "date"),
        _f("final_video", "Final Video", "files"),
        _f("videos", "Videos", "relation"),
    )
}

VIDEO_FIELDS: dict[str, FieldSpec] = {
    s.logical: s
    for s in (
        _f("title", "Name", "title"),
        _f("clip", "Clip", "number", fmt="number"),
        _f("task", "Task", "relation"),
        _f("prompt", "Prompt", "rich_text"),
        _f("motion", "Motion", "rich_text"),
        _f("narration", "Narration", "rich_text"),
        _f("status", "Status", "select", options=VIDEO_STATUSES, colors=_VIDEO_STATUS_COLORS),
        _f("start_keyframe", "Start Keyframe", "files"),
        _f("end_keyframe", "End Keyframe", "files"),
        _f("video", "Video", "files"),
        _f("thumbnail", "Thumbnail", "files"),
        _f("video_url", "Video URL", "url"),
        _f("duration", "Duration", "number", fmt="number"),
        _f("attempt", "Attempt", "number", fmt="number"),
        _f("cost", "Cost", "number", fmt="dollar"),
        _f("reviewer_note", "Reviewer Note", "rich_text"),
        # When the clip's file was stored (set by the daemon with the Video file).
        _f("generated", "Generated", "date"),
    )
}


def _specs(kind: Kind) -> dict[str, FieldSpec]:
    return TASK_FIELDS if kind == "tasks" else VIDEO_FIELDS


def property_names(kind: Kind, settings: NotionSettings) -> dict[str, str]:
    """Logical field -> this workspace's property name."""
    overrides = settings.property_names if kind == "tasks" else settings.video_property_names
    return {logical: overrides.get(logical, spec.name) for logical, spec in _specs(kind).items()}


# -- schema drift: a property renamed or deleted while the daemon runs --------------

# Notion's answer to a write (or a filter) naming a property the data source no longer
# has: 400 validation_error "<name> is not a property that exists." (page updates and
# creates) or "Could not find property with name or id: <name>" (query filters and
# sorts). Checked against developers.notion.com/reference/patch-page error examples,
# 2026-12-01; notion_sync.local_api answers the same.
_MISSING_PATTERNS = (
    re.compile(r"(?P<name>.+?) is not a property that exists\.?"),
    re.compile(r"Could not find property with name or id: (?P<name>.+?)\.?$"),
)


def missing_property(error: NotionError | str) -> str | None:
    """The property a validation error says does not exist, else None."""
    if isinstance(error, NotionError):
        if error.status not in (None, 400) or error.code not in (None, "validation_error"):
            return None
        text = str(error)
    else:
        text = error
    # Our client prefixes "Notion PATCH /v1/pages/x -> 400 validation_error: ".
    message = text.rsplit("validation_error: ", 1)[-1].strip()
    for pattern in _MISSING_PATTERNS:
        found = pattern.search(message)
        if found:
            return found.group("name").strip()
    return None


def missing_from_page(page: JSON, kind: Kind, names: Mapping[str, str]) -> tuple[str, ...]:
    """Required properties (this workspace's names) that a page object lacks.

    A page read from a data source lists every property of that data source, empty
    or not: one absent means it was renamed or deleted. Optional ones never count.
    """
    props = page.get("properties")
    if not isinstance(props, Mapping) or not props:
        return ()
    return tuple(
        names.get(logical, spec.name)
        for logical, spec in _specs(kind).items()
        if not spec.optional and names.get(logical, spec.name) not in props
    )


def logical_field(kind: Kind, name: str, settings: NotionSettings) -> str | None:
    """The logical field a property name stands for in this workspace."""
    for logical, actual in property_names(kind, settings).items():
        if actual == name:
            return logical
    return None


def fix_for_missing(kind: Kind, name: str, settings: NotionSettings) -> str:
    """What to do about a missing property, in one sentence."""
    label = "Tasks" if kind == "tasks" else "Videos"
    logical = logical_field(kind, name, settings)
    spec = _specs(kind).get(logical or "")
    want = _TYPE_LABELS.get(spec.type, spec.type) if spec else "matching"
    env = (
        "REELGATE_NOTION_PROPERTY_NAMES"
        if kind == "tasks"
        else ("REELGATE_NOTION_VIDEO_PROPERTY_NAMES")
    )
    mapping = f'{{"{logical}": "<new name>"}}' if logical else '{"<field>": "<new name>"}'
    return (
        f'rename the {label} property back to "{name}" (or add a {want} property named '
        f"\"{name}\"), or, to keep the new name, set {env}='{mapping}' and restart reelgate"
    )


@dataclass(frozen=True)
class StatusOption:
    """One Status label as setup-notion creates it, in pipeline order.

    `needs_review`: the task waits on a person there (the Needs review view lists it).
    """

    name: str
    color: str = "default"
    group: StatusGroup = "To-do"
    needs_review: bool = False

    def __post_init__(self) -> None:
        if self.group not in ("To-do", "In progress", "Complete"):
            raise ValueError(f"status group must be To-do, In progress or Complete: {self.group!r}")


# -- checking ---------------------------------------------------------------------


@dataclass
class SchemaReport:
    """What check_schema found. `status_type` is the Tasks Status column's type.

    `problems` stop the daemon; `advice` is worth fixing but does not (check-notion
    prints it, exit status 0).
    """

    problems: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)
    status_type: str | None = None
    tasks_properties: dict[str, JSON] = field(default_factory=dict)
    videos_properties: dict[str, JSON] = field(default_factory=dict)


def _check_properties(
    label: str,
    kind: Kind,
    props: Mapping[str, JSON],
    settings: NotionSettings,
    status_labels: Mapping[str, str] | None,
    advice: list[str],
) -> tuple[list[str], str | None]:
    problems: list[str] = []
    status_type: str | None = None
    names = property_names(kind, settings)
    for logical, spec in _specs(kind).items():
        name = names[logical]
        prop = props.get(name)
        want = _TYPE_LABELS.get(spec.type, spec.type)
        # An optional property that is missing or mistyped is advice: the board works
        # without it (reelgate reads it as empty).
        found = advice if spec.optional else problems
        if prop is None:
            found.append(
                f'{label}: property "{name}" is missing — add a {want} property named "{name}"'
                + (
                    " (optional; `reelgate setup-notion` adds it)"
                    if spec.optional
                    else " (or run `reelgate setup-notion` again, which adds it)"
                    if spec.type not in ("status", "relation", "title")
                    else ""
                )
                + _renamed_hint(kind, logical, spec, props, names)
            )
            continue
        actual = str(prop.get("type"))
        if actual != spec.type and actual not in spec.also_accepts:
            accepted = " or ".join(_TYPE_LABELS.get(t, t) for t in (spec.type, *spec.also_accepts))
            found.append(
                f'{label}: property "{name}" is a {_TYPE_LABELS.get(actual, actual)} property '
                f"but must be {accepted} — change its type to {accepted}"
                + (" (until then it is ignored)" if spec.optional else "")
            )
            continue
        if kind == "tasks" and logical == "status":
            status_type = actual
            if status_labels:
                # A status option cannot be created implicitly by writing it (unlike
                # select options), so every label must exist up front.
                check = compare_labels(prop, status_labels)
                problems.extend(check.problems(label, name, kind=actual))
                advice.extend(check.advice(label, name))
    return problems, status_type


def _renamed_hint(
    kind: Kind,
    logical: str,
    spec: FieldSpec,
    props: Mapping[str, JSON],
    names: Mapping[str, str],
) -> str:
    """A property of the wanted type that reelgate does not know: probably the missing
    one, renamed. Say how to use it under its new name."""
    used = set(names.values())
    candidates = sorted(n for n, p in props.items() if n not in used and p.get("type") == spec.type)
    if not candidates:
        return ""
    env = (
        "REELGATE_NOTION_PROPERTY_NAMES"
        if kind == "tasks"
        else ("REELGATE_NOTION_VIDEO_PROPERTY_NAMES")
    )
    shown = ", ".join(f'"{c}"' for c in candidates[:3])
    return (
        f'. If it was renamed (to {shown}?), rename it back to "{names[logical]}", or set '
        f'{env}=\'{{"{logical}": "{candidates[0]}"}}\' and restart reelgate'
    )


def _label_mapping(
    status_labels: Sequence[str] | Mapping[str, str] | None,
) -> Mapping[str, str] | None:
    if status_labels is None or isinstance(status_labels, Mapping):
        return status_labels
    return {label: label for label in status_labels}


async def check_schema(
    client: NotionClient,
    settings: NotionSettings,
    *,
    status_labels: Sequence[str] | Mapping[str, str] | None = None,
) -> SchemaReport:
    """Read both data sources and list every missing or mistyped property.

    `status_labels` (status -> label, or just the labels) are checked against the
    Status options: see notion_sync.status_labels.
    """
    report = SchemaReport()
    labels = _label_mapping(status_labels)
    targets: tuple[tuple[Kind, str, str, str], ...] = (
        ("tasks", "Tasks", settings.tasks_data_source_id, "REELGATE_NOTION_TASKS_DATA_SOURCE_ID"),
        (
            "videos",
            "Videos",
            settings.videos_data_source_id,
            "REELGATE_NOTION_VIDEOS_DATA_SOURCE_ID",
        ),
    )
    for kind, label, ds_id, env in targets:
        if not ds_id:
            report.problems.append(
                f"{label}: {env} is not set — run `reelgate setup-notion --parent-page <page id>`"
            )
            continue
        try:
            data_source = await client.retrieve_data_source(ds_id)
        except NotionPermanentError as exc:
            report.problems.append(
                f"{label}: cannot read data source {ds_id} ({exc.status} {exc.code}) — check "
                f"{env} and share the database with the integration"
            )
            continue
        props: dict[str, JSON] = data_source.get("properties", {})
        problems, status_type = _check_properties(
            label, kind, props, settings, labels if kind == "tasks" else None, report.advice
        )
        report.problems.extend(problems)
        if kind == "tasks":
            report.tasks_properties = props
            report.status_type = status_type
        else:
            report.videos_properties = props
    return report


async def ensure_schema(
    client: NotionClient,
    settings: NotionSettings,
    *,
    status_labels: Sequence[str] | Mapping[str, str] | None = None,
) -> SchemaReport:
    """check_schema, raising one NotionPermanentError that lists every problem."""
    report = await check_schema(client, settings, status_labels=status_labels)
    if report.problems:
        raise NotionPermanentError(
            f"Notion schema check failed ({len(report.problems)} problems):\n"
            + "\n".join(f"- {p}" for p in report.problems),
            code="schema_mismatch",
        )
    return report


def status_column_type(data_source: JSON, settings: NotionSettings) -> str:
    """`status` or `select`: how the Tasks Status column must be written."""
    name = property_names("tasks", settings)["status"]
    prop = data_source.get("properties", {}).get(name)
    if prop is None:
        raise NotionPermanentError(
            f'Tasks: property "{name}" is missing — add a Status property named "{name}"',
            code="schema_mismatch",
        )
    kind = str(prop.get("type"))
    if kind not in ("status", "select"):
        raise NotionPermanentError(
            f'Tasks: property "{name}" is a {kind} property but must be Status or Select',
            code="schema_mismatch",
        )
    return kind


# -- setup ------------------------------------------------------------------------


@dataclass(frozen=True)
class SetupResult:
    tasks_database_id: str
    tasks_data_source_id: str
    videos_database_id: str
    videos_data_source_id: str
    created: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def env_lines(self) -> list[str]:
        return [
            f"REELGATE_NOTION_TASKS_DATA_SOURCE_ID={self.tasks_data_source_id}",
            f"REELGATE_NOTION_VIDEOS_DATA_SOURCE_ID={self.videos_data_source_id}",
        ]


def _schema_property(spec: FieldSpec, name: str) -> JSON:
    if spec.type == "number":
        return {"number": {"format": spec.number_format or "number"}}
    if spec.type == "select":
        colors = spec.option_colors or ("default",) * len(spec.options)
        return {
            "select": {
                "options": [
                    {"name": o, "color": c} for o, c in zip(spec.options, colors, strict=True)
                ]
            }
        }
    return {spec.type: {}}


def _status_property(options: Sequence[StatusOption], *, with_groups: bool) -> JSON:
    config: JSON = {"options": [{"name": o.name, "color": o.color} for o in options]}
    if with_groups:
        config["groups"] = [
            {"name": g, "option_ids": [o.name for o in options if o.group == g]}
            for g in ("To-do", "In progress", "Complete")
        ]
    return {"status": config}


def _tasks_properties(settings: NotionSettings) -> JSON:
    names = property_names("tasks", settings)
    props: JSON = {}
    for logical, spec in TASK_FIELDS.items():
        # Status is added separately; the Videos relation arrives as the dual of
        # Videos.Task, created once Videos exists.
        if logical in ("status", "videos"):
            continue
        props[names[logical]] = _schema_property(spec, names[logical])
    return props


def _videos_properties(settings: NotionSettings, tasks_ds_id: str) -> JSON:
    names = property_names("videos", settings)
    task_names = property_names("tasks", settings)
    props: JSON = {}
    for logical, spec in VIDEO_FIELDS.items():
        if logical == "task":
            props[names[logical]] = {
                "relation": {
                    "data_source_id": tasks_ds_id,
                    "type": "dual_property",
                    # SDK type DualPropertyRelationConfig: synced_property_name names
                    # the property Notion adds on the Tasks side.
                    "dual_property": {"synced_property_name": task_names["videos"]},
                }
            }
        else:
            props[names[logical]] = _schema_property(spec, names[logical])
    return props


def _title(database: JSON) -> str:
    return plain_text(database.get("title"))


async def _find_child_databases(client: NotionClient, parent_page_id: str) -> dict[str, str]:
    """Title -> database id of databases that are children of the parent page.

    Child blocks rather than /v1/search: search is eventually consistent in Notion,
    so a quick second run might not see a database the first run just created.
    A `child_database` block's id is the database id.
    """
    found: dict[str, str] = {}
    for block in await client.list_block_children(parent_page_id):
        if block.get("type") == "child_database" and not block.get("in_trash"):
            title = str(block.get("child_database", {}).get("title", ""))
            found.setdefault(title, str(block["id"]))
    return found


async def _first_data_source(client: NotionClient, database_id: str) -> str:
    database = await client.retrieve_database(database_id)
    sources = database.get("data_sources") or []
    if not sources:
        raise NotionPermanentError(f"Database {database_id} has no data source", code="setup")
    return str(sources[0]["id"])


async def setup_notion(
    client: NotionClient,
    parent_page_id: str,
    status_options: Sequence[StatusOption],
    *,
    settings: NotionSettings | None = None,
) -> SetupResult:
    """Create the Tasks and Videos databases under a page, and their views. Idempotent.

    A second run finds both by title among the page's child databases and the views
    by name, creates nothing, and returns the same ids. On databases made by an older
    reelgate it adds the plain properties they lack (`created` names them).
    """
    settings = settings or client.settings
    created: list[str] = []
    warnings: list[str] = []
    existing = await _find_child_databases(client, parent_page_id)

    tasks_db_id = existing.get(settings.tasks_database_title)
    if tasks_db_id is None:
        tasks_db_id, tasks_ds_id, warn = await _create_tasks(
            client, parent_page_id, settings, status_options
        )
        warnings.extend(warn)
        created.append("tasks")
        log.info("create_tasks_database", database_id=tasks_db_id, data_source_id=tasks_ds_id)
    else:
        tasks_ds_id = await _first_data_source(client, tasks_db_id)

    videos_db_id = existing.get(settings.videos_database_title)
    if videos_db_id is None:
        body: JSON = {
            "parent": {"type": "page_id", "page_id": parent_page_id},
            "title": text_items(settings.videos_database_title),
            "initial_data_source": {"properties": _videos_properties(settings, tasks_ds_id)},
        }
        database = await client.create_database(body)
        videos_db_id = str(database["id"])
        videos_ds_id = str(database["data_sources"][0]["id"])
        created.append("videos")
        log.info("create_videos_database", database_id=videos_db_id, data_source_id=videos_ds_id)
        warnings.extend(await _name_dual_relation(client, settings, tasks_ds_id, videos_ds_id))
    else:
        videos_ds_id = await _first_data_source(client, videos_db_id)

    if "tasks" not in created:
        added, warn = await _complete_existing(client, settings, tasks_ds_id, status_options)
        created.extend(added)
        warnings.extend(warn)
    if "videos" not in created:
        added, warn = await _complete_existing(client, settings, videos_ds_id, None)
        created.extend(added)
        warnings.extend(warn)
    views = await _ensure_views(client, settings, tasks_ds_id, videos_ds_id, status_options)
    created.extend(views.created)
    warnings.extend(views.warnings)

    return SetupResult(
        tasks_database_id=tasks_db_id,
        tasks_data_source_id=tasks_ds_id,
        videos_database_id=videos_db_id,
        videos_data_source_id=videos_ds_id,
        created=tuple(created),
        warnings=tuple(warnings),
    )


async def _ensure_views(
    client: NotionClient,
    settings: NotionSettings,
    tasks_ds_id: str,
    videos_ds_id: str,
    status_options: Sequence[StatusOption],
) -> ViewsResult:
    from notion_sync.views import ViewsResult, ensure_views  # views builds on this module

    review = [o.name for o in status_options if o.needs_review]
    try:
        return await ensure_views(client, settings, tasks_ds_id, videos_ds_id, review)
    except NotionError as exc:
        # The databases are what reelgate needs; a view is a convenience for people.
        return ViewsResult(warnings=[f"Could not create the views: {exc}"])


async def _complete_existing(
    client: NotionClient,
    settings: NotionSettings,
    ds_id: str,
    status_options: Sequence[StatusOption] | None,
) -> tuple[list[str], list[str]]:
    """Add the plain properties a database made by an older reelgate lacks.

    Status and relations are left to the person (check-notion says how): their
    options and targets are choices, not something to guess.
    """
    kind: Kind = "tasks" if status_options is not None else "videos"
    table = "Tasks" if kind == "tasks" else "Videos"
    source = await client.retrieve_data_source(ds_id)
    props: dict[str, JSON] = source.get("properties", {})
    names = property_names(kind, settings)
    add: JSON = {}
    for logical, spec in _specs(kind).items():
        name = names[logical]
        if name not in props and spec.type not in ("status", "relation", "title"):
            add[name] = _schema_property(spec, name)
    created: list[str] = []
    warnings: list[str] = []
    if add:
        try:
            await client.update_data_source(ds_id, {"properties": add})
            created.extend(f'{table} property "{name}"' for name in add)
        except NotionError as exc:
            warnings.append(f"Could not add {', '.join(add)} to {table}: {exc}")
    status = props.get(names["status"]) if kind == "tasks" else None
    if status is not None and status_options:
        check = compare_labels(status, {o.name: o.name for o in status_options})
        warnings.extend(check.problems(table, names["status"], kind=str(status.get("type"))))
        warnings.extend(check.advice(table, names["status"]))
    return created, warnings


async def _create_tasks(
    client: NotionClient,
    parent_page_id: str,
    settings: NotionSettings,
    status_options: Sequence[StatusOption],
) -> tuple[str, str, list[str]]:
    status_name = property_names("tasks", settings)["status"]
    props = _tasks_properties(settings)
    warnings: list[str] = []

    def body(with_groups: bool) -> JSON:
        all_props = dict(props)
        if status_options:
            all_props[status_name] = _status_property(status_options, with_groups=with_groups)
        else:
            all_props[status_name] = {"status": {}}
        return {
            "parent": {"type": "page_id", "page_id": parent_page_id},
            "title": text_items(settings.tasks_database_title),
            "initial_data_source": {"properties": all_props},
        }

    try:
        database = await client.create_database(body(with_groups=True))
    except NotionPermanentError as exc:
        if exc.status != 400 or not status_options:
            raise
        # The published request type for a status property has `options` only;
        # if this Notion rejects `groups` on create, create without them and
        # place the options into groups by id afterwards.
        log.warning("retry_create_without_status_groups", error=str(exc))
        database = await client.create_database(body(with_groups=False))
        warnings.extend(await _apply_status_groups(client, database, status_name, status_options))
    db_id = str(database["id"])
    ds_id = str(database["data_sources"][0]["id"])
    return db_id, ds_id, warnings


async def _apply_status_groups(
    client: NotionClient,
    database: JSON,
    status_name: str,
    status_options: Sequence[StatusOption],
) -> list[str]:
    ds_id = str(database["data_sources"][0]["id"])
    try:
        source = await client.retrieve_data_source(ds_id)
        config = source["properties"][status_name]["status"]
        ids = {o["name"]: o["id"] for o in config.get("options", [])}
        groups = [
            {
                "id": g["id"],
                "option_ids": [ids[o.name] for o in status_options if o.group == g["name"]],
            }
            for g in config.get("groups", [])
        ]
        await client.update_data_source(
            ds_id, {"properties": {status_name: {"status": {"groups": groups}}}}
        )
    except (NotionError, KeyError) as exc:
        return [
            f"Could not place Status options into To-do / In progress / Complete groups "
            f"({exc}); drag them into place in Notion's property settings."
        ]
    return []


async def _name_dual_relation(
    client: NotionClient, settings: NotionSettings, tasks_ds_id: str, videos_ds_id: str
) -> list[str]:
    """Make sure Tasks shows the dual relation under its configured name."""
    want = property_names("tasks", settings)["videos"]
    source = await client.retrieve_data_source(tasks_ds_id)
    props: dict[str, JSON] = source.get("properties", {})
    if props.get(want, {}).get("type") == "relation":
        return []
    for name, prop in props.items():
        relation = prop.get("relation") or {}
        if prop.get("type") == "relation" and relation.get("data_source_id") == videos_ds_id:
            await client.update_data_source(tasks_ds_id, {"properties": {name: {"name": want}}})
            return []
    # No synced property appeared: add a relation on Tasks ourselves.
    try:
        await client.update_data_source(
            tasks_ds_id,
            {
                "properties": {
                    want: {
                        "relation": {
                            "data_source_id": videos_ds_id,
                            "type": "single_property",
                            "single_property": {},
                        }
                    }
                }
            },
        )
    except NotionError as exc:
        return [f'Could not add the "{want}" relation to Tasks: {exc}']
    return []
