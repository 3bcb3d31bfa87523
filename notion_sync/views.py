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

from collections.abc import Sequence
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


def plan_views(
    settings: NotionSettings,
    tasks: JSON,
    videos: JSON,
    review_labels: Sequence[str],
) -> tuple[list[ViewPlan], list[str]]:
    """The three views for these data sources (as retrieved), and why any is left out."""
    t_names = property_names("tasks", settings)
    v_names = property_names("videos", settings)
    t_ids, v_ids = _ids(tasks), _ids(videos)
    status_name = t_names["status"]
    status_type = str(tasks.get("properties", {}).get(status_name, {}).get("type", "status"))
    tasks_db, videos_db = _database_of(tasks), _database_of(videos)
    plans: list[ViewPlan] = []
    skipped: list[str] = []

    def shown(ids: dict[str, str], names: Sequence[str]) -> list[JSON]:
        return [{"property_id": ids[n], "visible": True} for n in names if n in ids]

    group: JSON = {
        "type": status_type,
        "property_id": t_ids[status_name],
        "sort": {"type": "manual"},
    }
    if status_type == "status":
        group["group_by"] = "option"  # one column per label, not per To-do/In progress/Complete
    plans.append(
        ViewPlan(
            PIPELINE_VIEW,
            "Tasks",
            tasks_db,
            {
                "database_id": tasks_db,
                "data_source_id": str(tasks["id"]),
                "name": PIPELINE_VIEW,
                "type": "board",
                "configuration": {
                    "type": "board",
                    "group_by": group,
                    "properties": shown(
                        t_ids, [t_names["progress"], t_names["cost"], t_names["owner"]]
                    ),
                },
            },
        )
    )
    if review_labels:
        plans.append(
            ViewPlan(
                NEEDS_REVIEW_VIEW,
                "Tasks",
                tasks_db,
                {
                    "database_id": tasks_db,
                    "data_source_id": str(tasks["id"]),
                    "name": NEEDS_REVIEW_VIEW,
                    "type": "table",
                    "filter": {
                        "or": [
                            {"property": t_ids[status_name], status_type: {"equals": label}}
                            for label in review_labels
                        ]
                    },
                    # Whoever has waited longest comes first.
                    "sorts": [
                        {"property": t_ids[t_names["status_changed"]], "direction": "ascending"}
                    ]
                    if t_names["status_changed"] in t_ids
                    else None,
                },
            )
        )
    else:
        skipped.append(
            f'"{NEEDS_REVIEW_VIEW}" not created: no status was marked as waiting on a human'
        )
    thumbnail = v_names["thumbnail"]
    gallery: JSON = {
        "type": "gallery",
        "properties": shown(v_ids, [v_names["task"], v_names["clip"], v_names["status"]]),
        "cover_size": "medium",
        "cover_aspect": "cover",
    }
    if thumbnail in v_ids:
        gallery["cover"] = {"type": "property", "property_id": v_ids[thumbnail]}
    plans.append(
        ViewPlan(
            CLIPS_VIEW,
            "Videos",
            videos_db,
            {
                "database_id": videos_db,
                "data_source_id": str(videos["id"]),
                "name": CLIPS_VIEW,
                "type": "gallery",
                "configuration": gallery,
                # No group_by on a gallery (see the module doc): a task's rows are made
                # together, so newest first keeps each task's clips side by side.
                "sorts": [
                    {"timestamp": "created_time", "direction": "descending"},
                    {"property": v_ids[v_names["clip"]], "direction": "ascending"},
                ]
                if v_names["clip"] in v_ids
                else None,
            },
        )
    )
    for plan in plans:
        for key in [k for k, v in plan.body.items() if v is None]:
            del plan.body[key]
    return plans, skipped


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
