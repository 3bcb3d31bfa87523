"""The database views setup-notion makes: a Pipeline board, Needs review, a Clips gallery.

Views API (Notion-Version 2025-09-03; notion-sdk-js `api-endpoints/views.ts` and
developers.notion.com "Working with views", checked 2026-12-01):
- `POST /v1/views` takes `database_id`, `data_source_id`, `name`, `type`, and optional
  `filter`, `sorts` and `configuration`; configurations name properties by id;
- `GET /v1/views?database_id=` lists `{object: view, id}` references only, so each is
  retrieved for its name (views are found again by name: a second run creates nothing);
- a board's `configuration.group_by` for a Status property is
  `{type: status, property_id, group_by: option|group, sort}`; its `properties` are
  the card's properties (`{property_id, visible}`);
- a gallery's configuration has `cover` (`{type: property, property_id}` shows a files
  property as the card image) and `properties`, but **no `group_by`**
  (GalleryViewConfigRequest). The Clips gallery therefore cannot be grouped by Task
  through the API; it is sorted so each task's clips sit together (created together,
  then by clip number), and grouping it by Task is one click in Notion (docs/notion-setup.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from notion_sync.client import NotionClient
from notion_sync.errors import NotionPermanentError
from notion_sync.schema import property_names
from notion_sync.settings import NotionSettings

__all__ = [
    "CLIPS_VIEW",
    "NEEDS_REVIEW_VIEW",
    "PIPELINE_VIEW",
    "ViewPlan",
    "ViewsResult",
    "ensure_views",
    "missing_views",
    "plan_views",
    "view_names",
]

log = structlog.get_logger(__name__)

JSON = dict[str, Any]

PIPELINE_VIEW = "Pipeline"
NEEDS_REVIEW_VIEW = "Needs review"
CLIPS_VIEW = "Clips"


@dataclass(frozen=True)
class ViewPlan:
    """One view to have: which database it belongs to and the create request."""

    name: str
    table: str  # "Tasks" or "Videos", for messages
    database_id: str
    body: JSON


@dataclass
class ViewsResult:
    created: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _ids(data_source: JSON) -> dict[str, str]:
    return {name: str(p["id"]) for name, p in data_source.get("properties", {}).items()}


def _database_of(data_source: JSON) -> str:
    parent = data_source.get("parent") or {}
    database_id = parent.get("database_id")
    if not database_id:
        raise NotionPermanentError(
            f"Data source {data_source.get('id')} has no parent database", code="setup"
        )
    return str(database_id)


def _shown(ids: Mapping[str, str], names: Sequence[str]) -> list[JSON]:
    """Card / column properties, by id (names the data source lacks are left out)."""
    return [{"property_id": ids[n], "visible": True} for n in names if n in ids]


def _view(database_id: str, data_source: JSON, name: str, kind: str, **parts: Any) -> JSON:
    body: JSON = {
        "database_id": database_id,
        "data_source_id": str(data_source["id"]),
        "name": name,
        "type": kind,
    }
    body.update({key: value for key, value in parts.items() if value is not None})
    return body


def _tasks_views(
    settings: NotionSettings, tasks: JSON, review_labels: Sequence[str]
) -> tuple[list[ViewPlan], list[str]]:
    names, ids = property_names("tasks", settings), _ids(tasks)
    status_name = names["status"]
    if status_name not in ids:
        return [], [
            f'"{PIPELINE_VIEW}" and "{NEEDS_REVIEW_VIEW}" not created: Tasks has no '
            f'"{status_name}" property (see `reelgate check-notion`)'
        ]
    database = _database_of(tasks)
    status_type = str(tasks["properties"][status_name].get("type", "status"))
    group: JSON = {"type": status_type, "property_id": ids[status_name], "sort": {"type": "manual"}}
    if status_type == "status":
        group["group_by"] = "option"  # a column per label, not per To-do/In progress/Complete
    configuration = {
        "type": "board",
        "group_by": group,
        "properties": _shown(ids, [names["progress"], names["cost"], names["owner"]]),
    }
    plans = [
        ViewPlan(
            PIPELINE_VIEW,
            "Tasks",
            database,
            _view(database, tasks, PIPELINE_VIEW, "board", configuration=configuration),
        )
    ]
    if not review_labels:
        return plans, [f'"{NEEDS_REVIEW_VIEW}" not created: no status waits on a person']
    waited = ids.get(names["status_changed"])
    review = _view(
        database,
        tasks,
        NEEDS_REVIEW_VIEW,
        "table",
        filter={
            "or": [
                {"property": ids[status_name], status_type: {"equals": label}}
                for label in review_labels
            ]
        },
        # Whoever has waited longest comes first.
        sorts=[{"property": waited, "direction": "ascending"}] if waited else None,
    )
    plans.append(ViewPlan(NEEDS_REVIEW_VIEW, "Tasks", database, review))
    return plans, []


def _clips_view(settings: NotionSettings, videos: JSON) -> ViewPlan:
    names, ids = property_names("videos", settings), _ids(videos)
    database = _database_of(videos)
    gallery: JSON = {
        "type": "gallery",
        "properties": _shown(ids, [names["task"], names["clip"], names["status"]]),
        "cover_size": "medium",
        "cover_aspect": "cover",
    }
    if names["thumbnail"] in ids:
        gallery["cover"] = {"type": "property", "property_id": ids[names["thumbnail"]]}
    # No group_by on a gallery (see the module doc): a task's rows are made together,
    # so newest first, then by clip number, keeps each task's clips side by side.
    sorts: list[JSON] = [{"timestamp": "created_time", "direction": "descending"}]
    if names["clip"] in ids:
        sorts.append({"property": ids[names["clip"]], "direction": "ascending"})
    body = _view(database, videos, CLIPS_VIEW, "gallery", configuration=gallery, sorts=sorts)
    return ViewPlan(CLIPS_VIEW, "Videos", database, body)


def plan_views(
    settings: NotionSettings,
    tasks: JSON,
    videos: JSON,
    review_labels: Sequence[str],
) -> tuple[list[ViewPlan], list[str]]:
    """The three views for these data sources (as retrieved), and why any is left out."""
    plans, skipped = _tasks_views(settings, tasks, review_labels)
    return [*plans, _clips_view(settings, videos)], skipped


async def view_names(client: NotionClient, database_id: str) -> dict[str, str]:
    """Name -> id of the views of a database (the list answers ids only)."""
    found: dict[str, str] = {}
    async for ref in client.paginate("GET", "views", query={"database_id": database_id}):
        view = await client.request("GET", f"views/{ref['id']}")
        found.setdefault(str(view.get("name", "")), str(view["id"]))
    return found


async def _plans(
    client: NotionClient,
    settings: NotionSettings,
    tasks_ds: str,
    videos_ds: str,
    labels: Sequence[str],
) -> tuple[list[ViewPlan], list[str]]:
    tasks = await client.retrieve_data_source(tasks_ds)
    videos = await client.retrieve_data_source(videos_ds)
    return plan_views(settings, tasks, videos, labels)


async def ensure_views(
    client: NotionClient,
    settings: NotionSettings,
    tasks_ds: str,
    videos_ds: str,
    review_labels: Sequence[str],
) -> ViewsResult:
    """Create whichever of the three views its database lacks (found by name)."""
    result = ViewsResult()
    plans, skipped = await _plans(client, settings, tasks_ds, videos_ds, review_labels)
    result.warnings.extend(skipped)
    existing: dict[str, dict[str, str]] = {}
    for plan in plans:
        if plan.database_id not in existing:
            existing[plan.database_id] = await view_names(client, plan.database_id)
        if plan.name in existing[plan.database_id]:
            continue
        view = await client.request("POST", "views", body=plan.body)
        existing[plan.database_id][plan.name] = str(view["id"])
        result.created.append(f"{plan.table} view {plan.name!r}")
        log.info("create_view", name=plan.name, view_id=view["id"], database_id=plan.database_id)
    return result


async def missing_views(
    client: NotionClient, settings: NotionSettings, review_labels: Sequence[str]
) -> list[str]:
    """Advice for check-notion: which of the three views the databases lack, and the fix."""
    if not (settings.tasks_data_source_id and settings.videos_data_source_id):
        return []
    plans, _ = await _plans(
        client,
        settings,
        settings.tasks_data_source_id,
        settings.videos_data_source_id,
        review_labels,
    )
    advice: list[str] = []
    seen: dict[str, dict[str, str]] = {}
    for plan in plans:
        if plan.database_id not in seen:
            seen[plan.database_id] = await view_names(client, plan.database_id)
        if plan.name not in seen[plan.database_id]:
            advice.append(
                f'{plan.table}: no "{plan.name}" view — run `reelgate setup-notion --parent-page '
                f"<page id>` to add it (it creates only what is missing)"
            )
    return advice
